/* runtime/term_parse.h - the term parser behind hv_parse and hv_make. */
#ifndef HV_RUNTIME_TERM_PARSE_H
#define HV_RUNTIME_TERM_PARSE_H

#include <stddef.h>

#include "hive/term.h"

/* How hv_make resolves its ~x directives while the parser runs.  Each
 * hook is called once per directive, in text order, and returns HV_OK or
 * a negative HV_E* code with *why set to a static explanation (the parser
 * adds the position). */
struct hv__parse_hooks {
    /* A directive where a term is expected: a new term in *out. */
    int (*value)(void *ctx, char letter, hv_term *out, const char **why);
    /* A directive inside <<...>>: appends its bytes to bin. */
    int (*bytes)(void *ctx, char letter, hv_buf *bin, const char **why);
    void *ctx;
};

/* New term from len bytes of text under lim (NULL: defaults).  hooks is
 * NULL for plain text, where a directive is a syntax error.  On failure
 * HV_NONE with *err (may be NULL) filled: code, line, column, offset and
 * what was expected. */
hv_term hv__parse(const char *text, size_t len, const hv_limits *lim,
                  const struct hv__parse_hooks *hooks, hv_error *err);

/* A position in text, as the lexer counts it. */
struct hv__lex_at {
    size_t offset;
    int line, column;
};

/* One term at *at in len bytes of text (the pattern parser's literals
 * that it does not read itself: binaries, pids, refs).  On success *at
 * moves to the token after the term; on failure HV_NONE and *err. */
hv_term hv__parse_one(const char *text, size_t len, struct hv__lex_at *at,
                      hv_error *err);

#endif /* HV_RUNTIME_TERM_PARSE_H */
