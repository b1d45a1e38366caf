/* tests/pack_util.c - helpers the pack and unpacker suites share. */
#include "tests/pack_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t
hex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned v;
    int used;
    while (sscanf(text, " %2x%n", &v, &used) == 1) {
        ck_assert_uint_lt(n, cap);
        out[n++] = (uint8_t)v;
        text += used;
    }
    return n;
}

void
pack_ok(hv_term t, hv_buf *b)
{
    ck_assert_int_eq(hv_pack(t, b), HV_OK);
}

hv_term
assorted(void)
{
    hv_term node = hv_atom("n@h");
    uint32_t words[3] = {1, 2, 3};
    hv_term keys[3] = {hv_atom("a"), hv_int(1), hv_string("k")};
    hv_term vals[3] = {hv_tuple(0), hv_cons(hv_int(2), hv_int(3)),
                       hv_float(0.25)};
    return hv_tuple(
        9, hv_atom("ok"),
        hv_list(10, hv_int(1), hv_int(-1), hv_int(300), hv_int(70000),
                hv_int(-5000000000LL), hv_float(1.5), hv_string("bin"),
                hv_atom("hello"), HV_ATOM_NIL, HV_ATOM_TRUE),
        hv_map_from(3, keys, vals), hv_pid_local(5, 7),
        hv_ref_from(node, 9, words, 3), hv_pid_remote(node, 1, 2, 3), HV_NIL,
        hv_int(INT64_MIN),
        hv_cons(hv_atom("x"), hv_cons(hv_binary("", 0), hv_atom("tail"))));
}
