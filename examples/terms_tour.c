/* examples/terms_tour.c - a tour of hive's terms: build, print, parse,
 * errors, order, msgpack and maps, using only the public API.
 *
 * Every message a hive process sends is a term, so this is the first
 * thing to learn.  Ownership in one paragraph: a function that returns a
 * term gives you one reference, which you hv_release when done;
 * constructors *consume* the terms you pass them (so nested calls never
 * leak, even when one fails); accessors such as hv_tuple_at lend you a
 * term that lives as long as its parent.
 *
 * Run it with no arguments (--short is accepted and changes nothing: the
 * tour is fast).  It exits 0 when every step did what the comments say. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hive/hive.h>

/* Prints "label: <text of t>".  hv_buf grows as needed; the caller owns
 * its memory, hence hv_buf_free. */
static int
show(const char *label, hv_term t)
{
    hv_buf text = HV_BUF_INIT;
    int rc = hv_print(t, &text);
    if (rc != HV_OK) {
        fprintf(stderr, "terms_tour: hv_print: %s\n", hv_strerror(rc));
        return -1;
    }
    printf("  %-10s %s\n", label, (const char *)text.data);
    hv_buf_free(&text);
    return 0;
}

static int
fail(const char *step, const char *what)
{
    fprintf(stderr, "terms_tour: %s: %s\n", step, what);
    return -1;
}

/* hv_make builds from Erlang syntax with ~ directives: here a pid (~p,
 * borrowed) and a C int (~i).  The same could be written with
 * constructors: hv_tuple(3, hv_atom("deposit"), pid, hv_int(100)). */
static int
step_make(void)
{
    printf("1. build with hv_make\n");
    hv_term self = hv_pid_local(42, 0); /* <0.42.0>, an immediate */
    hv_error err;
    hv_term msg = hv_make_e(&err, "{deposit, ~p, ~i}", self, 100);
    if (msg == HV_NONE)
        return fail("hv_make", err.what);
    int rc = show("message", msg);

    /* Reading it back: elements are borrowed, nothing to release. */
    int64_t amount;
    if (rc == 0 && (hv_int_value(hv_tuple_at(msg, 2), &amount) != HV_OK ||
                    amount != 100))
        rc = fail("hv_tuple_at", "element 2 is not 100");
    if (rc == 0 && !hv_equal(hv_tuple_at(msg, 1), self))
        rc = fail("hv_tuple_at", "element 1 is not the pid");
    hv_release(msg);
    return rc;
}

/* hv_parse reads one term of Erlang text.  Strings in double quotes are
 * binaries in hive, since it has no character lists. */
static int
step_parse(void)
{
    printf("2. parse text\n");
    hv_error err;
    hv_term t = hv_parse("{get, <<\"k\">>, 42, [1,2], #{a => 1}}", &err);
    if (t == HV_NONE)
        return fail("hv_parse", err.what);
    int rc = show("parsed", t);
    if (rc == 0 && hv_tuple_size(t) != 5)
        rc = fail("hv_tuple_size", "expected 5 elements");
    if (rc == 0 && hv_list_length(hv_tuple_at(t, 3)) != 2)
        rc = fail("hv_list_length", "expected [1,2] to have 2 elements");
    hv_release(t);
    return rc;
}

/* Bad text gives HV_NONE and an hv_error saying where and what: the
 * message a user sees when a config file or a shell line is wrong. */
static int
step_parse_error(void)
{
    printf("3. a parse error\n");
    const char *bad = "{withdraw,\n"
                      "  <<\"acct-7\">>,\n"
                      "  42 100}";
    hv_error err;
    hv_term t = hv_parse(bad, &err);
    if (t != HV_NONE) {
        hv_release(t);
        return fail("hv_parse", "accepted text with a missing comma");
    }
    printf("  line %d, column %d: %s (%s)\n", err.line, err.column, err.what,
           hv_strerror(err.code));
    if (err.code != HV_ESYNTAX || err.line != 3)
        return fail("hv_parse", "expected a syntax error on line 3");
    return 0;
}

static int
by_term_order(const void *a, const void *b)
{
    return hv_compare(*(const hv_term *)a, *(const hv_term *)b);
}

/* Any two terms compare, in Erlang's order: number < atom < reference <
 * pid < tuple < map < [] < list < binary.  hv_compare is what sorting
 * and map keys use, so mixed data sorts the same on every node. */
static int
step_order(void)
{
    printf("4. compare and sort\n");
    hv_term terms[] = {
        hv_string("bin"),     hv_list(2, hv_int(1), hv_int(2)),
        hv_map_new(),         hv_tuple(2, hv_atom("a"), hv_int(1)),
        hv_pid_local(7, 0),   hv_atom("zebra"),
        hv_ref_make(),
        hv_float(2.5),        HV_NIL,
        hv_atom("apple"),     hv_int(3),
    };
    size_t n = sizeof terms / sizeof terms[0];
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (terms[i] == HV_NONE)
            rc = fail("building", "out of memory");
    if (rc == 0) {
        qsort(terms, n, sizeof terms[0], by_term_order);
        printf("  sorted    ");
        for (size_t i = 0; i < n; i++) {
            /* hv_format is snprintf-shaped: fine for short terms. */
            char text[64];
            if (hv_format(terms[i], text, sizeof text) < 0) {
                rc = fail("hv_format", "failed");
                text[0] = '\0';
            }
            printf(" %s%s", text, i + 1 < n ? " <" : "\n");
            if (i > 0 && hv_compare(terms[i - 1], terms[i]) >= 0)
                rc = fail("qsort", "result is not in term order");
        }
    }

    /* == and =:= differ on numbers: 1 == 1.0 is true, 1 =:= 1.0 false. */
    hv_term one = hv_int(1), one_f = hv_float(1.0);
    printf("  1 == 1.0 is %s, 1 =:= 1.0 is %s\n",
           hv_compare(one, one_f) == 0 ? "true" : "false",
           hv_equal(one, one_f) ? "true" : "false");
    if (rc == 0 && (hv_compare(one, one_f) != 0 || hv_equal(one, one_f)))
        rc = fail("hv_compare", "1 and 1.0 should be == but not =:=");
    hv_release(one_f);
    for (size_t i = 0; i < n; i++)
        hv_release(terms[i]); /* HV_NONE and immediates are fine here */
    return rc;
}

/* msgpack is the wire form: plain msgpack for numbers, binaries, lists
 * and maps (any language reads them), ext types for atoms, tuples, pids
 * and refs so every term comes back exactly. */
static int
step_msgpack(void)
{
    printf("5. msgpack\n");
    hv_error err;
    hv_term t = hv_make_e(&err, "{reply, ~t, {ok, [1, 2.5, <<\"x\">>]}}",
                          hv_ref_make());
    if (t == HV_NONE)
        return fail("hv_make", err.what);
    hv_buf wire = HV_BUF_INIT;
    int rc = hv_pack(t, &wire);
    if (rc != HV_OK) {
        hv_release(t);
        return fail("hv_pack", hv_strerror(rc));
    }
    rc = show("term", t);
    printf("  packed     %zu bytes\n", wire.len);

    hv_term back = hv_unpack(wire.data, wire.len, &err);
    if (back == HV_NONE)
        rc = fail("hv_unpack", err.what);
    else if (!hv_equal(back, t))
        rc = fail("hv_unpack", "the term that came back is not =:=");
    else
        printf("  unpacked   an equal term (=:=)\n");

    /* Truncated input is an error, never a crash or a partial term. */
    hv_term cut = hv_unpack(wire.data, wire.len - 1, &err);
    if (cut != HV_NONE) {
        hv_release(cut);
        rc = fail("hv_unpack", "accepted truncated bytes");
    } else {
        printf("  truncated  rejected at byte %zu: %s\n", err.offset,
               err.what);
    }
    hv_release(back);
    hv_release(t);
    hv_buf_free(&wire);
    return rc;
}

/* Maps are immutable like every term: hv_map_put consumes the old map and
 * returns a new one, so the usual line is m = hv_map_put(m, k, v). */
static int
step_map(void)
{
    printf("6. maps\n");
    hv_term name = hv_atom("name"), age = hv_atom("age");
    hv_term m = hv_map_new();
    m = hv_map_put(m, name, hv_string("ada"));
    m = hv_map_put(m, age, hv_int(36));
    m = hv_map_put(m, age, hv_int(37)); /* replaces: keys are unique */
    if (m == HV_NONE)
        return fail("hv_map_put", "out of memory");
    int rc = show("map", m);

    int64_t years;
    if (rc == 0 && (hv_int_value(hv_map_get(m, age), &years) != HV_OK ||
                    years != 37))
        rc = fail("hv_map_get", "age is not 37");
    if (rc == 0 && hv_map_get(m, hv_atom("email")) != HV_NONE)
        rc = fail("hv_map_get", "found a key that was never put");

    /* Pairs come out in key order, whatever order they went in. */
    for (int64_t i = 0; rc == 0 && i < hv_map_size(m); i++) {
        size_t len;
        const char *key = hv_atom_name(hv_map_key_at(m, (size_t)i), &len);
        printf("  key %lld      %.*s\n", (long long)i, (int)len,
               key ? key : "?");
    }

    m = hv_map_remove(m, name); /* borrows the key */
    if (rc == 0 && hv_map_size(m) != 1)
        rc = fail("hv_map_remove", "expected one pair left");
    if (rc == 0)
        rc = show("removed", m);
    hv_release(m);
    return rc;
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--short") != 0) {
            fprintf(stderr, "usage: terms_tour [--short]\n");
            return 2;
        }
    if (step_make() != 0 || step_parse() != 0 || step_parse_error() != 0 ||
        step_order() != 0 || step_msgpack() != 0 || step_map() != 0)
        return 1;
    printf("ok\n");
    return 0;
}
