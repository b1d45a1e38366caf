/* tests/check_sys.c - the platform layer: guarded stacks and their pool,
 * the overflow hook on an alternate stack, the clock, futexes, CPU and
 * page facts.
 *
 * Tests that must die by a signal, resume after a fault, or exhaust
 * vm.max_map_count only run in Check's fork mode; under CK_FORK=no
 * (valgrind, gdb) they are not registered, since a death would take the
 * whole runner with it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "runtime/alloc.h"
#include "runtime/sys.h"
#include "tests/hv_check.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

START_TEST(test_sys_stack_alloc_rounds_up_to_pages_with_a_guard_below)
{
    size_t page = hv__sys_page_size();
    struct hv__sys_stack st;

    ck_assert_int_eq(hv__sys_stack_alloc(1000, &st), HV_OK);
    ck_assert_ptr_eq(st.guard_lo, st.base);
    ck_assert_ptr_eq(st.guard_hi, st.lo);
    ck_assert_uint_ge((char *)st.guard_hi - (char *)st.guard_lo,
                      HV__SYS_STACK_GUARD_BYTES);
    ck_assert_uint_eq((size_t)((char *)st.hi - (char *)st.lo), page);
    ck_assert_uint_eq((uintptr_t)st.hi % 16, 0);
    ck_assert_uint_eq((uintptr_t)st.lo % page, 0);
    ck_assert_ptr_eq((char *)st.base + st.map_bytes, st.hi);
    hv__sys_stack_free(&st);
    ck_assert_ptr_null(st.base);
    hv__sys_stack_free(&st); /* a cleared stack is ignored */
}
END_TEST

START_TEST(test_sys_stack_usable_range_is_writable_end_to_end)
{
    struct hv__sys_stack st;
    const size_t bytes = 256 * 1024;

    ck_assert_int_eq(hv__sys_stack_alloc(bytes, &st), HV_OK);
    size_t n = (size_t)((char *)st.hi - (char *)st.lo);
    ck_assert_uint_eq(n, bytes);
    memset(st.lo, 0xa5, n);
    unsigned char *p = st.lo;
    ck_assert_uint_eq(p[0], 0xa5);
    ck_assert_uint_eq(p[n / 2], 0xa5);
    ck_assert_uint_eq(p[n - 1], 0xa5);
    hv__sys_stack_free(&st);
}
END_TEST

START_TEST(test_sys_stack_in_guard_tells_the_guard_from_usable_memory)
{
    struct hv__sys_stack st;

    ck_assert_int_eq(hv__sys_stack_alloc(8192, &st), HV_OK);
    char *g_lo = st.guard_lo, *g_hi = st.guard_hi;
    ck_assert(hv__sys_stack_in_guard(&st, g_lo));
    ck_assert(hv__sys_stack_in_guard(&st, g_hi - 1));
    ck_assert(!hv__sys_stack_in_guard(&st, g_lo - 1));
    ck_assert(!hv__sys_stack_in_guard(&st, g_hi)); /* first usable byte */
    ck_assert(!hv__sys_stack_in_guard(&st, (char *)st.hi - 1));
    ck_assert(!hv__sys_stack_in_guard(&st, &st));
    hv__sys_stack_free(&st);
}
END_TEST

START_TEST(test_sys_stack_alloc_rejects_zero_and_unmappable_sizes)
{
    struct hv__sys_stack st = {.base = &st};

    ck_assert_int_eq(hv__sys_stack_alloc(0, &st), HV_EBADARG);
    ck_assert_int_eq(hv__sys_stack_alloc(SIZE_MAX, &st), HV_EBADARG);
    /* Rounds fine but no address space is that large. */
    ck_assert_int_eq(hv__sys_stack_alloc((size_t)1 << 62, &st), HV_ENOMEM);
    ck_assert_ptr_eq(st.base, &st); /* out untouched on failure */
}
END_TEST

/* Fills the map count with guarded stacks: the last allocation must fail
 * with HV_ENOMEM, not abort.  Nothing is asserted until all are freed,
 * since Check itself needs mappings to report. */
START_TEST(test_sys_stack_alloc_says_nomem_at_the_map_count_limit)
{
    long limit = 0;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &limit) != 1)
            limit = 0;
        fclose(f);
    }
    if (limit <= 0 || limit > 200000)
        return; /* unknown or raised: too many stacks to be a unit test */
    size_t max = (size_t)limit / 2 + 16;
    struct hv__sys_stack *all = hv__alloc(max * sizeof *all);
    ck_assert_ptr_nonnull(all);
    size_t n = 0;
    int rc = HV_OK;
    while (n < max && (rc = hv__sys_stack_alloc(4096, &all[n])) == HV_OK)
        n++;
    for (size_t i = 0; i < n; i++)
        hv__sys_stack_free(&all[i]);
    hv__free(all, max * sizeof *all);
    ck_assert_int_eq(rc, HV_ENOMEM);
    ck_assert_uint_gt(n, 1000);
}
END_TEST

START_TEST(test_sys_pool_get_returns_the_last_put_stack_with_its_contents)
{
    struct hv__sys_stack_pool pool;
    struct hv__sys_stack a, b, c;

    ck_assert_int_eq(hv__sys_stack_pool_init(&pool, 8192, 4), HV_OK);
    ck_assert_int_eq(hv__sys_stack_pool_get(&pool, &a), HV_OK);
    ck_assert_int_eq(hv__sys_stack_pool_get(&pool, &b), HV_OK);
    ck_assert_ptr_ne(a.base, b.base);
    void *a_base = a.base, *b_base = b.base;
    ((char *)a.hi)[-1] = 'a';
    ((char *)b.hi)[-1] = 'b';
    hv__sys_stack_pool_put(&pool, &a);
    hv__sys_stack_pool_put(&pool, &b);
    ck_assert_ptr_null(b.base);
    ck_assert_uint_eq(pool.count, 2);
    ck_assert_int_eq(hv__sys_stack_pool_get(&pool, &c), HV_OK);
    ck_assert_ptr_eq(c.base, b_base);
    ck_assert_int_eq(((char *)c.hi)[-1], 'b'); /* reused as it was */
    hv__sys_stack_pool_put(&pool, &c);
    ck_assert_int_eq(hv__sys_stack_pool_get(&pool, &c), HV_OK);
    ck_assert_ptr_eq(c.base, b_base);
    ck_assert_int_eq(hv__sys_stack_pool_get(&pool, &a), HV_OK);
    ck_assert_ptr_eq(a.base, a_base);
    ck_assert_int_eq(((char *)a.hi)[-1], 'a');
    ck_assert_uint_eq(pool.count, 0);
    hv__sys_stack_pool_put(&pool, &a);
    hv__sys_stack_pool_put(&pool, &c);
    hv__sys_stack_pool_fini(&pool);
}
END_TEST

START_TEST(test_sys_pool_unmaps_past_capacity_and_trims_the_coldest)
{
    struct hv__sys_stack_pool pool;
    struct hv__sys_stack s[3];
    void *base[2];

    ck_assert_int_eq(hv__sys_stack_pool_init(&pool, 4096, 2), HV_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(hv__sys_stack_pool_get(&pool, &s[i]), HV_OK);
        if (i < 2)
            base[i] = s[i].base;
    }
    for (int i = 0; i < 3; i++)
        hv__sys_stack_pool_put(&pool, &s[i]);
    ck_assert_uint_eq(pool.count, 2); /* s[2] found it full: unmapped */
    ck_assert_ptr_null(s[2].base);
    hv__sys_stack_pool_trim(&pool, 1); /* drops s[0], put longest ago */
    ck_assert_uint_eq(pool.count, 1);
    ck_assert_int_eq(hv__sys_stack_pool_get(&pool, &s[0]), HV_OK);
    ck_assert_ptr_eq(s[0].base, base[1]);
    hv__sys_stack_pool_put(&pool, &s[0]);
    hv__sys_stack_pool_trim(&pool, 5); /* below keep already: no-op */
    ck_assert_uint_eq(pool.count, 1);
    hv__sys_stack_pool_fini(&pool);
    ck_assert_uint_eq(pool.count, 0);
}
END_TEST

START_TEST(test_sys_pool_init_fails_cleanly_on_bad_arguments_and_oom)
{
    struct hv__sys_stack_pool pool;

    ck_assert_int_eq(hv__sys_stack_pool_init(&pool, 0, 4), HV_EBADARG);
    ck_assert_int_eq(hv__sys_stack_pool_init(&pool, 4096, 0), HV_EBADARG);
    hv__alloc_fail_after(0);
    int rc = hv__sys_stack_pool_init(&pool, 4096, 4);
    hv__alloc_fail_after(-1);
    ck_assert_int_eq(rc, HV_ENOMEM);
    ck_assert_int_eq(hv__sys_stack_pool_init(&pool, 4096, 4), HV_OK);
    hv__sys_stack_pool_fini(&pool);
}
END_TEST

START_TEST(test_sys_altstack_install_sets_and_remove_clears_it)
{
    void *mem = NULL;
    stack_t cur;

    ck_assert_int_eq(hv__sys_altstack_install(&mem), HV_OK);
    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(sigaltstack(NULL, &cur), 0);
    ck_assert(!(cur.ss_flags & SS_DISABLE));
    ck_assert_uint_ge(cur.ss_size, HV__SYS_ALTSTACK_BYTES);
    size_t page = hv__sys_page_size();
    size_t guard = (HV__SYS_STACK_GUARD_BYTES + page - 1) / page * page;
    ck_assert_ptr_eq(cur.ss_sp, (char *)mem + guard); /* above its guard */
    hv__sys_altstack_remove(mem);
    ck_assert_int_eq(sigaltstack(NULL, &cur), 0);
    ck_assert(cur.ss_flags & SS_DISABLE);
    hv__sys_altstack_remove(NULL);
}
END_TEST

/* State shared with the fault hook.  The hook runs in a signal handler
 * and leaves it with siglongjmp, as the scheduler's will by switching. */
static sigjmp_buf fault_jmp;
static struct hv__sys_stack fault_stack;
static void *volatile fault_addr;
static volatile sig_atomic_t fault_calls;

static bool
claim_guard_fault(void *addr, void *ucontext)
{
    (void)ucontext;
    fault_calls++;
    if (!hv__sys_stack_in_guard(&fault_stack, addr))
        return false;
    fault_addr = addr;
    siglongjmp(fault_jmp, 1);
}

static bool
sigsegv_blocked(void)
{
    sigset_t now;

    pthread_sigmask(SIG_SETMASK, NULL, &now);
    return sigismember(&now, SIGSEGV) == 1;
}

START_TEST(test_sys_segv_hook_reports_a_guard_fault_with_its_address)
{
    void *alt;

    ck_assert_int_eq(hv__sys_stack_alloc(8192, &fault_stack), HV_OK);
    ck_assert_int_eq(hv__sys_altstack_install(&alt), HV_OK);
    ck_assert_int_eq(hv__sys_segv_install(claim_guard_fault), HV_OK);
    fault_calls = 0;
    char *targets[2] = {(char *)fault_stack.guard_hi - 1,
                        (char *)fault_stack.guard_lo};
    for (int i = 0; i < 2; i++) {
        fault_addr = NULL;
        /* savemask 0: like a context switch, the jump does not restore
         * the mask, so SIGSEGV is still blocked when we land. */
        if (sigsetjmp(fault_jmp, 0) == 0) {
            *(volatile char *)targets[i] = 1; /* overflow into the guard */
            ck_abort_msg("write to the guard page did not fault");
        }
        ck_assert_ptr_eq(fault_addr, targets[i]);
        ck_assert(sigsegv_blocked());
        sigset_t segv;
        sigemptyset(&segv);
        sigaddset(&segv, SIGSEGV);
        sigaddset(&segv, SIGBUS);
        pthread_sigmask(SIG_UNBLOCK, &segv, NULL);
        ck_assert(!sigsegv_blocked());
    }
    ck_assert_int_eq(fault_calls, 2);
    hv__sys_segv_remove();
    hv__sys_altstack_remove(alt);
    hv__sys_stack_free(&fault_stack);
}
END_TEST

static bool
make_page_writable(void *addr, void *ucontext)
{
    (void)ucontext;
    size_t page = hv__sys_page_size();
    void *p = (void *)((uintptr_t)addr & ~(uintptr_t)(page - 1));
    fault_calls++;
    return mprotect(p, page, PROT_READ | PROT_WRITE) == 0;
}

START_TEST(test_sys_segv_hook_that_returns_true_retries_the_access)
{
    ck_assert_int_eq(hv__sys_stack_alloc(4096, &fault_stack), HV_OK);
    ck_assert_int_eq(hv__sys_segv_install(make_page_writable), HV_OK);
    fault_calls = 0;
    volatile char *p = fault_stack.guard_hi;
    p[-1] = 42;
    ck_assert_int_eq(p[-1], 42);
    ck_assert_int_eq(fault_calls, 1);
    hv__sys_segv_remove();
    hv__sys_stack_free(&fault_stack);
}
END_TEST

/* Dies by SIGSEGV: the hook declines a fault outside every guard. */
START_TEST(test_sys_segv_hook_lets_a_fault_outside_the_guard_kill)
{
    size_t page = hv__sys_page_size();
    void *alt;

    ck_assert_int_eq(hv__sys_stack_alloc(4096, &fault_stack), HV_OK);
    ck_assert_int_eq(hv__sys_altstack_install(&alt), HV_OK);
    ck_assert_int_eq(hv__sys_segv_install(claim_guard_fault), HV_OK);
    char *hole = mmap(NULL, page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(hole != MAP_FAILED);
    ck_assert_int_eq(munmap(hole, page), 0);
    *(volatile char *)hole = 1;
    ck_abort_msg("write to an unmapped page did not kill the process");
}
END_TEST

/* Dies by SIGSEGV: a sent signal has no fault address to claim. */
START_TEST(test_sys_segv_hook_lets_a_sent_sigsegv_kill)
{
    ck_assert_int_eq(hv__sys_segv_install(make_page_writable), HV_OK);
    raise(SIGSEGV);
    ck_abort_msg("raise(SIGSEGV) did not kill the process");
}
END_TEST

START_TEST(test_sys_segv_install_rejects_a_null_hook)
{
    ck_assert_int_eq(hv__sys_segv_install(NULL), HV_EBADARG);
}
END_TEST

START_TEST(test_sys_clock_never_goes_backwards_and_advances_over_a_sleep)
{
    uint64_t ns = hv__sys_now_ns(), ms = hv__sys_now_ms();

    for (int i = 0; i < 10000; i++) {
        uint64_t ns2 = hv__sys_now_ns(), ms2 = hv__sys_now_ms();
        ck_assert_uint_ge(ns2, ns);
        ck_assert_uint_ge(ms2, ms);
        ns = ns2;
        ms = ms2;
    }
    /* ms and ns read the same clock: ms read first is not ahead. */
    ms = hv__sys_now_ms();
    ck_assert_uint_le(ms, hv__sys_now_ns() / 1000000u);
    struct timespec two_ms = {.tv_sec = 0, .tv_nsec = 2000000};
    nanosleep(&two_ms, NULL);
    ck_assert_uint_gt(hv__sys_now_ns(), ns);
    ck_assert_uint_gt(hv__sys_now_ms(), ms);
}
END_TEST

START_TEST(test_sys_futex_wait_returns_on_timeout_or_a_changed_value)
{
    _Atomic uint32_t word = 7;

    hv__sys_futex_wait(&word, 7, 1000000); /* 1 ms, nobody wakes it */
    hv__sys_futex_wait(&word, 7, 0);
    hv__sys_futex_wait(&word, 8, -1); /* differs: returns at once */
    hv__sys_futex_wake(&word, 1);     /* no waiter: harmless */
    hv__sys_futex_wake(&word, 0);
    ck_assert_uint_eq(atomic_load(&word), 7);
}
END_TEST

struct waiter {
    _Atomic uint32_t word; /* the futex: 0 until released */
    _Atomic int ready;     /* the waiter is about to sleep */
    _Atomic int done;
};

static void *
wait_forever(void *arg)
{
    struct waiter *w = arg;

    atomic_store(&w->ready, 1);
    /* Spurious returns are allowed: loop on the condition. */
    while (atomic_load_explicit(&w->word, memory_order_acquire) == 0)
        hv__sys_futex_wait(&w->word, 0, -1);
    atomic_store(&w->done, 1);
    return NULL;
}

START_TEST(test_sys_futex_wake_from_another_thread_wakes_a_waiter)
{
    for (int round = 0; round < 20; round++) {
        struct waiter w = {0};
        pthread_t t;

        ck_assert_int_eq(pthread_create(&t, NULL, wait_forever, &w), 0);
        while (!atomic_load(&w.ready))
            sched_yield();
        /* Give it time to reach the kernel, so the wake, not the value
         * check, is what usually releases it.  Either way it must end. */
        struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&ms, NULL);
        atomic_store_explicit(&w.word, 1, memory_order_release);
        hv__sys_futex_wake(&w.word, 1);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        ck_assert_int_eq(atomic_load(&w.done), 1);
    }
}
END_TEST

START_TEST(test_sys_cpu_count_and_page_size_are_sane)
{
    size_t page = hv__sys_page_size();

    ck_assert_uint_ge(hv__sys_cpu_count(), 1);
    ck_assert_uint_ge(page, 4096);
    ck_assert_uint_eq(page & (page - 1), 0);
    ck_assert_uint_eq(hv__sys_page_size(), page);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("sys");
    const char *fork_env = getenv("CK_FORK");
    bool forking = fork_env == NULL || strcmp(fork_env, "no") != 0;

    TCase *core = hv_check_tcase(s, "core");
    tcase_set_timeout(core, 10);
    tcase_add_test(core,
                   test_sys_stack_alloc_rounds_up_to_pages_with_a_guard_below);
    tcase_add_test(core, test_sys_stack_usable_range_is_writable_end_to_end);
    tcase_add_test(core,
                   test_sys_stack_in_guard_tells_the_guard_from_usable_memory);
    tcase_add_test(
        core, test_sys_pool_get_returns_the_last_put_stack_with_its_contents);
    tcase_add_test(core,
                   test_sys_pool_unmaps_past_capacity_and_trims_the_coldest);
    tcase_add_test(core, test_sys_altstack_install_sets_and_remove_clears_it);
    tcase_add_test(
        core, test_sys_clock_never_goes_backwards_and_advances_over_a_sleep);
    tcase_add_test(core, test_sys_cpu_count_and_page_size_are_sane);

    TCase *sig = hv_check_tcase(s, "signals");
    tcase_set_timeout(sig, 10);
    tcase_add_test(sig,
                   test_sys_segv_hook_reports_a_guard_fault_with_its_address);
    if (forking) {
        /* Valgrind does not resume a faulting store faithfully after the
         * handler returns (the retry writes to the stored value as an
         * address), so this one runs only in fork mode too. */
        tcase_add_test(sig,
                       test_sys_segv_hook_that_returns_true_retries_the_access);
        tcase_add_test_raise_signal(
            sig, test_sys_segv_hook_lets_a_fault_outside_the_guard_kill,
            SIGSEGV);
        tcase_add_test_raise_signal(
            sig, test_sys_segv_hook_lets_a_sent_sigsegv_kill, SIGSEGV);
    }

    TCase *futex = hv_check_tcase(s, "futex");
    tcase_set_timeout(futex, 10);
    tcase_add_test(futex,
                   test_sys_futex_wait_returns_on_timeout_or_a_changed_value);
    tcase_add_test(futex,
                   test_sys_futex_wake_from_another_thread_wakes_a_waiter);

    TCase *errors = hv_check_tcase(s, "errors");
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors,
                   test_sys_stack_alloc_rejects_zero_and_unmappable_sizes);
    tcase_add_test(errors, test_sys_segv_install_rejects_a_null_hook);
    tcase_add_test(errors,
                   test_sys_pool_init_fails_cleanly_on_bad_arguments_and_oom);
    if (forking && !SANITIZED)
        tcase_add_test(errors,
                       test_sys_stack_alloc_says_nomem_at_the_map_count_limit);
    return s;
}
