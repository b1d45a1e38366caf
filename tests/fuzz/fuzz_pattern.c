/* tests/fuzz/fuzz_pattern.c - libFuzzer target for the pattern compiler
 * and matcher.  The input is up to MAX_CLAUSES clause texts, one a line.
 * Each line, and the whole input as one text, either fails to compile
 * with a proper error record or compiles; the lines also compile as one
 * receive set.  What compiled is matched against fixed terms with its
 * pins supplied as atoms, as integers and as those terms, and must agree
 * with itself: the set takes the first clause whose own pattern matches,
 * with the same bindings, and a pin left out is HV_EBADARG, never a
 * match.  Nothing may crash or leak. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CLAUSES 8

/* Subjects: one of each term type and the shapes the seeds look for. */
static const char *const subject_texts[] = {
    "{add, 1, 2}",
    "{withdraw, 100, <0.1.2>}",
    "{#Ref<0.1.2.3>, {ok, 7}}",
    "{call, <0.4.0>, #Ref<0.0.0.9>, 41}",
    "[1, 2, 3]",
    "[a | b]",
    "#{op => inc, key => <<\"k\">>, 1 => one}",
    "<<\"ERROR: disk full\">>",
    "{log, <<\"warning: 42 items\">>}",
    "ok",
    "-42",
    "3.5",
    "9223372036854775807",
    "{}",
    "[]",
    "{1, 1.0, foo, [foo, {bar}]}",
};
#define NSUBJECTS (sizeof subject_texts / sizeof subject_texts[0])

static hv_term subjects[NSUBJECTS];
static hv_term pin_atoms[4], pin_ints[4];

static void
die(const char *why, const char *text)
{
    fprintf(stderr, "fuzz_pattern: %s\ntext: %s\n", why, text ? text : "-");
    abort();
}

/* Room for n pins (a text may hold any number of them). */
static hv_term *
pin_array(size_t n, const char *text)
{
    hv_term *v = calloc(n ? n : 1, sizeof *v);
    if (v == NULL)
        die("out of memory for pins", text);
    return v;
}

/* The fixed terms live for the whole run (libFuzzer calls us many times;
 * they are reachable, so no leak is reported). */
static void
init_terms(void)
{
    static bool done;
    if (done)
        return;
    for (size_t i = 0; i < NSUBJECTS; i++) {
        subjects[i] = hv_parse(subject_texts[i], NULL);
        if (subjects[i] == HV_NONE)
            die("a subject does not parse", subject_texts[i]);
    }
    const char *names[4] = {"ok", "foo", "inc", "true"};
    const int64_t ints[4] = {1, 7, 41, 100};
    for (size_t i = 0; i < 4; i++) {
        pin_atoms[i] = hv_atom(names[i]);
        pin_ints[i] = hv_int(ints[i]);
    }
    done = true;
}

/* A failed compile must leave a usable record: one of the codes match.h
 * promises for it (HV_ESYNTAX, HV_ELIMIT, HV_ENOMEM), a message that is a
 * NUL-terminated, non-empty string, and a position that is either unknown
 * (0, 0) or inside the text. */
static void
check_error(const hv_error *err, const char *text, size_t len, bool one_text)
{
    /* The codes match.h lists for a compile failure. */
    if (err->code != HV_ESYNTAX && err->code != HV_ELIMIT &&
        err->code != HV_ENOMEM && err->code != HV_EOVERFLOW &&
        err->code != HV_EBADARG)
        die("a failure with an unexpected code", text);
    if (memchr(err->what, '\0', sizeof err->what) == NULL)
        die("err.what is not NUL-terminated", text);
    if (err->what[0] == '\0')
        die("err.what is empty", text);
    if ((err->line == 0) != (err->column == 0) || err->line < 0 ||
        err->column < 0)
        die("err.line and err.column are not a position", text);
    if (!one_text || err->line == 0)
        return;
    /* For one text the position must be where err.offset says. */
    if (err->offset > len)
        die("err.offset is past the text", text);
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < err->offset; i++)
        if (text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    if (err->line != line || (size_t)err->column > err->offset - line_start + 1)
        die("err.line/column disagree with err.offset", text);
}

/* The values of a set's pins for round `round`: all atoms, all integers,
 * or subjects. */
static void
fill_pins(hv_term *pins, size_t n, int round)
{
    for (size_t i = 0; i < n; i++)
        pins[i] = round == 0   ? pin_atoms[i % 4]
                  : round == 1 ? pin_ints[i % 4]
                               : subjects[(i * 5 + 3) % NSUBJECTS];
}

/* The values of p's pins, taken by name from the set's pins. */
static void
pins_of_clause(const hv_pattern *p, const hv_rset *s, const hv_term *set_pins,
               hv_term *out, const char *text)
{
    for (size_t i = 0; i < hv_pattern_pin_count(p); i++) {
        const char *name = hv_pattern_pin_name(p, i);
        size_t j = 0;
        while (j < hv_rset_pin_count(s) &&
               strcmp(hv_rset_pin_name(s, j), name) != 0)
            j++;
        if (j == hv_rset_pin_count(s))
            die("a clause's pin is not among the set's pins", text);
        out[i] = set_pins[j];
    }
}

/* A successful match must bind every variable of the clause. */
static void
check_bindings(const hv_bindings *b, const hv_pattern *p, hv_term t,
               const char *text)
{
    if (b->msg != t || b->nvars != hv_pattern_var_count(p))
        die("bindings do not describe the match", text);
    for (unsigned i = 0; i < b->nvars; i++)
        if (b->var[i] == HV_NONE)
            die("a variable of a match is unbound", text);
}

/* Matches t against the set and against each clause's own pattern: the
 * set's answer must be the first clause whose pattern matches. */
static void
match_one(const hv_rset *s, hv_pattern *const *alone, size_t n,
          const hv_term *set_pins, hv_term t, const char *text)
{
    size_t npins = hv_rset_pin_count(s);
    hv_pins pins = {npins, set_pins};
    int after = hv_rset_after_clause(s);
    hv_bindings b, bc;
    int rc = hv_rset_match(s, t, &pins, &b);
    if (rc != HV_OK && rc != HV_ENOMATCH)
        die("hv_rset_match with every pin failed", text);
    if (rc == HV_OK) {
        if (b.clause < 0 || (size_t)b.clause >= n || b.clause == after)
            die("hv_rset_match names no pattern clause", text);
        check_bindings(&b, hv_rset_clause(s, (size_t)b.clause), t, text);
    }
    int first = -1;
    for (size_t i = 0; i < n && first < 0; i++) {
        if (alone[i] == NULL || (int)i == after)
            continue;
        hv_term *cpins = pin_array(hv_pattern_pin_count(alone[i]), text);
        pins_of_clause(alone[i], s, set_pins, cpins, text);
        hv_pins cp = {hv_pattern_pin_count(alone[i]), cpins};
        int crc = hv_match(alone[i], t, &cp, &bc);
        free(cpins);
        if (crc != HV_OK && crc != HV_ENOMATCH)
            die("hv_match with every pin failed", text);
        if (crc == HV_OK)
            first = (int)i;
    }
    if (first != (rc == HV_OK ? b.clause : -1))
        die("the set and its clauses disagree on the first match", text);
    if (first >= 0) {
        if (bc.nvars != b.nvars)
            die("the set and its clause bind differently", text);
        for (unsigned i = 0; i < b.nvars; i++)
            if (!hv_equal(bc.var[i], b.var[i]))
                die("the set and its clause bind differently", text);
    }
    if (npins > 0) {
        hv_pins fewer = {npins - 1, set_pins};
        if (hv_rset_match(s, t, &fewer, &b) != HV_EBADARG)
            die("a pin left out is not HV_EBADARG", text);
        if (memchr(b.what, '\0', sizeof b.what) == NULL)
            die("bindings.what is not NUL-terminated", text);
    }
}

/* Compiles text[0..len) as one pattern; a compiled one is matched against
 * every subject with its pins as atoms. */
static hv_pattern *
compile_alone(const char *text, size_t len)
{
    hv_error err;
    hv_pattern *p = hv_pattern_compile_n(text, len, &err);
    if (p == NULL) {
        check_error(&err, text, len, true);
        return NULL;
    }
    size_t npins = hv_pattern_pin_count(p);
    hv_term *pv = pin_array(npins, text);
    fill_pins(pv, npins, 0);
    hv_pins pins = {npins, pv};
    for (size_t i = 0; i < NSUBJECTS; i++) {
        hv_bindings b;
        int rc = hv_match(p, subjects[i], &pins, &b);
        if (rc == HV_OK)
            check_bindings(&b, p, subjects[i], text);
        else if (rc != HV_ENOMATCH)
            die("hv_match with every pin failed", text);
    }
    free(pv);
    return p;
}

/* The lines as one set: compiled, matched in three rounds of pins. */
static void
compile_set(char *const *lines, hv_pattern *const *alone, size_t n,
            const char *input)
{
    hv_error err;
    hv_rset *s = hv_rset_compile((const char *const *)lines, n, &err);
    if (s == NULL) {
        check_error(&err, input, 0, false);
        return;
    }
    if (hv_rset_size(s) != n)
        die("the set's size is not its clause count", input);
    for (size_t i = 0; i < n; i++)
        if (alone[i] == NULL && (int)i != hv_rset_after_clause(s))
            die("the set compiled a clause that alone does not", input);
    size_t npins = hv_rset_pin_count(s);
    hv_term *pins = pin_array(npins, input);
    for (int round = 0; round < 3; round++) {
        fill_pins(pins, npins, round);
        for (size_t i = 0; i < NSUBJECTS; i++)
            match_one(s, alone, n, pins, subjects[i], input);
    }
    free(pins);
    hv_rset_free(s);
}

/* Splits text (NUL-terminated, len bytes) in place at each '\n' into at
 * most MAX_CLAUSES lines; a final newline ends the last line rather than
 * starting an empty one.  Returns the count. */
static size_t
split_lines(char *text, size_t len, char **lines)
{
    size_t n = 0;
    char *p = text, *end = text + len;
    while (n < MAX_CLAUSES) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        lines[n++] = p;
        if (nl == NULL || nl + 1 == end) {
            if (nl != NULL)
                *nl = '\0';
            break;
        }
        *nl = '\0';
        p = nl + 1;
    }
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_terms();
    /* The whole input is one text of `size` bytes (NULs and all); the
     * lines are C strings, as hv_rset_compile takes them, so a NUL ends
     * a line's clause for the set and for its own compile alike. */
    char *whole = malloc(size + 1), *copy = malloc(size + 1);
    if (whole == NULL || copy == NULL) {
        free(whole);
        free(copy);
        return 0;
    }
    memcpy(whole, data, size);
    whole[size] = '\0';
    memcpy(copy, whole, size + 1);
    hv_pattern_free(compile_alone(whole, size));

    char *lines[MAX_CLAUSES];
    hv_pattern *alone[MAX_CLAUSES];
    size_t n = split_lines(copy, size, lines);
    for (size_t i = 0; i < n; i++)
        alone[i] = compile_alone(lines[i], strlen(lines[i]));
    compile_set(lines, alone, n, whole);
    for (size_t i = 0; i < n; i++)
        hv_pattern_free(alone[i]);
    free(copy);
    free(whole);
    return 0;
}
