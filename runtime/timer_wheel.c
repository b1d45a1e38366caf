/* runtime/timer_wheel.c - hierarchical timing wheel, millisecond ticks.
 * The level layout, invariants and costs are in timer_wheel.h. */
#include "runtime/timer_wheel.h"

#include "runtime/util.h"

/* t->where: 0 when not pending, WHERE_DUE on the due list, otherwise
 * 1 + level * HV__WHEEL_SLOTS + slot. */
enum { WHERE_NONE = 0, WHERE_DUE = HV__WHEEL_LEVELS * HV__WHEEL_SLOTS + 1 };

_Static_assert(HV__WHEEL_LEVELS *HV__WHEEL_BITS >= 64,
               "the levels must cover every 64-bit deadline");
_Static_assert(WHERE_DUE <= UINT16_MAX, "where must fit in 16 bits");

static void
list_append(struct hv__timer_list *l, struct hv__timer *t)
{
    t->next = NULL;
    t->prev = l->last;
    if (l->last != NULL)
        l->last->next = t;
    else
        l->first = t;
    l->last = t;
}

static void
list_remove(struct hv__timer_list *l, struct hv__timer *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        l->first = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        l->last = t->prev;
    t->next = t->prev = NULL;
}

/* now's digit at level. */
static unsigned
digit(uint64_t now, unsigned level)
{
    return (unsigned)(now >> (level * HV__WHEEL_BITS)) & (HV__WHEEL_SLOTS - 1);
}

/* The first millisecond of slot s at level, in now's block of the level
 * above: now's higher digits, then s, then zeros. */
static uint64_t
slot_start(uint64_t now, unsigned level, unsigned s)
{
    unsigned above = (level + 1) * HV__WHEEL_BITS;
    uint64_t high = above >= 64 ? 0 : now >> above << above;
    return high | (uint64_t)s << (level * HV__WHEEL_BITS);
}

/* Puts a timer that is in no list where its deadline says, relative to
 * the clock.  Appending keeps each list in insertion order. */
static void
place(struct hv__wheel *w, struct hv__timer *t)
{
    uint64_t d = t->deadline_ms;

    if (d <= w->now_ms) {
        list_append(&w->due, t);
        t->where = WHERE_DUE;
        return;
    }
    /* The highest digit where d and now differ; d's digit there is larger
     * than now's, since d > now and the digits above agree. */
    unsigned top_bit = 63u - (unsigned)__builtin_clzll(d ^ w->now_ms);
    unsigned level = top_bit / HV__WHEEL_BITS;
    unsigned s = digit(d, level);
    list_append(&w->slot[level][s], t);
    w->occupied[level] |= (uint64_t)1 << s;
    if (d < w->slot_min[level][s])
        w->slot_min[level][s] = d;
    t->where = (uint16_t)(1 + level * HV__WHEEL_SLOTS + s);
}

/* Takes t, which is pending, out of its list. */
static void
unlink_timer(struct hv__wheel *w, struct hv__timer *t)
{
    if (t->where == WHERE_DUE) {
        list_remove(&w->due, t);
    } else {
        unsigned i = t->where - 1u;
        unsigned level = i / HV__WHEEL_SLOTS, s = i % HV__WHEEL_SLOTS;
        list_remove(&w->slot[level][s], t);
        if (w->slot[level][s].first == NULL) {
            w->occupied[level] &= ~((uint64_t)1 << s);
            w->slot_min[level][s] = UINT64_MAX;
        }
    }
    t->where = WHERE_NONE;
}

/* The lowest level with an occupied slot above now's digit, and that slot;
 * false when nothing but the due list is pending. */
static bool
next_event(const struct hv__wheel *w, unsigned *level, unsigned *s)
{
    for (unsigned l = 0; l < HV__WHEEL_LEVELS; l++) {
        /* Slots at or below now's digit are empty by the invariant; the
         * mask is defensive and free.  2 << 63 wraps to 0: no slots. */
        uint64_t above = ~(((uint64_t)2 << digit(w->now_ms, l)) - 1);
        uint64_t bits = w->occupied[l] & above;
        if (bits != 0) {
            *level = l;
            *s = (unsigned)__builtin_ctzll(bits);
            return true;
        }
    }
    return false;
}

/* Fires the due list until it is empty, including timers fn adds to it. */
static size_t
fire_due(struct hv__wheel *w, hv__timer_fn *fn, void *ctx)
{
    size_t fired = 0;
    struct hv__timer *t;

    while ((t = w->due.first) != NULL) {
        list_remove(&w->due, t);
        t->where = WHERE_NONE;
        w->pending--;
        fn(t, ctx);
        fired++;
    }
    return fired;
}

void
hv__timer_init(struct hv__timer *t)
{
    t->next = t->prev = NULL;
    t->deadline_ms = 0;
    t->where = WHERE_NONE;
}

bool
hv__timer_pending(const struct hv__timer *t)
{
    return t->where != WHERE_NONE;
}

void
hv__wheel_init(struct hv__wheel *w, uint64_t now_ms)
{
    w->now_ms = now_ms;
    w->pending = 0;
    w->firing = false;
    w->due.first = w->due.last = NULL;
    for (unsigned l = 0; l < HV__WHEEL_LEVELS; l++) {
        w->occupied[l] = 0;
        for (unsigned s = 0; s < HV__WHEEL_SLOTS; s++) {
            w->slot[l][s].first = w->slot[l][s].last = NULL;
            w->slot_min[l][s] = UINT64_MAX;
        }
    }
}

void
hv__wheel_add(struct hv__wheel *w, struct hv__timer *t, uint64_t deadline_ms)
{
    if (t->where != WHERE_NONE)
        unlink_timer(w, t);
    else
        w->pending++;
    t->deadline_ms = deadline_ms;
    place(w, t);
}

bool
hv__wheel_cancel(struct hv__wheel *w, struct hv__timer *t)
{
    if (t->where == WHERE_NONE)
        return false;
    unlink_timer(w, t);
    w->pending--;
    return true;
}

size_t
hv__wheel_advance(struct hv__wheel *w, uint64_t now_ms, hv__timer_fn *fn,
                  void *ctx)
{
    if (w->firing)
        hv__panic("hv__wheel_advance: called from a timer callback");
    w->firing = true;

    /* Timers added at or before the clock go first: their deadlines are
     * all <= the old clock, below anything still in the slots. */
    size_t fired = fire_due(w, fn, ctx);
    unsigned level, s;

    while (next_event(w, &level, &s)) {
        /* On level 0 this is the exact deadline of the slot's timers. */
        uint64_t at = slot_start(w->now_ms, level, s);
        if (at > now_ms)
            break;
        /* Every lower level is empty, so the clock may jump to the slot:
         * no pending timer is skipped. */
        w->now_ms = at;
        struct hv__timer_list l = w->slot[level][s];
        w->slot[level][s].first = w->slot[level][s].last = NULL;
        w->occupied[level] &= ~((uint64_t)1 << s);
        w->slot_min[level][s] = UINT64_MAX;
        /* In list order: deadlines equal to `at` go onto the (empty) due
         * list, the rest into empty lower levels, so order is kept. */
        for (struct hv__timer *t = l.first, *next; t != NULL; t = next) {
            next = t->next;
            place(w, t);
        }
        fired += fire_due(w, fn, ctx);
    }
    /* No event is at or before now_ms, so every pending deadline is
     * still above it at its level and the invariant holds at now_ms. */
    if (now_ms > w->now_ms)
        w->now_ms = now_ms;
    w->firing = false;
    return fired;
}

int64_t
hv__wheel_next_deadline(struct hv__wheel *w)
{
    uint64_t d;
    unsigned level, s;

    if (w->due.first != NULL)
        d = w->now_ms;
    else if (next_event(w, &level, &s))
        d = w->slot_min[level][s];
    else
        return -1;
    return d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
}
