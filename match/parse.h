/* match/parse.h - the clause parser's state and the pieces its two halves
 * share: patterns (pattern_parse.c) and guards (guard_parse.c). */
#ifndef HV_MATCH_PARSE_H
#define HV_MATCH_PARSE_H

#include "match/pattern.h"
#include "runtime/term_lex.h"

/* Nesting deeper than this in a pattern or guard is refused: the
 * compiler and the guard evaluator recurse. */
#define HV__PARSE_MAX_DEPTH 200

struct hv__pp {
    struct hv__lex lx;
    struct hv__tok tok, prev; /* the lookahead and the token before it */
    bool has_prev;
    hv_pattern *pat;
    struct hv__parsed *out;
    struct hv__arena *names_arena; /* where pin names live */
    int depth;
    const char *text;
    size_t len;
};

/* Takes the lookahead and lexes the next token. */
int hv__pp_advance(struct hv__pp *p);
/* HV_ESYNTAX "expected WHAT after PREV, found LOOKAHEAD". */
int hv__pp_expected(struct hv__pp *p, const char *what);
int hv__pp_nomem(struct hv__pp *p);
/* The token is the unquoted atom `word` (a keyword). */
bool hv__pp_is_word(const struct hv__tok *t, const char *word);
/* Literals at the lookahead, each a new term in *out: a signed number,
 * an atom, adjacent strings as one binary, and what the term parser
 * reads (binaries, pids, refs, any term). */
int hv__pp_number(struct hv__pp *p, hv_term *out);
int hv__pp_atom_lit(struct hv__pp *p, hv_term *out);
int hv__pp_string_lit(struct hv__pp *p, hv_term *out);
int hv__pp_foreign_literal(struct hv__pp *p, hv_term *out);
/* ^Name at the lookahead: the pin's index, added on first sight. */
int hv__pp_pin_index(struct hv__pp *p, int *index);
/* A pattern (with aliases) at the lookahead. */
int hv__pp_pattern(struct hv__pp *p, struct hv__pnode **out);
/* A guard sequence at the lookahead (after `when`). */
int hv__pp_guard_sequence(struct hv__pp *p, struct hv__gnode **out);

#endif /* HV_MATCH_PARSE_H */
