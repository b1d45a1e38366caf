/* tests/check_match_table.c - the pattern-matching table.  Every case of
 * tests/match_cases.txt (its format is described at its top) is one loop
 * test: compile the pattern, supply the pins, match the term, and compare
 * every binding with the expected one, so a failure names the table line.
 * Then hv_match's argument errors, bindings by unknown names, and one
 * compiled pattern matched from four threads at once.
 *
 * The table is read when the suite is built, before Check forks, from
 * $top_srcdir/tests/match_cases.txt (the harness exports top_srcdir; "."
 * otherwise), and lives until the program ends.
 * tests/erlang/match_cases.escript checks the same table against Erlang. */
#define _POSIX_C_SOURCE 200809L /* getline, strtok_r, strdup */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive/hive.h"
#include "tests/hv_check.h"

#define TABLE_FILE "tests/match_cases.txt"

/* One case of the table.  The fields point into text, the line's own
 * copy; bad says why the line could not be read (NULL when it was). */
struct table_case {
    int line;
    char *text;
    const char *pattern, *term, *pins, *expect;
    const char *bad;
};

static struct table_case *cases;
static int ncases;
/* Why the table could not be opened ("" when it was). */
static char table_error[512];

/* ---- reading the table ------------------------------------------------ */

static char *
trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \r\n", s[n - 1]) != NULL)
        s[--n] = '\0';
    return s;
}

/* Splits s in place at runs of tabs (so columns may be aligned with
 * several) into at most max fields; returns max + 1 if there are more. */
static int
split_tabs(char *s, char **field, int max)
{
    char *save = NULL;
    int n = 0;
    for (char *f = strtok_r(s, "\t", &save); f != NULL;
         f = strtok_r(NULL, "\t", &save)) {
        if (n == max)
            return max + 1;
        field[n++] = trim(f);
    }
    return n;
}

static void
add_line(const char *raw, int line)
{
    char *text = strdup(raw);
    if (text == NULL)
        abort();
    char *s = trim(text);
    if (*s == '\0' || *s == '%') {
        free(text);
        return;
    }
    /* '!' marks a case the Erlang cross-check skips; hive checks it. */
    if (*s == '!')
        s++;
    struct table_case *grown = realloc(cases, (ncases + 1) * sizeof *cases);
    if (grown == NULL)
        abort();
    cases = grown;
    struct table_case *c = &cases[ncases++];
    memset(c, 0, sizeof *c);
    c->line = line;
    c->text = text;
    char *field[4];
    if (split_tabs(s, field, 4) != 4) {
        c->bad = "expected 4 tab-separated fields: pattern, term, pins, "
                 "expected";
        return;
    }
    c->pattern = field[0];
    c->term = field[1];
    c->pins = field[2];
    c->expect = field[3];
}

static void
load_table(void)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", top != NULL && *top ? top : ".",
             TABLE_FILE);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(table_error, sizeof table_error, "cannot open %.400s: %s",
                 path, strerror(errno));
        return;
    }
    char *buf = NULL;
    size_t cap = 0;
    for (int line = 1; getline(&buf, &cap, f) >= 0; line++)
        add_line(buf, line);
    free(buf);
    fclose(f);
}

/* ---- the fields: terms and "Name = term, ..." lists ------------------- */

/* One "Name = term" of a pins or expected field; value is new. */
struct named {
    char name[64];
    hv_term value;
};

/* The end of the item that starts at s: its first ',' outside brackets,
 * binaries and quotes, or the terminating NUL.  Single '<' and '>' are
 * not brackets: they appear in pids, refs and "=>" but hold no commas. */
static const char *
item_end(const char *s)
{
    int depth = 0;
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\'') {
            char quote = *s;
            for (s++; *s != '\0' && *s != quote; s++)
                if (*s == '\\' && s[1] != '\0')
                    s++;
            if (*s == '\0')
                return s;
        } else if ((s[0] == '<' && s[1] == '<') ||
                   (s[0] == '>' && s[1] == '>')) {
            depth += s[0] == '<' ? 1 : -1;
            s++;
        } else if (strchr("{[(", *s) != NULL) {
            depth++;
        } else if (strchr("}])", *s) != NULL) {
            depth--;
        } else if (*s == ',' && depth == 0) {
            return s;
        }
    }
    return s;
}

static hv_term
parse_term(const struct table_case *c, const char *text)
{
    hv_error err;
    hv_term t = hv_parse(text, &err);
    ck_assert_msg(t != HV_NONE, "%s:%d: hv_parse(\"%s\") failed: %s",
                  TABLE_FILE, c->line, text, err.what);
    return t;
}

/* Reads "Name = term, ..." into out (at most HV_MATCH_MAX_VARS); "-" and
 * "match" hold none.  Returns the count. */
static int
parse_named(const struct table_case *c, const char *text, struct named *out)
{
    if (strcmp(text, "-") == 0 || strcmp(text, "match") == 0)
        return 0;
    int n = 0;
    for (const char *s = text; *s != '\0';) {
        const char *end = item_end(s);
        const char *name = s + strspn(s, " ");
        size_t name_len = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "abcdefghijklmnopqrstuvwxyz"
                                       "0123456789_");
        const char *eq = name + name_len + strspn(name + name_len, " ");
        ck_assert_msg(n < HV_MATCH_MAX_VARS && name_len > 0 &&
                          name_len < sizeof out[n].name && *eq == '=' &&
                          eq < end,
                      "%s:%d: expected `Name = term, ...`, not `%s`",
                      TABLE_FILE, c->line, text);
        memcpy(out[n].name, name, name_len);
        out[n].name[name_len] = '\0';
        char *value = strndup(eq + 1, (size_t)(end - eq - 1));
        ck_assert_ptr_nonnull(value);
        out[n].value = parse_term(c, value);
        free(value);
        n++;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static void
release_named(struct named *v, int n)
{
    for (int i = 0; i < n; i++)
        hv_release(v[i].value);
}

/* Puts the table's pin values in the pattern's pin order, which is the
 * order hv_match takes them in. */
static void
order_pins(const struct table_case *c, const hv_pattern *p,
           const struct named *given, int n, hv_term *out)
{
    size_t want = hv_pattern_pin_count(p);
    ck_assert_msg(want == (size_t)n,
                  "%s:%d: `%s` has %zu pins, the table gives %d", TABLE_FILE,
                  c->line, c->pattern, want, n);
    for (size_t i = 0; i < want; i++) {
        const char *name = hv_pattern_pin_name(p, i);
        int j = 0;
        while (j < n && strcmp(given[j].name, name) != 0)
            j++;
        ck_assert_msg(j < n, "%s:%d: no value for pin ^%s", TABLE_FILE, c->line,
                      name);
        out[i] = given[j].value;
    }
}

/* ---- checking one case ------------------------------------------------ */

/* "X = 1, Y = a": what the match bound, for failure messages. */
static void
describe(const hv_pattern *p, const hv_bindings *b, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < b->nvars && used < size; i++) {
        char value[128];
        hv_format(b->var[i], value, sizeof value);
        used += (size_t)snprintf(out + used, size - used, "%s%s = %s",
                                 i > 0 ? ", " : "", hv_pattern_var_name(p, i),
                                 value);
    }
}

/* The verdicts below write why a case fails into why (left "" when it
 * holds), so that the test frees everything before it asserts: under
 * CK_FORK=no a failing assertion must not add leaks to valgrind's report. */

/* Every expected variable bound to its value, and no other. */
static void
check_bindings(const hv_pattern *p, const hv_bindings *b,
               const struct named *want, int n, char *why, size_t size)
{
    char got[512];
    describe(p, b, got, sizeof got);
    if (hv_pattern_var_count(p) != (size_t)n || b->nvars != (unsigned)n) {
        snprintf(why, size, "%zu variables, %u bound (%s), expected %d",
                 hv_pattern_var_count(p), b->nvars, got, n);
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = want[i].name;
        hv_term value = hv_binding(b, name);
        if (value == HV_NONE || !hv_equal(value, want[i].value)) {
            snprintf(why, size, "bound %s", got);
            return;
        }
        /* The index view must agree with the by-name one. */
        int at = hv_pattern_var_index(p, name);
        if (at < 0 || b->var[at] != value ||
            strcmp(hv_pattern_var_name(p, (size_t)at), name) != 0) {
            snprintf(why, size,
                     "variable %.63s: index %d disagrees with its name", name,
                     at);
            return;
        }
    }
}

static void
check_result(const struct table_case *c, const hv_pattern *p, hv_term t, int rc,
             const hv_bindings *b, char *why, size_t size)
{
    char got[512] = "";
    if (strcmp(c->expect, "nomatch") == 0) {
        if (rc == HV_OK)
            describe(p, b, got, sizeof got);
        if (rc != HV_ENOMATCH)
            snprintf(why, size, "got %d (%s) [%s]", rc, hv_strerror(rc), got);
        return;
    }
    if (rc != HV_OK) {
        snprintf(why, size, "got %d (%s) %s", rc, hv_strerror(rc),
                 rc == HV_EBADARG ? b->what : "");
        return;
    }
    if (b->msg != t || b->clause != 0 || b->pattern != p) {
        snprintf(why, size, "msg, clause or pattern of the bindings wrong");
        return;
    }
    struct named want[HV_MATCH_MAX_VARS];
    int n = parse_named(c, c->expect, want);
    check_bindings(p, b, want, n, why, size);
    release_named(want, n);
}

static void
check_case(const struct table_case *c, const hv_pattern *p, char *why,
           size_t size)
{
    hv_term t = parse_term(c, c->term);
    struct named pins[HV_MATCH_MAX_VARS];
    int npins = parse_named(c, c->pins, pins);
    hv_term pinv[HV_MATCH_MAX_VARS];
    order_pins(c, p, pins, npins, pinv);
    const hv_pins given = {(size_t)npins, pinv};
    hv_bindings b;
    int rc = hv_match(p, t, npins > 0 ? &given : NULL, &b);
    check_result(c, p, t, rc, &b, why, size);
    release_named(pins, npins);
    hv_release(t);
}

START_TEST(test_match_table_case_holds)
{
    const struct table_case *c = &cases[_i];
    ck_assert_msg(c->bad == NULL, "%s:%d: %s", TABLE_FILE, c->line, c->bad);
    hv_error err;
    hv_pattern *p = hv_pattern_compile(c->pattern, &err);
    ck_assert_msg(p != NULL, "%s:%d: `%s` does not compile: %s (%d:%d)",
                  TABLE_FILE, c->line, c->pattern, err.what, err.line,
                  err.column);
    char why[1024] = "";
    check_case(c, p, why, sizeof why);
    hv_pattern_free(p);
    ck_assert_msg(why[0] == '\0', "%s:%d: `%s` against %s: expected %s, %s",
                  TABLE_FILE, c->line, c->pattern, c->term, c->expect, why);
}
END_TEST

START_TEST(test_match_table_is_read_in_full)
{
    ck_assert_msg(table_error[0] == '\0', "%s", table_error);
    ck_assert_msg(ncases >= 170, "%s holds only %d cases", TABLE_FILE, ncases);
}
END_TEST

/* ---- outside the table ------------------------------------------------ */

START_TEST(test_match_table_rejects_bad_arguments_and_names_missing_pins)
{
    hv_pattern *p = hv_pattern_compile("{^Ref, X}", NULL);
    hv_pattern *two = hv_pattern_compile("{^First, ^Second}", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(two);
    hv_term t = hv_parse("{ok, 1}", NULL);
    hv_bindings b;
    ck_assert_int_eq(hv_match(NULL, t, HV_PINS(HV_ATOM_OK), &b), HV_EBADARG);
    ck_assert_int_eq(hv_match(p, HV_NONE, HV_PINS(HV_ATOM_OK), &b), HV_EBADARG);
    ck_assert_int_eq(hv_match(p, t, HV_PINS(HV_ATOM_OK), NULL), HV_EBADARG);

    memset(&b, 0, sizeof b);
    ck_assert_int_eq(hv_match(p, t, NULL, &b), HV_EBADARG);
    ck_assert_msg(strstr(b.what, "Ref") != NULL, "what: \"%s\"", b.what);
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(hv_match(p, t, &(const hv_pins){0, NULL}, &b), HV_EBADARG);
    ck_assert_msg(strstr(b.what, "Ref") != NULL, "what: \"%s\"", b.what);
    /* With one of two pins given, the one missing is named. */
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(hv_match(two, t, HV_PINS(HV_ATOM_OK), &b), HV_EBADARG);
    ck_assert_msg(strstr(b.what, "Second") != NULL, "what: \"%s\"", b.what);

    /* The pattern still works once its pin is given. */
    ck_assert_int_eq(hv_match(p, t, HV_PINS(HV_ATOM_OK), &b), HV_OK);
    int64_t x = 0;
    ck_assert_int_eq(hv_int_value(hv_binding(&b, "X"), &x), HV_OK);
    ck_assert_int_eq(x, 1);
    hv_release(t);
    hv_pattern_free(two);
    hv_pattern_free(p);
}
END_TEST

START_TEST(test_match_table_binding_of_an_unknown_name_is_none)
{
    hv_pattern *p = hv_pattern_compile("{X, _, _Y}", NULL);
    ck_assert_ptr_nonnull(p);
    hv_term t = hv_parse("{1, 2, 3}", NULL);
    hv_bindings b;
    ck_assert_int_eq(hv_match(p, t, NULL, &b), HV_OK);
    ck_assert_uint_eq(hv_pattern_var_count(p), 2);
    ck_assert(hv_binding(&b, "X") != HV_NONE);
    ck_assert(hv_binding(&b, "_Y") != HV_NONE);
    ck_assert(hv_binding(&b, "Z") == HV_NONE);
    ck_assert(hv_binding(&b, "x") == HV_NONE); /* names are exact */
    ck_assert(hv_binding(&b, "_") == HV_NONE); /* `_` never binds */
    ck_assert(hv_binding(&b, "") == HV_NONE);
    ck_assert_int_eq(hv_pattern_var_index(p, "Z"), -1);
    hv_release(t);
    hv_pattern_free(p);
}
END_TEST

/* ---- one compiled pattern, four threads ------------------------------- */

#define THREADS 4

struct worker {
    const hv_pattern *p;
    int id;
    atomic_int *failures;
};

/* Matches {Tag, I, [I, x]} for a run of I: the tag is the thread's own
 * pin two times in three, and the guard wants I even, so matches and
 * misses interleave; every result and binding is checked. */
static void *
match_from_thread(void *arg)
{
    const struct worker *w = arg;
    char own[8], other[8];
    snprintf(own, sizeof own, "t%d", w->id);
    snprintf(other, sizeof other, "t%d", (w->id + 1) % THREADS);
    hv_term tail = hv_parse("[x]", NULL);
    int bad = tail == HV_NONE;
    long n = hv_check_scale(20000);
    for (long i = 0; i < n; i++) {
        const char *tag = i % 3 == 0 ? other : own;
        hv_term t = hv_make("{~a, ~l, [~l, x]}", tag, (int64_t)i, (int64_t)i);
        hv_bindings b;
        int rc = hv_match(w->p, t, HV_PINS(hv_atom(own)), &b);
        bool want = i % 3 != 0 && i % 2 == 0;
        int64_t got = -1;
        if (rc != (want ? HV_OK : HV_ENOMATCH))
            bad++;
        else if (want && (hv_int_value(hv_binding(&b, "N"), &got) != HV_OK ||
                          got != i || !hv_equal(hv_binding(&b, "T"), tail)))
            bad++;
        hv_release(t);
    }
    hv_release(tail);
    atomic_fetch_add(w->failures, bad);
    return NULL;
}

START_TEST(test_match_table_one_pattern_serves_four_threads_at_once)
{
    hv_error err;
    hv_pattern *p = hv_pattern_compile(
        "{^Tag, N, [H | T]} when is_integer(N), N rem 2 =:= 0, H =:= N", &err);
    ck_assert_msg(p != NULL, "%s", err.what);
    atomic_int failures = 0;
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){p, i, &failures};
        ck_assert_int_eq(pthread_create(&th[i], NULL, match_from_thread, &w[i]),
                         0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(atomic_load(&failures), 0);
    hv_pattern_free(p);
}
END_TEST

Suite *
hv_check_suite(void)
{
    load_table();
    Suite *s = suite_create("match_table");
    TCase *tc = hv_check_tcase(s, "table");
    tcase_add_test(tc, test_match_table_is_read_in_full);
    tcase_add_loop_test(tc, test_match_table_case_holds, 0, ncases);
    tc = hv_check_tcase(s, "errors");
    tcase_add_test(
        tc, test_match_table_rejects_bad_arguments_and_names_missing_pins);
    tcase_add_test(tc, test_match_table_binding_of_an_unknown_name_is_none);
    tc = hv_check_tcase(s, "threads");
    tcase_add_test(tc,
                   test_match_table_one_pattern_serves_four_threads_at_once);
    return s;
}
