/* runtime/sys.h - the platform layer: guarded stacks and their pool, the
 * monotonic clock, futexes, CPU and page facts, the alternate signal
 * stack and the stack-overflow hook.  Everything OS-specific that the
 * scheduler needs sits behind these hv__sys_ calls; a port adds a
 * sys_<os>.c and edits nothing else.
 *
 * Stacks, and why they look like this.  A dedicated stack is one mmap with
 * MAP_NORESERVE, so a 64 KiB stack costs address space, not commit charge:
 * only the pages a process touches become resident, and a million mostly
 * idle stacks do not trip overcommit accounting.  Its lowest page(s) are
 * PROT_NONE, so running off the bottom faults on the guard instead of
 * silently overwriting a neighbour, and the SIGSEGV hook can tell such an
 * overflow (hv__sys_stack_in_guard) from a genuine wild access.  A guard
 * splits the mapping into two VMAs, and the kernel caps a process at
 * vm.max_map_count VMAs (65,530 by default), so at most ~32,750 guarded
 * stacks can exist at once.  That, and the ~11 us first-touch page fault
 * of these VMs, is why processes run on copying stacks by default
 * (DESIGN.md) and these dedicated stacks are opt-in: scheduler stacks and
 * processes spawned with a dedicated stack.  When the cap is reached,
 * mprotect fails with ENOMEM and hv__sys_stack_alloc says HV_ENOMEM; it
 * never aborts.
 *
 * The pool keeps freed stacks LIFO: the stack returned last has its top
 * pages resident and in cache, so the next spawn reuses it without a page
 * fault.  Nothing on the put/get path calls madvise (one MADV_DONTNEED
 * costs ~350 us in re-faults per 64 KiB stack here, against ~40 ns for a
 * hot reuse); the pool only unmaps, and only when it is over capacity. */
#ifndef HV_RUNTIME_SYS_H
#define HV_RUNTIME_SYS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/error.h" /* HV_OK, HV_E* */

/* Bytes of PROT_NONE guard below every stack (rounded up to whole pages).
 * Larger than one page so that a frame of a few KiB (a local array) lands
 * in the guard rather than jumping over it. */
#define HV__SYS_STACK_GUARD_BYTES 16384

/* The minimum alternate signal stack (ASan's handler needs far more than
 * SIGSTKSZ). */
#define HV__SYS_ALTSTACK_BYTES 65536

/* One guarded stack.  The mapping is [base, base + map_bytes); the guard
 * is [guard_lo, guard_hi) with guard_lo == base; the usable range is
 * [lo, hi) with lo == guard_hi.  hi is the initial stack pointer (stacks
 * grow down) and is page-aligned, hence 16-aligned. */
struct hv__sys_stack {
    void *base;
    size_t map_bytes;
    void *guard_lo, *guard_hi;
    void *lo, *hi;
    unsigned vg_id;   /* valgrind's stack id + 1, or 0 */
};

/* Maps a stack of at least usable_bytes (rounded up to whole pages) with a
 * guard below it.  Any thread.  Returns HV_OK and fills *out; on failure
 * *out is untouched and the result is HV_EBADARG (usable_bytes is 0 or
 * too large to round) or HV_ENOMEM (mmap or mprotect failed, e.g. at
 * vm.max_map_count).  Never aborts. */
int hv__sys_stack_alloc(size_t usable_bytes, struct hv__sys_stack *out);
/* Unmaps st (which must not be the stack the caller runs on) and clears
 * it.  Any thread.  A cleared (all-zero) stack is ignored. */
void hv__sys_stack_free(struct hv__sys_stack *st);
/* True if addr lies in st's guard.  Async-signal-safe: the SIGSEGV hook
 * calls it with siginfo's si_addr. */
bool hv__sys_stack_in_guard(const struct hv__sys_stack *st, const void *addr);

/* A LIFO cache of equally sized stacks.  Owned by one thread at a time
 * (a scheduler's); no locking. */
struct hv__sys_stack_pool {
    size_t usable_bytes;          /* size of every stack it hands out */
    size_t capacity;              /* stacks kept; more are unmapped */
    size_t count;                 /* stacks held now, top is count - 1 */
    struct hv__sys_stack *stacks; /* capacity slots, hv__alloc'd */
};

/* Prepares an empty pool of stacks of usable_bytes, keeping up to
 * capacity of them.  Returns HV_OK, HV_EBADARG (usable_bytes or capacity
 * is 0) or HV_ENOMEM (the slot array could not be allocated). */
int hv__sys_stack_pool_init(struct hv__sys_stack_pool *pool,
                            size_t usable_bytes, size_t capacity);
/* Unmaps every pooled stack and frees the slots.  Stacks handed out and
 * not put back are the caller's to free. */
void hv__sys_stack_pool_fini(struct hv__sys_stack_pool *pool);
/* The most recently put stack, or a freshly mapped one if the pool is
 * empty.  Returns HV_OK or hv__sys_stack_alloc's errors. */
int hv__sys_stack_pool_get(struct hv__sys_stack_pool *pool,
                           struct hv__sys_stack *out);
/* Returns st to the pool (and clears *st).  Its contents stay as they
 * are: no madvise.  If the pool is full, st is unmapped instead. */
void hv__sys_stack_pool_put(struct hv__sys_stack_pool *pool,
                            struct hv__sys_stack *st);
/* Unmaps the coldest pooled stacks (those put longest ago) until at most
 * keep remain.  For an occasional trim by the owner, never per spawn. */
void hv__sys_stack_pool_trim(struct hv__sys_stack_pool *pool, size_t keep);

/* CLOCK_MONOTONIC in milliseconds and nanoseconds.  Any thread, no
 * syscall (vDSO). */
uint64_t hv__sys_now_ms(void);
uint64_t hv__sys_now_ns(void);

/* Sleeps while *addr == expected, until woken, for at most timeout_ns
 * (negative: no limit).  Returns at once if *addr != expected.  Wake-ups
 * may be spurious (signals, a racing wake), so callers re-check their
 * condition in a loop.  Process-private futex.  Any thread. */
void hv__sys_futex_wait(_Atomic uint32_t *addr, uint32_t expected,
                        int64_t timeout_ns);
/* Wakes up to n threads sleeping on addr (n <= 0 wakes none).  Any
 * thread. */
void hv__sys_futex_wake(_Atomic uint32_t *addr, int n);

/* CPUs this process may run on (its affinity mask), at least 1. */
unsigned hv__sys_cpu_count(void);
/* The VM page size in bytes. */
size_t hv__sys_page_size(void);

/* Gives the calling thread an alternate signal stack of at least
 * HV__SYS_ALTSTACK_BYTES (with its own guard page), so the overflow hook
 * can run when the faulting stack is exhausted.  Each scheduler thread
 * calls it once.  Returns HV_OK and sets *mem (the handle for remove), or
 * HV_ENOMEM. */
int hv__sys_altstack_install(void **mem);
/* Unmaps mem; if it is the calling thread's alternate stack, disables
 * that first.  Call on the thread that installed it, not from a handler
 * running on it.  NULL is ignored. */
void hv__sys_altstack_remove(void *mem);

/* Installs a process-wide SIGSEGV/SIGBUS handler (SA_SIGINFO|SA_ONSTACK)
 * that calls on_fault(fault address, ucontext) on the faulting thread,
 * on its alternate stack.  on_fault must be async-signal-safe.  To claim
 * the fault it either leaves the handler without returning (switches
 * away or siglongjmps; SIGSEGV/SIGBUS then stay blocked on that thread,
 * so the landing site must unblock them) or returns true after making
 * the access valid, which retries the instruction.  If it returns false,
 * the handler restores SIG_DFL and returns: the fault recurs and kills
 * the process as it would have without the hook.  Signals sent by
 * kill()/raise() never reach on_fault and kill too.  Call before starting
 * threads; a later call replaces the hook.  Returns HV_OK or HV_EBADARG
 * (on_fault is NULL). */
int hv__sys_segv_install(bool (*on_fault)(void *addr, void *ucontext));
/* Restores SIG_DFL for SIGSEGV and SIGBUS and drops the hook. */
void hv__sys_segv_remove(void);

#endif /* HV_RUNTIME_SYS_H */
