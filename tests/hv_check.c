/* tests/hv_check.c - the leak-checking fixture shared by all suites. */
#include "tests/hv_check.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "runtime/alloc.h"

static int64_t live_at_begin;

void
hv_check_begin(void)
{
    hv__alloc_track(true);
    hv__alloc_fail_after(-1);
    live_at_begin = hv__alloc_live();
}

void
hv_check_end(void)
{
    hv__alloc_fail_after(-1);
    int64_t live = hv__alloc_live();
    ck_assert_msg(live == live_at_begin,
                  "leak: %lld blocks live after the test, %lld before",
                  (long long)live, (long long)live_at_begin);
}

TCase *
hv_check_tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, hv_check_begin, hv_check_end);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return tc;
}

int
hv_check_slow(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    return 1;
#endif
#endif
    return getenv("HV_CHECK_SMALL") != NULL;
}

long
hv_check_scale(long n)
{
    if (!hv_check_slow())
        return n;
    return n / 50 > 0 ? n / 50 : 1;
}

static atomic_int expect_failed;
static char expect_text[1024];
static atomic_size_t expect_len;

bool
hv_expect_at(bool ok, const char *what, int line)
{
    if (ok)
        return true;
    /* Each failure reserves its own slice of the text, so concurrent
     * processes never write over each other; later ones are counted. */
    char one[160];
    int n = snprintf(one, sizeof one, "[line %d: %s] ", line, what);
    if (n > (int)sizeof one - 1)
        n = (int)sizeof one - 1;
    size_t at = atomic_fetch_add(&expect_len, (size_t)n);
    if (at + (size_t)n < sizeof expect_text)
        memcpy(expect_text + at, one, (size_t)n);
    atomic_fetch_add(&expect_failed, 1);
    return false;
}

void
hv_expect_reset(void)
{
    atomic_store(&expect_failed, 0);
    atomic_store(&expect_len, 0);
    memset(expect_text, 0, sizeof expect_text);
}

int
hv_expect_failures(void)
{
    return atomic_load(&expect_failed);
}

const char *
hv_expect_text(void)
{
    return expect_text;
}

void
hv_expect_assert(void)
{
    int n = hv_expect_failures();
    ck_assert_msg(n == 0, "%d failed expectation(s) in processes: %s", n,
                  hv_expect_text());
}
