/* tests/proc_util.c - helpers the process suites share (proc_util.h). */
#include "tests/proc_util.h"

#include <stdatomic.h>
#include <time.h>

#include "tests/hv_check.h"

/* A wait that should end at once; past it the test fails, not hangs. */
enum { WAIT_MS = 10000 };

/* What run_main runs, and proof that main ran to its end: otherwise a
 * main that never ran (or was cut short) would pass with no expectation
 * checked. */
static struct {
    hv_fn *fn;
    void *arg;
    atomic_bool finished;
} main_call;

static void
main_trampoline(void *unused)
{
    (void)unused;
    main_call.fn(main_call.arg);
    atomic_store(&main_call.finished, true);
}

void
run_main(hv_fn *fn, void *arg, unsigned schedulers)
{
    hv_config c = config_of(schedulers);
    hv_term reason = HV_NONE;
    char text[128] = "?";

    hv_expect_reset();
    main_call.fn = fn;
    main_call.arg = arg;
    atomic_store(&main_call.finished, false);
    ck_assert_int_eq(hv_run(main_trampoline, NULL, &c, &reason), HV_OK);
    hv_format(reason, text, sizeof text);
    bool normal = reason == hv_atom("normal");
    hv_release(reason);
    ck_assert_msg(normal, "main exited with %s", text);
    ck_assert_msg(atomic_load(&main_call.finished),
                  "main did not run to its end");
    hv_expect_assert();
    ck_assert(!hv_running());
}

hv_config
config_of(unsigned schedulers)
{
    hv_config c = {0};
    c.schedulers = schedulers;
    return c;
}

void *
pid_arg(hv_term pid)
{
    return (void *)(uintptr_t)pid;
}

hv_term
arg_pid(void *arg)
{
    return (hv_term)(uintptr_t)arg;
}

void
returns_at_once(void *arg)
{
    (void)arg;
}

bool
only_stop(hv_term m, void *ctx)
{
    (void)ctx;
    return m == hv_atom("stop");
}

bool
reject_all(hv_term m, void *ctx)
{
    (void)m;
    (void)ctx;
    return false;
}

void
await_stop(void *arg)
{
    (void)arg;
    hv_term m = HV_NONE;
    EXPECT(hv_recv_if(only_stop, NULL, WAIT_MS * 3, &m) == HV_OK);
}

bool
eventually_unnamed(hv_term name)
{
    for (int i = 0; i < WAIT_MS; i++) {
        if (hv_whereis(name) == HV_NONE)
            return true;
        hv_sleep(1);
    }
    return hv_whereis(name) == HV_NONE;
}

hv_term
name_of(hv_term pid)
{
    hv_proc_info info;
    if (hv_process_info(pid, &info) != HV_OK)
        return HV_NIL;
    return info.name;
}

hv_term
next_msg(void)
{
    hv_term m = HV_NONE;
    int rc = hv_recv(WAIT_MS, &m);
    hv_expect_at(rc == HV_OK, "a message arrives within WAIT_MS", __LINE__);
    return rc == HV_OK ? m : HV_NONE;
}

void
await_atom(const char *name)
{
    hv_term m = next_msg();
    if (!hv_expect_at(m == hv_atom(name), name, __LINE__))
        hv_release(m);
}

bool
is_dead(hv_term pid)
{
    hv_proc_info info;
    return hv_process_info(pid, &info) == HV_ENOPROC;
}

bool
eventually_dead(hv_term pid)
{
    for (int i = 0; i < WAIT_MS; i++) {
        if (is_dead(pid))
            return true;
        hv_sleep(1);
    }
    return is_dead(pid);
}

bool
eventually_count(size_t n)
{
    for (int i = 0; i < WAIT_MS; i++) {
        if (hv_process_count() == n)
            return true;
        hv_sleep(1);
    }
    return hv_process_count() == n;
}

void
stop_and_reap(hv_term pid)
{
    EXPECT(hv_send(pid, hv_atom("stop")) == HV_OK);
    EXPECT(eventually_dead(pid));
}

double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int64_t
elem_int(hv_term t, size_t i)
{
    int64_t v;
    if (hv_int_value(hv_tuple_at(t, i), &v) != HV_OK)
        return INT64_MIN;
    return v;
}

bool
is_atom(hv_term t, const char *name)
{
    return hv_is_atom(t) && hv_equal(t, hv_atom(name));
}

bool
is_tagged(hv_term t, const char *tag)
{
    return hv_tuple_size(t) >= 1 && is_atom(hv_tuple_at(t, 0), tag);
}

hv_term
boxed(const char *tag, int64_t i)
{
    return hv_tuple(3, hv_atom(tag), hv_int(i), hv_string("payload"));
}
