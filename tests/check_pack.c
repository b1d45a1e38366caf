/* tests/check_pack.c - msgpack: hv_pack and hv_unpack (the streaming
 * hv_unpacker has its own suite, check_unpacker.c). */
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

/* ---- helpers ---- */

/* Packs t, unpacks it under lim and checks it comes back =:=.  Consumes
 * t. */
static void
check_round_trip_lim(hv_term t, const hv_limits *lim)
{
    ck_assert(t != HV_NONE);
    hv_buf b = HV_BUF_INIT;
    pack_ok(t, &b);
    hv_error err = {0};
    size_t used = 0;
    hv_term u = hv_unpack_n(b.data, b.len, &used, lim, &err);
    ck_assert_msg(u != HV_NONE, "unpack failed: %s (code %d, offset %zu)",
                  err.what, err.code, err.offset);
    ck_assert_uint_eq(used, b.len);
    ck_assert_int_eq(hv_compare_exact(t, u), 0);
    hv_release(u);
    hv_release(t);
    hv_buf_free(&b);
}

static void
check_round_trip(hv_term t)
{
    check_round_trip_lim(t, NULL);
}

/* Packs t, checks the bytes against want (hex) and that they come back.
 * Consumes t. */
static void
check_bytes(hv_term t, const char *want)
{
    uint8_t w[256];
    size_t n = hex(want, w, sizeof w);
    hv_buf b = HV_BUF_INIT;
    pack_ok(t, &b);
    char got[768] = "";
    for (size_t i = 0; i < b.len && i < 200; i++)
        snprintf(got + 3 * i, 4, "%02x ", b.data[i]);
    ck_assert_msg(b.len == n && memcmp(b.data, w, n) == 0,
                  "packed to %s, expected %s", got, want);
    hv_buf_free(&b);
    check_round_trip(t);
}

/* Unpacks hex and checks the term is =:= want.  Consumes want. */
static void
check_unpacks_to(const char *bytes, hv_term want)
{
    uint8_t in[256];
    size_t n = hex(bytes, in, sizeof in);
    hv_error err = {0};
    hv_term t = hv_unpack(in, n, &err);
    ck_assert_msg(t != HV_NONE, "%s: %s", bytes, err.what);
    ck_assert_msg(hv_compare_exact(t, want) == 0, "%s: wrong term", bytes);
    hv_release(t);
    hv_release(want);
}

/* Checks that unpacking hex fails with code at offset and that what
 * mentions the word given. */
static void
check_fails(const char *bytes, int code, size_t offset, const char *word)
{
    uint8_t in[512];
    size_t n = hex(bytes, in, sizeof in);
    hv_error err = {0};
    hv_term t = hv_unpack(in, n, &err);
    ck_assert_msg(t == HV_NONE, "%s unpacked", bytes);
    ck_assert_msg(err.code == code, "%s: code %d, expected %d (%s)", bytes,
                  err.code, code, err.what);
    ck_assert_msg(err.offset == offset, "%s: offset %zu, expected %zu (%s)",
                  bytes, err.offset, offset, err.what);
    ck_assert_msg(strstr(err.what, word) != NULL, "%s: '%s' lacks '%s'", bytes,
                  err.what, word);
}

/* ---- core ---- */

START_TEST(test_pack_round_trips_every_term_type)
{
    hv_term node = hv_atom("node@host");
    uint32_t w5[5] = {1, 2, 3, 4, 5};
    uint32_t w2[2] = {0xffffffff, 0x0fffffff};
    check_round_trip(hv_int(0));
    check_round_trip(hv_int(HV_SMALL_MAX));
    check_round_trip(hv_int(HV_SMALL_MAX + 1));
    check_round_trip(hv_float(-2.5e-300));
    check_round_trip(hv_float(1e300));
    check_round_trip(hv_atom("ok"));
    check_round_trip(hv_atom(""));
    check_round_trip(hv_atom("h\xc3\xa9llo w\xc3\xb6rld"));
    check_round_trip(HV_ATOM_TRUE);
    check_round_trip(HV_ATOM_FALSE);
    check_round_trip(HV_ATOM_NIL);
    check_round_trip(hv_binary("", 0));
    check_round_trip(hv_string("hello"));
    check_round_trip(hv_tuple(0));
    check_round_trip(hv_tuple(3, hv_int(1), hv_tuple(0), HV_NIL));
    check_round_trip(HV_NIL);
    check_round_trip(hv_list(3, hv_int(1), HV_NIL, hv_list(1, HV_NIL)));
    check_round_trip(hv_cons(hv_int(1), hv_int(2)));
    check_round_trip(hv_cons(HV_NIL, hv_tuple(0)));
    check_round_trip(hv_map_new());
    check_round_trip(hv_map_put(hv_map_put(hv_map_new(), hv_int(1), HV_NIL),
                                hv_float(1.0), hv_atom("f")));
    check_round_trip(hv_pid_local(0, 0));
    check_round_trip(hv_pid_local(UINT32_MAX, (1u << 28) - 1));
    check_round_trip(hv_pid_remote(node, 1, 2, 3));
    check_round_trip(hv_pid_remote(HV_ATOM_NONODE, 1, 2, 3));
    check_round_trip(hv_pid_remote(HV_ATOM_NONODE, 1, 1u << 30, 0));
    check_round_trip(hv_ref_make());
    check_round_trip(hv_ref_from(HV_ATOM_NONODE, 0, w2, 2));
    check_round_trip(hv_ref_from(HV_ATOM_NONODE, 0, w5, 5));
    check_round_trip(hv_ref_from(node, 7, w5, 3));
    check_round_trip(hv_ref_from(HV_ATOM_NONODE, 4, w5, 1));
    check_round_trip(assorted());
}
END_TEST

START_TEST(test_pack_writes_the_documented_layout)
{
    check_bytes(hv_tuple(2, hv_atom("a"), hv_int(1)),
                "93 c7 00 04 d4 01 61 01");
    check_bytes(hv_tuple(0), "91 c7 00 04");
    check_bytes(hv_cons(hv_int(1), hv_int(2)), "93 c7 00 05 01 02");
    check_bytes(hv_list(2, hv_int(1), hv_int(2)), "92 01 02");
    check_bytes(HV_NIL, "90");
    check_bytes(HV_ATOM_TRUE, "c3");
    check_bytes(HV_ATOM_FALSE, "c2");
    check_bytes(HV_ATOM_NIL, "c0");
    check_bytes(hv_atom("ok"), "d5 01 6f 6b");
    check_bytes(hv_atom("abc"), "c7 03 01 61 62 63");
    check_bytes(hv_int(-1), "ff");
    check_bytes(hv_int(300), "cd 01 2c");
    check_bytes(hv_int(INT64_MIN), "d3 80 00 00 00 00 00 00 00");
    check_bytes(hv_int(INT64_MAX), "cf 7f ff ff ff ff ff ff ff");
    check_bytes(hv_float(1.5), "cb 3f f8 00 00 00 00 00 00");
    check_bytes(hv_string("x"), "c4 01 78");
    check_bytes(hv_map_put(hv_map_new(), hv_atom("a"), hv_string("x")),
                "81 d4 01 61 c4 01 78");
    check_bytes(hv_pid_local(5, 7),
                "c7 0c 02 00 00 00 05 00 00 00 07 00 00 00 00");
    check_bytes(hv_pid_remote(hv_atom("a@h"), 5, 7, 2),
                "c7 0f 02 00 00 00 05 00 00 00 07 00 00 00 02 61 40 68");
    uint32_t w = 42;
    check_bytes(hv_ref_from(HV_ATOM_NONODE, 0, &w, 1),
                "c7 09 03 00 00 00 00 01 00 00 00 2a");
}
END_TEST

START_TEST(test_pack_reads_foreign_msgpack)
{
    check_unpacks_to("c0", HV_ATOM_NIL);
    check_unpacks_to("c3", HV_ATOM_TRUE);
    check_unpacks_to("c2", HV_ATOM_FALSE);
    check_unpacks_to("a3 61 62 63", hv_string("abc"));
    check_unpacks_to("d9 01 7a", hv_string("z"));
    check_unpacks_to("ca 3f c0 00 00", hv_float(1.5));
    check_unpacks_to("d3 00 00 00 00 00 00 00 01", hv_int(1));
    check_unpacks_to("cf 00 00 00 00 00 00 00 05", hv_int(5));
    check_unpacks_to("d0 80", hv_int(-128));
    check_unpacks_to("dc 00 01 e0", hv_list(1, hv_int(-32)));
    check_unpacks_to(
        "82 a1 61 01 a1 62 c0",
        hv_map_put(hv_map_put(hv_map_new(), hv_string("a"), hv_int(1)),
                   hv_string("b"), HV_ATOM_NIL));
    /* A repeated key keeps its last value. */
    check_unpacks_to("83 01 02 01 03 02 04",
                     hv_map_put(hv_map_put(hv_map_new(), hv_int(1), hv_int(3)),
                                hv_int(2), hv_int(4)));
}
END_TEST

START_TEST(test_pack_normalizes_an_improper_list_with_a_list_tail)
{
    check_unpacks_to("93 c7 00 05 01 91 02", hv_list(2, hv_int(1), hv_int(2)));
    check_unpacks_to("93 c7 00 05 01 90", hv_list(1, hv_int(1)));
    check_unpacks_to(
        "94 c7 00 05 01 02 93 c7 00 05 03 04",
        hv_cons(hv_int(1), hv_cons(hv_int(2), hv_cons(hv_int(3), hv_int(4)))));
}
END_TEST

START_TEST(test_pack_appends_and_unpack_n_reports_the_bytes_used)
{
    hv_buf b = HV_BUF_INIT;
    pack_ok(hv_int(1), &b);
    hv_term t = assorted();
    pack_ok(t, &b);
    size_t first = b.len;
    pack_ok(HV_ATOM_TRUE, &b);
    ck_assert_uint_eq(b.data[0], 0x01);
    size_t used = 0;
    hv_error err;
    hv_term u = hv_unpack_n(b.data + 1, b.len - 1, &used, NULL, &err);
    ck_assert(u != HV_NONE);
    ck_assert_uint_eq(used, first - 1);
    ck_assert_int_eq(hv_compare_exact(t, u), 0);
    hv_release(u);
    hv_release(t);
    hv_buf_free(&b);
}
END_TEST

START_TEST(test_pack_deep_nesting_packs_and_obeys_max_depth)
{
    hv_term t = HV_NIL;
    for (int i = 0; i < 10000; i++)
        t = hv_cons(t, HV_NIL); /* [[[...]]] */
    t = hv_tuple(1, t);
    for (int i = 0; i < 10000; i++)
        t = i % 2 ? hv_tuple(1, t) : hv_map_put(hv_map_new(), hv_int(i), t);
    ck_assert(t != HV_NONE);
    hv_buf b = HV_BUF_INIT;
    pack_ok(t, &b);
    hv_error err = {0};
    ck_assert(hv_unpack(b.data, b.len, &err) == HV_NONE);
    ck_assert_int_eq(err.code, HV_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.what, "max_depth"));
    hv_buf_free(&b);
    hv_limits lim = {.max_depth = 20001};
    check_round_trip_lim(hv_retain(t), &lim);
    /* One level fewer than the term needs is refused. */
    lim.max_depth = 20000;
    pack_ok(t, &b);
    ck_assert(hv_unpack_n(b.data, b.len, NULL, &lim, &err) == HV_NONE);
    ck_assert_int_eq(err.code, HV_ELIMIT);
    hv_buf_free(&b);
    hv_release(t);
}
END_TEST

START_TEST(test_pack_int64_edges_round_trip)
{
    int64_t v[] = {0,
                   1,
                   -1,
                   127,
                   128,
                   -32,
                   -33,
                   255,
                   256,
                   -128,
                   -129,
                   65535,
                   65536,
                   -32768,
                   -32769,
                   INT32_MAX,
                   (int64_t)INT32_MAX + 1,
                   INT32_MIN,
                   (int64_t)INT32_MIN - 1,
                   UINT32_MAX,
                   (int64_t)UINT32_MAX + 1,
                   HV_SMALL_MIN,
                   HV_SMALL_MIN - 1,
                   HV_SMALL_MAX,
                   HV_SMALL_MAX + 1,
                   INT64_MAX,
                   INT64_MIN};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        hv_buf b = HV_BUF_INIT;
        hv_term t = hv_int(v[i]);
        pack_ok(t, &b);
        hv_term u = hv_unpack(b.data, b.len, NULL);
        int64_t got;
        ck_assert_int_eq(hv_int_value(u, &got), HV_OK);
        ck_assert_int_eq(got, v[i]);
        hv_release(t);
        hv_release(u);
        hv_buf_free(&b);
    }
}
END_TEST

START_TEST(test_pack_uint64_above_int64_max_overflows)
{
    check_fails("cf 80 00 00 00 00 00 00 00", HV_EOVERFLOW, 0,
                "9223372036854775808");
    check_fails("92 01 cf ff ff ff ff ff ff ff ff", HV_EOVERFLOW, 2,
                "INT64_MAX");
}
END_TEST

START_TEST(test_pack_limits_count_and_bytes)
{
    hv_limits lim = {.max_count = 2};
    hv_error err;
    uint8_t list3[] = {0x93, 1, 2, 3};
    uint8_t tuple2[] = {0x93, 0xc7, 0, 4, 1, 2};
    uint8_t map3[] = {0x83, 1, 1, 2, 2, 3, 3};
    ck_assert(hv_unpack_n(list3, 4, NULL, &lim, &err) == HV_NONE);
    ck_assert_int_eq(err.code, HV_ELIMIT);
    ck_assert(hv_unpack_n(map3, 7, NULL, &lim, &err) == HV_NONE);
    ck_assert_int_eq(err.code, HV_ELIMIT);
    hv_term t = hv_unpack_n(tuple2, sizeof tuple2, NULL, &lim, &err);
    ck_assert(t != HV_NONE);
    hv_release(t);
    hv_limits small = {.max_bytes = 4};
    uint8_t bin[] = {0xc4, 3, 'a', 'b', 'c'};
    ck_assert(hv_unpack_n(bin, 5, NULL, &small, &err) == HV_NONE);
    ck_assert_int_eq(err.code, HV_ELIMIT);
    t = hv_unpack_n(bin, 4, NULL, &small, &err); /* truncated */
    ck_assert(t == HV_NONE);
    ck_assert_int_eq(err.code, HV_ESYNTAX);
}
END_TEST

START_TEST(test_pack_rejects_lying_lengths_and_counts)
{
    check_fails("dd ff ff ff ff", HV_ESYNTAX, 0, "array count 4294967295");
    check_fails("dd 04 00 00 00", HV_ESYNTAX, 0, "exceeds the 0 bytes left");
    check_fails("df ff ff ff ff", HV_ESYNTAX, 0, "map count 4294967295");
    check_fails("c6 ff ff ff ff", HV_ESYNTAX, 0, "bin length 4294967295");
    check_fails("db", HV_ESYNTAX, 0, "truncated");
    check_fails("db 00 00 00 05 61", HV_ESYNTAX, 0, "str length 5");
    check_fails("92 dd 00 00 00 02 01", HV_ESYNTAX, 1, "array count 2");
    check_fails("93 01 02", HV_ESYNTAX, 0, "array count 3");
    check_fails("", HV_ESYNTAX, 0, "empty");
    check_fails("c1", HV_ESYNTAX, 0, "0xc1");
    check_fails("01 02", HV_ESYNTAX, 1, "trailing");
}
END_TEST

START_TEST(test_pack_rejects_what_has_no_term)
{
    check_fails("d4 09 00", HV_EBADARG, 0, "unknown ext type 9");
    check_fails("d6 ff 00 00 00 00", HV_EBADARG, 0, "timestamp");
    check_fails("cb 7f f8 00 00 00 00 00 00", HV_EBADARG, 0, "NaN");
    check_fails("ca ff 80 00 00", HV_EBADARG, 0, "infinite");
    check_fails("c7 05 03 00 00 00 00 09", HV_ESYNTAX, 0, "9 words");
    check_fails("c7 09 03 00 00 00 00 02 00 00 00 01", HV_ESYNTAX, 0,
                "too few for 2 words");
    check_fails("c7 03 02 00 00 00", HV_ESYNTAX, 0, "pid ext");
    check_fails("d4 01 ff", HV_EBADARG, 0, "UTF-8");
    check_fails("c7 00 04", HV_ESYNTAX, 0, "not element 0");
    check_fails("92 01 c7 00 04", HV_ESYNTAX, 2, "not element 0");
    check_fails("81 c7 00 04 01", HV_ESYNTAX, 1, "not element 0");
    check_fails("92 c7 00 05 01", HV_ESYNTAX, 1, "needs a head and a tail");
    check_fails("92 c7 01 04 00 01", HV_ESYNTAX, 1, "marker is empty");
    /* A 300-byte atom name. */
    char text[1024] = "c8 01 2c 01";
    for (int i = 0; i < 300; i++)
        strcat(text, " 61");
    check_fails(text, HV_EBADARG, 0, "300 bytes");
}
END_TEST

START_TEST(test_pack_fails_cleanly_on_every_truncation)
{
    hv_term t = assorted();
    hv_buf b = HV_BUF_INIT;
    pack_ok(t, &b);
    for (size_t k = 0; k < b.len; k++) {
        hv_error err = {0};
        ck_assert(hv_unpack(b.data, k, &err) == HV_NONE);
        ck_assert_int_eq(err.code, HV_ESYNTAX);
        ck_assert_uint_le(err.offset, k);
    }
    hv_release(t);
    hv_buf_free(&b);
}
END_TEST

START_TEST(test_pack_survives_every_single_byte_change)
{
    hv_term t = assorted();
    hv_buf b = HV_BUF_INIT;
    pack_ok(t, &b);
    int ok = 0, failed = 0;
    for (size_t i = 0; i < b.len; i++) {
        uint8_t was = b.data[i];
        for (int v = 0; v < 256; v++) {
            b.data[i] = (uint8_t)v;
            hv_error err = {0};
            hv_term u = hv_unpack(b.data, b.len, &err);
            if (u == HV_NONE) {
                ck_assert_int_lt(err.code, 0);
                ck_assert_uint_le(err.offset, b.len);
                failed++;
            } else {
                hv_release(u);
                ok++;
            }
        }
        b.data[i] = was;
    }
    ck_assert_int_gt(ok, 0);
    ck_assert_int_gt(failed, 0);
    hv_release(t);
    hv_buf_free(&b);
}
END_TEST

START_TEST(test_pack_reports_a_full_atom_table)
{
    size_t old = hv_atom_limit();
    ck_assert_int_eq(hv_atom_limit_set(hv_atom_count()), HV_OK);
    const char *name = "check_pack_an_atom_nobody_made";
    uint8_t in[64] = {0xc7, (uint8_t)strlen(name), 1};
    memcpy(in + 3, name, strlen(name));
    hv_error err = {0};
    hv_term t = hv_unpack(in, 3 + strlen(name), &err);
    ck_assert_int_eq(hv_atom_limit_set(old), HV_OK);
    ck_assert(t == HV_NONE);
    ck_assert_int_eq(err.code, HV_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.what, "full"));
    ck_assert(hv_atom_existing(name, strlen(name)) == HV_NONE);
}
END_TEST

START_TEST(test_pack_rejects_none_and_leaves_the_buffer_alone)
{
    hv_buf b = HV_BUF_INIT;
    pack_ok(hv_int(1), &b);
    ck_assert_int_eq(hv_pack(HV_NONE, &b), HV_EBADARG);
    ck_assert_uint_eq(b.len, 1);
    hv_buf_free(&b);
}
END_TEST

START_TEST(test_pack_fails_cleanly_at_every_allocation)
{
    hv_term t = assorted();
    for (int n = 0;; n++) {
        /* The buffer holds a byte already: a failure must keep it. */
        hv_buf b = HV_BUF_INIT;
        pack_ok(hv_int(1), &b);
        hv__alloc_fail_after(n);
        int rc = hv_pack(t, &b);
        hv__alloc_fail_after(-1);
        if (rc == HV_OK) {
            hv_buf_free(&b);
            ck_assert_int_gt(n, 0);
            break;
        }
        ck_assert_int_eq(rc, HV_ENOMEM);
        ck_assert_uint_eq(b.len, 1);
        ck_assert_uint_eq(b.data[0], 0x01);
        ck_assert_uint_eq(b.data[1], 0);
        hv_buf_free(&b);
    }
    hv_release(t);
}
END_TEST

START_TEST(test_pack_unpack_fails_cleanly_at_every_allocation)
{
    hv_term t = assorted();
    hv_buf b = HV_BUF_INIT;
    pack_ok(t, &b);
    for (int n = 0;; n++) {
        hv_error err = {0};
        hv__alloc_fail_after(n);
        hv_term u = hv_unpack(b.data, b.len, &err);
        hv__alloc_fail_after(-1);
        if (u != HV_NONE) {
            ck_assert_int_gt(n, 10);
            ck_assert_int_eq(hv_compare_exact(t, u), 0);
            hv_release(u);
            break;
        }
        ck_assert_int_eq(err.code, HV_ENOMEM);
    }
    hv_release(t);
    hv_buf_free(&b);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("pack");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_pack_round_trips_every_term_type);
    tcase_add_test(tc, test_pack_writes_the_documented_layout);
    tcase_add_test(tc, test_pack_reads_foreign_msgpack);
    tcase_add_test(tc, test_pack_normalizes_an_improper_list_with_a_list_tail);
    tcase_add_test(tc, test_pack_appends_and_unpack_n_reports_the_bytes_used);

    tc = hv_check_tcase(s, "edges");
    tcase_add_test(tc, test_pack_deep_nesting_packs_and_obeys_max_depth);
    tcase_add_test(tc, test_pack_int64_edges_round_trip);
    tcase_add_test(tc, test_pack_uint64_above_int64_max_overflows);
    tcase_add_test(tc, test_pack_limits_count_and_bytes);

    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_pack_rejects_lying_lengths_and_counts);
    tcase_add_test(tc, test_pack_rejects_what_has_no_term);
    tcase_add_test(tc, test_pack_fails_cleanly_on_every_truncation);
    tcase_add_test(tc, test_pack_survives_every_single_byte_change);
    tcase_add_test(tc, test_pack_reports_a_full_atom_table);
    tcase_add_test(tc, test_pack_rejects_none_and_leaves_the_buffer_alone);
    tcase_add_test(tc, test_pack_fails_cleanly_at_every_allocation);
    tcase_add_test(tc, test_pack_unpack_fails_cleanly_at_every_allocation);
    return s;
}
