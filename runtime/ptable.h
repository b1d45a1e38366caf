/* runtime/ptable.h - the process table: pid number -> process, safe
 * against the process exiting while someone sends to it.
 *
 * A slot's word is serial << 32 | ALIVE bit | in-flight count.  A sender
 * pins a process by incrementing the in-flight count with a CAS that also
 * checks the serial (the pid's) and the ALIVE bit; it unpins when its
 * message is pushed.  An exiting process clears ALIVE and then waits for
 * the count to drain (pins last a few instructions), after which nobody
 * can reach its record and it may be freed.  So a send to a dead pid
 * never touches freed memory, and a message is either queued before the
 * process is reaped (and then dropped by the reaper) or not at all.
 *
 * Free numbers form a lock-free LIFO stack (tagged against ABA); a number
 * is reused with the serial incremented, so an old pid never names the
 * new process (until the 28-bit serial wraps, as in Erlang). */
#ifndef HV_RUNTIME_PTABLE_H
#define HV_RUNTIME_PTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/term.h"

struct hv__proc;

/* Maps a table of capacity slots.  HV_OK, HV_ENOMEM, HV_EBADARG. */
int hv__ptable_init(size_t capacity);
/* Unmaps it (every process gone). */
void hv__ptable_fini(void);

/* Gives p a number and pid and makes it reachable.  HV_OK or HV_ELIMIT
 * (every slot taken). */
int hv__ptable_insert(struct hv__proc *p);
/* Makes p unreachable and waits for pins to drain.  Idempotent. */
void hv__ptable_kill(struct hv__proc *p);
/* Returns p's number to the free stack (after kill, when the record is
 * about to be freed). */
void hv__ptable_release_number(struct hv__proc *p);

/* Pins the live local process named by pid, or NULL (dead, unknown, not a
 * local pid).  Any thread.  Every non-NULL result needs an unpin. */
struct hv__proc *hv__ptable_pin(hv_term pid);
void hv__ptable_unpin(struct hv__proc *p);
/* The live process named by pid if its home is scheduler sched_index,
 * else NULL; no pin.  Only on that scheduler's thread: a process is
 * reaped only on its home thread, so it cannot go while the caller runs
 * there, and the caller needs no pin. */
struct hv__proc *hv__ptable_local(hv_term pid, unsigned sched_index);

/* Moves p's home (an unstarted process handed to another scheduler; on
 * the old home's thread). */
void hv__ptable_set_home(struct hv__proc *p, unsigned sched_index);
/* p's home scheduler index (0 for threads and bridges).  Any thread. */
unsigned hv__ptable_home(struct hv__proc *p);

/* Live processes now (bridges included). */
size_t hv__ptable_count(void);
/* The table's capacity. */
size_t hv__ptable_capacity(void);
/* Calls fn(p, ctx) for every live process, pinned during the call, in
 * number order.  Any thread. */
void hv__ptable_each(void (*fn)(struct hv__proc *p, void *ctx), void *ctx);

/* Calls fn(p, ctx) for every live process, unpinned, so fn may end it.
 * Only when no other thread touches the table (shutdown). */
void hv__ptable_drain(void (*fn)(struct hv__proc *p, void *ctx), void *ctx);

#endif /* HV_RUNTIME_PTABLE_H */
