/* runtime/ctx_san.h - telling ASan and TSan about stack switches; every
 * function here is a no-op unless the build sanitizes.
 *
 * ASan keeps per-thread bounds of "the" stack and, with
 * detect_stack_use_after_return, a fake stack of frames; TSan keeps a
 * per-thread shadow call stack and clock.  Both go wrong (gcc's TSan
 * segfaults) when a thread moves to another stack unannounced, so every
 * hv__ctx_switch is bracketed:
 *
 *     hv__ctx_san_start_switch(&from->san, &to->san);
 *     hv__ctx_switch(&from->sp, to->sp);
 *     hv__ctx_san_finish_switch(&from->san, whoever switched back, or NULL);
 *
 * and a new context calls hv__ctx_san_finish_switch first thing in its
 * entry function.  A context that leaves for good (its stack is about to be
 * freed or reused) calls hv__ctx_san_start_exit instead of start_switch, so
 * ASan drops its fake stack.
 *
 * The start and finish calls must sit in the same function as the
 * hv__ctx_switch they bracket, and are forced inline for that reason: TSan
 * counts function entries and exits per fiber, so a helper that switched
 * fibers and then returned would pop a frame off the other fiber's shadow
 * stack (clang's TSan then crashes once a few contexts have exited).
 *
 * A struct hv__ctx_san must not live in a local of the context it
 * describes: ASan writes the fake-stack slot while that context is being
 * left, and its locals may be on the fake stack.  Embed it in the process
 * or scheduler structure. */
#ifndef HV_RUNTIME_CTX_SAN_H
#define HV_RUNTIME_CTX_SAN_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define HV__CTX_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define HV__CTX_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(HV__CTX_ASAN)
#define HV__CTX_ASAN 1
#endif
#if __has_feature(thread_sanitizer) && !defined(HV__CTX_TSAN)
#define HV__CTX_TSAN 1
#endif
#endif

#if defined(HV__CTX_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(HV__CTX_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

/* What the sanitizers need to know about one context (a process, or a
 * thread's own stack).  Zero-initialised fields mean "unknown yet". */
struct hv__ctx_san {
    const void *stack_lo;      /* ASan: lowest address of the stack */
    size_t stack_bytes;        /* ASan: its size; 0 for a thread's own */
    void *fake_stack;          /* ASan: fake stack while switched out */
    void *tsan_fiber;          /* TSan: the fiber this context runs as */
    bool owns_fiber;           /* TSan: created here, so destroyed here */
};

/* For the context a thread already runs on (a scheduler's own stack).  Its
 * bounds are learnt by the first context switched to from it, which passes
 * it as `from` to hv__ctx_san_finish_switch. */
static inline void
hv__ctx_san_init_thread(struct hv__ctx_san *s)
{
    s->stack_lo = NULL;
    s->stack_bytes = 0;
    s->fake_stack = NULL;
    s->owns_fiber = false;
#if defined(HV__CTX_TSAN)
    s->tsan_fiber = __tsan_get_current_fiber();
#else
    s->tsan_fiber = NULL;
#endif
}

/* For a new context on [stack_lo, stack_lo + stack_bytes).  Creating a
 * TSan fiber costs ~32 us: keep TSan test sizes modest. */
static inline void
hv__ctx_san_init(struct hv__ctx_san *s, const void *stack_lo,
                 size_t stack_bytes)
{
    s->stack_lo = stack_lo;
    s->stack_bytes = stack_bytes;
    s->fake_stack = NULL;
#if defined(HV__CTX_TSAN)
    s->tsan_fiber = __tsan_create_fiber(0);
    s->owns_fiber = true;
#else
    s->tsan_fiber = NULL;
    s->owns_fiber = false;
#endif
}

/* Releases what hv__ctx_san_init made.  Not from the context itself. */
static inline void
hv__ctx_san_fini(struct hv__ctx_san *s)
{
#if defined(HV__CTX_TSAN)
    if (s->owns_fiber)
        __tsan_destroy_fiber(s->tsan_fiber);
#endif
    s->tsan_fiber = NULL;
    s->owns_fiber = false;
}

/* Immediately before hv__ctx_switch from `from` (the running context) to
 * `to`.  TSan orders the two fibers (no _no_sync flag: without the
 * ordering TSan reports races on the switching code's own data). */
static inline __attribute__((always_inline)) void
hv__ctx_san_start_switch(struct hv__ctx_san *from, struct hv__ctx_san *to)
{
#if defined(HV__CTX_ASAN)
    __sanitizer_start_switch_fiber(&from->fake_stack, to->stack_lo,
                                   to->stack_bytes);
#endif
#if defined(HV__CTX_TSAN)
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)from;
    (void)to;
}

/* Instead of hv__ctx_san_start_switch when the running context will never
 * be resumed: ASan frees its fake stack. */
static inline __attribute__((always_inline)) void
hv__ctx_san_start_exit(struct hv__ctx_san *to)
{
#if defined(HV__CTX_ASAN)
    __sanitizer_start_switch_fiber(NULL, to->stack_lo, to->stack_bytes);
#endif
#if defined(HV__CTX_TSAN)
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)to;
}

/* First thing after arriving in self, whether hv__ctx_switch returned or a
 * new context's entry function began.  from, when not NULL, is the context
 * left behind; if its bounds are unknown (a thread's own stack) they are
 * recorded from what ASan reports, for switching back to it later. */
static inline __attribute__((always_inline)) void
hv__ctx_san_finish_switch(struct hv__ctx_san *self, struct hv__ctx_san *from)
{
#if defined(HV__CTX_ASAN)
    const void *lo = NULL;
    size_t bytes = 0;
    __sanitizer_finish_switch_fiber(self->fake_stack, &lo, &bytes);
    if (from != NULL && from->stack_bytes == 0) {
        from->stack_lo = lo;
        from->stack_bytes = bytes;
    }
#endif
    (void)self;
    (void)from;
}

#endif /* HV_RUNTIME_CTX_SAN_H */
