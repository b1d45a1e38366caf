/* tests/check_props.c - properties over 100,000 seeded random terms:
 * text and msgpack round trips, and that compare is a total order
 * consistent with equality and hashing.  A failure prints the seed and
 * the term, so it can be replayed. */
#include <stdio.h>
#include <stdlib.h>

#include "hive/term.h"
#include "tests/hv_check.h"
#include "tests/term_gen.h"

enum { N_TERMS = 100000, N_ORDER = 2000 };

static uint64_t
seed_from_env(void)
{
    const char *s = getenv("HV_PROP_SEED");
    return s ? strtoull(s, NULL, 0) : 20261123;
}

static const char *
show(hv_term t, hv_buf *b)
{
    b->len = 0;
    if (hv_print(t, b) != HV_OK)
        return "<unprintable>";
    return (const char *)b->data;
}

START_TEST(test_props_print_then_parse_gives_an_equal_term)
{
    struct hv_gen g;
    uint64_t seed = seed_from_env();
    hv_gen_init(&g, seed);
    g.text_safe = true;
    hv_buf text = HV_BUF_INIT, shown = HV_BUF_INIT;
    for (int i = 0; i < N_TERMS; i++) {
        hv_term t = hv_gen_term(&g);
        ck_assert(t != HV_NONE);
        text.len = 0;
        ck_assert_int_eq(hv_print(t, &text), HV_OK);
        hv_error err;
        hv_term back = hv_parse_n((const char *)text.data, text.len, NULL,
                                  &err);
        ck_assert_msg(back != HV_NONE, "seed %llu term %d: %s: %s at %d:%d",
                      (unsigned long long)seed, i, (const char *)text.data,
                      err.what, err.line, err.column);
        ck_assert_msg(hv_compare_exact(t, back) == 0,
                      "seed %llu term %d: %s came back as %s",
                      (unsigned long long)seed, i, (const char *)text.data,
                      show(back, &shown));
        ck_assert_uint_eq(hv_hash(t), hv_hash(back));
        hv_release(t);
        hv_release(back);
    }
    hv_buf_free(&text);
    hv_buf_free(&shown);
}
END_TEST

START_TEST(test_props_pack_then_unpack_gives_an_equal_term)
{
    struct hv_gen g;
    uint64_t seed = seed_from_env() + 1;
    hv_gen_init(&g, seed);
    hv_buf bytes = HV_BUF_INIT, shown = HV_BUF_INIT;
    for (int i = 0; i < N_TERMS; i++) {
        hv_term t = hv_gen_term(&g);
        ck_assert(t != HV_NONE);
        bytes.len = 0;
        ck_assert_int_eq(hv_pack(t, &bytes), HV_OK);
        hv_error err;
        hv_term back = hv_unpack(bytes.data, bytes.len, &err);
        ck_assert_msg(back != HV_NONE, "seed %llu term %d: %s: %s at %zu",
                      (unsigned long long)seed, i, show(t, &shown), err.what,
                      err.offset);
        ck_assert_msg(hv_compare_exact(t, back) == 0,
                      "seed %llu term %d: %s came back different",
                      (unsigned long long)seed, i, show(t, &shown));
        hv_release(t);
        hv_release(back);
    }
    hv_buf_free(&bytes);
    hv_buf_free(&shown);
}
END_TEST

static int
sign(int c)
{
    return (c > 0) - (c < 0);
}

START_TEST(test_props_compare_is_a_total_order)
{
    struct hv_gen g;
    hv_gen_init(&g, seed_from_env() + 2);
    g.max_depth = 2;
    static hv_term t[N_ORDER];
    for (int i = 0; i < N_ORDER; i++)
        t[i] = hv_gen_term(&g);
    /* Antisymmetry and reflexivity on every pair (both orders). */
    for (int i = 0; i < N_ORDER; i++) {
        ck_assert_int_eq(hv_compare(t[i], t[i]), 0);
        ck_assert(hv_equal(t[i], t[i]));
        for (int j = i + 1; j < N_ORDER; j += 7) {
            int ab = hv_compare(t[i], t[j]), ba = hv_compare(t[j], t[i]);
            ck_assert_int_eq(sign(ab), -sign(ba));
            int xab = hv_compare_exact(t[i], t[j]);
            int xba = hv_compare_exact(t[j], t[i]);
            ck_assert_int_eq(sign(xab), -sign(xba));
            /* Terms that differ under == differ exactly too. */
            if (ab != 0)
                ck_assert_int_ne(xab, 0);
            ck_assert_int_eq(hv_equal(t[i], t[j]), xab == 0);
            if (xab == 0)
                ck_assert_uint_eq(hv_hash(t[i]), hv_hash(t[j]));
        }
    }
    /* Transitivity on sampled triples, for both orders. */
    for (int k = 0; k < 300000; k++) {
        hv_term a = t[hv_gen_u64(&g) % N_ORDER];
        hv_term b = t[hv_gen_u64(&g) % N_ORDER];
        hv_term c = t[hv_gen_u64(&g) % N_ORDER];
        if (hv_compare(a, b) <= 0 && hv_compare(b, c) <= 0)
            ck_assert_int_le(hv_compare(a, c), 0);
        if (hv_compare_exact(a, b) <= 0 && hv_compare_exact(b, c) <= 0)
            ck_assert_int_le(hv_compare_exact(a, c), 0);
        if (hv_compare(a, b) == 0 && hv_compare(b, c) == 0)
            ck_assert_int_eq(hv_compare(a, c), 0);
    }
    for (int i = 0; i < N_ORDER; i++)
        hv_release(t[i]);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("props");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_set_timeout(tc, 600); /* valgrind runs are ~50x slower */
    tcase_add_test(tc, test_props_print_then_parse_gives_an_equal_term);
    tcase_add_test(tc, test_props_pack_then_unpack_gives_an_equal_term);
    tcase_add_test(tc, test_props_compare_is_a_total_order);
    return s;
}
