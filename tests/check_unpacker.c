/* tests/check_unpacker.c - the streaming msgpack decoder, hv_unpacker. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive/term.h"
#include "runtime/alloc.h"
#include "runtime/util.h"
#include "tests/hv_check.h"
#include "tests/pack_util.h"

/* Packs the count terms one after another into b. */
static void
pack_sequence(hv_buf *b, hv_term *terms, size_t count)
{
    for (size_t i = 0; i < count; i++)
        pack_ok(terms[i], b);
}

/* Takes every whole term out of u and checks them against want[*got..]. */
static void
drain(hv_unpacker *u, hv_term *want, size_t count, size_t *got)
{
    hv_term t;
    hv_error err = {0};
    int rc;
    while ((rc = hv_unpacker_next(u, &t, &err)) == 1) {
        ck_assert_uint_lt(*got, count);
        ck_assert_int_eq(hv_compare_exact(t, want[*got]), 0);
        hv_release(t);
        (*got)++;
    }
    ck_assert_msg(rc == 0, "next: %d %s", rc, err.what);
}

static void
release_all(hv_term *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hv_release(t[i]);
}

static size_t
make_stream_terms(hv_term *t)
{
    t[0] = assorted();
    t[1] = hv_int(7);
    t[2] = HV_NIL;
    t[3] = hv_tuple(2, hv_atom("a"), hv_int(1));
    uint8_t *data;
    t[4] = hv_binary_alloc(1000, &data);
    for (size_t i = 0; i < 1000; i++)
        data[i] = (uint8_t)i;
    t[5] = hv_atom("true");
    return 6;
}

START_TEST(test_unpacker_returns_terms_split_at_every_byte)
{
    hv_term want[8];
    size_t count = make_stream_terms(want);
    hv_buf b = HV_BUF_INIT;
    pack_sequence(&b, want, count);
    for (size_t k = 0; k <= b.len; k++) {
        hv_unpacker *u = hv_unpacker_new(NULL);
        ck_assert_ptr_nonnull(u);
        size_t got = 0;
        ck_assert_int_eq(hv_unpacker_feed(u, b.data, k), HV_OK);
        drain(u, want, count, &got);
        ck_assert_int_eq(hv_unpacker_feed(u, b.data + k, b.len - k), HV_OK);
        drain(u, want, count, &got);
        ck_assert_uint_eq(got, count);
        hv_unpacker_free(u);
    }
    release_all(want, count);
    hv_buf_free(&b);
}
END_TEST

START_TEST(test_unpacker_returns_terms_fed_in_random_chunks)
{
    hv_term want[8];
    size_t count = make_stream_terms(want);
    hv_buf b = HV_BUF_INIT;
    pack_sequence(&b, want, count);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 200; round++) {
        hv_unpacker *u = hv_unpacker_new(NULL);
        size_t got = 0;
        for (size_t at = 0; at < b.len;) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            size_t n =
                hv__min_size(1 + seed % (round < 100 ? 7 : 300), b.len - at);
            ck_assert_int_eq(hv_unpacker_feed(u, b.data + at, n), HV_OK);
            at += n;
            drain(u, want, count, &got);
        }
        ck_assert_uint_eq(got, count);
        hv_unpacker_free(u);
    }
    release_all(want, count);
    hv_buf_free(&b);
}
END_TEST

START_TEST(test_unpacker_takes_a_large_term_one_byte_at_a_time)
{
    /* 2,000 binaries of 50 bytes: rescanning from the start on each byte
     * would be ~10^10 steps and time out; the resumable scan is linear. */
    hv_term elems[2000];
    for (size_t i = 0; i < 2000; i++) {
        uint8_t *d;
        elems[i] = hv_binary_alloc(50, &d);
        memset(d, (int)i, 50);
    }
    hv_term want = hv_list_v(2000, elems);
    hv_buf b = HV_BUF_INIT;
    pack_ok(want, &b);
    hv_unpacker *u = hv_unpacker_new(NULL);
    hv_term t = HV_NONE;
    for (size_t i = 0; i < b.len; i++) {
        ck_assert_int_eq(hv_unpacker_feed(u, b.data + i, 1), HV_OK);
        int rc = hv_unpacker_next(u, &t, NULL);
        ck_assert_int_eq(rc, i + 1 == b.len ? 1 : 0);
    }
    ck_assert_int_eq(hv_compare_exact(t, want), 0);
    hv_release(t);
    hv_release(want);
    hv_unpacker_free(u);
    hv_buf_free(&b);
}
END_TEST

/* ---- edges ---- */

START_TEST(test_unpacker_limits_a_term_still_coming_in)
{
    hv_limits lim = {.max_bytes = 100};
    /* A lying count is caught at its header. */
    hv_unpacker *u = hv_unpacker_new(&lim);
    uint8_t a32[] = {0xdd, 0, 0, 0x10, 0};
    ck_assert_int_eq(hv_unpacker_feed(u, a32, sizeof a32), HV_ELIMIT);
    hv_term t;
    hv_error err;
    ck_assert_int_eq(hv_unpacker_next(u, &t, &err), HV_ELIMIT);
    ck_assert_int_eq(hv_unpacker_feed(u, a32, 1), HV_ELIMIT);
    hv_unpacker_free(u);
    /* So is an honest term that just keeps growing, one byte at a time. */
    u = hv_unpacker_new(&lim);
    int rc = HV_OK;
    size_t fed = 0;
    uint8_t open = 0x91;
    while (rc == HV_OK && fed < 1000) {
        rc = hv_unpacker_feed(u, &open, 1);
        fed++;
        if (rc == HV_OK)
            ck_assert_int_eq(hv_unpacker_next(u, &t, NULL), 0);
    }
    ck_assert_int_eq(rc, HV_ELIMIT);
    ck_assert_uint_le(fed, 101);
    hv_unpacker_free(u);
    /* A term of exactly max_bytes is fine, one byte more is not. */
    uint8_t bin[101] = {0xc4, 98};
    u = hv_unpacker_new(&lim);
    ck_assert_int_eq(hv_unpacker_feed(u, bin, 100), HV_OK);
    ck_assert_int_eq(hv_unpacker_next(u, &t, NULL), 1);
    hv_release(t);
    bin[1] = 99;
    ck_assert_int_eq(hv_unpacker_feed(u, bin, 50), HV_ELIMIT);
    hv_unpacker_free(u);
}
END_TEST

START_TEST(test_unpacker_retries_after_running_out_of_memory)
{
    hv_term t = assorted(), got;
    hv_buf b = HV_BUF_INIT;
    pack_ok(t, &b);
    hv_unpacker *u = hv_unpacker_new(NULL);
    ck_assert_int_eq(hv_unpacker_feed(u, b.data, b.len), HV_OK);
    hv_error err;
    hv__alloc_fail_after(3);
    ck_assert_int_eq(hv_unpacker_next(u, &got, &err), HV_ENOMEM);
    ck_assert_int_eq(err.code, HV_ENOMEM);
    hv__alloc_fail_after(-1);
    ck_assert_int_eq(hv_unpacker_next(u, &got, &err), 1);
    ck_assert_int_eq(hv_compare_exact(t, got), 0);
    hv_release(got);
    hv_release(t);
    hv_unpacker_free(u);
    hv_buf_free(&b);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_unpacker_is_poisoned_by_an_error)
{
    uint8_t in[] = {0x01, 0x02, 0xc1, 0x03};
    hv_unpacker *u = hv_unpacker_new(NULL);
    ck_assert_int_eq(hv_unpacker_feed(u, in, sizeof in), HV_OK);
    hv_term t;
    hv_error err = {0}, again = {0};
    ck_assert_int_eq(hv_unpacker_next(u, &t, &err), 1);
    ck_assert(t == hv_int(1));
    ck_assert_int_eq(hv_unpacker_next(u, &t, &err), 1);
    ck_assert_int_eq(hv_unpacker_next(u, &t, &err), HV_ESYNTAX);
    ck_assert_uint_eq(err.offset, 2); /* counted over the whole stream */
    ck_assert_int_eq(hv_unpacker_feed(u, in, 1), HV_OK);
    ck_assert_int_eq(hv_unpacker_next(u, &t, &again), HV_ESYNTAX);
    ck_assert_uint_eq(again.offset, 2);
    ck_assert_str_eq(again.what, err.what);
    hv_unpacker_free(u);
    /* Errors found by the build (a refused atom) poison too. */
    u = hv_unpacker_new(NULL);
    uint8_t bad_atom[] = {0xd4, 1, 0xff, 0x01};
    ck_assert_int_eq(hv_unpacker_feed(u, bad_atom, sizeof bad_atom), HV_OK);
    ck_assert_int_eq(hv_unpacker_next(u, &t, &err), HV_EBADARG);
    ck_assert_int_eq(hv_unpacker_next(u, &t, &err), HV_EBADARG);
    hv_unpacker_free(u);
}
END_TEST

START_TEST(test_unpacker_fails_cleanly_at_every_allocation)
{
    hv_term want[8];
    size_t count = make_stream_terms(want);
    hv_buf b = HV_BUF_INIT;
    pack_sequence(&b, want, count);
    for (int n = 0;; n++) {
        hv__alloc_fail_after(n);
        hv_unpacker *u = hv_unpacker_new(NULL);
        int rc = u == NULL ? HV_ENOMEM : HV_OK;
        size_t got = 0;
        bool fed_all = false;
        /* Two feeds, so one lands while a term is half in. */
        if (rc == HV_OK)
            rc = hv_unpacker_feed(u, b.data, b.len / 2);
        hv_term t;
        hv_error err = {0};
        while (rc == HV_OK && got < count) {
            int r = hv_unpacker_next(u, &t, &err);
            if (r == 1) {
                ck_assert_int_eq(hv_compare_exact(t, want[got]), 0);
                hv_release(t);
                got++;
            } else if (r == 0) {
                ck_assert(!fed_all);
                fed_all = true;
                rc = hv_unpacker_feed(u, b.data + b.len / 2, b.len - b.len / 2);
            } else {
                ck_assert_int_eq(err.code, HV_ENOMEM);
                rc = r;
            }
        }
        hv__alloc_fail_after(-1);
        hv_unpacker_free(u);
        if (rc == HV_OK) {
            ck_assert_int_gt(n, 10);
            break;
        }
        ck_assert_int_eq(rc, HV_ENOMEM);
    }
    release_all(want, count);
    hv_buf_free(&b);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("unpacker");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_unpacker_returns_terms_split_at_every_byte);
    tcase_add_test(tc, test_unpacker_returns_terms_fed_in_random_chunks);
    tcase_add_test(tc, test_unpacker_takes_a_large_term_one_byte_at_a_time);
    tcase_add_test(tc, test_unpacker_limits_a_term_still_coming_in);
    tcase_add_test(tc, test_unpacker_retries_after_running_out_of_memory);
    tcase_add_test(tc, test_unpacker_is_poisoned_by_an_error);
    tcase_add_test(tc, test_unpacker_fails_cleanly_at_every_allocation);
    return s;
}
