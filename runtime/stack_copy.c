/* runtime/stack_copy.c - saving and restoring the used part of a copying
 * stack.
 *
 * A process on its scheduler's shared stack owns [sp, stack top) while it
 * is switched out.  The scheduler copies that range aside only when it is
 * about to run a different copying-stack process (lazily), and copies it
 * back to the same addresses before resuming its owner: saved frames hold
 * absolute addresses (saved frame pointers, pointers to locals), so they
 * are only valid there.
 *
 * Under ASan an instrumented memcpy of frames trips the redzones of the
 * frames it copies, so the copy is an uninstrumented loop, and the
 * restored range is unpoisoned: it holds another process's frames now,
 * not the ones whose redzones the shadow remembers (notes/stacks.md). */
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HV__MEMCHECK 1
#endif
#endif

#include "runtime/alloc.h"
#include "runtime/sched.h"
#include "runtime/util.h"

#if defined(HV__CTX_ASAN)
#include <sanitizer/asan_interface.h>

__attribute__((no_sanitize_address)) static void
copy_words(void *dst, const void *src, size_t len)
{
    /* Both ends are 16-aligned (the sp of a switched-out context and a
     * page-aligned top), so whole words cover the range. */
    uint64_t *d = dst;
    const uint64_t *s = src;
    for (size_t i = 0; i < len / 8; i++)
        d[i] = s[i];
}
#else
static void
copy_words(void *dst, const void *src, size_t len)
{
    memcpy(dst, src, len);
}
#endif

/* Buffers grow in steps of this, so a process whose depth varies a little
 * does not reallocate on every switch. */
#define SAVE_ROUND 128

void
hv__stack_save(struct hv__sched *s, struct hv__proc *p)
{
    size_t len = (size_t)((char *)s->stack.hi - (char *)p->sp);
    if (len > p->saved_cap) {
        size_t cap = (len + SAVE_ROUND - 1) & ~(size_t)(SAVE_ROUND - 1);
        void *b = hv__realloc(p->saved, p->saved_cap, cap);
        if (b == NULL)
            hv__panic("out of memory saving a %zu-byte process stack", len);
        p->saved = b;
        p->saved_cap = cap;
    }
    copy_words(p->saved, p->sp, len);
    p->saved_len = len;
#if defined(HV__CTX_ASAN)
    /* Its live frames' redzones stay poisoned in the shadow; whoever runs
     * here next has other frames at those addresses. */
    __asan_unpoison_memory_region(p->sp, len);
#endif
}

void
hv__stack_forget(struct hv__sched *s, struct hv__proc *p, bool overflowed)
{
#if defined(HV__CTX_ASAN)
    /* After an overflow p->sp is not on this stack: clear all of it. */
    char *lo = overflowed ? (char *)s->stack.lo : (char *)p->sp;
    __asan_unpoison_memory_region(lo, (size_t)((char *)s->stack.hi - lo));
#else
    (void)s;
    (void)p;
    (void)overflowed;
#endif
}

void
hv__stack_writable(void *lo, size_t len)
{
    /* Memcheck marks a stack's memory below its last stack pointer
     * unaddressable; the scheduler writes frames there from its own
     * stack before switching.  A no-op outside valgrind. */
#if defined(HV__MEMCHECK)
    VALGRIND_MAKE_MEM_UNDEFINED(lo, len);
#else
    (void)lo;
    (void)len;
#endif
}

void
hv__stack_clean(void *lo, void *hi)
{
#if defined(HV__CTX_ASAN)
    __asan_unpoison_memory_region(lo, (size_t)((char *)hi - (char *)lo));
#else
    (void)lo;
    (void)hi;
#endif
}

void
hv__stack_restore(struct hv__sched *s, struct hv__proc *p)
{
    (void)s;
    hv__stack_writable(p->sp, p->saved_len);
#if defined(HV__CTX_ASAN)
    __asan_unpoison_memory_region(p->sp, p->saved_len);
#endif
    copy_words(p->sp, p->saved, p->saved_len);
}
