/* tests/check_guard.c - guard semantics past the match table: numbers
 * compared across int and float, term order across types, 64-bit
 * arithmetic at its edges, strict and short-circuit logic, guard
 * sequences after a raise, self(), and regexes (shared by many
 * processes, on big, hostile and odd subjects).
 *
 * Every expectation below was checked against Erlang/OTP 25 (a generated
 * module compiled and run), except where a comment says hive differs on
 * purpose: integers past 64 bits, where Erlang goes to bignums and hive's
 * guard is false (match.h), min/max in guards (OTP 26; erlang:max/2 and
 * min/2 were used) and the regex operator =~, which Erlang lacks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive/hive.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"

/* ---- the table runner -------------------------------------------------- */

struct guard_case {
    const char *pattern;
    const char *input; /* Erlang text, parsed with hv_parse */
    bool holds;
};

/* Whether input matches pattern; complains into report (and returns
 * false) when either does not compile or the match fails oddly. */
static bool
holds(const char *pattern, hv_term input, char *report, size_t size)
{
    hv_error err = {0};
    hv_bindings b;
    hv_pattern *p = hv_pattern_compile(pattern, &err);
    size_t used = strlen(report);
    if (p == NULL) {
        snprintf(report + used, size - used, "[%s: does not compile: %s] ",
                 pattern, err.what);
        return false;
    }
    int rc = hv_match(p, input, NULL, &b);
    hv_pattern_free(p);
    if (rc != HV_OK && rc != HV_ENOMATCH)
        snprintf(report + used, size - used, "[%s: hv_match gave %d] ", pattern,
                 rc);
    return rc == HV_OK;
}

/* Runs every case and fails once, listing all that went wrong. */
static void
check_cases(const struct guard_case *c, size_t n)
{
    static char report[8192];
    report[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        hv_error err = {0};
        hv_term t = hv_parse(c[i].input, &err);
        ck_assert_msg(t != HV_NONE, "input %s: %s", c[i].input, err.what);
        size_t before = strlen(report);
        bool got = holds(c[i].pattern, t, report, sizeof report);
        hv_release(t);
        if (strlen(report) == before && got != c[i].holds) {
            snprintf(report + before, sizeof report - before,
                     "[%s with %s: %s, Erlang says %s] ", c[i].pattern,
                     c[i].input, got ? "true" : "false",
                     c[i].holds ? "true" : "false");
        }
    }
    ck_assert_msg(report[0] == '\0', "%s", report);
}

#define CHECK_CASES(table) check_cases(table, sizeof table / sizeof table[0])

/* ---- numbers ----------------------------------------------------------- */

static const struct guard_case int_float_cases[] = {
    {"X when X == 1.0", "1", true},
    {"X when X =:= 1.0", "1", false},
    {"X when X /= 1.0", "1", false},
    {"X when X =/= 1.0", "1", true},
    {"X when X < 1.5", "1", true},
    {"X when X >= 1.0", "1", true},
    {"X when X > 0.5", "1", true},
    {"{A, B} when A =< B", "{1, 1.0}", true},
    {"{A, B} when A >= B", "{1.0, 1}", true},
    {"{A, B} when A < B", "{1.0, 1}", false},
    {"{A, B} when A > B", "{2, 1.5}", true},
    /* Past 2^53 a float is compared as the integer it is, not the
     * integer as a rounded float. */
    {"X when X == 9007199254740992.0", "9007199254740993", false},
    {"X when X > 9007199254740992.0", "9007199254740993", true},
    {"X when X < 9007199254740994.0", "9007199254740993", true},
    {"X when X == 9.223372036854775807e18", "9223372036854775807", false},
    {"X when X < 9.223372036854775807e18", "9223372036854775807", true},
    {"X when X == -9.223372036854775808e18", "-9223372036854775808", true},
    {"X when X > -9.223372036854775808e18", "-9223372036854775807", true},
    /* == goes into structures; map keys are always compared exactly. */
    {"{A, B} when A == B", "{{1, [2]}, {1.0, [2.0]}}", true},
    {"{A, B} when A =:= B", "{{1, [2]}, {1.0, [2.0]}}", false},
    {"{A, B} when A == B", "{#{1 => a}, #{1.0 => a}}", false},
    {"{A, B} when A < B", "{#{1 => a}, #{1.0 => a}}", true},
    {"X when X - 0.5 == 0.5", "1", true},
    {"X when X * 1.0 =:= 3.0", "3", true},
    {"X when X + 0 =:= X", "1.5", true},
    /* erlang:max/min keep the first argument when the two are equal. */
    {"X when max(X, 1.0) =:= 1", "1", true},
    {"X when max(1.0, X) =:= 1.0", "1", true},
    {"X when min(X, 1.0) =:= 1", "1", true},
    {"X when abs(X) == 2.5", "-2.5", true},
};

START_TEST(test_guard_compares_ints_and_floats_by_value_unless_exact)
{
    CHECK_CASES(int_float_cases);
}
END_TEST

/* One term of each type, in ascending Erlang term order (two of most, so
 * that order inside a type is not what decides). */
static const char *const ascending[] = {
    "-5",      "1.5",  "2",      "a",     "zz",        "#Ref<0.1.2.3>",
    "<0.5.0>", "{zz}", "{a, a}", "#{}",   "#{a => 1}", "[]",
    "[1]",     "[2]",  "<<>>",   "<<0>>",
};

START_TEST(test_guard_orders_terms_across_types_as_erlang)
{
    static const char *const ops[] = {
        "{A, B} when A < B",  "{A, B} when A =< B", "{A, B} when A /= B",
        "{A, B} when A > B",  "{A, B} when A >= B", "{A, B} when A == B",
        "{A, B} when A =:= B"};
    static const bool lo_hi[] = {true, true, true, false, false, false, false};
    static char report[8192];
    hv_pattern *p[7];
    size_t n = sizeof ascending / sizeof ascending[0];

    report[0] = '\0';
    for (int k = 0; k < 7; k++) {
        hv_error err = {0};
        p[k] = hv_pattern_compile(ops[k], &err);
        ck_assert_msg(p[k] != NULL, "%s: %s", ops[k], err.what);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            char text[96];
            snprintf(text, sizeof text, "{%s, %s}", ascending[i], ascending[j]);
            hv_term lo_first = hv_parse(text, NULL);
            snprintf(text, sizeof text, "{%s, %s}", ascending[j], ascending[i]);
            hv_term hi_first = hv_parse(text, NULL);
            ck_assert(lo_first != HV_NONE && hi_first != HV_NONE);
            for (int k = 0; k < 7; k++) {
                hv_bindings b;
                bool up = hv_match(p[k], lo_first, NULL, &b) == HV_OK;
                bool down = hv_match(p[k], hi_first, NULL, &b) == HV_OK;
                /* Swapped, < and > trade places; /=, == and =:= do not. */
                bool want_down = k == 2 ? true : k >= 5 ? false : !lo_hi[k];
                size_t used = strlen(report);
                if ((up != lo_hi[k] || down != want_down) && used < 8000)
                    snprintf(report + used, sizeof report - used,
                             "[%s, %s: %s] ", ascending[i], ascending[j],
                             ops[k]);
            }
            hv_release(lo_first);
            hv_release(hi_first);
        }
    }
    for (int k = 0; k < 7; k++)
        hv_pattern_free(p[k]);
    ck_assert_msg(report[0] == '\0', "wrong order: %s", report);
}
END_TEST

static const struct guard_case mixed_type_cases[] = {
    {"X when X > 0", "a", true}, /* an atom is above every number */
    {"X when X == a", "1", false},        {"X when X /= a", "1", true},
    {"X when 1 + X > 0", "a", false}, /* badarith */
    {"X when X + 1 > 0", "<<1>>", false}, {"X when -X < 0", "a", false},
};

START_TEST(test_guard_arithmetic_on_a_non_number_is_false)
{
    CHECK_CASES(mixed_type_cases);
}
END_TEST

/* Erlang would compute these as bignums; hive's guard is false instead,
 * never a wrapped value (match.h).  Each case is chosen so that a
 * wrapped (or trapping) result would hold or crash. */
static const struct guard_case overflow_cases[] = {
    {"X when X + 1 > 0", "9223372036854775807", false},
    {"X when X + 1 < 0", "9223372036854775807", false},
    {"X when X + 1 - 1 == X", "9223372036854775807", false},
    {"X when X - 1 < 0", "-9223372036854775808", false},
    {"X when X - 1 > 0", "-9223372036854775808", false},
    {"X when X * 2 /= 0", "4611686018427387904", false},
    {"X when X * X > 0", "3037000500", false},
    {"X when -X < 0", "-9223372036854775808", false},
    {"X when abs(X) < 0", "-9223372036854775808", false},
    {"X when X div -1 < 0", "-9223372036854775808", false},
    {"X when X bsl 1 < 0", "4611686018427387904", false},
    {"X when X bsl 63 /= 0", "1", false},
    {"X when X bsl 64 == 0", "1", false},
    {"X when X bsl 64 == 1", "1", false},
    /* The next alternative is still tried. */
    {"X when X + 1 > 0; is_integer(X)", "9223372036854775807", true},
    /* Up to the edges it is exact, and crossing 62 bits is no edge. */
    {"X when X * X > 0", "3037000499", true},
    {"X when X * 2 == 9223372036854775806", "4611686018427387903", true},
    {"X when X + 1 == 4611686018427387904", "4611686018427387903", true},
    {"X when X - 1 == 4611686018427387903", "4611686018427387904", true},
    {"X when X - 1 == -9223372036854775808", "-9223372036854775807", true},
    {"X when X bsl 63 == -9223372036854775808", "-1", true},
    {"X when X bsl 100 == 0", "0", true},
    {"X when X rem -1 == 0", "-9223372036854775808", true},
    {"X when X / -1 > 0", "-9223372036854775808", true},
    {"X when X + 1.0 > 0", "9223372036854775807", true},
    {"X when X / 1 > 0", "9223372036854775807", true},
    /* A float past the double range is badarith in Erlang. */
    {"X when X * 10.0 > 0", "1.0e308", false},
    {"X when X * 10 > 0", "1.0e308", false},
    {"X when X - 1.0e308 < 0", "-1.0e308", false},
};

START_TEST(test_guard_int64_overflow_is_false_not_wrapped)
{
    CHECK_CASES(overflow_cases);
}
END_TEST

static const struct guard_case div_rem_cases[] = {
    {"X when X div 2 == 3", "7", true},
    {"X when X div 2 == -3", "-7", true},
    {"X when X div -2 == -3", "7", true},
    {"X when X div -2 == 3", "-7", true},
    {"X when X div 2 == -4", "-9", true},
    {"X when X rem 2 == 1", "7", true},
    {"X when X rem 2 == -1", "-7", true},
    {"X when X rem -2 == 1", "7", true},
    {"X when X rem -2 == -1", "-7", true},
    {"X when X rem 4 == -1", "-9", true},
    {"X when X div 2 == 1", "3.0", false},
    {"X when X rem 2.0 == 1", "3", false},
    {"X when X div 0 > 0", "1", false},
    {"X when X rem 0 == 0", "1", false},
    {"X when X div 0 < 1", "0", false},
};

START_TEST(test_guard_div_and_rem_truncate_toward_zero)
{
    CHECK_CASES(div_rem_cases);
}
END_TEST

static const struct guard_case bit_cases[] = {
    {"X when X bsl 10 == 1024", "1", true},
    {"X when X bsl 62 == 4611686018427387904", "1", true},
    {"X when X bsr 1 == -4", "-8", true},
    {"X when X bsr 1 == -1", "-1", true},
    {"X when X bsr 70 == -1", "-1", true},
    {"X when X bsr 70 == 0", "1", true},
    {"X when X bsr 64 == 0", "1", true},
    {"X when X bsl 1 == -2", "-1", true},
    /* A negative shift goes the other way. */
    {"X when X bsl -1 == 0", "1", true},
    {"X when X bsr -1 == 8", "4", true},
    {"X when X bsl -64 == 0", "1", true},
    {"X when X bsl 1 == 2", "1.0", false},
    {"X when X band 3 == 1", "5", true},
    {"X when X bor 3 == 7", "5", true},
    {"X when X bxor 3 == 6", "5", true},
    {"X when bnot X == 4", "-5", true},
    {"X when bnot X == -1", "0", true},
    {"X when X band 1.0 == 1", "5", false},
};

START_TEST(test_guard_bit_operations_shift_arithmetically)
{
    CHECK_CASES(bit_cases);
}
END_TEST

static const struct guard_case slash_cases[] = {
    {"X when X / 2 =:= 2.0", "4", true},
    {"X when X / 2 =:= 2", "4", false},
    {"X when is_float(X / 2)", "4", true},
    {"X when is_float(X / 1)", "3", true},
    {"X when X / 2 == 3.5", "7", true},
    {"X when X / 0 > 0", "1", false},
    {"X when X / 0 < 1", "0", false},
    {"X when X / 0.0 > 0", "1.0", false},
    {"X when 1 / 0 > 0; X == 1", "1", true},
};

START_TEST(test_guard_slash_always_gives_a_float_and_never_divides_by_zero)
{
    CHECK_CASES(slash_cases);
}
END_TEST

/* ---- logic and sequences ----------------------------------------------- */

static const struct guard_case logic_cases[] = {
    /* and/or are strict: both sides run, and a raise fails the guard. */
    {"X when false and (1/0 > 0)", "1", false},
    {"X when X or (1/0 > 0)", "true", false},
    {"X when X and (1/X > 0)", "false", false},
    /* andalso/orelse stop at the first side that decides. */
    {"X when X orelse (1/0 > 0)", "true", true},
    {"X when X andalso (1/0 > 0)", "false", false},
    {"X when not (X andalso (1/0 > 0))", "false", true},
    {"X when (X orelse (1/0 > 0)) == true", "true", true},
    {"X when X andalso (1/0 > 0)", "true", false},
    {"X when (1/0 > 0) orelse X", "true", false},
    /* The right side of andalso/orelse is not checked to be a boolean,
     * but the guard holds only for the atom true. */
    {"X when X andalso 1", "true", false},
    {"X when X orelse 1", "false", false},
    {"X when X orelse 1", "true", true},
    {"X when X andalso true", "1", false},
    {"X when X orelse true", "1", false},
    {"X when X and true", "1", false},
    {"X when X or false", "1", false},
    {"X when not X", "false", true},
    {"X when not X", "1", false},
    /* not does not turn a raise into true. */
    {"X when not (1/0 > 0)", "1", false},
    {"X when not (1/X > 0)", "0", false},
    {"X when X xor true", "false", true},
    {"X when X xor true", "true", false},
    {"X when X xor true", "1", false},
    {"X when X =:= (true xor false)", "true", true},
    {"X when (X andalso false) == false", "true", true},
    {"X when (X > 1) == false", "0", true},
    {"X when X", "true", true},
    {"X when X", "1", false},
    {"X when X", "yes", false},
};

START_TEST(test_guard_strict_and_short_circuit_logic_as_erlang)
{
    CHECK_CASES(logic_cases);
}
END_TEST

static const struct guard_case sequence_cases[] = {
    {"X when 1/0 > 0; X == 1", "1", true},
    {"X when element(5, X) == 1; is_tuple(X)", "{1}", true},
    {"X when hd(X) == 1; is_list(X)", "[]", true},
    {"X when X > 0, 1/0 > 0; X < 0", "-1", true},
    {"X when X > 0, 1/0 > 0; X < 0", "1", false},
    {"X when is_integer(1/0) == false", "0", false},
    {"X when (X and (1/0 > 0)) == true; true", "true", true},
    {"X when tl(X) == []; 1/0 > 0; X =:= a", "a", true},
};

START_TEST(test_guard_sequence_goes_on_after_an_alternative_raises)
{
    CHECK_CASES(sequence_cases);
}
END_TEST

/* ---- self() ------------------------------------------------------------ */

static hv_pattern *is_me;    /* P when P =:= self() */
static hv_pattern *me_and_n; /* {P, N} when P == self(), N > 0 */
static hv_pattern *has_self; /* _ when is_pid(self()) */

static bool
matches(const hv_pattern *p, hv_term t)
{
    hv_bindings b;
    return hv_match(p, t, NULL, &b) == HV_OK;
}

static void
self_child(void *arg)
{
    hv_term parent = arg_pid(arg);
    EXPECT(matches(is_me, hv_self()));
    EXPECT(!matches(is_me, parent));
    EXPECT(hv_send(parent, hv_atom("checked")) == HV_OK);
}

static void
self_main(void *arg)
{
    (void)arg;
    hv_term me = hv_self();
    EXPECT(matches(is_me, me));
    EXPECT(matches(has_self, hv_atom("any")));
    hv_term t = hv_tuple(2, me, hv_int(1));
    EXPECT(matches(me_and_n, t));
    hv_release(t);
    for (int i = 0; i < 4; i++)
        EXPECT(hv_spawn(self_child, pid_arg(me)) != HV_NONE);
    for (int i = 0; i < 4; i++)
        await_atom("checked");
}

START_TEST(test_guard_self_is_the_process_matching)
{
    is_me = hv_pattern_compile("P when P =:= self()", NULL);
    me_and_n = hv_pattern_compile("{P, N} when P == self(), N > 0", NULL);
    has_self = hv_pattern_compile("_ when is_pid(self())", NULL);
    ck_assert(is_me != NULL && me_and_n != NULL && has_self != NULL);
    run_main(self_main, NULL, 2);
    hv_pattern_free(is_me);
    hv_pattern_free(me_and_n);
    hv_pattern_free(has_self);
}
END_TEST

static const struct guard_case outside_cases[] = {
    {"_ when is_pid(self())", "a", false},
    {"P when P =:= self()", "<0.1.0>", false},
    {"P when P =/= self()", "<0.1.0>", false},
    {"X when self() == self(); X == 1", "1", true},
};

START_TEST(test_guard_self_outside_a_process_is_false)
{
    ck_assert(hv_self() == HV_NONE);
    CHECK_CASES(outside_cases);
}
END_TEST

/* ---- regex ------------------------------------------------------------- */

enum { REGEX_PROCS = 50 };

static hv_pattern *ends_in_7; /* one compiled regex for every process */
static hv_term regex_main_pid;

/* Matches binaries "key-N" (and "KEY-N", which never match) and counts
 * the results that are wrong. */
static void
regex_worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    long n = hv_check_scale(1000), wrong = 0;
    for (long i = 0; i < n; i++) {
        char text[48];
        long v = id * 100000 + i;
        bool upper = i % 5 == 4;
        snprintf(text, sizeof text, upper ? "KEY-%ld" : "key-%ld", v);
        hv_term bin = hv_string(text);
        bool want = !upper && v % 10 == 7;
        wrong += matches(ends_in_7, bin) != want;
        hv_release(bin);
        if (i % 64 == 0)
            hv_yield(); /* interleave with the other processes */
    }
    EXPECT(wrong == 0);
    hv_send(regex_main_pid, hv_atom("done"));
}

static void
regex_main(void *arg)
{
    (void)arg;
    regex_main_pid = hv_self();
    for (long i = 0; i < REGEX_PROCS; i++)
        EXPECT(hv_spawn(regex_worker, (void *)(intptr_t)i) != HV_NONE);
    for (int i = 0; i < REGEX_PROCS; i++)
        await_atom("done");
}

START_TEST(test_guard_regex_is_shared_by_many_processes_at_once)
{
    hv_error err = {0};
    ends_in_7 = hv_pattern_compile("B when B =~ \"^key-[0-9]*7$\"", &err);
    ck_assert_msg(ends_in_7 != NULL, "%s", err.what);
    run_main(regex_main, NULL, 2);
    hv_pattern_free(ends_in_7);
}
END_TEST

/* Whether the binary of len bytes matches pattern. */
static bool
bytes_match(const char *pattern, const void *bytes, size_t len)
{
    hv_error err = {0};
    hv_pattern *p = hv_pattern_compile(pattern, &err);
    ck_assert_msg(p != NULL, "%s: %s", pattern, err.what);
    hv_term bin = hv_binary(bytes, len);
    bool got = matches(p, bin);
    hv_release(bin);
    hv_pattern_free(p);
    return got;
}

START_TEST(test_guard_regex_searches_a_1mb_binary)
{
    enum { MB = 1 << 20 };
    char *big = malloc(MB + 6);
    ck_assert(big != NULL);
    memset(big, 'x', MB);
    memcpy(big + MB, "needle", 6);
    ck_assert(bytes_match("B when B =~ \"needle$\"", big, MB + 6));
    ck_assert(bytes_match("B when B =~ \"^x*needle$\"", big, MB + 6));
    ck_assert(!bytes_match("B when B =~ \"needle\"", big, MB));
    ck_assert(bytes_match("B when B =~ \"^x+$\"", big, MB));
    ck_assert(!bytes_match("B when B =~ \"^x+$\"", big, MB + 1));
    free(big);
}
END_TEST

START_TEST(test_guard_regex_backtracking_blowup_ends_false)
{
    /* (a+)+$ against a...ab tries 2^n ways to split the a's: without a
     * match limit this would not end; the TCase timeout catches a hang. */
    static char subject[4096 + 2];
    hv_pattern *p = hv_pattern_compile("B when B =~ \"(a+)+$\"", NULL);
    hv_pattern *q =
        hv_pattern_compile("B when B =~ \"(a+)+$\"; is_binary(B)", NULL);
    ck_assert(p != NULL && q != NULL);
    for (size_t n = 64; n <= 4096; n *= 64) {
        memset(subject, 'a', n);
        subject[n] = 'b';
        hv_term bin = hv_binary(subject, n + 1);
        ck_assert_msg(!matches(p, bin), "%zu a's then b", n);
        ck_assert_msg(matches(q, bin), "next alternative after %zu", n);
        hv_release(bin);
    }
    hv_term plain = hv_string("aaaa");
    ck_assert(matches(p, plain)); /* still works after hitting the limit */
    hv_release(plain);
    hv_pattern_free(p);
    hv_pattern_free(q);
}
END_TEST

static const struct guard_case regex_cases[] = {
    {"X when X =~ \"abc\"", "<<\"xabcx\">>", true},
    {"X when X =~ \"abc\"", "abc", false},
    {"X when X =~ \"abc\"", "[97, 98, 99]", false},
    {"X when X =~ \"1\"", "1", false},
    {"X when X =~ \"abc\"", "{<<\"abc\">>}", false},
    {"X when X =~ \"abc\"", "1.5", false},
    /* =~ is false, not a raise, on a non-binary (match.h). */
    {"X when not (X =~ \"abc\")", "abc", true},
    {"X when X =~ \"abc\"; is_atom(X)", "abc", true},
    {"X when X =~ \"^$\"", "<<>>", true},
    /* The subject is len bytes, NULs included. */
    {"X when X =~ \"cd$\"", "<<\"ab\\0cd\">>", true},
    {"X when X =~ \"^ab$\"", "<<\"ab\\0cd\">>", false},
    {"X when X =~ \"b\\\\x00c\"", "<<\"ab\\0cd\">>", true},
    {"X when X =~ \"^ab\\0cd$\"", "<<\"ab\\0cd\">>", true},
    /* ... and so is the regex: a NUL in it does not end it. */
    {"X when X =~ \"b\\0c\"", "<<\"abXcd\">>", false},
    {"X when X =~ \"b\\0c\"", "<<\"ab\\0cd\">>", true},
    /* UTF-8 off: '.' is one byte, and any bytes are a fine subject. */
    {"X when X =~ \"^.$\"", "<<195, 169>>", false},
    {"X when X =~ \"^..$\"", "<<195, 169>>", true},
    {"X when X =~ \"^.$\"", "<<233>>", true},
    {"X when X =~ \"^..$\"", "<<255, 254>>", true},
};

START_TEST(test_guard_regex_on_odd_subjects)
{
    CHECK_CASES(regex_cases);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = hv_check_tcase(s, "numbers");
    tcase_add_test(tc,
                   test_guard_compares_ints_and_floats_by_value_unless_exact);
    tcase_add_test(tc, test_guard_orders_terms_across_types_as_erlang);
    tcase_add_test(tc, test_guard_arithmetic_on_a_non_number_is_false);
    tcase_add_test(tc, test_guard_int64_overflow_is_false_not_wrapped);
    tcase_add_test(tc, test_guard_div_and_rem_truncate_toward_zero);
    tcase_add_test(tc, test_guard_bit_operations_shift_arithmetically);
    tcase_add_test(
        tc, test_guard_slash_always_gives_a_float_and_never_divides_by_zero);

    tc = hv_check_tcase(s, "logic");
    tcase_add_test(tc, test_guard_strict_and_short_circuit_logic_as_erlang);
    tcase_add_test(tc, test_guard_sequence_goes_on_after_an_alternative_raises);
    tcase_add_test(tc, test_guard_self_is_the_process_matching);
    tcase_add_test(tc, test_guard_self_outside_a_process_is_false);

    tc = hv_check_tcase(s, "regex");
    tcase_add_test(tc, test_guard_regex_is_shared_by_many_processes_at_once);
    tcase_add_test(tc, test_guard_regex_searches_a_1mb_binary);
    tcase_add_test(tc, test_guard_regex_backtracking_blowup_ends_false);
    tcase_add_test(tc, test_guard_regex_on_odd_subjects);
    return s;
}
