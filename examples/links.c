/* examples/links.c - links, monitors and exit signals, by Erlang's rules.
 *
 * A manager starts pairs of workers (the first of a pair starts the
 * second with hv_spawn_link) and monitors every worker; they average
 * ranges of numbers.  Then two workers crash, one is killed and one is
 * sent the exit signal `normal`, and the output shows who hears what.
 * Every step is checked: exit status 1 at the first surprise, 0 when all
 * held.  --short runs 3 pairs (make check runs it), the default 1000.
 *
 * Crash reports: like Erlang's logger, hive reports on stderr a process
 * that dies abnormally while nobody links to it or monitors it (no one
 * else would hear of it).  Every worker here is monitored, so crashes
 * arrive as DOWN messages only and stderr stays empty. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <hive/hive.h>

enum { SHORT_PAIRS = 3, DEFAULT_PAIRS = 1000 }; /* the story needs 3 */
enum { TRAPPER = 6 };                           /* worker_6 traps exits */
enum { WAIT_MS = 30000 }; /* later than this (even under TSan), a surprise */

/* The messages waited for, as Erlang patterns.  ^Pid is supplied at each
 * receive, so one compiled set serves every worker (sets are immutable:
 * all processes share them).  The manager's have one variable each. */
enum { JOB, PAIR, ANSWER, TRAPPED, DOWN, N_SETS };
static const char *const clauses[N_SETS][2] = {
    [JOB] = {"{mean, From, Lo, Hi} when is_integer(Lo), is_integer(Hi)",
             "{'EXIT', _, _}"},
    [PAIR] = {"{pair, ^Pid, Partner}"},
    [ANSWER] = {"{mean, ^Pid, Mean}"},
    [TRAPPED] = {"{trapped, ^Pid, Exit}"},
    [DOWN] = {"{'DOWN', _, process, ^Pid, _} = Down"},
};
static hv_rset *sets[N_SETS];

/* What worker_<id> exits with when its range is empty: a division by
 * zero, which in Erlang (Sum div 0) raises badarith. */
static hv_term
crash_reason(int id)
{
    char name[32];
    snprintf(name, sizeof name, "worker_%d", id);
    return hv_make("{badarith, ~a}", name);
}

/* t as Erlang text in buf, cut to fit. */
static const char *
text(hv_term t, char *buf, size_t size)
{
    if (hv_format(t, buf, size) < 0)
        snprintf(buf, size, "?");
    return buf;
}

static void
worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    hv_term manager = hv_atom("manager");
    hv_trap_exit(id == TRAPPER); /* only worker_6 traps exits */
    if (id % 2 == 1) {
        /* Linked before the partner runs: neither can die unheard. */
        hv_term partner = hv_spawn_link(worker, (void *)(intptr_t)(id + 1));
        hv_send(manager, hv_make("{pair, ~p, ~p}", hv_self(), partner));
    }
    hv_bindings job;
    while (hv_receive(sets[JOB], NULL, HV_INFINITY, &job) == HV_OK) {
        int64_t lo, hi, sum = 0;
        if (job.clause == 1) { /* a trapped exit signal: pass it on */
            hv_send(manager, hv_make("{trapped, ~p, ~t}", hv_self(), job.msg));
            continue;
        }
        hv_int_value(hv_binding(&job, "Lo"), &lo);
        hv_int_value(hv_binding(&job, "Hi"), &hi);
        if (hi < lo) { /* C has no badarith: exit as Erlang would */
            char why[64];
            hv_term reason = crash_reason(id);
            hv_bindings_release(&job); /* hv_exit does not return */
            printf("  worker_%d: empty range, exits with %s\n", id,
                   text(reason, why, sizeof why));
            hv_exit(reason);
        }
        for (int64_t i = lo; i <= hi; i++)
            sum += i;
        hv_send(hv_binding(&job, "From"),
                hv_make("{mean, ~p, ~l}", hv_self(), sum / (hi - lo + 1)));
        hv_bindings_release(&job);
    }
}

/* A surprise ends the manager with reason `surprise`: main exits 1. */
static void
check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "links: unexpected: %s\n", what);
    hv_exit(hv_atom("surprise"));
}

/* Receives the message sets[set] describes from pid, leaving the others
 * queued in order, and returns the value of its variable (new). */
static hv_term
await(int set, hv_term pid)
{
    hv_bindings b;
    check(hv_receive(sets[set], HV_PINS(pid), WAIT_MS, &b) == HV_OK,
          clauses[set][0]);
    hv_term value = hv_retain(b.var[0]);
    hv_bindings_release(&b);
    return value;
}

/* Sends worker a job and returns the mean it answers. */
static int64_t
ask(hv_term worker, int64_t lo, int64_t hi)
{
    int64_t mean = -1;
    hv_send(worker, hv_make("{mean, ~p, ~l, ~l}", hv_self(), lo, hi));
    hv_term answer = await(ANSWER, worker);
    hv_int_value(answer, &mean);
    hv_release(answer);
    return mean;
}

/* Waits for worker_<id>'s DOWN and checks its reason is want (consumed).
 * A monitor only observes: it gets a message, whatever the reason. */
static void
expect_down(const hv_term *w, int id, hv_term want)
{
    char buf[160];
    hv_term down = await(DOWN, w[id]);
    printf("  DOWN for worker_%d: %s\n", id, text(down, buf, sizeof buf));
    check(hv_equal(hv_tuple_at(down, 4), want), "a DOWN, another reason");
    hv_release(want);
    hv_release(down);
    /* DOWN is sent once the process has ended, never before. */
    check(!hv_is_alive(w[id]), "a process alive after its DOWN");
}

/* Starts the pairs, monitors every worker and has each one average
 * 100*id .. 100*id+20, whose mean is known. */
static void
start_pairs(hv_term *w, int pairs)
{
    char m[32], a[32], b[32];
    printf("links: %d pairs of linked workers, monitored by the manager %s\n",
           pairs, text(hv_self(), m, sizeof m));
    for (int id = 1; id < 2 * pairs; id += 2) {
        hv_term ref; /* refs not kept: DOWNs are told apart by pid */
        w[id] = hv_spawn_monitor(worker, (void *)(intptr_t)id, &ref);
        check(w[id] != HV_NONE, "hv_spawn_monitor failed");
        hv_release(ref);
        w[id + 1] = await(PAIR, w[id]);
        hv_release(hv_monitor(w[id + 1])); /* if it fails, no DOWN comes */
        if (id < 2 * SHORT_PAIRS)
            printf("  worker_%d %s linked to worker_%d %s%s\n", id,
                   text(w[id], a, sizeof a), id + 1,
                   text(w[id + 1], b, sizeof b),
                   id + 1 == TRAPPER ? ", which traps exits" : "");
    }
    for (int id = 1; id <= 2 * pairs; id++)
        check(ask(w[id], 100 * id, 100 * id + 20) == 100 * id + 10,
              "a wrong mean");
    printf("work: %d workers each averaged a range, correctly\n", 2 * pairs);
}

/* A process that dies sends an exit signal with its reason to its links.
 * One that does not trap exits dies of it, with that same reason (unless
 * it is normal); one that traps exits gets it as the message
 * {'EXIT', From, Reason} instead, and lives on. */
static void
crash_two_workers(const hv_term *w)
{
    char msg[128];
    printf("crash 1: the manager sends worker_3 an empty range\n");
    hv_send(w[3], hv_make("{mean, ~p, 1, 0}", hv_self()));
    expect_down(w, 3, crash_reason(3));
    expect_down(w, 4, crash_reason(3));
    printf("  worker_4 does not trap exits: it died of worker_3's reason\n");

    printf("crash 2: the manager sends worker_5 an empty range\n");
    hv_send(w[5], hv_make("{mean, ~p, 1, 0}", hv_self()));
    expect_down(w, 5, crash_reason(5));
    hv_term got = await(TRAPPED, w[6]);
    printf("  worker_6 traps exits: it got the message %s\n",
           text(got, msg, sizeof msg));
    hv_term want = hv_make("{'EXIT', ~p, ~t}", w[5], crash_reason(5));
    check(hv_equal(got, want), "worker_6 got another 'EXIT' message");
    hv_release(want);
    hv_release(got);
    check(ask(w[6], 1, 9) == 5, "worker_6 stopped working");
    printf("  and carries on: it still answers (the mean of 1..9 is 5)\n");
}

/* Exit signals sent with hv_exit_pid.  `kill` cannot be trapped: the
 * victim ends with reason `killed` (its links get `killed`, which they
 * can trap).  `normal` from another process is ignored by a process that
 * does not trap exits.  Signals from one process to another arrive in
 * order with its messages, so once worker_1 answers a job sent after the
 * signal, it has dealt with the signal. */
static void
send_exit_signals(const hv_term *w)
{
    printf("kill: the manager calls hv_exit_pid(worker_6, kill)\n");
    hv_exit_pid(w[6], hv_atom("kill"));
    expect_down(w, 6, hv_atom("killed"));
    printf("  trapping exits did not save it: kill cannot be trapped\n");
    printf("normal: the manager calls hv_exit_pid(worker_1, normal)\n");
    hv_exit_pid(w[1], hv_atom("normal"));
    check(ask(w[1], 1, 9) == 5, "worker_1 stopped working");
    check(hv_is_alive(w[1]) && hv_is_alive(w[2]), "pair 1 died");
    printf("  ignored: worker_1 is alive and still answers\n");
}

static void
manager(void *arg)
{
    int pairs = (int)(intptr_t)arg;
    for (int i = 0; i < N_SETS; i++) { /* main frees them */
        sets[i] = hv_rset_compile(clauses[i], clauses[i][1] ? 2 : 1, NULL);
        check(sets[i] != NULL, clauses[i][0]);
    }
    /* w[id] is worker_<id>'s pid; static, since this process's stack is
     * copied aside whenever it waits and should stay small. */
    static hv_term w[2 * DEFAULT_PAIRS + 1];
    check(hv_register(hv_atom("manager"), hv_self(), NULL) == HV_OK,
          "hv_register failed");
    start_pairs(w, pairs);
    crash_two_workers(w);
    send_exit_signals(w);
    printf("ok\n"); /* hv_run kills the workers left when main returns */
}

int
main(int argc, char **argv)
{
    bool short_run = argc > 1 && strcmp(argv[1], "--short") == 0;
    void *pairs = (void *)(intptr_t)(short_run ? SHORT_PAIRS : DEFAULT_PAIRS);
    hv_term reason = HV_NONE;
    bool ok = hv_run(manager, pairs, NULL, &reason) == HV_OK &&
              hv_equal(reason, hv_atom("normal"));
    hv_release(reason);
    for (int i = 0; i < N_SETS; i++)
        hv_rset_free(sets[i]);
    return ok ? 0 : 1;
}
