/* tests/check_map.c - maps: building, lookup, functional update. */
#include <stdio.h>

#include "hive/term.h"
#include "runtime/alloc.h"
#include "tests/hv_check.h"

static int64_t
int_of(hv_term t)
{
    int64_t v = -999;
    ck_assert_int_eq(hv_int_value(t, &v), HV_OK);
    return v;
}

START_TEST(test_map_from_sorts_keys_and_finds_them)
{
    hv_term k[3] = {hv_atom("c"), hv_atom("a"), hv_atom("b")};
    hv_term v[3] = {hv_int(3), hv_int(1), hv_int(2)};
    hv_term m = hv_map_from(3, k, v);
    ck_assert(hv_is_map(m));
    ck_assert_int_eq(hv_map_size(m), 3);
    ck_assert(hv_map_key_at(m, 0) == hv_atom("a"));
    ck_assert(hv_map_key_at(m, 1) == hv_atom("b"));
    ck_assert(hv_map_key_at(m, 2) == hv_atom("c"));
    ck_assert_int_eq(int_of(hv_map_value_at(m, 2)), 3);
    ck_assert_int_eq(int_of(hv_map_get(m, hv_atom("b"))), 2);
    ck_assert(hv_map_get(m, hv_atom("d")) == HV_NONE);
    ck_assert(hv_map_key_at(m, 3) == HV_NONE);
    ck_assert(hv_map_value_at(m, 3) == HV_NONE);
    hv_release(m);
}
END_TEST

START_TEST(test_map_repeated_key_keeps_the_last_value)
{
    hv_term k[4] = {hv_atom("a"), hv_string("x"), hv_atom("a"),
                    hv_string("x")};
    hv_term v[4] = {hv_int(1), hv_int(2), hv_int(3), hv_string("last")};
    hv_term m = hv_map_from(4, k, v);
    ck_assert_int_eq(hv_map_size(m), 2);
    ck_assert_int_eq(int_of(hv_map_get(m, hv_atom("a"))), 3);
    hv_term x = hv_string("x");
    ck_assert(hv_is_binary(hv_map_get(m, x)));
    hv_release(x);
    hv_release(m);
}
END_TEST

START_TEST(test_map_integer_and_float_keys_are_different)
{
    hv_term k[2] = {hv_float(1.0), hv_int(1)};
    hv_term v[2] = {hv_atom("float"), hv_atom("int")};
    hv_term m = hv_map_from(2, k, v);
    ck_assert_int_eq(hv_map_size(m), 2);
    /* Integers sort before equal floats in map key order. */
    ck_assert(hv_is_integer(hv_map_key_at(m, 0)));
    ck_assert(hv_map_get(m, hv_int(1)) == hv_atom("int"));
    hv_term f = hv_float(1.0);
    ck_assert(hv_map_get(m, f) == hv_atom("float"));
    hv_release(f);
    hv_release(m);
    /* Every integer key sorts before every float key: #{2 => a, 1.0 => b}
     * prints as #{2 => a,1.0 => b} in Erlang. */
    hv_term k2[2] = {hv_float(1.0), hv_int(2)};
    hv_term v2[2] = {hv_atom("b"), hv_atom("a")};
    hv_term m2 = hv_map_from(2, k2, v2);
    ck_assert(hv_map_key_at(m2, 0) == hv_int(2));
    hv_buf text = HV_BUF_INIT;
    ck_assert_int_eq(hv_print(m2, &text), HV_OK);
    ck_assert_str_eq((const char *)text.data, "#{2 => a,1.0 => b}");
    hv_buf_free(&text);
    hv_release(m2);
}
END_TEST

START_TEST(test_map_from_consumes_keys_when_values_are_missing)
{
    hv_term k[2] = {hv_string("leaks?"), hv_string("no")};
    ck_assert(hv_map_from(2, k, NULL) == HV_NONE);
    hv_term v[1] = {hv_string("value")};
    ck_assert(hv_map_from(1, NULL, v) == HV_NONE);
    /* The leak fixture proves all three binaries were released. */
}
END_TEST

START_TEST(test_map_put_on_a_shared_map_leaves_the_original)
{
    hv_term m = hv_map_put(hv_map_new(), hv_atom("a"), hv_int(1));
    hv_term shared = hv_retain(m);
    hv_term m2 = hv_map_put(m, hv_atom("b"), hv_int(2));
    ck_assert_int_eq(hv_map_size(shared), 1);
    ck_assert_int_eq(hv_map_size(m2), 2);
    hv_term m3 = hv_map_put(hv_retain(m2), hv_atom("a"), hv_int(10));
    ck_assert_int_eq(int_of(hv_map_get(m2, hv_atom("a"))), 1);
    ck_assert_int_eq(int_of(hv_map_get(m3, hv_atom("a"))), 10);
    hv_release(shared);
    hv_release(m2);
    hv_release(m3);
}
END_TEST

START_TEST(test_map_put_and_remove_many_keys_keep_order)
{
    hv_term m = hv_map_new();
    for (int i = 0; i < 2000; i++)
        m = hv_map_put(m, hv_int((i * 7919) % 2000), hv_int(i));
    ck_assert_int_eq(hv_map_size(m), 2000);
    for (int i = 1; i < 2000; i++)
        ck_assert_int_lt(
            hv_compare(hv_map_key_at(m, i - 1), hv_map_key_at(m, i)), 0);
    for (int i = 0; i < 2000; i += 2)
        m = hv_map_remove(m, hv_int(i));
    ck_assert_int_eq(hv_map_size(m), 1000);
    ck_assert(hv_map_get(m, hv_int(4)) == HV_NONE);
    ck_assert(hv_map_get(m, hv_int(5)) != HV_NONE);
    hv_term same = hv_map_remove(m, hv_int(4)); /* absent: map itself */
    ck_assert(same == m);
    hv_release(same);
}
END_TEST

START_TEST(test_map_remove_on_a_shared_map_copies)
{
    hv_term k[2] = {hv_atom("a"), hv_atom("b")};
    hv_term v[2] = {hv_int(1), hv_string("bee")};
    hv_term m = hv_map_from(2, k, v);
    hv_term r = hv_map_remove(hv_retain(m), hv_atom("b"));
    ck_assert_int_eq(hv_map_size(m), 2);
    ck_assert_int_eq(hv_map_size(r), 1);
    hv_term e = hv_map_remove(r, hv_atom("a"));
    ck_assert_int_eq(hv_map_size(e), 0);
    hv_release(e);
    hv_release(m);
}
END_TEST

START_TEST(test_map_large_map_lookups_find_every_key)
{
    enum { N = 100000 };
    hv_term *k = hv__alloc(N * sizeof *k), *v = hv__alloc(N * sizeof *v);
    char buf[32];
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "key%d", i);
        k[i] = hv_string(buf);
        v[i] = hv_int(i);
    }
    hv_term m = hv_map_from(N, k, v);
    hv__free(k, N * sizeof *k);
    hv__free(v, N * sizeof *v);
    ck_assert_int_eq(hv_map_size(m), N);
    for (int i = 0; i < N; i += 7) {
        snprintf(buf, sizeof buf, "key%d", i);
        hv_term key = hv_string(buf);
        ck_assert_int_eq(int_of(hv_map_get(m, key)), i);
        hv_release(key);
    }
    hv_release(m);
}
END_TEST

START_TEST(test_map_empty_map_is_a_shared_constant)
{
    hv_term a = hv_map_new(), b = hv_map_new();
    ck_assert(a == b);
    ck_assert_int_eq(hv_map_size(a), 0);
    ck_assert(hv_map_from(0, NULL, NULL) == a);
    hv_release(a);
    hv_release(a);
    ck_assert_int_eq(hv_map_size(b), 0);
}
END_TEST

START_TEST(test_map_bad_input_is_rejected_and_consumed)
{
    ck_assert(hv_map_put(hv_int(1), hv_string("k"), hv_string("v")) ==
              HV_NONE);
    ck_assert(hv_map_put(hv_map_new(), HV_NONE, hv_string("v")) == HV_NONE);
    ck_assert(hv_map_remove(hv_string("notmap"), hv_int(1)) == HV_NONE);
    hv_term k[2] = {hv_string("a"), hv_string("b")};
    hv_term v[2] = {hv_string("c"), HV_NONE};
    ck_assert(hv_map_from(2, k, v) == HV_NONE);
    ck_assert(hv_map_get(HV_NIL, hv_int(1)) == HV_NONE);
    ck_assert_int_eq(hv_map_size(HV_NIL), HV_EBADARG);
    ck_assert(hv_map_key_at(hv_int(3), 0) == HV_NONE);
}
END_TEST

START_TEST(test_map_updates_fail_cleanly_at_every_allocation)
{
    for (int n = 0;; n++) {
        hv_term m = hv_map_new();
        hv__alloc_fail_after(n);
        for (int i = 0; i < 5 && m != HV_NONE; i++)
            m = hv_map_put(m, hv_string("key"), hv_list(1, hv_int(i)));
        hv_term k[3] = {hv_string("x"), hv_string("y"), hv_string("x")};
        hv_term v[3] = {hv_int(1), hv_string("yy"), hv_int(3)};
        hv_term m2 = hv_map_from(3, k, v);
        hv__alloc_fail_after(-1);
        bool done = m != HV_NONE && m2 != HV_NONE;
        hv_release(m);
        hv_release(m2);
        if (done)
            break;
    }
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("map");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_map_from_sorts_keys_and_finds_them);
    tcase_add_test(tc, test_map_repeated_key_keeps_the_last_value);
    tcase_add_test(tc, test_map_integer_and_float_keys_are_different);
    tcase_add_test(tc, test_map_put_on_a_shared_map_leaves_the_original);
    tcase_add_test(tc, test_map_put_and_remove_many_keys_keep_order);
    tcase_add_test(tc, test_map_remove_on_a_shared_map_copies);
    tc = hv_check_tcase(s, "edges");
    tcase_add_test(tc, test_map_large_map_lookups_find_every_key);
    tcase_add_test(tc, test_map_empty_map_is_a_shared_constant);
    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_map_bad_input_is_rejected_and_consumed);
    tcase_add_test(tc, test_map_from_consumes_keys_when_values_are_missing);
    tcase_add_test(tc, test_map_updates_fail_cleanly_at_every_allocation);
    return s;
}
