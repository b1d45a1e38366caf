/* tests/check_term.c - constructors, accessors, types and reference
 * counts of terms. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "hive/term.h"
#include "runtime/alloc.h"
#include "runtime/term_box.h"
#include "tests/hv_check.h"

static uint32_t
rc_of(hv_term t)
{
    return atomic_load(&hv__box_of(t)->rc);
}

START_TEST(test_term_small_and_boxed_integers_keep_their_value)
{
    static const int64_t values[] = {
        0, 1, -1, 42, HV_SMALL_MAX, HV_SMALL_MIN, HV_SMALL_MAX + 1,
        HV_SMALL_MIN - 1, INT64_MAX, INT64_MIN,
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        hv_term t = hv_int(values[i]);
        ck_assert(t != HV_NONE);
        ck_assert(hv_is_integer(t) && hv_is_number(t) && !hv_is_float(t));
        ck_assert_int_eq(hv_type_of(t), HV_TYPE_INTEGER);
        int64_t v = 0;
        ck_assert_int_eq(hv_int_value(t, &v), HV_OK);
        ck_assert(v == values[i]);
        /* Only values outside 63 bits allocate. */
        ck_assert_int_eq(hv__is_boxed(t), values[i] > HV_SMALL_MAX ||
                                              values[i] < HV_SMALL_MIN);
        hv_release(t);
    }
}
END_TEST

START_TEST(test_term_floats_keep_their_value_and_reject_nan_and_inf)
{
    hv_term f = hv_float(-2.5e-7);
    double d;
    ck_assert(hv_is_float(f) && hv_is_number(f) && !hv_is_integer(f));
    ck_assert_int_eq(hv_float_value(f, &d), HV_OK);
    ck_assert(d == -2.5e-7);
    ck_assert_int_eq(hv_int_value(f, &(int64_t){0}), HV_EBADARG);
    hv_release(f);
    ck_assert(hv_float(NAN) == HV_NONE);
    ck_assert(hv_float(INFINITY) == HV_NONE);
    ck_assert(hv_float(-INFINITY) == HV_NONE);
    ck_assert_int_eq(hv_float_value(hv_int(1), &d), HV_EBADARG);
}
END_TEST

START_TEST(test_term_binaries_copy_their_bytes)
{
    char src[] = "abc\0def";
    hv_term b = hv_binary(src, 7);
    src[0] = 'X';
    size_t len;
    const uint8_t *p = hv_binary_data(b, &len);
    ck_assert_uint_eq(len, 7);
    ck_assert_mem_eq(p, "abc\0def", 7);
    ck_assert_int_eq(hv_binary_size(b), 7);
    ck_assert(hv_is_binary(b));
    hv_release(b);

    hv_term s = hv_string("hello");
    ck_assert_int_eq(hv_binary_size(s), 5);
    hv_release(s);

    hv_term e = hv_binary(NULL, 0);
    ck_assert_ptr_nonnull(hv_binary_data(e, &len));
    ck_assert_uint_eq(len, 0);
    hv_release(e);

    uint8_t *w;
    hv_term a = hv_binary_alloc(3, &w);
    memcpy(w, "xyz", 3);
    ck_assert_mem_eq(hv_binary_data(a, NULL), "xyz", 3);
    hv_release(a);
}
END_TEST

START_TEST(test_term_binary_bad_input_is_rejected)
{
    ck_assert(hv_binary(NULL, 3) == HV_NONE);
    ck_assert(hv_string(NULL) == HV_NONE);
    ck_assert(hv_binary_alloc(SIZE_MAX, NULL) == HV_NONE);
    ck_assert_ptr_null(hv_binary_data(hv_int(1), NULL));
    ck_assert_int_eq(hv_binary_size(HV_NIL), HV_EBADARG);
}
END_TEST

START_TEST(test_term_tuples_hold_their_elements_in_order)
{
    hv_term t = hv_tuple(3, hv_atom("a"), hv_int(7), hv_string("x"));
    ck_assert(hv_is_tuple(t));
    ck_assert_int_eq(hv_tuple_size(t), 3);
    ck_assert(hv_tuple_at(t, 0) == hv_atom("a"));
    ck_assert(hv_tuple_at(t, 1) == hv_int(7));
    ck_assert(hv_is_binary(hv_tuple_at(t, 2)));
    ck_assert(hv_tuple_at(t, 3) == HV_NONE);
    ck_assert(hv_tuple_at(t, SIZE_MAX) == HV_NONE);
    hv_release(t);

    hv_term empty = hv_tuple(0);
    ck_assert_int_eq(hv_tuple_size(empty), 0);
    ck_assert(hv_tuple_at(empty, 0) == HV_NONE);
    hv_release(empty);

    hv_term el[2] = {hv_int(1), hv_string("two")};
    hv_term v = hv_tuple_v(2, el);
    ck_assert_int_eq(hv_tuple_size(v), 2);
    hv_release(v);
}
END_TEST

START_TEST(test_term_tuple_with_a_none_element_releases_the_others)
{
    /* The leak fixture proves the binary was released. */
    ck_assert(hv_tuple(2, hv_string("kept?"), HV_NONE) == HV_NONE);
    hv_term el[3] = {hv_string("a"), HV_NONE, hv_string("b")};
    ck_assert(hv_tuple_v(3, el) == HV_NONE);
    ck_assert(hv_tuple_v(2, NULL) == HV_NONE);
    ck_assert_int_eq(hv_tuple_size(hv_int(3)), HV_EBADARG);
    ck_assert(hv_tuple_at(HV_NIL, 0) == HV_NONE);
}
END_TEST

START_TEST(test_term_lists_proper_and_improper)
{
    hv_term l = hv_list(3, hv_int(1), hv_int(2), hv_int(3));
    ck_assert(hv_is_list(l) && hv_is_cons(l));
    ck_assert_int_eq(hv_list_length(l), 3);
    ck_assert(hv_list_head(l) == hv_int(1));
    ck_assert(hv_list_head(hv_list_tail(l)) == hv_int(2));
    hv_release(l);

    hv_term imp = hv_cons(hv_int(1), hv_int(2)); /* [1|2] */
    ck_assert(hv_is_list(imp));
    ck_assert_int_eq(hv_list_length(imp), HV_EBADARG);
    ck_assert(hv_list_tail(imp) == hv_int(2));
    hv_release(imp);

    ck_assert(hv_is_list(HV_NIL) && !hv_is_cons(HV_NIL));
    ck_assert_int_eq(hv_type_of(HV_NIL), HV_TYPE_NIL);
    ck_assert_int_eq(hv_list_length(HV_NIL), 0);
    ck_assert(hv_list_head(HV_NIL) == HV_NONE);
    ck_assert(hv_list_tail(HV_NIL) == HV_NONE);
    ck_assert(hv_list(0) == HV_NIL);
    ck_assert_int_eq(hv_list_length(hv_atom("x")), HV_EBADARG);

    hv_term many = HV_NIL;
    for (int i = 0; i < 40; i++)
        many = hv_cons(hv_int(i), many);
    ck_assert_int_eq(hv_list_length(many), 40);
    hv_release(many);
}
END_TEST

START_TEST(test_term_cons_with_none_releases_its_other_half)
{
    ck_assert(hv_cons(hv_string("h"), HV_NONE) == HV_NONE);
    ck_assert(hv_cons(HV_NONE, hv_list(1, hv_string("t"))) == HV_NONE);
    hv_term el[3] = {hv_string("a"), HV_NONE, hv_string("c")};
    ck_assert(hv_list_v(3, el) == HV_NONE);
    ck_assert(hv_list_v(1, NULL) == HV_NONE);
}
END_TEST

START_TEST(test_term_type_of_names_every_type)
{
    hv_term ref = hv_ref_make();
    hv_term items[] = {hv_int(1),       hv_float(1.5), hv_atom("a"),
                       ref,             hv_pid_local(1, 0),
                       hv_tuple(0),     hv_map_new(), HV_NIL,
                       hv_cons(HV_NIL, HV_NIL), hv_string("b")};
    hv_type want[] = {HV_TYPE_INTEGER, HV_TYPE_FLOAT, HV_TYPE_ATOM,
                      HV_TYPE_REF,     HV_TYPE_PID,   HV_TYPE_TUPLE,
                      HV_TYPE_MAP,     HV_TYPE_NIL,   HV_TYPE_LIST,
                      HV_TYPE_BINARY};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        ck_assert_int_eq(hv_type_of(items[i]), want[i]);
        ck_assert_int_eq(hv_is_ref(items[i]), want[i] == HV_TYPE_REF);
        ck_assert_int_eq(hv_is_pid(items[i]), want[i] == HV_TYPE_PID);
        ck_assert_int_eq(hv_is_map(items[i]), want[i] == HV_TYPE_MAP);
        ck_assert_int_eq(hv_is_atom(items[i]), want[i] == HV_TYPE_ATOM);
        hv_release(items[i]);
    }
    ck_assert_int_eq(hv_type_of(HV_NONE), HV_TYPE_NONE);
    ck_assert(!hv_is_integer(HV_NONE) && !hv_is_list(HV_NONE));
}
END_TEST

START_TEST(test_term_retain_and_release_count_references)
{
    hv_term t = hv_tuple(1, hv_string("shared"));
    ck_assert_uint_eq(rc_of(t), 1);
    ck_assert(hv_retain(t) == t);
    ck_assert_uint_eq(rc_of(t), 2);
    hv_release(t);
    ck_assert_uint_eq(rc_of(t), 1);
    hv_term inner = hv_retain(hv_tuple_at(t, 0));
    hv_release(t); /* the tuple goes, the retained binary stays */
    ck_assert_int_eq(hv_binary_size(inner), 6);
    hv_release(inner);
    /* Immediates and HV_NONE are untouched. */
    ck_assert(hv_retain(hv_int(5)) == hv_int(5));
    hv_release(HV_NONE);
    hv_release(HV_NIL);
}
END_TEST

START_TEST(test_term_immortal_terms_ignore_retain_and_release)
{
    hv_term t = hv_tuple(2, hv_string("k"), hv_list(1, hv_float(2.0)));
    hv__make_immortal(t);
    ck_assert_uint_eq(rc_of(t), HV__RC_IMMORTAL);
    ck_assert_uint_eq(rc_of(hv_tuple_at(t, 0)), HV__RC_IMMORTAL);
    hv_retain(t);
    hv_release(t);
    hv_release(t);
    ck_assert_uint_eq(rc_of(t), HV__RC_IMMORTAL);
    /* Immortal blocks live on by design; free them by hand so the leak
     * fixture still guards the rest of this test. */
    hv_term list = hv_tuple_at(t, 1);
    hv_term flt = hv_list_head(list);
    hv__free(hv__box_of(flt), sizeof(struct hv__float));
    hv__free(hv__box_of(list), sizeof(struct hv__cons));
    hv__free(hv__box_of(hv_tuple_at(t, 0)), hv__box_size(hv__box_of(hv_tuple_at(t, 0))));
    hv__free(hv__box_of(t), hv__box_size(hv__box_of(t)));
}
END_TEST

START_TEST(test_term_a_million_deep_tuple_frees_without_recursion)
{
    hv_term t = hv_atom("leaf");
    for (int i = 0; i < 1000000; i++)
        t = hv_tuple(1, t);
    ck_assert(t != HV_NONE);
    hv_release(t);
}
END_TEST

START_TEST(test_term_a_million_long_list_frees_and_measures)
{
    hv_term l = HV_NIL;
    for (int i = 0; i < 1000000; i++)
        l = hv_cons(hv_float(i), l);
    ck_assert_int_eq(hv_list_length(l), 1000000);
    hv_release(l);
}
END_TEST

START_TEST(test_term_local_pids_and_their_fields)
{
    hv_term p = hv_pid_local(42, 7);
    ck_assert(hv_is_pid(p) && !hv__is_boxed(p));
    hv_term node;
    uint32_t num, ser, cre;
    ck_assert_int_eq(hv_pid_fields(p, &node, &num, &ser, &cre), HV_OK);
    ck_assert(node == HV_ATOM_NONODE);
    ck_assert_uint_eq(num, 42);
    ck_assert_uint_eq(ser, 7);
    ck_assert_uint_eq(cre, 0);
    ck_assert(hv_pid_local(0, 1u << 28) == HV_NONE);
    ck_assert(hv_pid_local(UINT32_MAX, (1u << 28) - 1) != HV_NONE);
    ck_assert_int_eq(hv_pid_fields(hv_int(1), NULL, NULL, NULL, NULL),
                     HV_EBADARG);
}
END_TEST

START_TEST(test_term_remote_pids_box_and_local_ones_normalize)
{
    hv_term node = hv_atom("a@host");
    hv_term p = hv_pid_remote(node, 5, 6, 77);
    ck_assert(hv_is_pid(p) && hv__is_boxed(p));
    hv_term n;
    uint32_t num, ser, cre;
    hv_pid_fields(p, &n, &num, &ser, &cre);
    ck_assert(n == node);
    ck_assert_uint_eq(num, 5);
    ck_assert_uint_eq(ser, 6);
    ck_assert_uint_eq(cre, 77);
    hv_release(p);
    /* The local node with creation 0 is just a local pid. */
    ck_assert(hv_pid_remote(HV_ATOM_NONODE, 5, 6, 0) == hv_pid_local(5, 6));
    hv_term big = hv_pid_remote(HV_ATOM_NONODE, 5, 1u << 30, 0);
    ck_assert(hv__is_boxed(big));
    hv_release(big);
    ck_assert(hv_pid_remote(hv_int(1), 1, 1, 1) == HV_NONE);
}
END_TEST

START_TEST(test_term_fresh_refs_are_unique_and_increasing)
{
    hv_term prev = hv_ref_make();
    for (int i = 0; i < 1000; i++) {
        hv_term r = hv_ref_make();
        ck_assert(hv_is_ref(r));
        ck_assert(r != prev);
        ck_assert_int_lt(hv_compare(prev, r), 0);
        prev = r;
    }
}
END_TEST

START_TEST(test_term_refs_normalize_and_report_their_words)
{
    uint32_t w[5] = {7, 0, 0, 0, 0};
    hv_term r = hv_ref_from(HV_ATOM_NONODE, 0, w, 3);
    ck_assert(!hv__is_boxed(r));
    uint32_t out[5];
    hv_term node;
    uint32_t cre;
    ck_assert_int_eq(hv_ref_fields(r, &node, &cre, out), 1);
    ck_assert_uint_eq(out[0], 7);
    ck_assert(node == HV_ATOM_NONODE);

    uint32_t big[5] = {1, 2, 3, 4, 5};
    hv_term b = hv_ref_from(HV_ATOM_NONODE, 0, big, 5);
    ck_assert(hv__is_boxed(b));
    ck_assert_int_eq(hv_ref_fields(b, NULL, NULL, out), 5);
    ck_assert_mem_eq(out, big, sizeof big);
    hv_release(b);

    hv_term remote = hv_ref_from(hv_atom("b@h"), 3, big, 3);
    ck_assert_int_eq(hv_ref_fields(remote, &node, &cre, out), 3);
    ck_assert(node == hv_atom("b@h"));
    ck_assert_uint_eq(cre, 3);
    hv_release(remote);

    ck_assert(hv_ref_from(HV_ATOM_NONODE, 0, big, 0) == HV_NONE);
    ck_assert(hv_ref_from(HV_ATOM_NONODE, 0, big, 6) == HV_NONE);
    ck_assert(hv_ref_from(HV_ATOM_NONODE, 0, NULL, 1) == HV_NONE);
    ck_assert(hv_ref_from(HV_NIL, 0, big, 1) == HV_NONE);
    ck_assert_int_eq(hv_ref_fields(hv_int(1), NULL, NULL, out), HV_EBADARG);
}
END_TEST

START_TEST(test_term_constructors_fail_cleanly_at_every_allocation)
{
    for (int n = 0;; n++) {
        hv__alloc_fail_after(n);
        hv_term t = hv_tuple(
            3, hv_list(2, hv_int(INT64_MAX), hv_float(1.5)),
            hv_string("payload"),
            hv_cons(hv_pid_remote(hv_atom("n@h"), 1, 2, 3), hv_int(9)));
        hv__alloc_fail_after(-1);
        if (t != HV_NONE) {
            ck_assert_int_ge(n, 7);
            hv_release(t);
            break;
        }
    }
}
END_TEST

START_TEST(test_term_strerror_names_every_code)
{
    ck_assert_str_eq(hv_strerror(HV_OK), "ok");
    ck_assert_str_eq(hv_strerror(HV_ENOMEM), "out of memory");
    ck_assert_str_eq(hv_strerror(HV_ELIMIT), "a configured limit was reached");
    ck_assert_str_eq(hv_strerror(12345), "unknown error");
}
END_TEST

static void *
share_and_drop(void *arg)
{
    hv_term t = *(hv_term *)arg; /* one reference handed to this thread */
    for (int i = 0; i < 100000; i++)
        hv_release(hv_retain(t));
    size_t len;
    const uint8_t *p = hv_binary_data(hv_tuple_at(t, 1), &len);
    ck_assert(len == 6 && p[0] == 's');
    hv_release(t); /* whichever thread drops last frees the term */
    return NULL;
}

START_TEST(test_term_threads_sharing_a_term_free_it_exactly_once)
{
    enum { THREADS = 4 };
    for (int round = 0; round < 20; round++) {
        hv_term t = hv_tuple(2, hv_int(round), hv_string("shared"));
        hv_term refs[THREADS];
        pthread_t th[THREADS];
        for (int i = 0; i < THREADS; i++)
            refs[i] = i == 0 ? t : hv_retain(t);
        for (int i = 0; i < THREADS; i++)
            pthread_create(&th[i], NULL, share_and_drop, &refs[i]);
        for (int i = 0; i < THREADS; i++)
            pthread_join(th[i], NULL);
    }
    /* The leak fixture checks every tuple and binary was freed. */
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("term");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_term_small_and_boxed_integers_keep_their_value);
    tcase_add_test(tc, test_term_floats_keep_their_value_and_reject_nan_and_inf);
    tcase_add_test(tc, test_term_binaries_copy_their_bytes);
    tcase_add_test(tc, test_term_tuples_hold_their_elements_in_order);
    tcase_add_test(tc, test_term_lists_proper_and_improper);
    tcase_add_test(tc, test_term_type_of_names_every_type);
    tcase_add_test(tc, test_term_retain_and_release_count_references);
    tcase_add_test(tc, test_term_local_pids_and_their_fields);
    tcase_add_test(tc, test_term_remote_pids_box_and_local_ones_normalize);
    tcase_add_test(tc, test_term_fresh_refs_are_unique_and_increasing);
    tcase_add_test(tc, test_term_refs_normalize_and_report_their_words);
    tc = hv_check_tcase(s, "edges");
    tcase_add_test(tc, test_term_immortal_terms_ignore_retain_and_release);
    tcase_add_test(tc, test_term_a_million_deep_tuple_frees_without_recursion);
    tcase_add_test(tc, test_term_a_million_long_list_frees_and_measures);
    tcase_add_test(tc, test_term_threads_sharing_a_term_free_it_exactly_once);
    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_term_binary_bad_input_is_rejected);
    tcase_add_test(tc, test_term_tuple_with_a_none_element_releases_the_others);
    tcase_add_test(tc, test_term_cons_with_none_releases_its_other_half);
    tcase_add_test(tc, test_term_constructors_fail_cleanly_at_every_allocation);
    tcase_add_test(tc, test_term_strerror_names_every_code);
    return s;
}
