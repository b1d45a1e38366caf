/* tests/check_atom.c - the atom table: interning, names, limits, threads. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hive/term.h"
#include "runtime/atom.h"
#include "tests/hv_check.h"

START_TEST(test_atom_same_name_gives_same_term)
{
    hv_term a = hv_atom("hello");
    ck_assert(a != HV_NONE);
    ck_assert(hv_is_atom(a));
    ck_assert(hv_atom("hello") == a);
    ck_assert(hv_atom_n("hello", 5, NULL) == a);
    ck_assert(hv_atom("hellO") != a);
    size_t len;
    ck_assert_str_eq(hv_atom_name(a, &len), "hello");
    ck_assert_uint_eq(len, 5);
}
END_TEST

START_TEST(test_atom_fixed_atoms_have_their_constants)
{
    ck_assert(hv_atom("false") == HV_ATOM_FALSE);
    ck_assert(hv_atom("true") == HV_ATOM_TRUE);
    ck_assert(hv_atom("ok") == HV_ATOM_OK);
    ck_assert(hv_atom("error") == HV_ATOM_ERROR);
    ck_assert(hv_atom("undefined") == HV_ATOM_UNDEFINED);
    ck_assert(hv_atom("nil") == HV_ATOM_NIL);
    ck_assert(hv_atom("nonode@nohost") == HV_ATOM_NONODE);
    ck_assert(hv_is_boolean(HV_ATOM_TRUE));
    ck_assert(!hv_is_boolean(HV_ATOM_OK));
}
END_TEST

START_TEST(test_atom_existing_finds_only_existing_atoms)
{
    ck_assert(hv_atom_existing("never_made_xyz", 14) == HV_NONE);
    size_t before = hv_atom_count();
    ck_assert_uint_eq(hv_atom_count(), before);
    hv_term a = hv_atom("made_now_xyz");
    ck_assert_uint_eq(hv_atom_count(), before + 1);
    ck_assert(hv_atom_existing("made_now_xyz", 12) == a);
    ck_assert(hv_atom_existing(NULL, 3) == HV_NONE);
}
END_TEST

START_TEST(test_atom_count_grows_only_for_new_names)
{
    size_t before = hv_atom_count();
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "grow_%d", i);
        ck_assert(hv_atom(name) != HV_NONE);
    }
    ck_assert_uint_eq(hv_atom_count(), before + 5000);
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "grow_%d", i);
        hv_term a = hv_atom(name);
        ck_assert_str_eq(hv_atom_name(a, NULL), name);
    }
    ck_assert_uint_eq(hv_atom_count(), before + 5000);
}
END_TEST

START_TEST(test_atom_empty_and_utf8_names_are_atoms)
{
    hv_term e = hv_atom("");
    ck_assert(e != HV_NONE);
    size_t len = 99;
    ck_assert_str_eq(hv_atom_name(e, &len), "");
    ck_assert_uint_eq(len, 0);
    hv_term u = hv_atom("h\xc3\xa9llo_\xe2\x82\xac");
    ck_assert(u != HV_NONE);
    ck_assert_str_eq(hv_atom_name(u, NULL), "h\xc3\xa9llo_\xe2\x82\xac");
}
END_TEST

START_TEST(test_atom_name_of_255_bytes_is_the_longest)
{
    char name[300];
    memset(name, 'a', sizeof name);
    ck_assert(hv_atom_n(name, 255, NULL) != HV_NONE);
    hv_error err;
    ck_assert(hv_atom_n(name, 256, &err) == HV_NONE);
    ck_assert_int_eq(err.code, HV_EBADARG);
    ck_assert(strstr(err.what, "256") != NULL);
    ck_assert(hv_atom_existing(name, 256) == HV_NONE);
}
END_TEST

START_TEST(test_atom_invalid_utf8_is_rejected)
{
    static const char *bad[] = {
        "\xff", "a\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "\x80" "abc",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hv_error err;
        ck_assert(hv_atom_n(bad[i], strlen(bad[i]), &err) == HV_NONE);
        ck_assert_int_eq(err.code, HV_EBADARG);
        ck_assert(strstr(err.what, "UTF-8") != NULL);
    }
}
END_TEST

START_TEST(test_atom_bad_arguments_fail_cleanly)
{
    hv_error err;
    ck_assert(hv_atom(NULL) == HV_NONE);
    ck_assert(hv_atom_n(NULL, 4, &err) == HV_NONE);
    ck_assert_int_eq(err.code, HV_EBADARG);
    ck_assert(hv_atom_n(NULL, 0, NULL) != HV_NONE); /* the empty atom */
    ck_assert_ptr_null(hv_atom_name(hv_int(3), NULL));
    ck_assert_ptr_null(hv_atom_name(HV_NONE, NULL));
    ck_assert_ptr_null(hv_atom_name(HV_NIL, NULL));
}
END_TEST

START_TEST(test_atom_full_table_fails_with_limit_and_keeps_old_atoms)
{
    size_t old_limit = hv_atom_limit();
    hv_term known = hv_atom("known_before_limit");
    ck_assert_int_eq(hv_atom_limit_set(hv_atom_count()), HV_OK);
    hv_error err;
    ck_assert(hv_atom_n("brand_new_atom", 14, &err) == HV_NONE);
    ck_assert_int_eq(err.code, HV_ELIMIT);
    ck_assert(strstr(err.what, "brand_new_atom") != NULL);
    ck_assert(strstr(err.what, "full") != NULL);
    ck_assert(hv_atom("brand_new_atom") == HV_NONE);
    ck_assert(hv_atom("known_before_limit") == known);
    ck_assert_int_eq(hv_atom_limit_set(old_limit), HV_OK);
    ck_assert(hv_atom("brand_new_atom") != HV_NONE);
}
END_TEST

START_TEST(test_atom_limit_below_count_or_above_max_is_rejected)
{
    size_t old = hv_atom_limit();
    ck_assert_int_eq(hv_atom_limit_set(hv_atom_count() - 1), HV_EBADARG);
    ck_assert_int_eq(hv_atom_limit_set((size_t)1 << 40), HV_EBADARG);
    ck_assert_uint_eq(hv_atom_limit(), old);
    ck_assert_uint_eq(old, (size_t)1 << 20);
}
END_TEST

START_TEST(test_atom_quoting_rule_follows_erlang)
{
    ck_assert_int_eq(hv__atom_needs_quotes("ok", 2), 0);
    ck_assert_int_eq(hv__atom_needs_quotes("a@b_C9", 6), 0);
    ck_assert_int_eq(hv__atom_needs_quotes("EXIT", 4), 1);
    ck_assert_int_eq(hv__atom_needs_quotes("hello world", 11), 1);
    ck_assert_int_eq(hv__atom_needs_quotes("", 0), 1);
    ck_assert_int_eq(hv__atom_needs_quotes("_x", 2), 1);
    ck_assert_int_eq(hv__atom_needs_quotes("9a", 2), 1);
    ck_assert_int_eq(hv__atom_needs_quotes("when", 4), 1);
    ck_assert_int_eq(hv__atom_needs_quotes("andalso", 7), 1);
    ck_assert_int_eq(hv__atom_needs_quotes("whence", 6), 0);
    ck_assert_int_eq(hv__atom_needs_quotes("a-b", 3), 1);
}
END_TEST

START_TEST(test_atom_hash_is_stable_across_runs)
{
    /* Pinned: hashes name atoms in storage, so they must never change. */
    const struct hv__atom_entry *e = hv__atom_entry(HV_ATOM_OK);
    ck_assert_uint_eq(e->hash, hv__hash_bytes("ok", 2, 0));
    ck_assert_uint_eq(hv__hash_bytes("", 0, 0), 0xd5ee78fbc88cb332ULL);
    ck_assert_uint_eq(hv__hash_bytes("hello world!", 12, 0),
                      0xdb6abb1c4efec35dULL);
}
END_TEST

#define THREADS 4
#define PER_THREAD 20000

struct worker {
    int id;
    hv_term got[PER_THREAD];
};

static void *
intern_many(void *arg)
{
    struct worker *w = arg;
    char name[32];
    /* Every thread interns the same names in a different order, so
     * lookups race with inserts and with table growth. */
    for (int i = 0; i < PER_THREAD; i++) {
        int k = (i * 7919 + w->id * 104729) % PER_THREAD;
        snprintf(name, sizeof name, "race_%d", k);
        w->got[k] = hv_atom(name);
    }
    return NULL;
}

START_TEST(test_atom_threads_interning_the_same_names_agree)
{
    static struct worker w[THREADS];
    pthread_t th[THREADS];
    size_t before = hv_atom_count();
    for (int i = 0; i < THREADS; i++) {
        w[i].id = i;
        pthread_create(&th[i], NULL, intern_many, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    ck_assert_uint_eq(hv_atom_count(), before + PER_THREAD);
    char name[32];
    for (int k = 0; k < PER_THREAD; k++) {
        ck_assert(w[0].got[k] != HV_NONE);
        for (int i = 1; i < THREADS; i++)
            ck_assert(w[i].got[k] == w[0].got[k]);
        snprintf(name, sizeof name, "race_%d", k);
        ck_assert_str_eq(hv_atom_name(w[0].got[k], NULL), name);
    }
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("atom");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_atom_same_name_gives_same_term);
    tcase_add_test(tc, test_atom_fixed_atoms_have_their_constants);
    tcase_add_test(tc, test_atom_existing_finds_only_existing_atoms);
    tcase_add_test(tc, test_atom_count_grows_only_for_new_names);
    tcase_add_test(tc, test_atom_quoting_rule_follows_erlang);
    tcase_add_test(tc, test_atom_hash_is_stable_across_runs);
    tc = hv_check_tcase(s, "edges");
    tcase_add_test(tc, test_atom_empty_and_utf8_names_are_atoms);
    tcase_add_test(tc, test_atom_name_of_255_bytes_is_the_longest);
    tcase_add_test(tc, test_atom_threads_interning_the_same_names_agree);
    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_atom_invalid_utf8_is_rejected);
    tcase_add_test(tc, test_atom_bad_arguments_fail_cleanly);
    tcase_add_test(tc, test_atom_full_table_fails_with_limit_and_keeps_old_atoms);
    tcase_add_test(tc, test_atom_limit_below_count_or_above_max_is_rejected);
    return s;
}
