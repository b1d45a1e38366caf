/* tests/check_text.c - the Erlang text form: hv_print, hv_format,
 * hv_parse and hv_make. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive/term.h"
#include "runtime/alloc.h"
#include "runtime/term_box.h"
#include "tests/hv_check.h"
#include "tests/term_gen.h"

/* Checks the text of t and releases t. */
static void
assert_prints(hv_term t, const char *want)
{
    hv_buf b = HV_BUF_INIT;
    ck_assert(t != HV_NONE);
    ck_assert_int_eq(hv_print(t, &b), HV_OK);
    ck_assert_str_eq((const char *)b.data, want);
    hv_buf_free(&b);
    hv_release(t);
}

static hv_term
parse_ok(const char *text)
{
    hv_error e = {0};
    hv_term t = hv_parse(text, &e);
    ck_assert_msg(t != HV_NONE, "parse of %s failed: %s", text, e.what);
    return t;
}

/* Checks that text reads as exactly want; releases want. */
static void
assert_parses(const char *text, hv_term want)
{
    hv_term t = parse_ok(text);
    ck_assert(want != HV_NONE);
    ck_assert_msg(hv_compare_exact(t, want) == 0, "%s read wrong", text);
    hv_release(t);
    hv_release(want);
}

/* text reads and prints back as printed. */
static void
assert_round_trip(const char *text, const char *printed)
{
    assert_prints(parse_ok(text), printed);
}

static void
assert_parse_fails(const char *text, int code, int line, int column,
                   const char *what)
{
    hv_error e = {0};
    ck_assert_msg(hv_parse(text, &e) == HV_NONE, "%s parsed", text);
    ck_assert_msg(e.code == code, "%s: code %d, not %d (%s)", text, e.code,
                  code, e.what);
    ck_assert_msg(e.line == line && e.column == column,
                  "%s: at %d:%d, not %d:%d (%s)", text, e.line, e.column, line,
                  column, e.what);
    ck_assert_msg(strstr(e.what, what) != NULL, "%s: what is \"%s\"", text,
                  e.what);
}

START_TEST(test_text_prints_every_kind_of_term)
{
    assert_prints(hv_int(42), "42");
    assert_prints(hv_int(-7), "-7");
    assert_prints(hv_atom("ok"), "ok");
    assert_prints(HV_NIL, "[]");
    assert_prints(hv_tuple_v(0, NULL), "{}");
    assert_prints(hv_map_new(), "#{}");
    assert_prints(hv_binary(NULL, 0), "<<>>");
    assert_prints(hv_string("text"), "<<\"text\">>");
    assert_prints(hv_binary("\1\2\3", 3), "<<1,2,3>>");
    assert_prints(hv_binary("a\"b\\c\n\t", 7), "<<\"a\\\"b\\\\c\\n\\t\">>");
    assert_prints(hv_binary("caf\xc3\xa9", 5), "<<99,97,102,195,169>>");
    assert_prints(hv_binary("\x7f", 1), "<<127>>");
    assert_prints(hv_list(3, hv_int(1), hv_int(2), hv_int(3)), "[1,2,3]");
    assert_prints(hv_cons(hv_int(1), hv_cons(hv_int(2), hv_int(3))), "[1,2|3]");
    assert_prints(hv_cons(HV_NIL, hv_tuple_v(0, NULL)), "[[]|{}]");
    assert_prints(hv_tuple(2, hv_atom("a"), hv_atom("b")), "{a,b}");
    hv_term keys[] = {hv_atom("k"), hv_int(1)};
    hv_term vals[] = {hv_atom("v"), hv_string("x")};
    assert_prints(hv_map_from(2, keys, vals), "#{1 => <<\"x\">>,k => v}");
    assert_prints(
        hv_tuple(3, hv_atom("a"), hv_list(2, hv_int(1), hv_int(2)),
                 hv_map_put(hv_map_new(), hv_atom("k"), hv_atom("v"))),
        "{a,[1,2],#{k => v}}");
    assert_prints(hv_pid_local(42, 7), "<0.42.7>");
    uint32_t w3[] = {3, 2, 1};
    assert_prints(hv_ref_from(HV_ATOM_NONODE, 0, w3, 3), "#Ref<0.1.2.3>");
    assert_prints(hv_ref_from(HV_ATOM_NONODE, 0, w3, 1), "#Ref<0.0.0.3>");
}
END_TEST

START_TEST(test_text_parses_every_kind_of_term)
{
    assert_parses("42", hv_int(42));
    assert_parses("-42", hv_int(-42));
    assert_parses("+42", hv_int(42));
    assert_parses("- 42", hv_int(-42));
    assert_parses("1.5", hv_float(1.5));
    assert_parses("-1.5", hv_float(-1.5));
    assert_parses("ok", hv_atom("ok"));
    assert_parses("'hello world'", hv_atom("hello world"));
    assert_parses("[]", HV_NIL);
    assert_parses("{}", hv_tuple_v(0, NULL));
    assert_parses("#{}", hv_map_new());
    assert_parses("<<>>", hv_binary(NULL, 0));
    assert_parses("\"\"", hv_binary(NULL, 0));
    assert_parses("\"text\"", hv_string("text"));
    assert_parses("<<\"text\">>", hv_string("text"));
    assert_parses("<<1,2,3>>", hv_binary("\1\2\3", 3));
    assert_parses("<<\"a\", 1, \"bc\" \"d\", $e>>", hv_binary("a\1bcde", 6));
    assert_parses("[1, 2, 3]", hv_list(3, hv_int(1), hv_int(2), hv_int(3)));
    assert_parses("[1, 2 | 3]",
                  hv_cons(hv_int(1), hv_cons(hv_int(2), hv_int(3))));
    assert_parses("[1 | [2]]", hv_list(2, hv_int(1), hv_int(2)));
    assert_parses("{a, {b}}",
                  hv_tuple(2, hv_atom("a"), hv_tuple(1, hv_atom("b"))));
    assert_parses("#{a => 1, b => [2]}",
                  hv_map_put(hv_map_put(hv_map_new(), hv_atom("a"), hv_int(1)),
                             hv_atom("b"), hv_list(1, hv_int(2))));
    assert_parses("#{a => 1, a => 2}",
                  hv_map_put(hv_map_new(), hv_atom("a"), hv_int(2)));
    assert_parses("<0.42.7>", hv_pid_local(42, 7));
    uint32_t w[] = {3, 2, 1};
    assert_parses("#Ref<0.1.2.3>", hv_ref_from(HV_ATOM_NONODE, 0, w, 3));
    assert_parses("#Ref<0.0.0.3>", hv_ref_from(HV_ATOM_NONODE, 0, w, 1));
    assert_parses(
        "#{<0.1.2> => #Ref<0.5>}",
        hv_map_put(hv_map_new(), hv_pid_local(1, 2),
                   hv_ref_from(HV_ATOM_NONODE, 0, (uint32_t[]){5}, 1)));
}
END_TEST

START_TEST(test_text_prints_parsed_text_in_canonical_form)
{
    assert_round_trip("{ a , [ 1 , 2 ] , #{ k => v } }", "{a,[1,2],#{k => v}}");
    assert_round_trip("#{b => 2, 1.0 => x, 1 => y, a => 1}",
                      "#{1 => y,1.0 => x,a => 1,b => 2}");
    assert_round_trip("[1 | [2 | [3 | []]]]", "[1,2,3]");
    assert_round_trip("<<\"a\", 98, $c>>", "<<\"abc\">>");
    assert_round_trip("\"\\x{41}\\e\"", "<<\"A\\e\">>");
    assert_round_trip("'ok'", "ok");
    assert_round_trip("16#7fffffffffffffff", "9223372036854775807");
    assert_round_trip("1.0e+20", "1.0e20");
    assert_round_trip("#Ref<0.0.0.0.0.9>", "#Ref<0.0.0.9>");
}
END_TEST

START_TEST(test_text_reads_erlang_number_notations)
{
    assert_parses("16#ff", hv_int(255));
    assert_parses("16#FF", hv_int(255));
    assert_parses("2#1010", hv_int(10));
    assert_parses("36#zz", hv_int(1295));
    assert_parses("-16#10", hv_int(-16));
    assert_parses("1_000_000", hv_int(1000000));
    assert_parses("$a", hv_int('a'));
    assert_parses("$\\n", hv_int('\n'));
    assert_parses("$\\x{1F600}", hv_int(0x1f600));
    assert_parses("$\xc3\xa9", hv_int(0xe9));
    assert_parses("$\\^A", hv_int(1));
    assert_parses("$ ", hv_int(' '));
    assert_parses("1.5e3", hv_float(1500.0));
    assert_parses("1.0E-2", hv_float(0.01));
    assert_parses("1_0.2_5e1_0", hv_float(10.25e10));
    double d;
    hv_term z = parse_ok("-0.0");
    ck_assert_int_eq(hv_float_value(z, &d), HV_OK);
    ck_assert(d == 0 && signbit(d));
    hv_release(z);
}
END_TEST

START_TEST(test_text_decodes_escapes_in_strings_and_atoms)
{
    assert_parses("\"\\b\\d\\e\\f\\n\\r\\s\\t\\v\\101\\x41\\x{41}\\\\\\\"\"",
                  hv_binary("\b\177\033\f\n\r \t\vAAA\\\"", 14));
    assert_parses("\"\\0\\377\\q\\'\"", hv_binary("\0\377q'", 4));
    assert_parses("\"a\" \"b\" \"\"", hv_string("ab"));
    assert_parses("\"line\nbreak\"", hv_string("line\nbreak"));
    assert_parses("'\\x{e9}t\\x{E9}'", hv_atom("\xc3\xa9t\xc3\xa9"));
    assert_parses("'a\\'b'", hv_atom("a'b"));
    assert_parses("'\\^A\\s'", hv_atom("\1 "));
}
END_TEST

START_TEST(test_text_quotes_atoms_only_when_needed)
{
    static const struct {
        const char *name, *text;
    } cases[] = {
        {"ok", "ok"},
        {"true", "true"},
        {"a@b", "a@b"},
        {"x1_Y2", "x1_Y2"},
        {"EXIT", "'EXIT'"},
        {"Ok", "'Ok'"},
        {"_under", "'_under'"},
        {"hello world", "'hello world'"},
        {"", "''"},
        {"a'b", "'a\\'b'"},
        {"back\\slash", "'back\\\\slash'"},
        {"tab\there", "'tab\\there'"},
        {"\x01", "'\\001'"},
        {"when", "'when'"},
        {"and", "'and'"},
        {"receive", "'receive'"},
        {"h\xc3\xa9llo", "'h\xc3\xa9llo'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_prints(hv_atom(cases[i].name), cases[i].text);
        assert_parses(cases[i].text, hv_atom(cases[i].name));
    }
}
END_TEST

START_TEST(test_text_prints_floats_as_the_shortest_text_that_reads_back)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {1.0, "1.0"},
        {-1.5, "-1.5"},
        {100.0, "100.0"},
        {1000.0, "1.0e3"},
        {1e20, "1.0e20"},
        {1e100, "1.0e100"},
        {5e-324, "5.0e-324"},
        {-2.5e-7, "-2.5e-7"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {123456789012345680.0, "123456789012345680.0"},
        {0.30000000000000004, "0.30000000000000004"},
        {1.7976931348623157e308, "1.7976931348623157e308"},
        {0.001, "0.001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_prints(hv_float(cases[i].v), cases[i].text);
        hv_term t = parse_ok(cases[i].text);
        double d;
        ck_assert_int_eq(hv_float_value(t, &d), HV_OK);
        ck_assert_msg(memcmp(&d, &cases[i].v, sizeof d) == 0,
                      "%s read back as %.17g", cases[i].text, d);
        hv_release(t);
    }
}
END_TEST

START_TEST(test_text_reads_and_prints_the_int64_edges)
{
    assert_prints(hv_int(INT64_MAX), "9223372036854775807");
    assert_prints(hv_int(INT64_MIN), "-9223372036854775808");
    assert_parses("9223372036854775807", hv_int(INT64_MAX));
    assert_parses("-9223372036854775808", hv_int(INT64_MIN));
    assert_parses("4611686018427387904", hv_int(HV_SMALL_MAX + 1));
    assert_parses("-4611686018427387905", hv_int(HV_SMALL_MIN - 1));
}
END_TEST

START_TEST(test_text_skips_white_space_comments_and_a_final_dot)
{
    assert_parses("  {a, % a comment, with {brackets\n\t b}.\n  % end\n",
                  hv_tuple(2, hv_atom("a"), hv_atom("b")));
    assert_parses("1.", hv_int(1));
    assert_parses("[1,2].", hv_list(2, hv_int(1), hv_int(2)));
    hv_term t = hv_parse_n("7 junk", 1, NULL, NULL);
    ck_assert(t == hv__small(7));
}
END_TEST

START_TEST(test_text_format_truncates_and_returns_the_full_length)
{
    char buf[8];
    hv_term t = hv_tuple(2, hv_atom("abc"), hv_atom("def"));
    ck_assert_int_eq(hv_format(t, buf, sizeof buf), 9);
    ck_assert_str_eq(buf, "{abc,de");
    ck_assert_int_eq(hv_format(t, NULL, 0), 9);
    ck_assert_int_eq(hv_format(t, buf, 1), 9);
    ck_assert_str_eq(buf, "");
    char big[16];
    ck_assert_int_eq(hv_format(t, big, sizeof big), 9);
    ck_assert_str_eq(big, "{abc,def}");
    ck_assert_int_eq(hv_format(HV_NONE, big, sizeof big), HV_EBADARG);
    hv_release(t);
}
END_TEST

START_TEST(test_text_print_appends_to_the_buffer)
{
    hv_buf b = HV_BUF_INIT;
    ck_assert_int_eq(hv_print(hv__small(1), &b), HV_OK);
    ck_assert_int_eq(hv_print(hv_atom("x"), &b), HV_OK);
    ck_assert_str_eq((const char *)b.data, "1x");
    ck_assert_int_eq(hv_print(HV_NONE, &b), HV_EBADARG);
    ck_assert_str_eq((const char *)b.data, "1x");
    hv_buf_free(&b);
}
END_TEST

START_TEST(test_text_make_fills_every_directive)
{
    hv_term pid = hv_pid_local(5, 1);
    hv_term t = hv_make("[~a, ~i, ~l, ~f, ~s, ~b, ~p, ~t]", "hello world", -7,
                        (int64_t)INT64_MIN, 2.5, "str", "a\0b", (size_t)3, pid,
                        hv_tuple(1, hv_atom("x")));
    assert_parses("['hello world', -7, -9223372036854775808, 2.5, "
                  "<<\"str\">>, <<97, 0, 98>>, <0.5.1>, {x}]",
                  t);
    assert_parses("{deposit, <0.5.1>, 100}",
                  hv_make("{deposit, ~p, ~i}", pid, 100));
    assert_parses(
        "<<\"ab\", 0, \"cd\", 255>>",
        hv_make("<<~s, ~i, ~b, ~l>>", "ab", 0, "cd", (size_t)2, (int64_t)255));
    assert_parses("#{k => <<\"v\">>}", hv_make("#{~a => ~s}.", "k", "v"));
}
END_TEST

START_TEST(test_text_make_ignores_tildes_inside_quotes_and_chars)
{
    assert_parses("{'~t', <<\"~p\">>, 126, 3}",
                  hv_make("{'~t', \"~p\", $~, ~i}", 3));
    assert_parses("{'a\\'~i', 4}", hv_make("{'a\\'~i', ~i}", 4));
}
END_TEST

START_TEST(test_text_random_terms_round_trip_through_text)
{
    for (uint64_t seed = 1; seed <= 3000; seed++) {
        struct hv_gen g;
        hv_gen_init(&g, seed);
        g.text_safe = true;
        hv_term t = hv_gen_term(&g);
        ck_assert(t != HV_NONE);
        hv_buf a = HV_BUF_INIT, b = HV_BUF_INIT;
        ck_assert_int_eq(hv_print(t, &a), HV_OK);
        hv_error e = {0};
        hv_term u = hv_parse_n((const char *)a.data, a.len, NULL, &e);
        ck_assert_msg(u != HV_NONE, "seed %llu: %s: %s",
                      (unsigned long long)seed, (const char *)a.data, e.what);
        ck_assert_msg(hv_compare_exact(t, u) == 0, "seed %llu: %s",
                      (unsigned long long)seed, (const char *)a.data);
        ck_assert_int_eq(hv_print(u, &b), HV_OK);
        ck_assert_str_eq((const char *)a.data, (const char *)b.data);
        hv_buf_free(&a);
        hv_buf_free(&b);
        hv_release(t);
        hv_release(u);
    }
}
END_TEST

/* ---- edges ---- */

static char *
nested(size_t depth, char open, char close)
{
    char *s = malloc(2 * depth + 1);
    ck_assert(s != NULL);
    memset(s, open, depth);
    memset(s + depth, close, depth);
    s[2 * depth] = 0;
    return s;
}

START_TEST(test_text_deep_nesting_fails_with_limit_not_a_crash)
{
    char *s = nested(100000, '[', ']');
    assert_parse_fails(s, HV_ELIMIT, 1, 257, "deeper than 256");
    free(s);
    s = nested(100000, '{', '}');
    assert_parse_fails(s, HV_ELIMIT, 1, 257, "deeper than 256");
    free(s);
    s = nested(256, '[', ']');
    hv_release(parse_ok(s));
    free(s);
}
END_TEST

START_TEST(test_text_deep_terms_parse_and_print_without_recursion)
{
    size_t depth = 100000;
    char *s = nested(depth, '[', ']');
    hv_limits lim = {.max_depth = 200000};
    hv_error e;
    hv_term t = hv_parse_n(s, strlen(s), &lim, &e);
    ck_assert(t != HV_NONE);
    hv_buf b = HV_BUF_INIT;
    ck_assert_int_eq(hv_print(t, &b), HV_OK);
    ck_assert_str_eq((const char *)b.data, s);
    hv_buf_free(&b);
    hv_release(t);
    free(s);
    /* A long flat list and a deep map chain print iteratively too. */
    hv_term l = HV_NIL, m = hv_map_new();
    for (int i = 0; i < 100000; i++) {
        l = hv_cons(hv__small(0), l);
        m = hv_map_put(hv_map_new(), hv__small(0), m);
    }
    ck_assert(l != HV_NONE && m != HV_NONE);
    ck_assert_int_eq(hv_format(l, NULL, 0), 2 * 100000 + 1);
    ck_assert_int_eq(hv_format(m, NULL, 0), 100000 * 8 + 3);
    hv_release(l);
    hv_release(m);
}
END_TEST

START_TEST(test_text_limits_apply_to_counts_and_bytes)
{
    hv_limits lim = {.max_count = 3};
    hv_error e;
    const char *over[] = {"[1,2,3,4]", "{1,2,3,4}", "<<1,2,3,4>>",
                          "#{1=>1,2=>2,3=>3,4=>4}"};
    hv_term t = hv_parse_n("[1,2,3]", 7, &lim, &e);
    ck_assert(t != HV_NONE);
    hv_release(t);
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        ck_assert(hv_parse_n(over[i], strlen(over[i]), &lim, &e) == HV_NONE);
        ck_assert_int_eq(e.code, HV_ELIMIT);
    }
    lim = (hv_limits){.max_bytes = 5};
    t = hv_parse_n("[1,2]", 5, &lim, &e);
    ck_assert(t != HV_NONE);
    hv_release(t);
    ck_assert(hv_parse_n("[1,\n2,3]", 8, &lim, &e) == HV_NONE);
    ck_assert_int_eq(e.code, HV_ELIMIT);
    ck_assert_int_eq(e.line, 2);
}
END_TEST

START_TEST(test_text_remote_pids_and_refs_name_their_node_by_atom_index)
{
    hv_term node = hv_atom("a@host");
    unsigned long idx = hv__atom_index(node) + 1; /* 0 means this node */
    char want[64];
    snprintf(want, sizeof want, "<%lu.1.2>", idx);
    assert_prints(hv_pid_remote(node, 1, 2, 0), want);
    assert_parses(want, hv_pid_remote(node, 1, 2, 0));
    uint32_t w[] = {5, 4, 3, 2, 1};
    snprintf(want, sizeof want, "#Ref<%lu.1.2.3.4.5>", idx);
    assert_prints(hv_ref_from(node, 0, w, 5), want);
    assert_parses(want, hv_ref_from(node, 0, w, 5));
    /* The local node's own atom gives a local pid; a local-node pid too
     * big for the immediate prints the index and reads back boxed. */
    unsigned long local = hv__atom_index(HV_ATOM_NONODE) + 1;
    snprintf(want, sizeof want, "<%lu.1.2>", local);
    assert_parses(want, hv_pid_local(1, 2));
    snprintf(want, sizeof want, "<%lu.1.268435456>", local);
    assert_prints(hv_pid_remote(HV_ATOM_NONODE, 1, 1u << 28, 0), want);
    assert_parses(want, hv_pid_remote(HV_ATOM_NONODE, 1, 1u << 28, 0));
    /* The atom at index 0 ('false') as a node must not read as local. */
    assert_prints(hv_pid_remote(HV_ATOM_FALSE, 1, 1u << 29, 0),
                  "<1.1.536870912>");
    assert_parses("<1.1.536870912>",
                  hv_pid_remote(HV_ATOM_FALSE, 1, 1u << 29, 0));
}
END_TEST

START_TEST(test_text_prints_a_large_binary_in_one_piece)
{
    static uint8_t bytes[70000];
    memset(bytes, 'x', sizeof bytes);
    hv_term b = hv_binary(bytes, sizeof bytes);
    ck_assert_int_eq(hv_format(b, NULL, 0), (int64_t)sizeof bytes + 6);
    hv_release(b);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_text_errors_name_line_column_and_what_was_expected)
{
    assert_parse_fails("{a,\n  42 ]", HV_ESYNTAX, 2, 6,
                       "expected ',' or '}' after 42, found ']'");
    assert_parse_fails("{1, 2", HV_ESYNTAX, 1, 6, "found end of input");
    assert_parse_fails("[1, 2}", HV_ESYNTAX, 1, 6, "',', '|' or ']'");
    assert_parse_fails("[1 | 2, 3]", HV_ESYNTAX, 1, 7, "']' after the tail");
    assert_parse_fails("{1,,2}", HV_ESYNTAX, 1, 4,
                       "expected a term after ',', found ','");
    assert_parse_fails("#{a => }", HV_ESYNTAX, 1, 8, "expected a term");
    assert_parse_fails("#{a, b}", HV_ESYNTAX, 1, 4, "'=>'");
    assert_parse_fails("#{a := b}", HV_ESYNTAX, 1, 5, "'=>'");
    assert_parse_fails("", HV_ESYNTAX, 1, 1,
                       "expected a term, found end of input");
    assert_parse_fails("X", HV_ESYNTAX, 1, 1, "found X");
    assert_parse_fails("foo bar", HV_ESYNTAX, 1, 5,
                       "expected end of input after foo, found bar");
    assert_parse_fails("1. 2", HV_ESYNTAX, 1, 4, "end of input");
    assert_parse_fails("when", HV_ESYNTAX, 1, 1, "reserved word");
    assert_parse_fails("'abc", HV_ESYNTAX, 1, 1, "unterminated quoted atom");
    assert_parse_fails("[\n\"abc", HV_ESYNTAX, 2, 1, "unterminated string");
    assert_parse_fails("\"a\\x{100}\"", HV_ESYNTAX, 1, 3, "one byte");
    assert_parse_fails("'\\x{110000}'", HV_ESYNTAX, 1, 2, "bad escape");
    assert_parse_fails("<<256>>", HV_ESYNTAX, 1, 3, "0..255");
    assert_parse_fails("<<a>>", HV_ESYNTAX, 1, 3, "a byte 0..255");
    assert_parse_fails("<<1:8>>", HV_ESYNTAX, 1, 4, "',' or '>>'");
    assert_parse_fails("1.0e999", HV_ESYNTAX, 1, 1, "out of range");
    assert_parse_fails("37#1", HV_ESYNTAX, 1, 1, "2..36");
    assert_parse_fails("16#", HV_ESYNTAX, 1, 4, "digits of base 16");
    assert_parse_fails("- a", HV_ESYNTAX, 1, 3, "expected a number");
    assert_parse_fails("~i", HV_ESYNTAX, 1, 1, "only for hv_make");
    assert_parse_fails("{\x01}", HV_ESYNTAX, 1, 2, "byte 0x01");
    assert_parse_fails("<0.1>", HV_ESYNTAX, 1, 5, "'.' in a pid");
    assert_parse_fails("<0.1.2", HV_ESYNTAX, 1, 7, "'>' closing a pid");
    assert_parse_fails("<0.1.268435456>", HV_EBADARG, 1, 2, "serial");
    assert_parse_fails("<4000000000.1.2>", HV_EBADARG, 1, 2, "no atom");
    assert_parse_fails("#Ref<0>", HV_ESYNTAX, 1, 7, "word of the reference");
    assert_parse_fails("#Ref<0.1.2.3.4.5.6>", HV_ESYNTAX, 1, 17,
                       "at most 5 words");
    assert_parse_fails("#Ref<0.4294967296>", HV_ESYNTAX, 1, 8, "0..4294967295");
    /* Columns count characters, not bytes. */
    assert_parse_fails("{'\xc3\xa9', ]", HV_ESYNTAX, 1, 7, "found ']'");
    hv_error e;
    ck_assert(hv_parse(NULL, &e) == HV_NONE);
    ck_assert_int_eq(e.code, HV_EBADARG);
    char atom[300];
    memset(atom, 'a', sizeof atom - 1);
    atom[sizeof atom - 1] = 0;
    assert_parse_fails(atom, HV_EBADARG, 1, 1, "longer than");
    assert_parse_fails("'\xff'", HV_EBADARG, 1, 1, "UTF-8");
}
END_TEST

START_TEST(test_text_one_past_int64_is_an_overflow_at_its_position)
{
    assert_parse_fails("9223372036854775808", HV_EOVERFLOW, 1, 1,
                       "9223372036854775808 does not fit");
    assert_parse_fails("-9223372036854775809", HV_EOVERFLOW, 1, 2,
                       "-9223372036854775809");
    assert_parse_fails("[1,\n 99999999999999999999999]", HV_EOVERFLOW, 2, 2,
                       "does not fit");
    assert_parse_fails("16#10000000000000000", HV_EOVERFLOW, 1, 1,
                       "does not fit");
}
END_TEST

START_TEST(test_text_make_rejects_bad_formats_and_releases_term_arguments)
{
    hv_error e;
    hv_term pid = hv_pid_local(1, 1);
    /* Past an unknown directive the argument types are unknown: only the
     * ~t before it are released, so the caller passes no more. */
    ck_assert(hv_make_e(&e, "{~t, ~q, ~t}", hv_string("a")) == HV_NONE);
    ck_assert_int_eq(e.code, HV_ESYNTAX);
    ck_assert_int_eq(e.column, 6);
    ck_assert(strstr(e.what, "unknown directive ~q") != NULL);
    ck_assert(hv_make_e(&e, "{~p, ~t}", hv_int(1), hv_string("x")) == HV_NONE);
    ck_assert_int_eq(e.code, HV_EBADARG);
    ck_assert_int_eq(e.column, 2);
    ck_assert(strstr(e.what, "~p: argument is not a pid") != NULL);
    ck_assert(hv_make_e(&e, "{~t, ~t ]", hv_string("a"), hv_string("b")) ==
              HV_NONE);
    ck_assert_int_eq(e.code, HV_ESYNTAX);
    ck_assert(hv_make_e(&e, "{~t ~t, ~s, ~t}", hv_string("a"), hv_string("b"),
                        "s", hv_string("c")) == HV_NONE);
    ck_assert_int_eq(e.code, HV_ESYNTAX);
    ck_assert(hv_make_e(&e, "{~t, \"abc", hv_string("a")) == HV_NONE);
    ck_assert(strstr(e.what, "unterminated string") != NULL);
    ck_assert(hv_make_e(&e, "[~p, ~t]", pid, HV_NONE) == HV_NONE);
    ck_assert_int_eq(e.code, HV_EBADARG);
    ck_assert(hv_make_e(&e, "[~f, ~t]", NAN, hv_string("a")) == HV_NONE);
    ck_assert_int_eq(e.code, HV_EBADARG);
    ck_assert(hv_make_e(&e, "<<~i, ~t>>", 256, hv_string("a")) == HV_NONE);
    ck_assert(strstr(e.what, "0..255") != NULL);
    ck_assert(hv_make_e(&e, "<<~t, ~t>>", hv_string("a"), hv_string("b")) ==
              HV_NONE);
    ck_assert_int_eq(e.code, HV_EBADARG);
    ck_assert(hv_make_e(&e, "[~a, ~t]", (const char *)NULL, hv_string("a")) ==
              HV_NONE);
    ck_assert_int_eq(e.code, HV_EBADARG);
    ck_assert(hv_make_e(&e, "{~t, 99999999999999999999, ~b, ~t}",
                        hv_string("a"), "xy", (size_t)2,
                        hv_string("b")) == HV_NONE);
    ck_assert_int_eq(e.code, HV_EOVERFLOW);
    ck_assert(hv_make("{~t, ~", hv_string("a")) == HV_NONE);
    ck_assert(hv_make_e(&e, NULL) == HV_NONE);
    ck_assert_int_eq(e.code, HV_EBADARG);
}
END_TEST

#define RICH_TEXT                                                              \
    "{a, [1, 2 | 3], <<\"x\">>, #{k => 1.5, 2 => \"s\\n\"}, <0.1.2>,"          \
    " #Ref<0.1.2.3>, 'q \\'a', -9223372036854775808, {}, #{}, []}"

START_TEST(test_text_parse_fails_cleanly_at_every_allocation)
{
    for (int n = 0;; n++) {
        hv_error e;
        hv__alloc_fail_after(n);
        hv_term t = hv_parse(RICH_TEXT, &e);
        hv__alloc_fail_after(-1);
        if (t != HV_NONE) {
            hv_release(t);
            break;
        }
        ck_assert_int_eq(e.code, HV_ENOMEM);
    }
}
END_TEST

START_TEST(test_text_print_fails_cleanly_at_every_allocation)
{
    hv_term t = parse_ok(RICH_TEXT);
    for (int n = 0;; n++) {
        hv_buf b = HV_BUF_INIT;
        hv__alloc_fail_after(n);
        int rc = hv_print(t, &b);
        hv__alloc_fail_after(-1);
        if (rc == HV_OK) {
            hv_buf_free(&b);
            break;
        }
        ck_assert_int_eq(rc, HV_ENOMEM);
        ck_assert_uint_eq(b.len, 0);
        hv_buf_free(&b);
    }
    hv_release(t);
}
END_TEST

START_TEST(test_text_make_fails_cleanly_at_every_allocation)
{
    for (int n = 0;; n++) {
        hv_error e;
        hv_term arg = hv_list(2, hv_string("a"), hv_float(1.5));
        hv__alloc_fail_after(n);
        hv_term t = hv_make_e(&e, "{~t, ~s, [~i | ~a], <<~s, 1>>, ~f}", arg,
                              "str", 7, "atom", "bytes", 2.5);
        hv__alloc_fail_after(-1);
        if (t != HV_NONE) {
            hv_release(t);
            break;
        }
        ck_assert_int_eq(e.code, HV_ENOMEM);
    }
}
END_TEST

/* A caller's own varargs wrapper, the reason hv_make_v exists. */
static hv_term
make_via_v(hv_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_term t = hv_make_v(err, fmt, ap);
    va_end(ap);
    return t;
}

START_TEST(test_text_make_v_serves_varargs_wrappers)
{
    hv_error err;
    hv_term t = make_via_v(&err, "{log, ~a, ~i, ~t}", "warn", 3,
                           hv_string("disk"));
    ck_assert(t != HV_NONE);
    hv_buf b = HV_BUF_INIT;
    ck_assert_int_eq(hv_print(t, &b), HV_OK);
    ck_assert_str_eq((const char *)b.data, "{log,warn,3,<<\"disk\">>}");
    hv_buf_free(&b);
    hv_release(t);
    /* Errors come back through err, and ~t is still consumed. */
    ck_assert(make_via_v(&err, "{~t, ~p}", hv_string("x"), hv_int(1)) ==
              HV_NONE);
    ck_assert_int_eq(err.code, HV_EBADARG);
    ck_assert(make_via_v(&err, "{a,", 0) == HV_NONE);
    ck_assert_int_eq(err.code, HV_ESYNTAX);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("text");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_text_prints_every_kind_of_term);
    tcase_add_test(tc, test_text_parses_every_kind_of_term);
    tcase_add_test(tc, test_text_prints_parsed_text_in_canonical_form);
    tcase_add_test(tc, test_text_reads_erlang_number_notations);
    tcase_add_test(tc, test_text_decodes_escapes_in_strings_and_atoms);
    tcase_add_test(tc, test_text_quotes_atoms_only_when_needed);
    tcase_add_test(
        tc, test_text_prints_floats_as_the_shortest_text_that_reads_back);
    tcase_add_test(tc, test_text_reads_and_prints_the_int64_edges);
    tcase_add_test(tc, test_text_skips_white_space_comments_and_a_final_dot);
    tcase_add_test(tc, test_text_format_truncates_and_returns_the_full_length);
    tcase_add_test(tc, test_text_print_appends_to_the_buffer);
    tcase_add_test(tc, test_text_make_fills_every_directive);
    tcase_add_test(tc, test_text_make_v_serves_varargs_wrappers);
    tcase_add_test(tc, test_text_make_ignores_tildes_inside_quotes_and_chars);
    tcase_add_test(tc, test_text_random_terms_round_trip_through_text);
    tc = hv_check_tcase(s, "edges");
    tcase_add_test(tc, test_text_deep_nesting_fails_with_limit_not_a_crash);
    tcase_add_test(tc, test_text_deep_terms_parse_and_print_without_recursion);
    tcase_add_test(tc, test_text_limits_apply_to_counts_and_bytes);
    tcase_add_test(
        tc, test_text_remote_pids_and_refs_name_their_node_by_atom_index);
    tcase_add_test(tc, test_text_prints_a_large_binary_in_one_piece);
    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_text_errors_name_line_column_and_what_was_expected);
    tcase_add_test(tc, test_text_one_past_int64_is_an_overflow_at_its_position);
    tcase_add_test(
        tc, test_text_make_rejects_bad_formats_and_releases_term_arguments);
    tcase_add_test(tc, test_text_parse_fails_cleanly_at_every_allocation);
    tcase_add_test(tc, test_text_print_fails_cleanly_at_every_allocation);
    tcase_add_test(tc, test_text_make_fails_cleanly_at_every_allocation);
    return s;
}
