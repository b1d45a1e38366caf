/* runtime/alloc.h - the one allocator every byte of hive goes through.
 * The size is passed back on free (Lua, nng) so size-class pools can slot
 * in later.  Tests switch on accounting: a live-block count and failing
 * the nth allocation (fault injection), at the cost of one predictable
 * branch when off. */
#ifndef HV_RUNTIME_ALLOC_H
#define HV_RUNTIME_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *hv__alloc(size_t size);
/* NULL (p untouched) on failure to grow; shrinking always succeeds. */
void *hv__realloc(void *p, size_t old_size, size_t new_size);
void hv__free(void *p, size_t size);

/* Turns accounting on or off (tests only; not while other threads
 * allocate). */
void hv__alloc_track(bool on);
/* Live blocks while tracking. */
int64_t hv__alloc_live(void);
/* With tracking on, the nth allocation from now (0 = the next) and every
 * later one fail until this is called with -1. */
void hv__alloc_fail_after(int64_t n);

#endif /* HV_RUNTIME_ALLOC_H */
