/* hive/process.h - processes: the runtime, spawn, send, receive, exit,
 * timers, names, IO waits, bridges from plain threads, introspection.
 *
 * A process is a function running as a lightweight coroutine on one of
 * the runtime's scheduler threads, with a mailbox.  Processes share
 * nothing but terms: a message is a term, sending it is O(1) and never
 * copies (terms are immutable and reference-counted).
 *
 * Stacks.  By default a process runs on its scheduler's stack, and when it
 * switches out only the part it uses is copied aside (copying stacks), so
 * an idle process costs a few hundred bytes.  The rule that follows for
 * users: NEVER hand a pointer into your stack (a local variable, a local
 * array) to another process or thread; by the time it is used, another
 * process may occupy that address.  Pass terms, or memory from malloc.
 * A stack overflow is caught on a 16 KiB guard below the stack; a single
 * frame larger than that (a big local array) can step over the guard
 * and crash the OS process instead: build such code with
 * -fstack-clash-protection, or keep big buffers off the stack.
 * A process that blocks deep in its call stack, runs hot for long, or
 * needs stable stack addresses asks for a dedicated stack
 * (hv_spawn_opts.dedicated_stack); blocking C code (read(2), sleep(3),
 * a lock held for long) belongs in a process with its own OS thread
 * (hv_spawn_opts.thread) or behind hv_io_wait.
 *
 * Scheduling is cooperative: send, receive, hv_yield, hv_sleep and
 * hv_io_wait are the points where a process can be switched out; a
 * process that sends or receives many times in a row is switched out
 * when its reduction budget runs out, so no process starves the others.
 *
 * Ownership follows term.h: hv_send consumes its message on every path;
 * a received message is the caller's (release it). */
#ifndef HV_PROCESS_H
#define HV_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/error.h"
#include "hive/term.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Timeout meaning "wait forever"; 0 means "do not wait" (poll). */
#define HV_INFINITY ((int64_t)-1)

/* A process body.  Returning from it ends the process with reason
 * `normal`. */
typedef void hv_fn(void *arg);

/* ---- the runtime ---------------------------------------------------- */

typedef struct hv_config {
    /* Scheduler threads; 0: one per CPU the OS process may run on. */
    unsigned schedulers;
    /* Size of each scheduler's stack, which bounds how deep a process on
     * a copying stack may go; 0: 1 MiB.  Address space only: pages are
     * committed when touched. */
    size_t stack_bytes;
    /* Most processes alive at once (bridges count); 0: 1,048,576. */
    size_t max_processes;
    /* Microseconds an idle scheduler keeps looking for work before it
     * sleeps; 0: 50.  Negative: sleep at once. */
    int spin_us;
    /* On stack overflow abort the OS process instead of killing only the
     * process that overflowed. */
    bool overflow_aborts;
    /* Do not print crash reports (see "links, monitors, exit signals"). */
    bool quiet_crashes;
} hv_config;

/* Starts the runtime with config (NULL: all defaults), runs main_fn(arg)
 * as the first process and returns when that process exits.  Every
 * other process still alive is then killed (its hv_defer cleanups run),
 * the schedulers stop and everything the runtime allocated is freed.
 * Returns HV_OK, or before anything ran: HV_EBADARG (a runtime is already
 * running, main_fn is NULL, a config field is out of range) or
 * HV_ENOMEM.  *reason (when reason is not NULL) receives main_fn's exit
 * reason (new): `normal` when it returned; on failure it is untouched. */
HV_API int hv_run(hv_fn *main_fn, void *arg, const hv_config *config,
                  hv_term *reason);

/* Starts the runtime and returns at once; the schedulers run in the
 * background until hv_stop.  For programs with their own main loop:
 * spawn processes with hv_spawn and talk to them through bridges.
 * Returns HV_OK, HV_EBADARG (already running, bad config) or
 * HV_ENOMEM. */
HV_API int hv_start(const hv_config *config);
/* Kills every process (their hv_defer cleanups run), stops the
 * schedulers and frees the runtime.  Waits for processes that run on
 * their own thread (hv_spawn_opts.thread) to reach a hive call.  Not from
 * a process.  Returns HV_OK, or HV_EBADARG when no runtime runs or the
 * caller is a process. */
HV_API int hv_stop(void);
/* Whether a runtime is running. */
HV_API bool hv_running(void);

/* ---- spawning and exiting -------------------------------------------- */

typedef struct hv_spawn_opts {
    /* A dedicated guarded stack from a pool instead of the scheduler's
     * copying stack: for processes that block deep, run hot, or need
     * stable stack addresses. */
    bool dedicated_stack;
    /* Usable size of a dedicated stack: 0 (256 KiB) or 16 KiB to 1 GiB. */
    size_t stack_bytes;
    /* Run on an OS thread of its own, for blocking C code.  Same API;
     * receive and sleep block that thread.  Costs a thread per process.
     * Excludes dedicated_stack (HV_EBADARG): the thread has its stack. */
    bool thread;
    /* Register the process under this atom before it runs (HV_NONE: no
     * name).  Fails like hv_register if the name is taken. */
    hv_term name;
    /* Link the new process to the caller before it runs (spawn_link). */
    bool link;
    /* Monitor it from the caller before it runs (spawn_monitor): the
     * monitor's ref (new) is written here. */
    hv_term *monitor;
} hv_spawn_opts;

/* Spawns fn(arg) as a new process; returns its pid, or HV_NONE when the
 * runtime is not running, fn is NULL, memory is out or max_processes
 * processes are alive.  From a process the new one starts on the
 * spawner's scheduler; from any other thread on one chosen round-robin. */
HV_API hv_term hv_spawn(hv_fn *fn, void *arg);
/* hv_spawn with options (opts may be NULL).  Returns HV_OK and sets
 * *pid, or HV_EBADARG (pid NULL, fn NULL, bad options, runtime not
 * running), HV_ENOMEM, HV_ELIMIT with err filled and *pid untouched.
 * A dedicated stack is mapped when the process first runs; if that fails
 * (vm.max_map_count reached) the process ends with reason
 * `system_limit` without running. */
HV_API int hv_spawn_opt(hv_fn *fn, void *arg, const hv_spawn_opts *opts,
                        hv_term *pid, hv_error *err);

/* The calling process's pid; HV_NONE outside a process. */
HV_API hv_term hv_self(void);

/* Ends the calling process at once with reason (consumed), from any depth
 * of its call stack: no C frame above is returned to.  Its hv_defer
 * cleanups run (latest first), its mailbox is dropped, its name freed.
 * Outside a process, or from a hv_defer cleanup, it aborts with a
 * message: there is nothing (more) to end. */
HV_API _Noreturn void hv_exit(hv_term reason);

/* Registers fn(arg) to run when the calling process ends, however it
 * ends (return, hv_exit, stack overflow, runtime shutdown); cleanups run
 * in reverse order of registration, on the scheduler, with hv_self()
 * still the dying process.  They may send but not receive or sleep.
 * Returns HV_OK, HV_EBADARG (not a process, fn NULL) or HV_ENOMEM. */
HV_API int hv_defer(void (*fn)(void *arg), void *arg);

/* Lets other processes run; the caller continues later. */
HV_API void hv_yield(void);

/* ---- links, monitors, exit signals -----------------------------------
 *
 * Erlang's semantics.  A process ends with a reason: `normal` when its
 * function returns, the reason given to hv_exit, `stack_overflow`,
 * `killed` when killed, `shutdown` when the runtime stops.  When it has
 * ended (its hv_defer cleanups have run, its stack and mailbox are
 * freed, its name is free), every linked process gets an exit signal with
 * that reason and every monitor a message
 * {'DOWN', Ref, process, Pid, Reason}.
 *
 * An exit signal with reason R from Pid arriving at process P:
 *   - P traps exits (hv_trap_exit): it becomes the message
 *     {'EXIT', Pid, R}, queued like any message; except that
 *   - R = kill sent with hv_exit_pid cannot be trapped: P ends with
 *     reason `killed` (and its links get `killed`);
 *   - R = normal is ignored (a linked process ending normally, or
 *     hv_exit_pid(P, normal) from another process); hv_exit_pid(self,
 *     normal) ends the caller with `normal`;
 *   - anything else ends P with reason R.
 * Signals from one process to another arrive in order with its messages.
 * A process acts on exit signals whenever it sends, receives, sleeps,
 * yields or waits for IO; one that runs C code without hive calls acts
 * on them when it next makes one.
 *
 * Crash reports: a process that ends with a reason other than normal,
 * shutdown, {shutdown, _} or killed while nobody links to it or monitors
 * it is reported once on stderr with its pid, name and reason, as
 * Erlang's error logger does (hv_config.quiet_crashes turns them off). */

/* Links the caller and pid (idempotent).  HV_OK.  If pid is dead or never
 * existed: a caller that traps exits gets {'EXIT', Pid, noproc} and
 * HV_OK; any other caller ends with reason `noproc` (no return).
 * HV_EBADARG: not called from a process, or pid is no local pid. */
HV_API int hv_link(hv_term pid);
/* Removes the link, both ends.  Once it returns, the link has no effect
 * on the caller: an exit signal from pid that was on its way is dropped
 * (an {'EXIT', ...} message already queued stays, as in Erlang).  HV_OK
 * (also when there was no link), HV_EBADARG as hv_link. */
HV_API int hv_unlink(hv_term pid);
/* hv_spawn, linked to the caller before the new process runs. */
HV_API hv_term hv_spawn_link(hv_fn *fn, void *arg);
/* hv_spawn, monitored by the caller before the new process runs; the
 * ref (new) goes to *ref.  HV_NONE (and *ref untouched) on failure. */
HV_API hv_term hv_spawn_monitor(hv_fn *fn, void *arg, hv_term *ref);

/* Monitors `target` (a pid, or an atom naming a registered process):
 * returns a new ref.  When target ends, the caller gets
 * {'DOWN', Ref, process, Item, Reason}, Item being the pid or, for a
 * name, {Name, 'nonode@nohost'}.  A dead or unknown target gives
 * {'DOWN', Ref, process, Item, noproc} at once.  HV_NONE when not called
 * from a process or target is neither a local pid nor an atom. */
HV_API hv_term hv_monitor(hv_term target);
/* Turns the monitor off: no DOWN message for it will arrive from now on.
 * flush also removes one already queued.  Returns 1 if the monitor was
 * on, 0 if it had fired or ref names no monitor of the caller, HV_EBADARG
 * when ref is no ref or the caller is no process. */
HV_API int hv_demonitor(hv_term ref, bool flush);

/* Sets whether the caller traps exits; returns the previous setting
 * (false outside a process, where it does nothing). */
HV_API bool hv_trap_exit(bool on);
/* Sends an exit signal with reason (consumed) to pid, as Erlang's
 * exit/2; see above for what it does there.  To the caller itself it
 * acts at once.  HV_OK (also for a dead pid: nothing happens);
 * HV_EBADARG when pid is no local pid or reason is HV_NONE. */
HV_API int hv_exit_pid(hv_term pid, hv_term reason);
/* True while pid runs (false once it is ending, as is_process_alive). */
HV_API bool hv_is_alive(hv_term pid);

/* ---- messages -------------------------------------------------------- */

/* Sends msg (consumed) to `to`: a pid, or an atom naming a registered
 * process.  Never blocks; any thread may call it.  A message to a pid
 * that is dead or never existed is dropped silently and freed, as in
 * Erlang.  Messages from one sender to one receiver arrive in the order
 * sent.  Returns HV_OK; HV_ENOPROC when `to` is an atom nobody is
 * registered as (Erlang raises badarg there); HV_EBADARG when msg is
 * HV_NONE or `to` is neither a local pid nor an atom. */
HV_API int hv_send(hv_term to, hv_term msg);

/* Takes the oldest message from the caller's mailbox into *msg (new),
 * waiting up to timeout_ms (0: poll, HV_INFINITY: forever).  Returns
 * HV_OK, HV_ETIMEOUT (nothing arrived; *msg is HV_NONE), or HV_EBADARG
 * (not a process, or called from a hv_defer cleanup). */
HV_API int hv_recv(int64_t timeout_ms, hv_term *msg);

/* Selective receive with a C predicate: takes the oldest message for
 * which pred(msg, ctx) is true, leaving every other message where it is,
 * in order.  While it waits it tests only messages that arrive, never
 * one it already rejected.  pred borrows msg and must not receive.
 * Returns as hv_recv.  (match.h builds declarative patterns on the same
 * mailbox cursor.) */
HV_API int hv_recv_if(bool (*pred)(hv_term msg, void *ctx), void *ctx,
                      int64_t timeout_ms, hv_term *msg);

/* ---- time ------------------------------------------------------------ */

/* Suspends the caller for ms milliseconds (messages wait).  Returns HV_OK
 * or HV_EBADARG (not a process, ms negative). */
HV_API int hv_sleep(int64_t ms);

/* After ms milliseconds, sends msg (consumed) to `to` (a pid or a
 * registered name, looked up when the timer fires; a dead or unknown
 * target drops the message).  Returns a reference naming the timer (new)
 * or HV_NONE (runtime not running, bad arguments, out of memory; msg is
 * freed).  Millisecond resolution; timers with equal deadlines set from
 * one process fire in the order set. */
HV_API hv_term hv_send_after(int64_t ms, hv_term to, hv_term msg);

/* Cancels a timer from hv_send_after.  Returns 1 if it was still pending
 * (its message will never be sent), 0 if it had fired or was cancelled
 * already or the ref names no timer, HV_EBADARG if ref is no reference.
 * Any thread. */
HV_API int hv_cancel_timer(hv_term ref);

/* ---- names ----------------------------------------------------------- */

/* Registers pid under the atom name.  Returns HV_OK; HV_EBADARG when name
 * is no atom (or is `undefined`), pid is no pid, the name is taken, pid
 * already has a name, or no runtime runs; HV_ENOPROC when pid is not
 * alive.  A name is freed when its
 * process exits. */
HV_API int hv_register(hv_term name, hv_term pid, hv_error *err);
/* Removes the name.  HV_OK, or HV_EBADARG when nobody is registered so. */
HV_API int hv_unregister(hv_term name);
/* The pid registered as name, or HV_NONE. */
HV_API hv_term hv_whereis(hv_term name);

/* ---- IO -------------------------------------------------------------- */

#define HV_IO_READ 0x1u  /* readable, or the peer hung up */
#define HV_IO_WRITE 0x4u /* writable */
#define HV_IO_ERROR 0x8u /* error or hang-up (reported, never waited for) */

/* Parks the calling process until fd is ready for `events` (HV_IO_READ,
 * HV_IO_WRITE or both) or timeout_ms passes, without blocking the
 * scheduler thread.  *revents (may be NULL) gets what is ready.  Returns
 * HV_OK, HV_ETIMEOUT, or HV_EBADARG (not a process, bad fd or events).
 * Messages that arrive meanwhile wait in the mailbox.  Make fd
 * non-blocking and read until EAGAIN before waiting again. */
HV_API int hv_io_wait(int fd, uint32_t events, int64_t timeout_ms,
                      uint32_t *revents);

/* ---- bridges: plain threads talking to processes ---------------------- */

/* A mailbox with a pid for a thread that is not a process (the program's
 * main loop, a library callback thread).  Processes send to its pid like
 * to any process.  One thread uses a bridge at a time. */
typedef struct hv_bridge hv_bridge;

/* Opens a bridge; NULL (err filled) if the runtime is not running, memory
 * is out or the process table is full. */
HV_API hv_bridge *hv_bridge_open(hv_error *err);
/* Closes the bridge, dropping messages still queued.  Its pid is dead from
 * then on.  NULL is ignored. */
HV_API void hv_bridge_close(hv_bridge *b);
/* The bridge's pid, to give to processes. */
HV_API hv_term hv_bridge_pid(const hv_bridge *b);
/* As hv_recv, blocking the calling thread.  HV_ENOPROC once the runtime
 * has stopped. */
HV_API int hv_bridge_recv(hv_bridge *b, int64_t timeout_ms, hv_term *msg);
/* A synchronous call as gen_server does it: sends
 * {'$gen_call', {BridgePid, Ref}, request} (request consumed) to `to` (a
 * pid or registered name) with a fresh Ref and waits up to timeout_ms for
 * the message {Ref, Reply}, which it removes; other messages stay queued
 * in order.  *reply gets Reply (new).  Returns HV_OK, HV_ETIMEOUT (a late
 * reply is dropped when it arrives), HV_ENOPROC (`to` is dead or not
 * registered, or the runtime stopped), HV_EBADARG. */
HV_API int hv_bridge_call(hv_bridge *b, hv_term to, hv_term request,
                          int64_t timeout_ms, hv_term *reply);

/* ---- introspection ---------------------------------------------------- */

typedef enum hv_status {
    HV_STATUS_RUNNING = 1, /* executing on a scheduler now */
    HV_STATUS_RUNNABLE,    /* waiting for a scheduler */
    HV_STATUS_WAITING,     /* in a receive, sleep or IO wait */
    HV_STATUS_EXITING      /* ending: cleanups run */
} hv_status;

typedef struct hv_proc_info {
    hv_status status;
    size_t mailbox_len;    /* messages queued (an instant's snapshot) */
    uint64_t reductions;   /* work done, in sends/receives/yields */
    size_t stack_bytes;    /* stack in use when last switched out */
    size_t memory_bytes;   /* process record, saved stack, queued messages'
                              envelopes (not the terms, which are shared) */
    hv_term name;          /* registered name (borrowed), or HV_NONE */
    bool dedicated_stack, thread, bridge;
    unsigned scheduler;    /* index of the home scheduler */
} hv_proc_info;

/* Fills *info about pid.  HV_OK, HV_ENOPROC (not alive), HV_EBADARG. */
HV_API int hv_process_info(hv_term pid, hv_proc_info *info);
/* Writes up to cap pids of live processes (bridges included) to out and
 * returns how many are alive (which may exceed cap: call again with a
 * bigger buffer).  Order is by pid number. */
HV_API size_t hv_processes(hv_term *out, size_t cap);
/* Number of live processes (bridges included). */
HV_API size_t hv_process_count(void);

#ifdef __cplusplus
}
#endif
#endif /* HV_PROCESS_H */
