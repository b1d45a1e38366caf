/* bench/bench.h - helpers shared by the process benchmarks (spawn, ring,
 * pingpong, skynet, fanin): the clock, memory figures from /proc/self, the
 * ready barrier, checked wrappers around the hv_ calls, options and the
 * result line in the peers' format (../shared/peers/README.md):
 *   bench=NAME impl=hive n=N wall_s=S per_op_ns=NS extra=sched:K,...
 *
 * Every benchmark checks what it can and exits non-zero on any failure: a
 * hv_ call that fails, a wrong count or sum, a message it did not expect,
 * or a wait that lasts longer than BENCH_WAIT_MS (a hang fails rather than
 * blocks make check).  A failure inside a process ends the OS process at
 * once with _Exit: the other scheduler threads are still running, so there
 * is no orderly way back to main. */
#ifndef HV_BENCH_H
#define HV_BENCH_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hive/hive.h"

/* How long the driver waits for one message before it calls the run hung:
 * the peers' run kills a benchmark after 240 s. */
#define BENCH_WAIT_MS ((int64_t)240 * 1000)
#define BENCH_WAIT_SHORT_MS ((int64_t)60 * 1000)
/* As the peers' Erlang runs with +P 2097152: skynet has up to 1,111,111
 * processes alive at once, past the default limit. */
#define BENCH_MAX_PROCESSES ((size_t)1 << 21)
#define BENCH_SCHEDULERS 2u

/* Under ThreadSanitizer every live process carries a TSan fiber of close
 * to 1 MB, which takes milliseconds to fault in: the short runs of the
 * benchmarks that keep many processes alive use fewer there. */
#if defined(__SANITIZE_THREAD__)
#define BENCH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BENCH_TSAN 1
#endif
#endif
#ifndef BENCH_TSAN
#define BENCH_TSAN 0
#endif

struct bench_opts {
    const char *name;    /* the program's name, for messages */
    bool short_mode;     /* --short: a tiny N, for make check */
    unsigned schedulers; /* HV_SCHEDULERS, default 2 */
    int64_t wait_ms;     /* the driver's longest wait for one message */
    bool quiet_crashes;  /* no crash reports (Erlang's logger level none) */
};

/* The untimed ready barrier: each process spawned in the setup calls
 * bench_ready_arrive once when it first runs, and the one that brings the
 * count to `expected` sends the atom `ready` to the driver. */
struct bench_ready {
    atomic_long count;
    long expected;
    hv_term driver;
};

static inline int64_t
bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Prints "NAME: message" and ends the OS process with status 1. */
__attribute__((format(printf, 2, 3))) static inline _Noreturn void
bench_failf(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(NULL);
    _Exit(1);
}

/* The same for a call that failed, with its HV_E* code when not 0. */
static inline _Noreturn void
bench_fail(const char *name, const char *what, int code)
{
    bench_failf(name, "%s failed%s%s", what, code ? ": " : "",
                code ? hv_strerror(code) : "");
}

/* VmRSS of this OS process in bytes (/proc/self/status), -1 if unreadable. */
static inline int64_t
bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    int64_t kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtoll(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib < 0 ? -1 : kib * 1024;
}

/* Minor page faults of this OS process so far: field 10 of
 * /proc/self/stat, counted after the command name, which may hold spaces
 * but ends at the last ')'.  -1 if unreadable. */
static inline int64_t
bench_minflt(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (f == NULL)
        return -1;
    char buf[1024];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *p = strrchr(buf, ')');
    /* After ") ": state ppid pgrp session tty_nr tpgid flags minflt. */
    for (int field = 0; p != NULL && field < 8; field++)
        p = strchr(p + 1, ' ');
    return p == NULL ? -1 : strtoll(p + 1, NULL, 10);
}

static inline hv_term
bench_atom(const struct bench_opts *o, const char *name)
{
    hv_term a = hv_atom(name);
    if (a == HV_NONE)
        bench_fail(o->name, "hv_atom", 0);
    return a;
}

static inline hv_term
bench_spawn(const struct bench_opts *o, hv_fn *fn, void *arg)
{
    hv_term pid = hv_spawn(fn, arg);
    if (pid == HV_NONE)
        bench_fail(o->name, "hv_spawn", 0);
    return pid;
}

/* Sends msg (consumed) to `to`, failing the run on an error. */
static inline void
bench_send(const struct bench_opts *o, hv_term to, hv_term msg)
{
    int rc = hv_send(to, msg);
    if (rc != HV_OK)
        bench_fail(o->name, "hv_send", rc);
}

/* The next message (new), waiting as long as it takes: for the workers,
 * whose hangs the driver's timed wait catches. */
static inline hv_term
bench_recv(const struct bench_opts *o)
{
    hv_term msg;
    int rc = hv_recv(HV_INFINITY, &msg);
    if (rc != HV_OK)
        bench_fail(o->name, "hv_recv", rc);
    return msg;
}

/* The driver's receive: the next message (new), or a failure after
 * o->wait_ms; `what` names what the driver waits for. */
static inline hv_term
bench_recv_driver(const struct bench_opts *o, const char *what)
{
    hv_term msg;
    int rc = hv_recv(o->wait_ms, &msg);
    if (rc == HV_ETIMEOUT)
        bench_failf(o->name, "no %s after %" PRId64 " s; hung?", what,
                    o->wait_ms / 1000);
    if (rc != HV_OK)
        bench_fail(o->name, "hv_recv", rc);
    return msg;
}

/* Waits for the atom `want` (e.g. ready, done); anything else fails. */
static inline void
bench_await(const struct bench_opts *o, const char *want)
{
    hv_term msg = bench_recv_driver(o, want);
    if (msg != bench_atom(o, want)) {
        char text[128];
        hv_format(msg, text, sizeof text);
        bench_failf(o->name, "expected %s, received %s", want, text);
    }
    hv_release(msg);
}

/* The index of pid's home scheduler.  Where processes live explains much
 * of a figure: a message to a process homed on another scheduler is a
 * cross-thread wake-up, which costs microseconds when that thread sleeps. */
static inline unsigned
bench_home(const struct bench_opts *o, hv_term pid)
{
    hv_proc_info info;
    int rc = hv_process_info(pid, &info);
    if (rc != HV_OK)
        bench_fail(o->name, "hv_process_info", rc);
    return info.scheduler;
}

/* Called by the driver before it spawns the processes it will wait for. */
static inline void
bench_ready_init(struct bench_ready *r, long expected)
{
    atomic_store_explicit(&r->count, 0, memory_order_relaxed);
    r->expected = expected;
    r->driver = hv_self();
}

static inline void
bench_ready_arrive(const struct bench_opts *o, struct bench_ready *r)
{
    long n = atomic_fetch_add_explicit(&r->count, 1, memory_order_acq_rel);
    if (n + 1 == r->expected)
        bench_send(o, r->driver, bench_atom(o, "ready"));
}

/* Prints one result line: per_op_ns is wall / ops (ops differs from n only
 * for skynet); extra, printf-style, follows sched:K. */
__attribute__((format(printf, 6, 7))) static inline void
bench_line(const struct bench_opts *o, const char *bench, int64_t n,
           int64_t wall_ns, int64_t ops, const char *extra_fmt, ...)
{
    printf("bench=%s impl=hive n=%" PRId64 " wall_s=%.6f per_op_ns=%.1f "
           "extra=sched:%u",
           bench, n, (double)wall_ns * 1e-9, (double)wall_ns / (double)ops,
           o->schedulers);
    if (extra_fmt != NULL && extra_fmt[0] != '\0') {
        va_list ap;
        va_start(ap, extra_fmt);
        putchar(',');
        vprintf(extra_fmt, ap);
        va_end(ap);
    }
    putchar('\n');
    fflush(stdout);
}

/* Reads --short and the environment's HV_SCHEDULERS; exits 2 on anything
 * else. */
static inline void
bench_opts_parse(struct bench_opts *o, const char *name, int argc, char **argv)
{
    o->name = name;
    o->short_mode = false;
    o->schedulers = BENCH_SCHEDULERS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--short") == 0) {
            o->short_mode = true;
        } else {
            bool help =
                strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0;
            fprintf(help ? stdout : stderr,
                    "usage: %s [--short]\n"
                    "  --short  a tiny N that runs well under a second\n"
                    "  env HV_SCHEDULERS=K  scheduler threads (default "
                    "%u)\n",
                    name, BENCH_SCHEDULERS);
            exit(help ? 0 : 2);
        }
    }
    const char *env = getenv("HV_SCHEDULERS");
    if (env != NULL && env[0] != '\0') {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        if (*end != '\0' || v == 0 || v > 1024 || env[0] == '-') {
            fprintf(stderr, "%s: HV_SCHEDULERS=%s is no count of threads\n",
                    name, env);
            exit(2);
        }
        o->schedulers = (unsigned)v;
    }
    o->wait_ms = o->short_mode ? BENCH_WAIT_SHORT_MS : BENCH_WAIT_MS;
}

/* Compiles the clauses (NULL-ended) into a set, failing the run with the
 * compiler's message. */
static inline hv_rset *
bench_compile_set(const struct bench_opts *o, const char *const *clauses)
{
    size_t n = 0;
    while (clauses[n] != NULL)
        n++;
    hv_error err;
    hv_rset *s = hv_rset_compile(clauses, n, &err);
    if (s == NULL)
        bench_failf(o->name, "hv_rset_compile of %s: %s at %d:%d (%s)",
                    clauses[0], hv_strerror(err.code), err.line, err.column,
                    err.what);
    return s;
}

/* The index in bindings of clause `clause`'s variable `name`. */
static inline int
bench_var_index(const struct bench_opts *o, const hv_rset *s, size_t clause,
          const char *name)
{
    int i = hv_pattern_var_index(hv_rset_clause(s, clause), name);
    if (i < 0)
        bench_failf(o->name, "clause %zu has no variable %s", clause, name);
    return i;
}

/* hv_receive that fails the run on anything but a match. */
static inline void
bench_receive(const struct bench_opts *o, const hv_rset *s, const hv_pins *pins,
        int64_t timeout_ms, hv_bindings *b, const char *what)
{
    int rc = hv_receive(s, pins, timeout_ms, b);
    if (rc == HV_ETIMEOUT)
        bench_failf(o->name, "no %s after %" PRId64 " s; hung?", what,
                    timeout_ms / 1000);
    if (rc != HV_OK)
        bench_failf(o->name, "hv_receive of %s: %s (%s)", what, hv_strerror(rc),
                    b->what);
}

/* peers.erl's raw_server/1, shared by selective and call_raw:
 * {call, From, Ref, I} -> From ! {Ref, I + 1}; {count, From} ->
 * From ! {count, Count}; stop -> return.  set holds those three clauses
 * in that order; the indexes are of their variables. */
struct bench_raw_server {
    const struct bench_opts *opts;
    const hv_rset *set;
    int call_from, call_ref, call_i, count_from;
    hv_term count; /* the atom count */
};

static inline void
bench_raw_server_loop(const struct bench_raw_server *r)
{
    const struct bench_opts *o = r->opts;
    int64_t count = 0;
    for (;;) {
        hv_bindings b;
        bench_receive(o, r->set, NULL, HV_INFINITY, &b, "a server request");
        if (b.clause == 0) {
            int64_t i;
            if (hv_int_value(b.var[r->call_i], &i) != HV_OK)
                bench_fail(o->name, "the server's check of I", 0);
            bench_send(
                o, b.var[r->call_from],
                hv_tuple(2, hv_retain(b.var[r->call_ref]), hv_int(i + 1)));
            count++;
        } else if (b.clause == 1) {
            bench_send(o, b.var[r->count_from],
                       hv_tuple(2, r->count, hv_int(count)));
        }
        int clause = b.clause;
        hv_bindings_release(&b);
        if (clause == 2)
            return;
    }
}

/* Runs driver(arg) as the first process of a runtime configured from o and
 * fails unless it ran and returned normally. */
static inline void
bench_run(const struct bench_opts *o, hv_fn *driver, void *arg)
{
    hv_config cfg = {0};
    cfg.schedulers = o->schedulers;
    cfg.max_processes = BENCH_MAX_PROCESSES;
    cfg.quiet_crashes = o->quiet_crashes;
    hv_term reason = HV_NONE;
    int rc = hv_run(driver, arg, &cfg, &reason);
    if (rc != HV_OK)
        bench_fail(o->name, "hv_run", rc);
    if (reason != bench_atom(o, "normal")) {
        char text[128];
        hv_format(reason, text, sizeof text);
        fprintf(stderr, "%s: the driver exited with reason %s\n", o->name,
                text);
        exit(1);
    }
    hv_release(reason);
}

#endif /* HV_BENCH_H */
