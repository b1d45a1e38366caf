/* tests/check_io.c - hv_io_wait: a process parks on a pipe until another
 * writes, timeouts, write-ready at once, many waiters while the
 * scheduler keeps running others, hang-up, re-arming after draining,
 * messages left waiting, bad fds and events, callers that are no
 * process, and waiters killed when the runtime stops.
 *
 * Checks made inside processes are recorded (expect_at) and asserted by
 * the test after hv_run returns. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hive/hive.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"

static hv_term main_pid;

/* A non-blocking pipe: fds[0] reads, fds[1] writes. */
static bool
make_pipe(int fds[2])
{
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0;
}

/* Reads until EAGAIN; returns the bytes read, or -1 on an error. */
static long
drain(int fd, unsigned char *last)
{
    unsigned char buf[256];
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            total += n;
            if (last != NULL)
                *last = buf[n - 1];
        } else if (n == 0) {
            return total;
        } else {
            return errno == EAGAIN ? total : -1;
        }
    }
}

/* ---- core: one waiter --------------------------------------------------- */

static int pipe_fds[2];
static atomic_int written;

static void
pipe_waiter(void *arg)
{
    (void)arg;
    uint32_t rev = 0;
    int rc = hv_io_wait(pipe_fds[0], HV_IO_READ, HV_INFINITY, &rev);
    bool was_written = atomic_load(&written) != 0;
    unsigned char last = 0;
    long n = drain(pipe_fds[0], &last);
    hv_send(main_pid,
            hv_tuple(6, hv_atom("woke"), hv_int(rc), hv_int(rev), hv_int(n),
                     hv_int(last), hv_atom(was_written ? "after" : "before")));
}

static void
pipe_writer(void *arg)
{
    (void)arg;
    hv_sleep(30);
    atomic_store(&written, 1);
    EXPECT(write(pipe_fds[1], "x", 1) == 1);
}

static void
wake_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    atomic_store(&written, 0);
    EXPECT(make_pipe(pipe_fds));
    EXPECT(hv_spawn(pipe_waiter, NULL) != HV_NONE);
    EXPECT(hv_spawn(pipe_writer, NULL) != HV_NONE);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(10000, &m) == HV_OK);
    EXPECT(is_tagged(m, "woke"));
    EXPECT(elem_int(m, 1) == HV_OK);
    EXPECT((elem_int(m, 2) & HV_IO_READ) != 0);
    EXPECT(elem_int(m, 3) == 1);
    EXPECT(elem_int(m, 4) == 'x');
    EXPECT(is_atom(hv_tuple_at(m, 5), "after")); /* it really waited */
    hv_release(m);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

START_TEST(test_io_wait_wakes_a_reader_when_another_process_writes)
{
    run_main(wake_main, NULL, 2);
}
END_TEST

START_TEST(test_io_wait_wakes_a_reader_on_one_scheduler)
{
    run_main(wake_main, NULL, 1);
}
END_TEST

static void
timeout_main(void *arg)
{
    int fds[2];
    (void)arg;
    EXPECT(make_pipe(fds));
    uint32_t rev = 0xff;
    double t0 = now_ms();
    EXPECT(hv_io_wait(fds[0], HV_IO_READ, 40, &rev) == HV_ETIMEOUT);
    double took = now_ms() - t0;
    EXPECT(took >= 40 && took < 1040);
    /* Timeout 0 polls. */
    t0 = now_ms();
    EXPECT(hv_io_wait(fds[0], HV_IO_READ, 0, &rev) == HV_ETIMEOUT);
    EXPECT(now_ms() - t0 < 500);
    /* Data already there: ready at once, with or without a timeout. */
    EXPECT(write(fds[1], "y", 1) == 1);
    rev = 0;
    EXPECT(hv_io_wait(fds[0], HV_IO_READ, 0, &rev) == HV_OK);
    EXPECT((rev & HV_IO_READ) != 0);
    rev = 0;
    EXPECT(hv_io_wait(fds[0], HV_IO_READ, 40, &rev) == HV_OK);
    EXPECT((rev & HV_IO_READ) != 0);
    EXPECT(hv_io_wait(fds[0], HV_IO_READ, 40, NULL) == HV_OK);
    close(fds[0]);
    close(fds[1]);
}

START_TEST(test_io_wait_times_out_and_polls)
{
    run_main(timeout_main, NULL, 2);
}
END_TEST

static void
write_ready_main(void *arg)
{
    int fds[2], sv[2];
    (void)arg;
    EXPECT(make_pipe(fds));
    uint32_t rev = 0;
    double t0 = now_ms();
    EXPECT(hv_io_wait(fds[1], HV_IO_WRITE, HV_INFINITY, &rev) == HV_OK);
    EXPECT(now_ms() - t0 < 500);
    EXPECT((rev & HV_IO_WRITE) != 0);
    rev = 0;
    EXPECT(hv_io_wait(fds[1], HV_IO_WRITE, 0, &rev) == HV_OK);
    EXPECT((rev & HV_IO_WRITE) != 0);
    /* Both asked, only writing ready: a socket pair with nothing sent. */
    EXPECT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    rev = 0;
    EXPECT(hv_io_wait(sv[0], HV_IO_READ | HV_IO_WRITE, 1000, &rev) == HV_OK);
    EXPECT((rev & HV_IO_WRITE) != 0);
    EXPECT((rev & HV_IO_READ) == 0);
    close(sv[0]);
    close(sv[1]);
    close(fds[0]);
    close(fds[1]);
}

START_TEST(test_io_wait_for_writing_on_an_empty_pipe_is_ready_at_once)
{
    run_main(write_ready_main, NULL, 2);
}
END_TEST

/* ---- many waiters while others run -------------------------------------- */

enum { MANY = 100 };
static int many_fds[MANY][2];
static atomic_long counted;
static atomic_int count_stop;

static void
many_waiter(void *arg)
{
    intptr_t i = (intptr_t)arg;
    uint32_t rev = 0;
    int rc = hv_io_wait(many_fds[i][0], HV_IO_READ, 20000, &rev);
    unsigned char last = 0;
    long n = drain(many_fds[i][0], &last);
    hv_send(main_pid, hv_tuple(5, hv_int(i), hv_int(rc), hv_int(rev), hv_int(n),
                               hv_int(last)));
}

static void
counter(void *arg)
{
    (void)arg;
    while (!atomic_load(&count_stop)) {
        atomic_fetch_add(&counted, 1);
        hv_yield();
    }
    hv_send(main_pid, hv_atom("counter_done"));
}

static void
many_main(void *arg)
{
    (void)arg;
    int seen[MANY] = {0};
    main_pid = hv_self();
    atomic_store(&counted, 0);
    atomic_store(&count_stop, 0);
    for (int i = 0; i < MANY; i++)
        EXPECT(make_pipe(many_fds[i]));
    for (intptr_t i = 0; i < MANY; i++)
        EXPECT(hv_spawn(many_waiter, (void *)i) != HV_NONE);
    EXPECT(hv_spawn(counter, NULL) != HV_NONE);
    /* The waiters are parked; main and the counter still run. */
    hv_sleep(30);
    long c1 = atomic_load(&counted);
    hv_sleep(30);
    long c2 = atomic_load(&counted);
    EXPECT(c1 > 0 && c2 > c1);
    hv_term early = HV_ATOM_TRUE;
    EXPECT(hv_recv(0, &early) == HV_ETIMEOUT); /* nobody woke for nothing */
    hv_release(early);
    /* Wake them in reverse order, each with its own byte. */
    for (int i = MANY - 1; i >= 0; i--) {
        unsigned char b = (unsigned char)(i + 1);
        EXPECT(write(many_fds[i][1], &b, 1) == 1);
    }
    for (int k = 0; k < MANY; k++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(10000, &m) == HV_OK);
        int64_t i = elem_int(m, 0);
        if (i >= 0 && i < MANY) {
            seen[i]++;
            EXPECT(elem_int(m, 1) == HV_OK);
            EXPECT((elem_int(m, 2) & HV_IO_READ) != 0);
            EXPECT(elem_int(m, 3) == 1);
            EXPECT(elem_int(m, 4) == i + 1);
        } else {
            EXPECT(!"an unexpected message");
        }
        hv_release(m);
    }
    int once = 0;
    for (int i = 0; i < MANY; i++)
        once += seen[i] == 1;
    EXPECT(once == MANY);
    EXPECT(atomic_load(&counted) >= c2);
    atomic_store(&count_stop, 1);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(5000, &m) == HV_OK);
    EXPECT(is_atom(m, "counter_done"));
    hv_release(m);
    for (int i = 0; i < MANY; i++) {
        close(many_fds[i][0]);
        close(many_fds[i][1]);
    }
}

START_TEST(test_io_wait_parks_100_processes_without_blocking_the_scheduler)
{
    run_main(many_main, NULL, 1);
}
END_TEST

START_TEST(test_io_wait_parks_100_processes_on_2_schedulers)
{
    run_main(many_main, NULL, 2);
}
END_TEST

/* ---- edges ----------------------------------------------------------- */

static void
rearm_main(void *arg)
{
    int fds[2];
    (void)arg;
    EXPECT(make_pipe(fds));
    for (int round = 0; round < 10; round++) {
        unsigned char b = (unsigned char)(round + 10);
        EXPECT(write(fds[1], &b, 1) == 1);
        uint32_t rev = 0;
        EXPECT(hv_io_wait(fds[0], HV_IO_READ, 5000, &rev) == HV_OK);
        EXPECT((rev & HV_IO_READ) != 0);
        unsigned char last = 0;
        EXPECT(drain(fds[0], &last) == 1);
        EXPECT(last == b);
        /* Drained: waiting again times out rather than firing stale. */
        EXPECT(hv_io_wait(fds[0], HV_IO_READ, 5, &rev) == HV_ETIMEOUT);
    }
    close(fds[0]);
    close(fds[1]);
}

START_TEST(test_io_wait_on_the_same_fd_again_after_draining_works)
{
    run_main(rearm_main, NULL, 2);
}
END_TEST

/* A waiter woken by a writer process, round after round on the same fd. */
static int ping_fds[2];

static void
rearm_waiter(void *arg)
{
    (void)arg;
    for (int round = 0; round < 20; round++) {
        uint32_t rev = 0;
        int rc = hv_io_wait(ping_fds[0], HV_IO_READ, 10000, &rev);
        unsigned char last = 0;
        long n = drain(ping_fds[0], &last);
        hv_send(main_pid, hv_tuple(3, hv_int(rc), hv_int(n), hv_int(last)));
    }
}

static void
rearm_remote_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    EXPECT(make_pipe(ping_fds));
    EXPECT(hv_spawn(rearm_waiter, NULL) != HV_NONE);
    for (int round = 0; round < 20; round++) {
        hv_sleep(2); /* let it park first, most rounds */
        unsigned char b = (unsigned char)(round + 1);
        EXPECT(write(ping_fds[1], &b, 1) == 1);
        hv_term m = HV_NONE;
        EXPECT(hv_recv(10000, &m) == HV_OK);
        EXPECT(elem_int(m, 0) == HV_OK);
        EXPECT(elem_int(m, 1) == 1);
        EXPECT(elem_int(m, 2) == round + 1);
        hv_release(m);
    }
    close(ping_fds[0]);
    close(ping_fds[1]);
}

START_TEST(test_io_wait_rearms_for_a_waiter_woken_round_after_round)
{
    run_main(rearm_remote_main, NULL, 2);
}
END_TEST

/* A wait that timed out leaves nothing armed: the fd becoming ready later
 * must not cut a sleep or a receive short. */
static int stale_fds[2];

static void
stale_writer(void *arg)
{
    (void)arg;
    hv_sleep(15);
    EXPECT(write(stale_fds[1], "s", 1) == 1);
}

static void
stale_main(void *arg)
{
    (void)arg;
    EXPECT(make_pipe(stale_fds));
    EXPECT(hv_io_wait(stale_fds[0], HV_IO_READ, 5, NULL) == HV_ETIMEOUT);
    EXPECT(hv_spawn(stale_writer, NULL) != HV_NONE);
    double t0 = now_ms();
    EXPECT(hv_sleep(60) == HV_OK);
    EXPECT(now_ms() - t0 >= 60);
    t0 = now_ms();
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_recv(40, &m) == HV_ETIMEOUT);
    EXPECT(now_ms() - t0 >= 40);
    /* And the fd can be waited on again. */
    uint32_t rev = 0;
    EXPECT(hv_io_wait(stale_fds[0], HV_IO_READ, 1000, &rev) == HV_OK);
    EXPECT((rev & HV_IO_READ) != 0);
    EXPECT(drain(stale_fds[0], NULL) == 1);
    close(stale_fds[0]);
    close(stale_fds[1]);
}

START_TEST(test_io_wait_that_timed_out_leaves_nothing_armed)
{
    run_main(stale_main, NULL, 2);
}
END_TEST

/* One socket, two processes: one waits to read while the other waits to
 * write (a reader and a writer sharing a connection).  The write wait
 * must not take the reader's place. */
static int duplex[2];

static void
duplex_reader(void *arg)
{
    (void)arg;
    uint32_t rev = 0;
    int rc = hv_io_wait(duplex[0], HV_IO_READ, 3000, &rev);
    unsigned char last = 0;
    long n = drain(duplex[0], &last);
    hv_send(main_pid, hv_tuple(5, hv_atom("reader"), hv_int(rc), hv_int(rev),
                               hv_int(n), hv_int(last)));
}

static void
duplex_writer(void *arg)
{
    (void)arg;
    uint32_t rev = 0;
    int rc = hv_io_wait(duplex[0], HV_IO_WRITE, 3000, &rev);
    hv_send(main_pid, hv_tuple(3, hv_atom("writer"), hv_int(rc), hv_int(rev)));
}

static void
duplex_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    EXPECT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, duplex) == 0);
    EXPECT(hv_spawn(duplex_reader, NULL) != HV_NONE);
    hv_sleep(20); /* the reader is parked */
    EXPECT(hv_spawn(duplex_writer, NULL) != HV_NONE);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(5000, &m) == HV_OK);
    EXPECT(is_tagged(m, "writer") && elem_int(m, 1) == HV_OK &&
           (elem_int(m, 2) & HV_IO_WRITE) != 0);
    hv_release(m);
    EXPECT(write(duplex[1], "r", 1) == 1);
    m = HV_NONE;
    double t0 = now_ms();
    EXPECT(hv_recv(5000, &m) == HV_OK);
    EXPECT(is_tagged(m, "reader"));
    EXPECT(elem_int(m, 1) == HV_OK);
    EXPECT((elem_int(m, 2) & HV_IO_READ) != 0);
    EXPECT(elem_int(m, 3) == 1 && elem_int(m, 4) == 'r');
    EXPECT(now_ms() - t0 < 1000); /* woken by the byte, not the timeout */
    hv_release(m);
    close(duplex[0]);
    close(duplex[1]);
}

START_TEST(test_io_wait_a_reader_and_a_writer_on_one_socket_both_wake)
{
    run_main(duplex_main, NULL, 1);
}
END_TEST

static int hup_fds[2];

static void
hup_closer(void *arg)
{
    (void)arg;
    hv_sleep(20);
    close(hup_fds[1]);
}

static void
hangup_main(void *arg)
{
    (void)arg;
    EXPECT(make_pipe(hup_fds));
    EXPECT(hv_spawn(hup_closer, NULL) != HV_NONE);
    uint32_t rev = 0;
    EXPECT(hv_io_wait(hup_fds[0], HV_IO_READ, 10000, &rev) == HV_OK);
    EXPECT((rev & HV_IO_READ) != 0); /* "readable, or the peer hung up" */
    char c;
    EXPECT(read(hup_fds[0], &c, 1) == 0);
    close(hup_fds[0]);
}

START_TEST(test_io_wait_reports_a_hang_up_as_readable)
{
    run_main(hangup_main, NULL, 2);
}
END_TEST

static void
msg_sender(void *arg)
{
    (void)arg;
    hv_sleep(5);
    hv_send(main_pid, hv_tuple(2, hv_atom("meanwhile"), hv_string("data")));
}

static void
messages_wait_main(void *arg)
{
    int fds[2];
    (void)arg;
    main_pid = hv_self();
    EXPECT(make_pipe(fds));
    EXPECT(hv_spawn(msg_sender, NULL) != HV_NONE);
    uint32_t rev = 0;
    double t0 = now_ms();
    EXPECT(hv_io_wait(fds[0], HV_IO_READ, 60, &rev) == HV_ETIMEOUT);
    EXPECT(now_ms() - t0 >= 60); /* the message did not end the wait */
    hv_term m = HV_NONE;
    EXPECT(hv_recv(0, &m) == HV_OK);
    EXPECT(is_tagged(m, "meanwhile"));
    hv_release(m);
    close(fds[0]);
    close(fds[1]);
}

START_TEST(test_io_wait_leaves_messages_that_arrive_meanwhile_in_the_mailbox)
{
    run_main(messages_wait_main, NULL, 2);
}
END_TEST

static void
forever_waiter(void *arg)
{
    intptr_t i = (intptr_t)arg;
    hv_send(main_pid, hv_atom("parking"));
    hv_io_wait(many_fds[i][0], HV_IO_READ, HV_INFINITY, NULL);
    hv_send(main_pid, hv_atom("woke_wrongly"));
}

static void
stop_while_waiting_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    for (intptr_t i = 0; i < 10; i++) {
        EXPECT(make_pipe(many_fds[i]));
        EXPECT(hv_spawn(forever_waiter, (void *)i) != HV_NONE);
    }
    for (int i = 0; i < 10; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(5000, &m) == HV_OK);
        EXPECT(is_atom(m, "parking"));
        hv_release(m);
    }
    hv_sleep(10);
    /* Returning kills the ten parked waiters. */
}

START_TEST(test_io_waiters_are_killed_cleanly_when_the_runtime_stops)
{
    run_main(stop_while_waiting_main, NULL, 2);
    for (int i = 0; i < 10; i++) {
        close(many_fds[i][0]);
        close(many_fds[i][1]);
    }
}
END_TEST

static void
dedicated_waiter(void *arg)
{
    (void)arg;
    uint32_t rev = 0;
    int rc = hv_io_wait(pipe_fds[0], HV_IO_READ, 10000, &rev);
    unsigned char last = 0;
    long n = drain(pipe_fds[0], &last);
    hv_send(main_pid,
            hv_tuple(4, hv_int(rc), hv_int(rev), hv_int(n), hv_int(last)));
}

static void
dedicated_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    EXPECT(make_pipe(pipe_fds));
    hv_spawn_opts opts = {0};
    hv_term pid = HV_NONE;
    opts.dedicated_stack = true;
    EXPECT(hv_spawn_opt(dedicated_waiter, NULL, &opts, &pid, NULL) == HV_OK);
    hv_sleep(20);
    EXPECT(write(pipe_fds[1], "d", 1) == 1);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(10000, &m) == HV_OK);
    EXPECT(elem_int(m, 0) == HV_OK);
    EXPECT((elem_int(m, 1) & HV_IO_READ) != 0);
    EXPECT(elem_int(m, 2) == 1 && elem_int(m, 3) == 'd');
    hv_release(m);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

START_TEST(test_io_wait_works_on_a_dedicated_stack)
{
    run_main(dedicated_main, NULL, 2);
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

static void
bad_args_main(void *arg)
{
    int fds[2];
    (void)arg;
    uint32_t rev = 0;
    EXPECT(hv_io_wait(-1, HV_IO_READ, 10, &rev) == HV_EBADARG);
    EXPECT(hv_io_wait(-5, HV_IO_WRITE, 0, &rev) == HV_EBADARG);
    EXPECT(make_pipe(fds));
    int closed_fd = fds[0];
    close(fds[0]);
    close(fds[1]);
    EXPECT(hv_io_wait(closed_fd, HV_IO_READ, 10, &rev) == HV_EBADARG);
    EXPECT(make_pipe(fds));
    EXPECT(hv_io_wait(fds[1], 0, 10, &rev) == HV_EBADARG);
    EXPECT(hv_io_wait(fds[1], 0, HV_INFINITY, &rev) == HV_EBADARG);
    /* The fd still works after the refusals. */
    rev = 0;
    EXPECT(hv_io_wait(fds[1], HV_IO_WRITE, 1000, &rev) == HV_OK);
    EXPECT((rev & HV_IO_WRITE) != 0);
    close(fds[0]);
    close(fds[1]);
}

START_TEST(test_io_wait_on_a_bad_fd_or_no_events_is_badarg)
{
    run_main(bad_args_main, NULL, 2);
}
END_TEST

static void
unknown_events_main(void *arg)
{
    int fds[2];
    (void)arg;
    EXPECT(make_pipe(fds));
    EXPECT(hv_io_wait(fds[1], 0x100, 10, NULL) == HV_EBADARG);
    EXPECT(hv_io_wait(fds[1], HV_IO_WRITE | 0x100, 10, NULL) == HV_EBADARG);
    close(fds[0]);
    close(fds[1]);
}

START_TEST(test_io_wait_with_unknown_event_bits_is_badarg)
{
    run_main(unknown_events_main, NULL, 2);
}
END_TEST

START_TEST(test_io_wait_outside_a_runtime_is_badarg)
{
    int fds[2];
    ck_assert(make_pipe(fds));
    ck_assert_int_eq(hv_io_wait(fds[1], HV_IO_WRITE, 0, NULL), HV_EBADARG);
    ck_assert_int_eq(hv_io_wait(fds[0], HV_IO_READ, 10, NULL), HV_EBADARG);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static atomic_int thread_rc;

static void *
io_thread(void *arg)
{
    int *fds = arg;
    atomic_store(&thread_rc, hv_io_wait(fds[1], HV_IO_WRITE, 10, NULL));
    hv_send(main_pid, hv_atom("thread_done"));
    return NULL;
}

static int thread_fds[2];

static void
thread_main(void *arg)
{
    pthread_t th;
    (void)arg;
    main_pid = hv_self();
    atomic_store(&thread_rc, 1);
    EXPECT(make_pipe(thread_fds));
    EXPECT(pthread_create(&th, NULL, io_thread, thread_fds) == 0);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(10000, &m) == HV_OK);
    hv_release(m);
    pthread_join(th, NULL);
    EXPECT(atomic_load(&thread_rc) == HV_EBADARG);
    close(thread_fds[0]);
    close(thread_fds[1]);
}

START_TEST(test_io_wait_from_a_plain_thread_is_badarg)
{
    run_main(thread_main, NULL, 2);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("io");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_io_wait_wakes_a_reader_when_another_process_writes);
    tcase_add_test(tc, test_io_wait_wakes_a_reader_on_one_scheduler);
    tcase_add_test(tc, test_io_wait_times_out_and_polls);
    tcase_add_test(tc,
                   test_io_wait_for_writing_on_an_empty_pipe_is_ready_at_once);
    tcase_add_test(
        tc, test_io_wait_parks_100_processes_without_blocking_the_scheduler);
    tcase_add_test(tc, test_io_wait_parks_100_processes_on_2_schedulers);

    tc = hv_check_tcase(s, "edges");
    tcase_add_test(tc, test_io_wait_on_the_same_fd_again_after_draining_works);
    tcase_add_test(tc,
                   test_io_wait_rearms_for_a_waiter_woken_round_after_round);
    tcase_add_test(tc, test_io_wait_reports_a_hang_up_as_readable);
    tcase_add_test(tc,
                   test_io_wait_a_reader_and_a_writer_on_one_socket_both_wake);
    tcase_add_test(tc, test_io_wait_that_timed_out_leaves_nothing_armed);
    tcase_add_test(
        tc, test_io_wait_leaves_messages_that_arrive_meanwhile_in_the_mailbox);
    tcase_add_test(tc,
                   test_io_waiters_are_killed_cleanly_when_the_runtime_stops);
    tcase_add_test(tc, test_io_wait_works_on_a_dedicated_stack);

    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_io_wait_on_a_bad_fd_or_no_events_is_badarg);
    tcase_add_test(tc, test_io_wait_with_unknown_event_bits_is_badarg);
    tcase_add_test(tc, test_io_wait_outside_a_runtime_is_badarg);
    tcase_add_test(tc, test_io_wait_from_a_plain_thread_is_badarg);
    return s;
}
