/* runtime/term_lex.h - the lexer of Erlang-syntax text, shared by the term
 * parser (term_parse.c), hv_make (term_make.c) and, later, the pattern
 * compiler in match/.
 *
 * It reads (text, len) one token at a time, tracking the 1-based line and
 * column (in UTF-8 characters) and the byte offset of each token.  It
 * tokenizes the whole expression syntax patterns need (variables,
 * comparison and arithmetic operators, `when`, `||`, `:=`, ...); each
 * consumer rejects what it does not accept.  The lexer reports only
 * malformed tokens (an unterminated string, a bad escape, a stray byte);
 * a number too large for its type is a flag on the token, so hv_make's
 * pre-scan can see every directive of a format whatever its values. */
#ifndef HV_RUNTIME_TERM_LEX_H
#define HV_RUNTIME_TERM_LEX_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/term.h"

/* Token kinds, with the text error messages show for them. */
#define HV__TOKENS(X)                                                          \
    X(EOF, "end of input")                                                     \
    X(INT, "an integer")                                                       \
    X(FLOAT, "a float")                                                        \
    X(ATOM, "an atom")                                                         \
    X(VAR, "a variable")                                                       \
    X(STRING, "a string")                                                      \
    X(DIRECTIVE, "a directive")                                                \
    X(LBRACE, "'{'")                                                           \
    X(RBRACE, "'}'")                                                           \
    X(LBRACKET, "'['")                                                         \
    X(RBRACKET, "']'")                                                         \
    X(LPAREN, "'('")                                                           \
    X(RPAREN, "')'")                                                           \
    X(MAP_OPEN, "'#{'")                                                        \
    X(REF_OPEN, "'#Ref<'")                                                     \
    X(HASH, "'#'")                                                             \
    X(BIN_OPEN, "'<<'")                                                        \
    X(BIN_CLOSE, "'>>'")                                                       \
    X(COMMA, "','")                                                            \
    X(SEMI, "';'")                                                             \
    X(DOT, "'.'")                                                              \
    X(COLON, "':'")                                                            \
    X(BAR, "'|'")                                                              \
    X(BARBAR, "'||'")                                                          \
    X(ARROW, "'=>'")                                                           \
    X(ASSOC, "':='")                                                           \
    X(MATCH, "'='")                                                            \
    X(EXACT_EQ, "'=:='")                                                       \
    X(EXACT_NE, "'=/='")                                                       \
    X(EQ, "'=='")                                                              \
    X(NE, "'/='")                                                              \
    X(LT, "'<'")                                                               \
    X(LE, "'=<'")                                                              \
    X(GT, "'>'")                                                               \
    X(GE, "'>='")                                                              \
    X(REGEX, "'=~'")                                                           \
    X(PLUS, "'+'")                                                             \
    X(MINUS, "'-'")                                                            \
    X(STAR, "'*'")                                                             \
    X(SLASH, "'/'")                                                            \
    X(CARET, "'^'")

enum hv__tok_kind {
#define HV__TOK_ENUM(name, text) HV__TOK_##name,
    HV__TOKENS(HV__TOK_ENUM)
#undef HV__TOK_ENUM
};

struct hv__tok {
    enum hv__tok_kind kind;
    size_t offset, len; /* the token's source bytes */
    int line, column;   /* where it starts, 1-based */
    /* INT: the magnitude (a sign is a separate MINUS token, so that
     * -9223372036854775808 can be read); overflow when past UINT64_MAX. */
    uint64_t u;
    /* FLOAT: the value; overflow when it is too large for a double. */
    double f;
    bool overflow;
    /* ATOM, VAR, STRING: the decoded bytes, valid until the next token.
     * Escapes in a quoted atom are code points written as UTF-8; in a
     * string they are bytes (an escape above 255 is an error). */
    const char *text;
    size_t text_len;
    bool quoted; /* ATOM: written 'like this' */
    char letter; /* DIRECTIVE: the letter after '~' */
};

/* Flags of hv__lex_next. */
enum {
    /* Inside <0.1.2> and #Ref<0.1.2.3>: a number is plain decimal digits
     * (no fraction, base or separators) and '>' stands alone, so '.'
     * separates fields and "<0.1.2>=>" is a pid then '=>'. */
    HV__LEX_PLAIN = 1,
    /* Delimit and check tokens without decoding them: text stays NULL
     * and a float's value 0, but nothing is allocated, so this cannot
     * fail for memory (hv_make's pre-scan and clean-up rely on it).
     * Token boundaries and errors are those of a full read. */
    HV__LEX_SKIM = 2
};

struct hv__lex {
    const char *text;
    size_t len, pos;
    int line, column;
    hv_buf scratch; /* decoded text with escapes; freed by hv__lex_fini */
    hv_error *err;
};

void hv__lex_init(struct hv__lex *lx, const char *text, size_t len,
                  hv_error *err);
void hv__lex_fini(struct hv__lex *lx);
/* Reads the next token into *tok.  HV_OK, or HV_ESYNTAX / HV_ENOMEM with
 * lx->err filled (position and what).  At the end it keeps returning
 * HV__TOK_EOF. */
int hv__lex_next(struct hv__lex *lx, struct hv__tok *tok, unsigned flags);
/* "an integer", "'{'", ...: the kind's name for messages. */
const char *hv__lex_kind_name(enum hv__tok_kind kind);
/* Writes a short, printable rendering of the token's source (at most size
 * bytes with the NUL, truncated with "...") for messages: "42", "']'",
 * "end of input". */
void hv__lex_describe(const struct hv__lex *lx, const struct hv__tok *tok,
                      char *out, size_t size);
/* Fails at token `at`: fills lx->err (code, position, the message) and
 * returns code. */
int hv__lex_fail(struct hv__lex *lx, const struct hv__tok *at, int code,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* HV_ESYNTAX "expected WHAT after PREV, found FOUND" at found (prev may
 * be NULL: "expected WHAT, found FOUND"). */
int hv__lex_expected(struct hv__lex *lx, const struct hv__tok *found,
                     const struct hv__tok *prev, const char *what);
/* Line and column of a byte offset of the text (for errors about the
 * input as a whole, such as its size). */
void hv__lex_position(const char *text, size_t offset, int *line, int *column);
/* The "C" numeric locale, so that floats read and print with '.' whatever
 * setlocale the program made; (locale_t)0 if it cannot be created, then
 * the current locale is used. */
locale_t hv__lex_c_locale(void);

#endif /* HV_RUNTIME_TERM_LEX_H */
