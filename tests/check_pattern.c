/* tests/check_pattern.c - the pattern and receive-set API: compiling,
 * introspection of variables and pins, argument checks, compile errors
 * (code, line, column and a message naming the text), receive sets with
 * their after clause and shared pins, and one set shared by threads.
 * What each pattern matches is check_match_table's job. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hive/hive.h"
#include "runtime/alloc.h"
#include "tests/hv_check.h"

/* ---- helpers ----------------------------------------------------------- */

static hv_pattern *
compile_ok(const char *text)
{
    hv_error err = {0};
    hv_pattern *p = hv_pattern_compile(text, &err);
    ck_assert_msg(p != NULL, "%s: rejected at %d:%d: %s", text, err.line,
                  err.column, err.what);
    return p;
}

static hv_term
term_of(const char *text)
{
    hv_error err = {0};
    hv_term t = hv_parse(text, &err);
    ck_assert_msg(t != HV_NONE, "test term %s: %s", text, err.what);
    return t;
}

/* 1-based line and column of a byte offset in ASCII text, to check that
 * hv_error.offset and line:column name the same place. */
static void
position_at(const char *text, size_t offset, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset && text[i] != '\0'; i++) {
        if (text[i] == '\n') {
            ++*line;
            *column = 1;
        } else {
            ++*column;
        }
    }
}

/* Appends one complaint to a report that a test asserts empty at its end,
 * so one run shows every case that went wrong, not just the first. */
static void
complain(char *report, size_t size, const char *text, const char *detail)
{
    size_t used = strlen(report);
    if (used + 1 < size)
        snprintf(report + used, size - used, "[%s => %s] ", text, detail);
}

/* ---- compiling and introspection --------------------------------------- */

START_TEST(test_pattern_compiles_every_kind_of_pattern_and_a_final_dot)
{
    static const char *const ok[] = {
        "_",
        "X",
        "{a, X}.",
        "{a, X} .  \n",
        "X when X > 1.",
        "X when X > 1.5.",
        "[H | T]",
        "[1, 2 | _]",
        "#{a := X, ^K := Y}",
        "#{}",
        "{X, Y} = Z",
        "<<\"text\">>",
        "<<1, 2, 3>>",
        "\"text\"",
        "<0.12.3>",
        "#Ref<0.1.2.3>",
        "-1.5",
        "'Quoted atom'",
        "{}",
        "[]",
        "{X, _Y, _, _}",
        "X when is_integer(X), X > 0; is_float(X)",
        "X when X =~ \"^a.*z$\"",
        "X when X > ^Min",
        "X when true",
        "% a comment line\n{ok, X}\n  when X =/= nil",
        "{withdraw, Amount, From} when is_integer(Amount), Amount > 0",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        hv_pattern_free(compile_ok(ok[i]));
}
END_TEST

START_TEST(test_pattern_compile_n_reads_len_bytes_and_no_further)
{
    hv_error err = {0};
    hv_pattern *p = hv_pattern_compile_n("{a, B} trailing junk", 6, &err);
    ck_assert_msg(p != NULL, "%s", err.what);
    ck_assert_uint_eq(hv_pattern_var_count(p), 1);
    hv_pattern_free(p);
    /* Cut short, the text ends inside the tuple. */
    ck_assert(hv_pattern_compile_n("{a, B}", 4, &err) == NULL);
    ck_assert_int_eq(err.code, HV_ESYNTAX);
    ck_assert_int_eq(err.column, 5);
    /* A NUL inside len is a stray byte, not the end of the text. */
    ck_assert(hv_pattern_compile_n("a\0b", 3, &err) == NULL);
    ck_assert_int_eq(err.code, HV_ESYNTAX);
    ck_assert_int_eq(err.column, 2);
}
END_TEST

START_TEST(test_pattern_names_variables_in_order_of_first_appearance)
{
    hv_pattern *p = compile_ok("{B, A, _, B, [C | _Tail], _} = Whole");
    static const char *const want[] = {"B", "A", "C", "_Tail", "Whole"};
    ck_assert_uint_eq(hv_pattern_var_count(p), 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(hv_pattern_var_name(p, i), want[i]);
        ck_assert_int_eq(hv_pattern_var_index(p, want[i]), (int)i);
    }
    ck_assert_int_eq(hv_pattern_var_index(p, "_"), -1);
    ck_assert_int_eq(hv_pattern_var_index(p, "Z"), -1);
    ck_assert_uint_eq(hv_pattern_pin_count(p), 0);

    hv_term t = term_of("{1, 2, 3, 1, [4, 5], 6}");
    hv_bindings b;
    ck_assert_int_eq(hv_match(p, t, NULL, &b), HV_OK);
    ck_assert_int_eq(b.clause, 0);
    ck_assert(b.pattern == p);
    ck_assert(b.msg == t);
    ck_assert_uint_eq(b.nvars, 5);
    ck_assert(hv_equal(b.var[0], hv_int(1)));
    ck_assert(hv_equal(b.var[1], hv_int(2)));
    ck_assert(hv_equal(b.var[2], hv_int(4)));
    ck_assert(b.var[4] == t);
    ck_assert(hv_binding(&b, "C") == b.var[2]);
    ck_assert(hv_binding(&b, "Q") == HV_NONE);
    hv_term tail = term_of("[5]");
    ck_assert(hv_equal(hv_binding(&b, "_Tail"), tail));
    hv_release(tail);
    /* B twice must be equal both times. */
    hv_term other = term_of("{1, 2, 3, 7, [4], 6}");
    ck_assert_int_eq(hv_match(p, other, NULL, &b), HV_ENOMATCH);
    hv_release(other);
    hv_release(t);
    hv_pattern_free(p);
}
END_TEST

START_TEST(test_pattern_names_pins_apart_from_variables)
{
    hv_pattern *p = compile_ok("{^Ref, ^Tag, X, ^Ref} when X > ^Min");
    ck_assert_uint_eq(hv_pattern_pin_count(p), 3);
    ck_assert_str_eq(hv_pattern_pin_name(p, 0), "Ref");
    ck_assert_str_eq(hv_pattern_pin_name(p, 1), "Tag");
    ck_assert_str_eq(hv_pattern_pin_name(p, 2), "Min");
    ck_assert_uint_eq(hv_pattern_var_count(p), 1);
    ck_assert_int_eq(hv_pattern_var_index(p, "Ref"), -1);

    hv_term ref = hv_ref_make();
    hv_term t =
        hv_tuple(4, hv_retain(ref), hv_atom("tag"), hv_int(5), hv_retain(ref));
    hv_bindings b;
    ck_assert_int_eq(
        hv_match(p, t, HV_PINS(ref, hv_atom("tag"), hv_int(4)), &b), HV_OK);
    ck_assert(hv_equal(hv_binding(&b, "X"), hv_int(5)));
    ck_assert_int_eq(
        hv_match(p, t, HV_PINS(ref, hv_atom("tag"), hv_int(5)), &b),
        HV_ENOMATCH);
    ck_assert_int_eq(
        hv_match(p, t, HV_PINS(ref, hv_atom("other"), hv_int(4)), &b),
        HV_ENOMATCH);
    hv_release(t);
    hv_release(ref);
    hv_pattern_free(p);
}
END_TEST

/* "{V1, V2, ..., Vn}" into buf. */
static void
tuple_of_vars(char *buf, size_t size, int n)
{
    size_t at = (size_t)snprintf(buf, size, "{");
    for (int i = 1; i <= n; i++)
        at += (size_t)snprintf(buf + at, size - at, "%sV%d", i > 1 ? ", " : "",
                               i);
    snprintf(buf + at, size - at, "}");
}

START_TEST(test_pattern_binds_at_most_max_vars_variables)
{
    char text[512];
    hv_error err = {0};

    tuple_of_vars(text, sizeof text, HV_MATCH_MAX_VARS);
    hv_pattern *p = compile_ok(text);
    ck_assert_uint_eq(hv_pattern_var_count(p), HV_MATCH_MAX_VARS);
    hv_pattern_free(p);
    /* Repeats and `_` do not count. */
    strcpy(text + strlen(text) - 1, ", V1, V2, _, _, _, _}");
    hv_pattern_free(compile_ok(text));

    tuple_of_vars(text, sizeof text, HV_MATCH_MAX_VARS + 1);
    ck_assert(hv_pattern_compile(text, &err) == NULL);
    ck_assert_int_eq(err.code, HV_ELIMIT);
    ck_assert_int_eq(err.line, 1);
    /* It points at the variable one too many. */
    char name[16];
    snprintf(name, sizeof name, "V%d", HV_MATCH_MAX_VARS + 1);
    ck_assert_int_eq(err.column, (int)(strstr(text, name) - text) + 1);
    ck_assert_msg(strstr(err.what, name) != NULL, "%s", err.what);
    ck_assert_msg(strstr(err.what, "32") != NULL, "%s", err.what);
}
END_TEST

START_TEST(test_pattern_rejects_null_arguments)
{
    hv_error err = {0};
    ck_assert(hv_pattern_compile(NULL, &err) == NULL);
    ck_assert_int_eq(err.code, HV_EBADARG);
    err.code = 0;
    ck_assert(hv_pattern_compile_n(NULL, 3, &err) == NULL);
    ck_assert_int_eq(err.code, HV_EBADARG);
    ck_assert(hv_pattern_compile("{", NULL) == NULL); /* err is optional */
    hv_pattern_free(NULL);
    hv_rset_free(NULL);

    hv_pattern *p = compile_ok("{X, ^Pin}");
    hv_term t = term_of("{1, 2}");
    hv_bindings b;
    ck_assert_int_eq(hv_match(NULL, t, HV_PINS(hv_int(2)), &b), HV_EBADARG);
    ck_assert_int_eq(hv_match(p, t, HV_PINS(hv_int(2)), NULL), HV_EBADARG);
    ck_assert_int_eq(hv_match(p, HV_NONE, HV_PINS(hv_int(2)), &b), HV_EBADARG);
    /* A pin not supplied is named. */
    ck_assert_int_eq(hv_match(p, t, NULL, &b), HV_EBADARG);
    ck_assert_msg(strstr(b.what, "Pin") != NULL, "%s", b.what);
    ck_assert_int_eq(hv_match(p, t, &(hv_pins){0, NULL}, &b), HV_EBADARG);
    ck_assert_int_eq(hv_match(p, t, HV_PINS(hv_int(2)), &b), HV_OK);
    hv_release(t);
    hv_pattern_free(p);
}
END_TEST

START_TEST(test_pattern_compile_fails_cleanly_at_every_allocation)
{
    const char *text = "{tag, X, [H | T], #{^K := V}, <<\"s\">>} when "
                       "is_integer(X), X > 1; X =~ \"^a+$\"";
    for (int n = 0; n < 100000; n++) {
        hv_error err = {0};
        hv__alloc_fail_after(n);
        hv_pattern *p = hv_pattern_compile(text, &err);
        hv__alloc_fail_after(-1);
        if (p != NULL) {
            hv_pattern_free(p);
            return;
        }
        ck_assert_msg(err.code == HV_ENOMEM, "allocation %d: %d %s", n,
                      err.code, err.what);
    }
    ck_abort_msg("never compiled");
}
END_TEST

/* ---- compile errors ---------------------------------------------------- */

/* A text that must not compile: the code, where, the offending text that
 * `what` must quote, and what was expected (one of these words). */
struct bad {
    const char *text;
    int code, line, column;
    const char *found;
    const char *expected[4];
};

/* clang-format off: one case a line reads better than one field a line */
static const struct bad bad_patterns[] = {
    {"{a, b", HV_ESYNTAX, 1, 6, "end of input", {"'}'"}},
    {"{a,, b}", HV_ESYNTAX, 1, 4, "','", {"pattern", "term"}},
    {"[H | T | U]", HV_ESYNTAX, 1, 8, "'|'", {"']'"}},
    {"#{k => V}", HV_ESYNTAX, 1, 5, "'=>'", {"':='"}},
    {"#{Key := V}", HV_ESYNTAX, 1, 3, "Key", {"pin", "literal", "bound"}},
    {"#{a := }", HV_ESYNTAX, 1, 8, "'}'", {"pattern", "term", "value"}},
    {"foo(", HV_ESYNTAX, 1, 4, "'('", {"end of input", "when"}},
    {"foo:bar(X)", HV_ESYNTAX, 1, 4, "':'", {"end of input", "when"}},
    {"X when", HV_ESYNTAX, 1, 7, "end of input", {"guard", "expression"}},
    {"X when is_foo(X)", HV_ESYNTAX, 1, 8, "is_foo", {"guard", "unknown"}},
    {"X when Yak > 1", HV_ESYNTAX, 1, 8, "Yak", {"bound", "bind"}},
    {"{X} when _ > 1", HV_ESYNTAX, 1, 10, "_", {"bound", "guard"}},
    {"{X, Pat} when X =~ Pat", HV_ESYNTAX, 1, 20, "Pat", {"string"}},
    {"^", HV_ESYNTAX, 1, 2, "end of input", {"variable"}},
    {"^xyz", HV_ESYNTAX, 1, 2, "xyz", {"variable"}},
    {"{a,\n b,\n c zed}", HV_ESYNTAX, 3, 4, "zed", {"'}'"}},
    {"{ok, X}\n  when is_integer(X),\n       X > nope(1)",
     HV_ESYNTAX,
     3,
     12,
     "nope",
     {"guard", "unknown"}},
    {"alpha beta", HV_ESYNTAX, 1, 7, "beta", {"end of input", "when"}},
    {"{a, b}}", HV_ESYNTAX, 1, 7, "'}'", {"end of input", "when"}},
    {"<<300>>", HV_ESYNTAX, 1, 3, "300", {"255"}},
    {"1 + 2", HV_ESYNTAX, 1, 3, "'+'", {"end of input", "when"}},
    {"\"abc", HV_ESYNTAX, 1, 1, "unterminated", {"string"}},
    {"'abc", HV_ESYNTAX, 1, 1, "unterminated", {"atom"}},
    {"{a, @}", HV_ESYNTAX, 1, 5, "'@'", {"character"}},
    {"X when X >", HV_ESYNTAX, 1, 11, "end of input", {"expression", "guard"}},
    {"X when (X > 1", HV_ESYNTAX, 1, 14, "end of input", {"')'"}},
    {"X when X > 1;",
     HV_ESYNTAX,
     1,
     14,
     "end of input",
     {"expression", "guard"}},
    {"X when X > 1 andalso",
     HV_ESYNTAX,
     1,
     21,
     "end of input",
     {"expression", "guard"}},
    {"X when X > 1 when", HV_ESYNTAX, 1, 14, "when", {"end of input", "','"}},
    {"Xyz when is_atom(Xyz) Xyz",
     HV_ESYNTAX,
     1,
     23,
     "Xyz",
     {"end of input", "','", "';'"}},
    {"X when element(1, X) = 1",
     HV_ESYNTAX,
     1,
     22,
     "'='",
     {"end of input", "','", "guard"}},
    {"{X} when element(1)",
     HV_ESYNTAX,
     1,
     10,
     "element",
     {"/1", "arity", "argument"}},
    {"X when hd(X, 1)", HV_ESYNTAX, 1, 8, "hd", {"/2", "arity", "argument"}},
    {"X when self(X)", HV_ESYNTAX, 1, 8, "self", {"/1", "arity", "argument"}},
    {"[1, 2 | ]", HV_ESYNTAX, 1, 9, "']'", {"pattern", "term", "tail"}},
    {"X = ", HV_ESYNTAX, 1, 5, "end of input", {"pattern", "term"}},
    {"{", HV_ESYNTAX, 1, 2, "end of input", {"pattern", "term", "'}'"}},
    {"", HV_ESYNTAX, 1, 1, "end of input", {"pattern", "term"}},
    {"<0.1>", HV_ESYNTAX, 1, 5, "'>'", {"'.'"}},
    {"#Ref<0.1.2", HV_ESYNTAX, 1, 11, "end of input", {"'>'", "'.'"}},
};
/* clang-format on */

/* Checks one rejected text against its case; complains into report. */
static void
check_bad(const struct bad *c, char *report, size_t size)
{
    hv_error err = {0};
    hv_pattern *p = hv_pattern_compile(c->text, &err);
    if (p != NULL) {
        hv_pattern_free(p);
        complain(report, size, c->text, "compiled");
        return;
    }
    char got[400];
    snprintf(got, sizeof got, "code %d at %d:%d (offset %zu): %s", err.code,
             err.line, err.column, err.offset, err.what);
    int line, column;
    position_at(c->text, err.offset, &line, &column);
    bool named = strstr(err.what, c->found) != NULL;
    bool expected = false;
    for (size_t i = 0; i < 4 && c->expected[i] != NULL; i++)
        expected |= strstr(err.what, c->expected[i]) != NULL;
    if (err.code != c->code || err.line != c->line || err.column != c->column ||
        line != err.line || column != err.column || !named || !expected)
        complain(report, size, c->text, got);
}

START_TEST(test_pattern_compile_errors_say_where_and_what_was_expected)
{
    static char report[8192];
    report[0] = '\0';
    for (size_t i = 0; i < sizeof bad_patterns / sizeof bad_patterns[0]; i++)
        check_bad(&bad_patterns[i], report, sizeof report);
    ck_assert_msg(report[0] == '\0', "%s", report);
}
END_TEST

/* A bad regex: pcre2's message and its offset, pointing into the regex
 * literal (its opening quote or the character pcre2 blames). */
static void
check_bad_regex(const char *regex, const char *message)
{
    char text[64];
    hv_error err = {0};
    snprintf(text, sizeof text, "X when X =~ \"%s\"", regex);
    ck_assert_msg(hv_pattern_compile(text, &err) == NULL, "%s", text);
    ck_assert_int_eq(err.code, HV_ESYNTAX);
    ck_assert_int_eq(err.line, 1);
    int quote = (int)(strchr(text, '"') - text) + 1;
    ck_assert_msg(err.column >= quote &&
                      err.column <= quote + 1 + (int)strlen(regex),
                  "%s: column %d", text, err.column);
    ck_assert_msg(strstr(err.what, message) != NULL, "%s", err.what);
    ck_assert_msg(strstr(err.what, "1") != NULL, "no offset: %s", err.what);
}

START_TEST(test_pattern_bad_regex_reports_pcre2_message_and_offset)
{
    check_bad_regex("[", "missing terminating ]");
    check_bad_regex("(", "missing closing parenthesis");
}
END_TEST

START_TEST(test_pattern_atom_longer_than_255_bytes_is_rejected)
{
    char text[300 + 16];
    hv_error err = {0};
    memset(text, 0, sizeof text);
    memcpy(text, "{x, ", 4);
    memset(text + 4, 'a', 255);
    strcat(text, "}");
    hv_pattern_free(compile_ok(text)); /* 255 is the longest allowed */
    text[4 + 255] = 'a';
    strcpy(text + 4 + 256, "}");
    ck_assert(hv_pattern_compile(text, &err) == NULL);
    /* As hv_atom_n reports it, and match.h says. */
    ck_assert_msg(err.code == HV_EBADARG, "code %d: %s", err.code, err.what);
    ck_assert_int_eq(err.line, 1);
    ck_assert_int_eq(err.column, 5);
    ck_assert_msg(strstr(err.what, "255") != NULL, "%s", err.what);
}
END_TEST

/* ---- receive sets ------------------------------------------------------ */

static hv_rset *
rset_ok(const char *const *clauses, size_t n)
{
    hv_error err = {0};
    hv_rset *s = hv_rset_compile(clauses, n, &err);
    ck_assert_msg(s != NULL, "%s (%d:%d)", err.what, err.line, err.column);
    return s;
}

/* The clause index t matches in s (no pins), or -1. */
static int
clause_of(const hv_rset *s, const char *text)
{
    hv_term t = term_of(text);
    hv_bindings b;
    int rc = hv_rset_match(s, t, NULL, &b);
    ck_assert_msg(rc == HV_OK || rc == HV_ENOMATCH, "%s: %d", text, rc);
    int clause = rc == HV_OK ? b.clause : -1;
    if (rc == HV_OK)
        ck_assert(b.pattern == hv_rset_clause(s, (size_t)clause));
    hv_release(t);
    return clause;
}

START_TEST(test_pattern_rset_tries_clauses_in_order)
{
    static const char *const c[] = {"{a, X} when X > 10", "{a, X}", "{b, Y, X}",
                                    "_"};
    hv_rset *s = rset_ok(c, 4);
    ck_assert_uint_eq(hv_rset_size(s), 4);
    ck_assert_int_eq(hv_rset_after_clause(s), -1);
    ck_assert(hv_rset_after(s) == HV_INFINITY);
    ck_assert_int_eq(clause_of(s, "{a, 20}"), 0);
    ck_assert_int_eq(clause_of(s, "{a, 5}"), 1);
    ck_assert_int_eq(clause_of(s, "{b, 1, 2}"), 2);
    ck_assert_int_eq(clause_of(s, "foo"), 3);

    /* Bindings are by the matching clause's own variable order. */
    hv_term t = term_of("{b, 1, 2}");
    hv_bindings b;
    ck_assert_int_eq(hv_rset_match(s, t, NULL, &b), HV_OK);
    ck_assert_uint_eq(b.nvars, 2);
    ck_assert(hv_equal(b.var[0], hv_int(1)));
    ck_assert(hv_equal(hv_binding(&b, "X"), hv_int(2)));
    hv_release(t);
    hv_rset_free(s);

    s = hv_rset_new(NULL, "{a, X}", "{b, X}", NULL);
    ck_assert(s != NULL);
    ck_assert_uint_eq(hv_rset_size(s), 2);
    ck_assert_int_eq(clause_of(s, "{b, 1}"), 1);
    ck_assert_int_eq(clause_of(s, "{c, 1}"), -1);
    hv_rset_free(s);
}
END_TEST

START_TEST(test_pattern_rset_after_clause_may_stand_anywhere)
{
    static const char *const c[] = {"{a, X}", "after 100", "{b, X}"};
    hv_rset *s = rset_ok(c, 3);
    ck_assert_uint_eq(hv_rset_size(s), 3);
    ck_assert(hv_rset_after(s) == 100);
    ck_assert_int_eq(hv_rset_after_clause(s), 1);
    ck_assert(hv_rset_clause(s, 0) != NULL);
    ck_assert(hv_rset_clause(s, 1) == NULL);
    ck_assert(hv_rset_clause(s, 2) != NULL);
    ck_assert(hv_rset_clause(s, 3) == NULL);
    ck_assert_int_eq(clause_of(s, "{b, 1}"), 2);
    hv_rset_free(s);

    s = hv_rset_new(NULL, "x", "after infinity", NULL);
    ck_assert(s != NULL);
    ck_assert(hv_rset_after(s) == HV_INFINITY);
    ck_assert_int_eq(hv_rset_after_clause(s), 1);
    hv_rset_free(s);
}
END_TEST

START_TEST(test_pattern_rset_of_only_an_after_clause_is_a_timed_wait)
{
    /* Erlang's `receive after 0 -> ok end`: nothing matches, it only
     * waits. */
    hv_error err = {0};
    hv_rset *s = hv_rset_new(&err, "after 0", NULL);
    ck_assert_msg(s != NULL, "%s", err.what);
    ck_assert_uint_eq(hv_rset_size(s), 1);
    ck_assert(hv_rset_after(s) == 0);
    ck_assert_int_eq(hv_rset_after_clause(s), 0);
    ck_assert(hv_rset_clause(s, 0) == NULL);
    ck_assert_int_eq(clause_of(s, "x"), -1);
    hv_rset_free(s);
}
END_TEST

/* Compiles clauses that must fail; checks the code and that the message
 * names the clause by its index (as hv_rset_clause and b->clause count). */
static void
check_bad_set(const char *const *c, size_t n, int code, const char *clause)
{
    hv_error err = {0};
    hv_rset *s = hv_rset_compile(c, n, &err);
    if (s != NULL)
        hv_rset_free(s);
    ck_assert_msg(s == NULL, "accepted, %zu clauses", n);
    ck_assert_msg(err.code == code, "code %d, want %d: %s", err.code, code,
                  err.what);
    if (clause != NULL)
        ck_assert_msg(strncmp(err.what, clause, strlen(clause)) == 0,
                      "'%s' does not start with '%s'", err.what, clause);
}

START_TEST(test_pattern_rset_errors_name_the_clause)
{
    hv_error err = {0};
    static const char *const syntax[] = {"{a, X}", "{b,\n  }", "c"};
    ck_assert(hv_rset_compile(syntax, 3, &err) == NULL);
    ck_assert_int_eq(err.code, HV_ESYNTAX);
    ck_assert_msg(strncmp(err.what, "clause 1: ", 10) == 0, "%s", err.what);
    ck_assert_int_eq(err.line, 2); /* inside the clause */
    ck_assert_int_eq(err.column, 3);
    ck_assert_msg(strstr(err.what, "'}'") != NULL, "%s", err.what);

    static const char *const two_afters[] = {"a", "after 10", "after 20"};
    check_bad_set(two_afters, 3, HV_ESYNTAX, "clause 2: ");
    static const char *const after_atom[] = {"a", "after foo"};
    check_bad_set(after_atom, 2, HV_ESYNTAX, "clause 1: ");
    static const char *const after_float[] = {"a", "after 1.5"};
    check_bad_set(after_float, 2, HV_ESYNTAX, "clause 1: ");
    static const char *const after_string[] = {"a", "after \"10\""};
    check_bad_set(after_string, 2, HV_ESYNTAX, "clause 1: ");
    static const char *const after_nothing[] = {"a", "after"};
    check_bad_set(after_nothing, 2, HV_ESYNTAX, "clause 1: ");
    static const char *const after_negative[] = {"a", "after -5"};
    check_bad_set(after_negative, 2, HV_ESYNTAX, "clause 1: ");
    static const char *const guard[] = {"a", "b", "X when nope(X)"};
    check_bad_set(guard, 3, HV_ESYNTAX, "clause 2: ");
}
END_TEST

START_TEST(test_pattern_rset_rejects_empty_null_and_too_many_clauses)
{
    hv_error err = {0};
    static const char *const one[] = {"a"};
    ck_assert(hv_rset_compile(one, 0, &err) == NULL);
    ck_assert_int_eq(err.code, HV_EBADARG);
    err.code = 0;
    ck_assert(hv_rset_new(&err, NULL) == NULL);
    ck_assert_int_eq(err.code, HV_EBADARG);
    err.code = 0;
    ck_assert(hv_rset_compile(NULL, 2, &err) == NULL);
    ck_assert_int_eq(err.code, HV_EBADARG);
    static const char *const hole[] = {"a", NULL, "c"};
    check_bad_set(hole, 3, HV_EBADARG, NULL);

    static const char *many[HV_MATCH_MAX_CLAUSES + 1];
    for (size_t i = 0; i <= HV_MATCH_MAX_CLAUSES; i++)
        many[i] = "{x, Y}";
    hv_rset *s = rset_ok(many, HV_MATCH_MAX_CLAUSES);
    ck_assert_uint_eq(hv_rset_size(s), HV_MATCH_MAX_CLAUSES);
    hv_rset_free(s);
    check_bad_set(many, HV_MATCH_MAX_CLAUSES + 1, HV_ELIMIT, NULL);

    hv_bindings b;
    hv_term t = hv_atom("a");
    ck_assert_int_eq(hv_rset_match(NULL, t, NULL, &b), HV_EBADARG);
    s = rset_ok(one, 1);
    ck_assert_int_eq(hv_rset_match(s, t, NULL, NULL), HV_EBADARG);
    ck_assert_int_eq(hv_rset_match(s, HV_NONE, NULL, &b), HV_EBADARG);
    hv_rset_free(s);
}
END_TEST

START_TEST(test_pattern_rset_shares_pins_across_clauses)
{
    static const char *const c[] = {"{reply, ^Ref, X}", "{error, ^Ref, ^Why}",
                                    "{other, ^Tag, ^Ref}"};
    hv_rset *s = rset_ok(c, 3);
    ck_assert_uint_eq(hv_rset_pin_count(s), 3);
    ck_assert_str_eq(hv_rset_pin_name(s, 0), "Ref");
    ck_assert_str_eq(hv_rset_pin_name(s, 1), "Why");
    ck_assert_str_eq(hv_rset_pin_name(s, 2), "Tag");

    hv_term ref = hv_ref_make();
    const hv_pins *pins = HV_PINS(ref, hv_atom("timeout"), hv_atom("t"));
    hv_term err_msg =
        hv_tuple(3, hv_atom("error"), hv_retain(ref), hv_atom("timeout"));
    hv_term other = hv_tuple(3, hv_atom("other"), hv_atom("t"), hv_retain(ref));
    hv_term stale =
        hv_tuple(3, hv_atom("reply"), hv_ref_make(), hv_atom("late"));
    hv_bindings b;
    ck_assert_int_eq(hv_rset_match(s, err_msg, pins, &b), HV_OK);
    ck_assert_int_eq(b.clause, 1);
    ck_assert_uint_eq(b.nvars, 0);
    ck_assert_int_eq(hv_rset_match(s, other, pins, &b), HV_OK);
    ck_assert_int_eq(b.clause, 2);
    ck_assert_int_eq(hv_rset_match(s, stale, pins, &b), HV_ENOMATCH);

    /* Every pin must be supplied, even those only later clauses use. */
    ck_assert_int_eq(hv_rset_match(s, err_msg, HV_PINS(ref), &b), HV_EBADARG);
    ck_assert_msg(strstr(b.what, "Why") != NULL, "%s", b.what);
    ck_assert_int_eq(hv_rset_match(s, err_msg, NULL, &b), HV_EBADARG);
    hv_release(err_msg);
    hv_release(other);
    hv_release(stale);
    hv_release(ref);
    hv_rset_free(s);
}
END_TEST

START_TEST(test_pattern_rset_compile_fails_cleanly_at_every_allocation)
{
    static const char *const c[] = {"{reply, ^Ref, X} when X > 0",
                                    "{data, B} when B =~ \"^[a-z]+$\"",
                                    "after 100", "_"};
    for (int n = 0; n < 100000; n++) {
        hv_error err = {0};
        hv__alloc_fail_after(n);
        hv_rset *s = hv_rset_compile(c, 4, &err);
        hv__alloc_fail_after(-1);
        if (s != NULL) {
            hv_rset_free(s);
            return;
        }
        ck_assert_msg(err.code == HV_ENOMEM, "allocation %d: %d %s", n,
                      err.code, err.what);
    }
    ck_abort_msg("never compiled");
}
END_TEST

/* ---- one set, many threads --------------------------------------------- */

static const char *const shared_clauses[] = {
    "{reply, ^Ref, Value}",
    "{data, Bin} when Bin =~ \"^[a-z]+[0-9]$\"",
    "{num, N} when is_integer(N), N rem 3 == 0",
    "{num, N} when N > 100",
    "_",
};

/* A message, the clause it must match and the value its first variable
 * must have (HV_NONE: not checked). */
struct probe {
    hv_term msg;
    int clause;
    hv_term first;
};

enum { PROBES = 8, THREADS = 4 };

static struct {
    hv_rset *set;
    hv_term ref;
    struct probe probe[PROBES];
    long rounds;
    atomic_long wrong;
} shared;

static void *
match_in_a_thread(void *arg)
{
    size_t skew = (size_t)(uintptr_t)arg; /* threads start apart */
    for (long i = 0; i < shared.rounds; i++) {
        const struct probe *p = &shared.probe[(skew + (size_t)i) % PROBES];
        hv_bindings b;
        int rc = hv_rset_match(shared.set, p->msg, HV_PINS(shared.ref), &b);
        bool right = rc == HV_OK && b.clause == p->clause &&
                     (p->first == HV_NONE || hv_equal(b.var[0], p->first));
        if (!right)
            atomic_fetch_add(&shared.wrong, 1);
    }
    return NULL;
}

static void
set_probe(int i, hv_term msg, int clause, hv_term first)
{
    shared.probe[i] = (struct probe){msg, clause, first};
}

START_TEST(test_pattern_rset_is_shared_by_threads_matching_at_once)
{
    shared.set = rset_ok(shared_clauses, 5);
    shared.ref = hv_ref_make();
    shared.rounds = hv_check_scale(200000);
    atomic_store(&shared.wrong, 0);
    set_probe(0, hv_tuple(3, hv_atom("reply"), shared.ref, hv_int(1)), 0,
              hv_int(1));
    set_probe(1, hv_tuple(3, hv_atom("reply"), hv_ref_make(), hv_int(1)), 4,
              HV_NONE);
    set_probe(2, hv_tuple(2, hv_atom("data"), hv_string("abc7")), 1, HV_NONE);
    set_probe(3, hv_tuple(2, hv_atom("data"), hv_string("ABC7")), 4, HV_NONE);
    set_probe(4, hv_tuple(2, hv_atom("num"), hv_int(9)), 2, hv_int(9));
    set_probe(5, hv_tuple(2, hv_atom("num"), hv_int(101)), 3, hv_int(101));
    set_probe(6, hv_tuple(2, hv_atom("num"), hv_int(102)), 2, hv_int(102));
    set_probe(7, hv_tuple(2, hv_atom("num"), hv_int(5)), 4, HV_NONE);

    pthread_t th[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        ck_assert_int_eq(
            pthread_create(&th[i], NULL, match_in_a_thread, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    long wrong = atomic_load(&shared.wrong);
    for (int i = 0; i < PROBES; i++)
        hv_release(shared.probe[i].msg);
    hv_rset_free(shared.set);
    ck_assert_msg(wrong == 0, "%ld wrong results", wrong);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("pattern");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc,
                   test_pattern_compiles_every_kind_of_pattern_and_a_final_dot);
    tcase_add_test(tc, test_pattern_compile_n_reads_len_bytes_and_no_further);
    tcase_add_test(tc,
                   test_pattern_names_variables_in_order_of_first_appearance);
    tcase_add_test(tc, test_pattern_names_pins_apart_from_variables);
    tcase_add_test(tc, test_pattern_binds_at_most_max_vars_variables);

    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_pattern_rejects_null_arguments);
    tcase_add_test(tc,
                   test_pattern_compile_errors_say_where_and_what_was_expected);
    tcase_add_test(tc, test_pattern_bad_regex_reports_pcre2_message_and_offset);
    tcase_add_test(tc, test_pattern_atom_longer_than_255_bytes_is_rejected);
    tcase_add_test(tc, test_pattern_compile_fails_cleanly_at_every_allocation);

    tc = hv_check_tcase(s, "rset");
    tcase_add_test(tc, test_pattern_rset_tries_clauses_in_order);
    tcase_add_test(tc, test_pattern_rset_after_clause_may_stand_anywhere);
    tcase_add_test(tc,
                   test_pattern_rset_of_only_an_after_clause_is_a_timed_wait);
    tcase_add_test(tc, test_pattern_rset_errors_name_the_clause);
    tcase_add_test(tc,
                   test_pattern_rset_rejects_empty_null_and_too_many_clauses);
    tcase_add_test(tc, test_pattern_rset_shares_pins_across_clauses);
    tcase_add_test(tc,
                   test_pattern_rset_compile_fails_cleanly_at_every_allocation);

    tc = hv_check_tcase(s, "threads");
    tcase_add_test(tc, test_pattern_rset_is_shared_by_threads_matching_at_once);
    return s;
}
