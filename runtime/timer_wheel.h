/* runtime/timer_wheel.h - hierarchical timing wheel, millisecond ticks.
 *
 * One wheel per scheduler thread; single-threaded; knows nothing of
 * processes.  Timers are embedded by the caller and never allocated.
 *
 * Layout.  HV__WHEEL_LEVELS levels of 64 slots; a slot of level L spans
 * 64^L ms, so eleven levels cover every 64-bit deadline and no overflow
 * list is needed.  A pending timer with deadline d > now sits at the level
 * of the most significant 6-bit digit in which d and now differ, in the
 * slot named by d's digit there.  So at every level the occupied slots
 * are above now's digit, and d agrees with now on every higher digit.
 * Timers with d <= now (added late, or reached by a cascade) wait on a
 * `due` list.  A 64-bit mask per level says which slots are occupied.
 *
 * Advancing finds the next event with one count-trailing-zeros per level:
 * the lowest level with an occupied slot above now's digit holds the
 * earliest timers, and every lower level is then empty.  On level 0 the
 * event is the slot's exact deadline: its timers move to `due` and fire.
 * On a higher level it is the slot's start: now jumps there and the slot
 * cascades, each timer re-placed one or more levels down (or onto `due`
 * when its deadline is that start).  Cascades are lazy, only when time
 * reaches a slot, and a timer cascades at most once per level.  Empty
 * stretches of time cost nothing.
 *
 * Order.  Lists are FIFO and a cascade only ever moves timers into empty
 * lower levels, so every list stays in insertion order, and timers with
 * equal deadlines fire in the order they were added.
 *
 * Complexity: add and cancel O(1); advance O(levels) per event plus O(1)
 * per cascade step (at most HV__WHEEL_LEVELS - 1 per timer) and per fire;
 * next_deadline O(levels).  Memory: about 17 KB per wheel. */
#ifndef HV_RUNTIME_TIMER_WHEEL_H
#define HV_RUNTIME_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HV__WHEEL_BITS 6
#define HV__WHEEL_SLOTS (1 << HV__WHEEL_BITS)
#define HV__WHEEL_LEVELS 11 /* 11 * 6 >= 64 bits of milliseconds */

struct hv__timer {                 /* embedded by the caller */
    struct hv__timer *next, *prev; /* in a slot or the due list */
    uint64_t deadline_ms;          /* as given to hv__wheel_add */
    uint16_t where;                /* 0: not pending; private otherwise */
};

struct hv__timer_list {
    struct hv__timer *first, *last;
};

struct hv__wheel {
    uint64_t now_ms;           /* deadlines <= now_ms fired or are due */
    size_t pending;            /* timers added and not yet fired */
    bool firing;               /* inside advance (no re-entry) */
    struct hv__timer_list due; /* deadline <= now_ms, to fire next */
    uint64_t occupied[HV__WHEEL_LEVELS]; /* bit s: slot s is non-empty */
    struct hv__timer_list slot[HV__WHEEL_LEVELS][HV__WHEEL_SLOTS];
    /* Least deadline added to each slot since it was last empty: exact,
     * unless that timer left early (then a lower bound). */
    uint64_t slot_min[HV__WHEEL_LEVELS][HV__WHEEL_SLOTS];
};

typedef void hv__timer_fn(struct hv__timer *timer, void *ctx);

/* Makes t not pending.  A zero-filled timer is already in this state. */
void hv__timer_init(struct hv__timer *t);

/* Whether t is in a wheel, waiting to fire. */
bool hv__timer_pending(const struct hv__timer *t);

/* Makes w empty with its clock at now_ms. */
void hv__wheel_init(struct hv__wheel *w, uint64_t now_ms);

/* Arms t to fire at deadline_ms.  A pending t is re-armed (cancelled
 * first).  A deadline <= the wheel's clock is due at once: it fires on the
 * next advance, before any later deadline, in the order such timers were
 * added (their own deadlines are not compared).  O(1). */
void hv__wheel_add(struct hv__wheel *w, struct hv__timer *t,
                   uint64_t deadline_ms);

/* Removes t if pending.  Returns true if it was pending (so it will not
 * fire), false if it had fired, been cancelled or never been added.
 * O(1). */
bool hv__wheel_cancel(struct hv__wheel *w, struct hv__timer *t);

/* Moves the clock to now_ms (never backwards) and calls fn(timer, ctx) for
 * each timer with deadline <= now_ms, in deadline order, equal deadlines
 * in insertion order.  A timer is no longer pending when fn sees it.  fn
 * may add and cancel timers, the fired one included, but not advance w.
 * A timer fn adds with a deadline <= now_ms fires in this same call, after
 * the timers already due at that instant; so after advance returns no
 * pending deadline is <= now_ms.  Returns the number of calls to fn. */
size_t hv__wheel_advance(struct hv__wheel *w, uint64_t now_ms, hv__timer_fn *fn,
                         void *ctx);

/* When a scheduler should next advance: -1 when nothing is pending; the
 * clock when timers are due; else the earliest pending deadline, exact
 * unless the earliest timer of its slot was cancelled or re-armed, when
 * it is a lower bound (advancing to it then cascades and sharpens it).
 * Deadlines past INT64_MAX read as INT64_MAX.  O(levels). */
int64_t hv__wheel_next_deadline(struct hv__wheel *w);

#endif /* HV_RUNTIME_TIMER_WHEEL_H */
