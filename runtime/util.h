/* runtime/util.h - the few helpers every file may use; look here before
 * writing one. */
#ifndef HV_RUNTIME_UTIL_H
#define HV_RUNTIME_UTIL_H

#include <stddef.h>

#include "hive/error.h"

#define HV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define hv__container_of(ptr, type, member)                                 \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define hv__likely(x) __builtin_expect(!!(x), 1)
#define hv__unlikely(x) __builtin_expect(!!(x), 0)

static inline size_t
hv__min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static inline size_t
hv__max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* A hint inside spin loops: lets the sibling hyperthread run and saves
 * power. */
static inline void
hv__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Fills err (when not NULL) with code, position and a printf-style what.
 * Returns code, so callers can `return hv__error_set(...)`. */
int hv__error_set(hv_error *err, int code, size_t offset, int line,
                  int column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Prints the message and aborts: a broken invariant, never bad input. */
_Noreturn void hv__panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#ifdef HV_DEBUG
#define HV_ASSERT(c)                                                        \
    ((c) ? (void)0 : hv__panic("%s:%d: assertion %s failed", __FILE__,     \
                               __LINE__, #c))
#else
#define HV_ASSERT(c) ((void)0)
#endif

#endif /* HV_RUNTIME_UTIL_H */
