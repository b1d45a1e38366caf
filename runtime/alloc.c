/* runtime/alloc.c - hv__alloc and friends over malloc, with optional
 * accounting and fault injection for tests. */
#include "runtime/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Read on every allocation but written only by tests, so the flag costs a
 * well-predicted branch and no shared-cache-line traffic when off. */
static bool tracking;
static _Atomic int64_t live_blocks;
static _Atomic int64_t fail_countdown = -1;

static bool
should_fail(void)
{
    int64_t n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    while (n > 0) {
        if (atomic_compare_exchange_weak_explicit(&fail_countdown, &n, n - 1,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
            return false;
    }
    return n == 0;
}

void *
hv__alloc(size_t size)
{
    if (tracking) {
        if (should_fail())
            return NULL;
        void *p = malloc(size ? size : 1);
        if (p != NULL)
            atomic_fetch_add_explicit(&live_blocks, 1, memory_order_relaxed);
        return p;
    }
    return malloc(size ? size : 1);
}

void *
hv__realloc(void *p, size_t old_size, size_t new_size)
{
    (void)old_size;
    if (p == NULL)
        return hv__alloc(new_size);
    /* A shrink never fails: the old block is still big enough. */
    bool shrink = new_size <= old_size;
    if (tracking && !shrink && should_fail())
        return NULL;
    void *q = realloc(p, new_size ? new_size : 1);
    return q == NULL && shrink ? p : q;
}

void
hv__free(void *p, size_t size)
{
    if (p == NULL)
        return;
#ifdef HV_DEBUG
    /* Poison freed memory so a use after free reads garbage loudly. */
    memset(p, 0xdb, size);
#else
    (void)size;
#endif
    if (tracking)
        atomic_fetch_sub_explicit(&live_blocks, 1, memory_order_relaxed);
    free(p);
}

void
hv__alloc_track(bool on)
{
    tracking = on;
}

int64_t
hv__alloc_live(void)
{
    return atomic_load_explicit(&live_blocks, memory_order_relaxed);
}

void
hv__alloc_fail_after(int64_t n)
{
    atomic_store_explicit(&fail_countdown, n < 0 ? -1 : n,
                          memory_order_relaxed);
}
