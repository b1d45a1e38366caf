/* runtime/sys_linux.c - the platform layer on Linux: mmap'd guarded
 * stacks, vDSO clock, futexes, sigaltstack and the SIGSEGV hook. */
#define _GNU_SOURCE
#include "runtime/sys.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/alloc.h"
#include "runtime/util.h"

/* Valgrind must be told where stacks are, or it takes every switch to
 * another stack for a wild stack-pointer move and reports the accesses
 * that follow.  The client requests cost a few instructions when not
 * under valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HV__VALGRIND 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define HV__SYS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HV__SYS_ASAN 1
#endif
#endif
#if defined(HV__SYS_ASAN)
#include <sanitizer/asan_interface.h>
#endif

typedef bool (*fault_fn)(void *addr, void *ucontext);

/* The hook the signal handler calls.  Atomic so a handler on any thread
 * reads a whole pointer; function pointers are lock-free here, hence
 * async-signal-safe. */
static _Atomic(fault_fn) fault_hook;

/* Cached page size; 0 until first asked.  Racing first calls store the
 * same value, so relaxed order is enough. */
static _Atomic size_t page_bytes;

static size_t
round_up(size_t n, size_t page)
{
    return (n + page - 1) & ~(page - 1);
}

/* Sizes of a stack of usable_bytes: whole pages each.  False if the
 * request is 0 or its sum would wrap. */
static bool
stack_layout(size_t usable_bytes, size_t *usable, size_t *guard, size_t *total)
{
    size_t page = hv__sys_page_size();

    *guard = round_up(HV__SYS_STACK_GUARD_BYTES, page);
    if (usable_bytes == 0 || usable_bytes > SIZE_MAX - page - *guard)
        return false;
    *usable = round_up(usable_bytes, page);
    *total = *usable + *guard;
    return true;
}

int
hv__sys_stack_alloc(size_t usable_bytes, struct hv__sys_stack *out)
{
    size_t usable, guard, total;

    if (!stack_layout(usable_bytes, &usable, &guard, &total))
        return HV_EBADARG;
    /* NORESERVE: no commit charge for pages never touched.  MAP_STACK
     * documents intent (and, on newer kernels, keeps THP off). */
    char *base =
        mmap(NULL, total, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base == MAP_FAILED)
        return HV_ENOMEM;
    /* This splits the mapping in two VMAs; at vm.max_map_count it fails
     * with ENOMEM, which we pass on rather than run unguarded. */
    if (mprotect(base, guard, PROT_NONE) != 0)
        goto fail_unmap;
    out->base = base;
    out->map_bytes = total;
    out->guard_lo = base;
    out->guard_hi = base + guard;
    out->lo = base + guard;
    out->hi = base + total;
    out->vg_id = 0;
#if defined(HV__VALGRIND)
    out->vg_id = VALGRIND_STACK_REGISTER(out->lo, out->hi) + 1;
#endif
    return HV_OK;

fail_unmap:
    munmap(base, total);
    return HV_ENOMEM;
}

void
hv__sys_stack_free(struct hv__sys_stack *st)
{
#if defined(HV__VALGRIND)
    if (st->vg_id != 0)
        VALGRIND_STACK_DEREGISTER(st->vg_id - 1);
#endif
#if defined(HV__SYS_ASAN)
    /* Frames of processes killed while switched out leave their redzones
     * poisoned in ASan's shadow, which outlives the mapping: a later
     * mapping at the same address would inherit them. */
    if (st->base != NULL)
        __asan_unpoison_memory_region(st->base, st->map_bytes);
#endif
    if (st->base != NULL && munmap(st->base, st->map_bytes) != 0)
        hv__panic("munmap of a stack at %p failed: %s", st->base,
                  strerror(errno));
    memset(st, 0, sizeof *st);
}

bool
hv__sys_stack_in_guard(const struct hv__sys_stack *st, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;

    return a >= (uintptr_t)st->guard_lo && a < (uintptr_t)st->guard_hi;
}

int
hv__sys_stack_pool_init(struct hv__sys_stack_pool *pool, size_t usable_bytes,
                        size_t capacity)
{
    size_t usable, guard, total;

    if (capacity == 0 || capacity > SIZE_MAX / sizeof *pool->stacks ||
        !stack_layout(usable_bytes, &usable, &guard, &total))
        return HV_EBADARG;
    struct hv__sys_stack *slots = hv__alloc(capacity * sizeof *slots);
    if (slots == NULL)
        return HV_ENOMEM;
    pool->usable_bytes = usable;
    pool->capacity = capacity;
    pool->count = 0;
    pool->stacks = slots;
    return HV_OK;
}

void
hv__sys_stack_pool_fini(struct hv__sys_stack_pool *pool)
{
    hv__sys_stack_pool_trim(pool, 0);
    hv__free(pool->stacks, pool->capacity * sizeof *pool->stacks);
    memset(pool, 0, sizeof *pool);
}

int
hv__sys_stack_pool_get(struct hv__sys_stack_pool *pool,
                       struct hv__sys_stack *out)
{
    /* The top is the stack put last: its used pages are still resident,
     * so the caller's first frames fault nothing. */
    if (pool->count > 0) {
        *out = pool->stacks[--pool->count];
        return HV_OK;
    }
    return hv__sys_stack_alloc(pool->usable_bytes, out);
}

void
hv__sys_stack_pool_put(struct hv__sys_stack_pool *pool,
                       struct hv__sys_stack *st)
{
    HV_ASSERT((size_t)((char *)st->hi - (char *)st->lo) == pool->usable_bytes);
    if (pool->count == pool->capacity) {
        hv__sys_stack_free(st);
        return;
    }
    pool->stacks[pool->count++] = *st;
    memset(st, 0, sizeof *st);
}

void
hv__sys_stack_pool_trim(struct hv__sys_stack_pool *pool, size_t keep)
{
    if (pool->count <= keep)
        return;
    /* The bottom slots are the coldest; unmap them and slide the hot ones
     * down, keeping LIFO order. */
    size_t drop = pool->count - keep;
    for (size_t i = 0; i < drop; i++)
        hv__sys_stack_free(&pool->stacks[i]);
    memmove(pool->stacks, pool->stacks + drop, keep * sizeof *pool->stacks);
    pool->count = keep;
}

uint64_t
hv__sys_now_ns(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail with a valid pointer. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
hv__sys_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
hv__sys_futex_wait(_Atomic uint32_t *addr, uint32_t expected,
                   int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;

    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    /* The kernel compares *addr with expected under its own lock, so a
     * wake between the caller's check and this call is not lost.  EAGAIN
     * (value differed), EINTR and ETIMEDOUT all just return: callers
     * loop on their condition. */
    long rc =
        syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
    if (rc != 0 && errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
        hv__panic("futex wait on %p failed: %s", (void *)addr, strerror(errno));
}

void
hv__sys_futex_wake(_Atomic uint32_t *addr, int n)
{
    if (n <= 0)
        return;
    if (syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0) < 0)
        hv__panic("futex wake on %p failed: %s", (void *)addr, strerror(errno));
}

unsigned
hv__sys_cpu_count(void)
{
    /* The mask may be larger than glibc's fixed cpu_set_t: grow it while
     * the kernel says EINVAL (mask too small). */
    for (size_t cpus = 1024; cpus <= 65536; cpus *= 2) {
        size_t bytes = CPU_ALLOC_SIZE(cpus);
        cpu_set_t *set = hv__alloc(bytes);
        if (set == NULL)
            break;
        CPU_ZERO_S(bytes, set);
        int rc = sched_getaffinity(0, bytes, set);
        int err = errno;
        int n = rc == 0 ? CPU_COUNT_S(bytes, set) : 0;
        hv__free(set, bytes);
        if (rc == 0)
            return n > 0 ? (unsigned)n : 1;
        if (err != EINVAL)
            break;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

size_t
hv__sys_page_size(void)
{
    size_t page = atomic_load_explicit(&page_bytes, memory_order_relaxed);

    if (page == 0) {
        long n = sysconf(_SC_PAGESIZE);
        page = n > 0 ? (size_t)n : 4096;
        atomic_store_explicit(&page_bytes, page, memory_order_relaxed);
    }
    return page;
}

/* The usable size of every alternate stack: the larger of ours and the
 * libc's recommendation (SIGSTKSZ is a sysconf call on newer glibc). */
static size_t
altstack_bytes(void)
{
    long rec = (long)SIGSTKSZ;

    return rec > HV__SYS_ALTSTACK_BYTES ? (size_t)rec
                                        : (size_t)HV__SYS_ALTSTACK_BYTES;
}

int
hv__sys_altstack_install(void **mem)
{
    struct hv__sys_stack st;

    /* A guarded stack, so a handler that overflows its alternate stack
     * crashes instead of corrupting memory below it. */
    int rc = hv__sys_stack_alloc(altstack_bytes(), &st);
    if (rc != HV_OK)
        return rc;
    stack_t ss = {.ss_sp = st.lo,
                  .ss_size = (size_t)((char *)st.hi - (char *)st.lo),
                  .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0)
        goto fail_free;
    *mem = st.base;
    return HV_OK;

fail_free:
    hv__sys_stack_free(&st);
    return HV_ENOMEM;
}

void
hv__sys_altstack_remove(void *mem)
{
    size_t usable, guard, total;
    stack_t cur;

    if (mem == NULL)
        return;
    stack_layout(altstack_bytes(), &usable, &guard, &total);
    /* Disable only our own stack: another may have been installed since. */
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) &&
        cur.ss_sp == (char *)mem + guard) {
        stack_t off = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
        if (sigaltstack(&off, NULL) != 0)
            hv__panic("sigaltstack: cannot disable the stack at %p: %s", mem,
                      strerror(errno));
    }
    struct hv__sys_stack st = {.base = mem, .map_bytes = total};
    hv__sys_stack_free(&st);
}

static void
set_default(int sig)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* Runs on the faulting thread's alternate stack with SIGSEGV and SIGBUS
 * blocked.  Only async-signal-safe calls. */
static void
on_fault_signal(int sig, siginfo_t *si, void *ucontext)
{
    int saved_errno = errno;
    fault_fn fn = atomic_load_explicit(&fault_hook, memory_order_acquire);

    /* si_code <= 0: sent by kill/raise/sigqueue, so si_addr means
     * nothing.  Otherwise a real fault that the hook may claim. */
    if (fn != NULL && si->si_code > 0 && fn(si->si_addr, ucontext)) {
        errno = saved_errno;
        return;
    }
    /* Not ours.  With the default action back, returning re-executes the
     * faulting instruction and the kernel kills the process with the
     * original signal (and a core).  A sent signal is not re-executed:
     * send it again; it stays pending until this handler returns. */
    set_default(sig);
    if (si->si_code <= 0)
        raise(sig);
    errno = saved_errno;
}

int
hv__sys_segv_install(bool (*on_fault)(void *addr, void *ucontext))
{
    struct sigaction sa;

    if (on_fault == NULL)
        return HV_EBADARG;
    atomic_store_explicit(&fault_hook, on_fault, memory_order_release);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    /* A SIGBUS while handling a SIGSEGV (or the reverse) would find the
     * handler half-way; block both. */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGSEGV);
    sigaddset(&sa.sa_mask, SIGBUS);
    if (sigaction(SIGSEGV, &sa, NULL) != 0 ||
        sigaction(SIGBUS, &sa, NULL) != 0) {
        hv__sys_segv_remove();
        return HV_EBADARG;
    }
    return HV_OK;
}

void
hv__sys_segv_remove(void)
{
    set_default(SIGSEGV);
    set_default(SIGBUS);
    atomic_store_explicit(&fault_hook, NULL, memory_order_release);
}
