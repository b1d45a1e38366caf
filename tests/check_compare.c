/* tests/check_compare.c - Erlang's term order, exact equality, hashing. */
#include <stdint.h>

#include "hive/term.h"
#include "tests/hv_check.h"

/* a < b in the == order only; the exact (map key) order puts every
 * integer before every float instead. */
static void
assert_lt_by_value(hv_term a, hv_term b)
{
    ck_assert_int_eq(hv_compare(a, b), -1);
    ck_assert_int_eq(hv_compare(b, a), 1);
    ck_assert_int_eq(hv_compare_exact(a, b), hv_is_integer(a) ? -1 : 1);
    ck_assert(!hv_equal(a, b));
}

static void
assert_lt(hv_term a, hv_term b)
{
    ck_assert_int_eq(hv_compare(a, b), -1);
    ck_assert_int_eq(hv_compare(b, a), 1);
    ck_assert_int_eq(hv_compare_exact(a, b), -1);
    ck_assert(!hv_equal(a, b));
}

START_TEST(test_compare_classes_follow_erlang_order)
{
    /* number < atom < reference < pid < tuple < map < [] < list <
     * binary */
    hv_term order[] = {
        hv_int(99999),   hv_atom("a"),
        hv_ref_make(),   hv_pid_local(1, 0),
        hv_tuple(0),     hv_map_new(),
        HV_NIL,          hv_list(1, hv_int(0)),
        hv_binary(NULL, 0),
    };
    size_t n = sizeof order / sizeof order[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_lt(order[i], order[j]);
    for (size_t i = 0; i < n; i++)
        hv_release(order[i]);
    ck_assert_int_eq(hv_compare(HV_NONE, hv_int(0)), -1);
}
END_TEST

START_TEST(test_compare_integers_and_floats_by_value)
{
    hv_term one = hv_int(1), onef = hv_float(1.0), half = hv_float(1.5);
    ck_assert_int_eq(hv_compare(one, onef), 0); /* 1 == 1.0 */
    ck_assert_int_eq(hv_compare_exact(one, onef), -1); /* 1 =/= 1.0 */
    ck_assert(!hv_equal(one, onef));
    assert_lt(one, half);
    assert_lt(onef, half);
    assert_lt(hv_int(-3), onef);
    hv_term big = hv_int(INT64_MAX), bigf = hv_float(9223372036854775808.0);
    assert_lt(big, bigf);
    hv_term small = hv_int(INT64_MIN), smallf = hv_float(-1e300);
    assert_lt_by_value(smallf, small);
    /* 2^53 + 1 is not representable as a double; the comparison must
     * not round it onto 2^53. */
    hv_term odd = hv_int(9007199254740993), even = hv_float(9007199254740992.0);
    assert_lt_by_value(even, odd);
    hv_term neg = hv_float(-0.5);
    assert_lt(hv_int(-1), neg);
    assert_lt_by_value(neg, hv_int(0));
    hv_term z = hv_float(0.0), nz = hv_float(-0.0);
    ck_assert(hv_equal(z, nz));
    ck_assert_uint_eq(hv_hash(z), hv_hash(nz));
    /* Map key order: 2 < 1.0, as Erlang's #{2 => a, 1.0 => b} shows. */
    hv_term two = hv_int(2);
    ck_assert_int_eq(hv_compare(onef, two), -1);
    ck_assert_int_eq(hv_compare_exact(two, onef), -1);
    hv_term list[] = {onef, half, big, bigf, small, smallf, even, neg, z, nz};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        hv_release(list[i]);
}
END_TEST

START_TEST(test_compare_atoms_by_name_not_by_creation)
{
    hv_term zebra = hv_atom("zebra_first");
    hv_term apple = hv_atom("apple_second");
    assert_lt(apple, zebra);
    assert_lt(hv_atom("ab"), hv_atom("abc"));
    assert_lt(hv_atom("B"), hv_atom("a"));
}
END_TEST

START_TEST(test_compare_tuples_by_size_then_elements)
{
    hv_term a = hv_tuple(2, hv_int(9), hv_int(9));
    hv_term b = hv_tuple(3, hv_int(0), hv_int(0), hv_int(0));
    assert_lt(a, b);
    hv_term c = hv_tuple(2, hv_int(9), hv_int(10));
    assert_lt(a, c);
    hv_term d = hv_tuple(2, hv_float(9.0), hv_int(9));
    ck_assert_int_eq(hv_compare(a, d), 0);
    ck_assert_int_eq(hv_compare_exact(a, d), -1);
    hv_release(a);
    hv_release(b);
    hv_release(c);
    hv_release(d);
}
END_TEST

START_TEST(test_compare_lists_elementwise_then_length_then_tail)
{
    hv_term l12 = hv_list(2, hv_int(1), hv_int(2));
    hv_term l123 = hv_list(3, hv_int(1), hv_int(2), hv_int(3));
    hv_term l13 = hv_list(2, hv_int(1), hv_int(3));
    assert_lt(l12, l123);
    assert_lt(l123, l13);
    assert_lt(HV_NIL, l12);
    /* [1|2] vs [1,2]: the tails 2 and [2] compare number < list. */
    hv_term imp = hv_cons(hv_int(1), hv_int(2));
    assert_lt(imp, l12);
    hv_release(l12);
    hv_release(l123);
    hv_release(l13);
    hv_release(imp);
}
END_TEST

START_TEST(test_compare_maps_by_size_keys_then_values)
{
    hv_term k1[1] = {hv_atom("b")}, v1[1] = {hv_int(1)};
    hv_term m1 = hv_map_from(1, k1, v1);
    hv_term k2[2] = {hv_atom("a"), hv_atom("b")};
    hv_term v2[2] = {hv_int(0), hv_int(0)};
    hv_term m2 = hv_map_from(2, k2, v2);
    assert_lt(m1, m2); /* size first */
    hv_term k3[1] = {hv_atom("a")}, v3[1] = {hv_int(5)};
    hv_term m3 = hv_map_from(1, k3, v3);
    assert_lt(m3, m1); /* key a < key b, whatever the values */
    hv_term k4[1] = {hv_atom("b")}, v4[1] = {hv_int(2)};
    hv_term m4 = hv_map_from(1, k4, v4);
    assert_lt(m1, m4); /* same keys: values */
    hv_term k5[1] = {hv_atom("b")}, v5[1] = {hv_float(1.0)};
    hv_term m5 = hv_map_from(1, k5, v5);
    ck_assert_int_eq(hv_compare(m1, m5), 0); /* values compare with == */
    ck_assert(!hv_equal(m1, m5));
    /* Keys always compare exactly: #{1 => a} and #{1.0 => a} differ. */
    hv_term k6[1] = {hv_int(1)}, v6[1] = {hv_atom("a")};
    hv_term k7[1] = {hv_float(1.0)}, v7[1] = {hv_atom("a")};
    hv_term m6 = hv_map_from(1, k6, v6), m7 = hv_map_from(1, k7, v7);
    ck_assert_int_eq(hv_compare(m6, m7), -1);
    /* Map key order decides: #{2 => x} < #{1.0 => x}, as in Erlang. */
    hv_term k8[1] = {hv_int(2)}, v8[1] = {hv_atom("x")};
    hv_term k9[1] = {hv_float(1.0)}, v9[1] = {hv_atom("x")};
    hv_term m8 = hv_map_from(1, k8, v8), m9 = hv_map_from(1, k9, v9);
    ck_assert_int_eq(hv_compare(m8, m9), -1);
    hv_release(m8);
    hv_release(m9);
    hv_term maps[] = {m1, m2, m3, m4, m5, m6, m7};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        hv_release(maps[i]);
}
END_TEST

START_TEST(test_compare_binaries_bytewise_prefix_first)
{
    hv_term a = hv_string("abc"), ab = hv_string("ab"), b = hv_string("b");
    hv_term hi = hv_binary("\xff", 1);
    assert_lt(ab, a);
    assert_lt(a, b);
    assert_lt(b, hi); /* unsigned bytes */
    hv_release(a);
    hv_release(ab);
    hv_release(b);
    hv_release(hi);
}
END_TEST

START_TEST(test_compare_pids_and_refs_by_node_then_numbers)
{
    assert_lt(hv_pid_local(5, 0), hv_pid_local(4, 1)); /* serial first */
    assert_lt(hv_pid_local(4, 0), hv_pid_local(5, 0));
    hv_term remote = hv_pid_remote(hv_atom("zz@host"), 0, 0, 1);
    assert_lt(hv_pid_local(9, 9), remote); /* nonode@nohost < zz@host */
    hv_term early = hv_pid_remote(hv_atom("aa@host"), 0, 0, 1);
    assert_lt(early, hv_pid_local(0, 0));
    uint32_t w[5] = {1, 2, 3, 4, 5};
    hv_term r5 = hv_ref_from(HV_ATOM_NONODE, 0, w, 5);
    hv_term r1 = hv_ref_from(HV_ATOM_NONODE, 0, w, 1);
    assert_lt(r1, r5);
    hv_term r5b = hv_ref_from(HV_ATOM_NONODE, 0, w, 5);
    ck_assert(r5 != r5b);
    ck_assert(hv_equal(r5, r5b));
    ck_assert_uint_eq(hv_hash(r5), hv_hash(r5b));
    hv_release(remote);
    hv_release(early);
    hv_release(r5);
    hv_release(r5b);
}
END_TEST

START_TEST(test_compare_equal_structures_are_equal_and_hash_alike)
{
    hv_term a = hv_tuple(3, hv_atom("k"), hv_list(2, hv_string("x"), hv_float(2.5)),
                         hv_int(INT64_MIN));
    hv_term b = hv_tuple(3, hv_atom("k"), hv_list(2, hv_string("x"), hv_float(2.5)),
                         hv_int(INT64_MIN));
    ck_assert(a != b);
    ck_assert(hv_equal(a, b));
    ck_assert_int_eq(hv_compare(a, b), 0);
    ck_assert_uint_eq(hv_hash(a), hv_hash(b));
    hv_term c = hv_tuple(3, hv_atom("k"), hv_list(2, hv_string("x"), hv_float(2.5)),
                         hv_int(INT64_MIN + 1));
    ck_assert(hv_hash(a) != hv_hash(c));
    /* Structure matters, not just the leaves in order. */
    hv_term p = hv_tuple(2, hv_tuple(1, hv_int(1)), hv_int(2));
    hv_term q = hv_tuple(2, hv_int(1), hv_tuple(1, hv_int(2)));
    ck_assert(hv_hash(p) != hv_hash(q));
    hv_release(a);
    hv_release(b);
    hv_release(c);
    hv_release(p);
    hv_release(q);
}
END_TEST

START_TEST(test_compare_hash_is_stable_across_runs)
{
    /* Pinned values: hashes may name terms in storage, so they must not
     * change between runs, builds or versions without notice. */
    ck_assert_uint_eq(hv_hash(HV_ATOM_OK), 0xac2eb0c3ec0e33e5ULL);
    hv_term t = hv_tuple(2, hv_int(1), hv_string("two"));
    ck_assert_uint_eq(hv_hash(t), 0x8f9899420cc04b66ULL);
    hv_release(t);
}
END_TEST

START_TEST(test_compare_deep_and_long_terms_do_not_recurse)
{
    hv_term a = hv_atom("leaf"), b = hv_atom("leaf");
    for (int i = 0; i < 300000; i++) {
        a = hv_tuple(1, a);
        b = hv_tuple(1, b);
    }
    ck_assert_int_eq(hv_compare(a, b), 0);
    ck_assert_uint_eq(hv_hash(a), hv_hash(b));
    hv_release(a);
    hv_release(b);
    hv_term la = HV_NIL, lb = HV_NIL;
    for (int i = 0; i < 300000; i++) {
        la = hv_cons(hv_int(i), la);
        lb = hv_cons(hv_int(i), lb);
    }
    lb = hv_cons(hv_int(-1), lb);
    ck_assert_int_eq(hv_compare(la, lb), 1);
    hv_release(la);
    hv_release(lb);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_compare_classes_follow_erlang_order);
    tcase_add_test(tc, test_compare_integers_and_floats_by_value);
    tcase_add_test(tc, test_compare_atoms_by_name_not_by_creation);
    tcase_add_test(tc, test_compare_tuples_by_size_then_elements);
    tcase_add_test(tc, test_compare_lists_elementwise_then_length_then_tail);
    tcase_add_test(tc, test_compare_maps_by_size_keys_then_values);
    tcase_add_test(tc, test_compare_binaries_bytewise_prefix_first);
    tcase_add_test(tc, test_compare_pids_and_refs_by_node_then_numbers);
    tcase_add_test(tc, test_compare_equal_structures_are_equal_and_hash_alike);
    tcase_add_test(tc, test_compare_hash_is_stable_across_runs);
    tc = hv_check_tcase(s, "edges");
    tcase_add_test(tc, test_compare_deep_and_long_terms_do_not_recurse);
    return s;
}
