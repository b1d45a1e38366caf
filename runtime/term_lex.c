/* runtime/term_lex.c - tokens of Erlang-syntax text (see term_lex.h). */
#include "runtime/term_lex.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/buf.h"
#include "runtime/util.h"

static const char *const kind_names[] = {
#define HV__TOK_NAME(name, text) text,
    HV__TOKENS(HV__TOK_NAME)
#undef HV__TOK_NAME
};

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void
c_locale_make(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

locale_t
hv__lex_c_locale(void)
{
    pthread_once(&c_locale_once, c_locale_make);
    return c_locale;
}

void
hv__lex_init(struct hv__lex *lx, const char *text, size_t len, hv_error *err)
{
    lx->text = text;
    lx->len = len;
    lx->pos = 0;
    lx->line = 1;
    lx->column = 1;
    lx->scratch = (hv_buf)HV_BUF_INIT;
    lx->err = err;
}

void
hv__lex_fini(struct hv__lex *lx)
{
    hv_buf_free(&lx->scratch);
}

const char *
hv__lex_kind_name(enum hv__tok_kind kind)
{
    return (size_t)kind < HV_ARRAY_LEN(kind_names) ? kind_names[kind] : "?";
}

/* Moves the line and column from (from, *line, *col) to offset to.
 * Columns count characters, so UTF-8 continuation bytes do not move it. */
static void
walk_position(const char *text, size_t from, size_t to, int *line, int *col)
{
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            ++*line;
            *col = 1;
        } else if ((c & 0xc0) != 0x80) {
            ++*col;
        }
    }
}

void
hv__lex_position(const char *text, size_t offset, int *line, int *column)
{
    *line = 1;
    *column = 1;
    walk_position(text, 0, offset, line, column);
}

static void
advance(struct hv__lex *lx, size_t to)
{
    walk_position(lx->text, lx->pos, to, &lx->line, &lx->column);
    lx->pos = to;
}

/* Reports an error at byte offset at (at or after lx->pos). */
static int error_at(struct hv__lex *lx, size_t at, int code, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static int
error_at(struct hv__lex *lx, size_t at, int code, const char *fmt, ...)
{
    int line = lx->line, col = lx->column;
    walk_position(lx->text, lx->pos, at, &line, &col);
    char what[sizeof lx->err->what];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hv__error_set(lx->err, code, at, line, col, "%s", what);
}

static int
peek(const struct hv__lex *lx, size_t i)
{
    return i < lx->len ? (unsigned char)lx->text[i] : -1;
}

static bool
is_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '@';
}

/* Value of c as a digit in any base up to 36, or 99. */
static unsigned
digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a' + 10);
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A' + 10);
    return 99;
}

/* Length of the UTF-8 sequence at p (at most n bytes) and its code point
 * in *cp; 0 when malformed, overlong or a surrogate. */
static size_t
utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = p[0] < 0x80   ? 1
                 : p[0] < 0xc2 ? 0
                 : p[0] < 0xe0 ? 2
                 : p[0] < 0xf0 ? 3
                 : p[0] < 0xf5 ? 4
                               : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t v = len == 1 ? p[0] : p[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3fu);
    }
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static int
put_utf8(hv_buf *b, uint32_t cp)
{
    char s[4];
    size_t n;
    if (cp < 0x80) {
        s[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        s[0] = (char)(0xc0 | cp >> 6);
        s[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        s[0] = (char)(0xe0 | cp >> 12);
        s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        s[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        s[0] = (char)(0xf0 | cp >> 18);
        s[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        s[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        s[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return hv__buf_append(b, s, n);
}

/* Reads the escape whose backslash is at *i, Erlang's set: \b \d \e \f \n
 * \r \s \t \v, \NNN octal, \xHH, \x{H...}, \^c (control).  Any other
 * escaped character stands for itself: then 0 is returned and *i points
 * at that character, to be read as raw text.  Otherwise 1 with the code
 * point in *cp and *i past the escape, or a negative HV_E* code. */
static int
escape(struct hv__lex *lx, size_t *i, uint32_t *cp)
{
    static const char simple[] = "b\bd\177e\033f\fn\nr\rs t\tv\v";
    size_t at = *i, p = at + 1;
    int c = peek(lx, p);
    if (c < 0)
        return error_at(lx, at, HV_ESYNTAX, "unterminated escape");
    const char *s = c ? strchr(simple, c) : NULL;
    if (s != NULL && (s - simple) % 2 == 0) {
        *cp = (unsigned char)s[1];
        *i = p + 1;
        return 1;
    }
    if (c >= '0' && c <= '7') {
        uint32_t v = 0;
        for (int n = 0; n < 3 && peek(lx, p) >= '0' && peek(lx, p) <= '7'; n++)
            v = v * 8 + (uint32_t)(lx->text[p++] - '0');
        *cp = v;
        *i = p;
        return 1;
    }
    if (c == 'x') {
        uint32_t v = 0;
        p++;
        if (peek(lx, p) == '{') {
            size_t first = ++p;
            while (digit_value(peek(lx, p)) < 16) {
                if (v > 0x10ffff)
                    break;
                v = v * 16 + digit_value(lx->text[p++]);
            }
            if (p == first || peek(lx, p) != '}' || v > 0x10ffff)
                return error_at(lx, at, HV_ESYNTAX,
                                "bad escape: \\x{ takes 1 or more hex digits "
                                "of a code point up to 10FFFF and a '}'");
            p++;
        } else {
            for (int n = 0; n < 2; n++) {
                if (digit_value(peek(lx, p)) >= 16)
                    return error_at(lx, at, HV_ESYNTAX,
                                    "bad escape: \\x takes two hex digits "
                                    "or {hex digits}");
                v = v * 16 + digit_value(lx->text[p++]);
            }
        }
        *cp = v;
        *i = p;
        return 1;
    }
    if (c == '^') {
        int d = peek(lx, p + 1);
        if (d < 0x40 || d > 0x7e) {
            if (d != '?')
                return error_at(lx, at, HV_ESYNTAX,
                                "bad escape: \\^ takes a letter or one of "
                                "@[\\]^_?");
            *cp = 0x7f;
        } else {
            *cp = (uint32_t)d & 0x1f;
        }
        *i = p + 2;
        return 1;
    }
    *i = p;
    return 0;
}

/* A quoted atom 'a b' or a string "a b": decoded into tok->text, pointing
 * into the input when there is no escape (the common case). */
static int
quoted(struct hv__lex *lx, struct hv__tok *tok, unsigned flags)
{
    bool skim = (flags & HV__LEX_SKIM) != 0;
    char q = lx->text[lx->pos];
    bool atom = q == '\'';
    size_t start = lx->pos + 1, i = start;
    while (i < lx->len && lx->text[i] != q && lx->text[i] != '\\')
        i++;
    if (i >= lx->len)
        goto unterminated;
    if (lx->text[i] == q) {
        tok->text = skim ? NULL : lx->text + start;
        tok->text_len = skim ? 0 : i - start;
        tok->kind = atom ? HV__TOK_ATOM : HV__TOK_STRING;
        tok->quoted = true;
        advance(lx, i + 1);
        return HV_OK;
    }
    hv_buf *b = &lx->scratch;
    b->len = 0;
    if (!skim && hv__buf_append(b, lx->text + start, i - start) != HV_OK)
        goto nomem;
    while (i < lx->len && lx->text[i] != q) {
        size_t run = i;
        while (i < lx->len && lx->text[i] != q && lx->text[i] != '\\')
            i++;
        if (!skim && hv__buf_append(b, lx->text + run, i - run) != HV_OK)
            goto nomem;
        if (i >= lx->len || lx->text[i] == q)
            break;
        size_t at = i;
        uint32_t cp;
        int rc = escape(lx, &i, &cp);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            /* The escaped character is taken as it is: one byte here, the
             * rest of a UTF-8 sequence follows as plain text. */
            rc = skim ? HV_OK : hv__buf_putc(b, lx->text[i]);
            i++;
        } else if (atom) {
            rc = skim ? HV_OK : put_utf8(b, cp);
        } else if (cp > 255) {
            return error_at(lx, at, HV_ESYNTAX,
                            "escape of code point %lu in a string: strings "
                            "are binaries, each escape is one byte 0..255",
                            (unsigned long)cp);
        } else {
            rc = skim ? HV_OK : hv__buf_putc(b, (char)cp);
        }
        if (rc != HV_OK)
            goto nomem;
    }
    if (i >= lx->len)
        goto unterminated;
    tok->text = skim ? NULL : b->len ? (const char *)b->data : "";
    tok->text_len = skim ? 0 : b->len;
    tok->kind = atom ? HV__TOK_ATOM : HV__TOK_STRING;
    tok->quoted = true;
    advance(lx, i + 1);
    return HV_OK;
unterminated:
    return error_at(lx, lx->pos, HV_ESYNTAX, "unterminated %s",
                    atom ? "quoted atom" : "string");
nomem:
    return error_at(lx, lx->pos, HV_ENOMEM, "out of memory reading a %s",
                    atom ? "quoted atom" : "string");
}

/* $c: the code point of a character or escape, as an integer. */
static int
char_literal(struct hv__lex *lx, struct hv__tok *tok)
{
    size_t i = lx->pos + 1;
    uint32_t cp = 0;
    if (i >= lx->len)
        return error_at(lx, lx->pos, HV_ESYNTAX,
                        "expected a character after '$'");
    int rc = lx->text[i] == '\\' ? escape(lx, &i, &cp) : 0;
    if (rc < 0)
        return rc;
    if (rc == 0) {
        size_t n =
            utf8_decode((const unsigned char *)lx->text + i, lx->len - i, &cp);
        if (n == 0)
            return error_at(lx, i, HV_ESYNTAX,
                            "character literal is not valid UTF-8");
        i += n;
    }
    tok->kind = HV__TOK_INT;
    tok->u = cp;
    advance(lx, i);
    return HV_OK;
}

/* Digits of base, with single '_' separators between digits (OTP 23).
 * Accumulates into *v, setting *ovf past UINT64_MAX.  Returns the count. */
static size_t
digits(struct hv__lex *lx, size_t *i, unsigned base, uint64_t *v, bool *ovf)
{
    size_t n = 0;
    for (;;) {
        unsigned d = digit_value(peek(lx, *i));
        if (d >= base) {
            if (n == 0 || peek(lx, *i) != '_' ||
                digit_value(peek(lx, *i + 1)) >= base)
                return n;
            ++*i;
            continue;
        }
        if (*v > (UINT64_MAX - d) / base)
            *ovf = true;
        else
            *v = *v * base + d;
        ++*i;
        n++;
    }
}

static int
number(struct hv__lex *lx, struct hv__tok *tok, unsigned flags)
{
    size_t start = lx->pos, i = start;
    uint64_t v = 0;
    bool ovf = false;
    if (flags & HV__LEX_PLAIN) {
        while (peek(lx, i) >= '0' && peek(lx, i) <= '9') {
            unsigned d = (unsigned)(lx->text[i++] - '0');
            if (v > (UINT64_MAX - d) / 10)
                ovf = true;
            else
                v = v * 10 + d;
        }
        goto integer;
    }
    digits(lx, &i, 10, &v, &ovf);
    if (peek(lx, i) == '#') {
        if (ovf || v < 2 || v > 36)
            return error_at(lx, start, HV_ESYNTAX,
                            "base %.*s is out of range 2..36",
                            (int)hv__min_size(i - start, 24), lx->text + start);
        unsigned base = (unsigned)v;
        v = 0;
        i++;
        if (digits(lx, &i, base, &v, &ovf) == 0)
            return error_at(lx, i, HV_ESYNTAX,
                            "expected digits of base %u after '#'", base);
        goto integer;
    }
    if (peek(lx, i) != '.' || digit_value(peek(lx, i + 1)) > 9)
        goto integer;
    /* A float: digits '.' digits, optional exponent; separators are
     * dropped before strtod sees the text. */
    uint64_t ignored = 0;
    bool ignored_ovf = false;
    i++;
    digits(lx, &i, 10, &ignored, &ignored_ovf);
    if (peek(lx, i) == 'e' || peek(lx, i) == 'E') {
        size_t e = i + 1;
        if (peek(lx, e) == '+' || peek(lx, e) == '-')
            e++;
        if (digits(lx, &e, 10, &ignored, &ignored_ovf) > 0)
            i = e;
    }
    tok->kind = HV__TOK_FLOAT;
    if (flags & HV__LEX_SKIM) {
        advance(lx, i);
        return HV_OK;
    }
    hv_buf *b = &lx->scratch;
    b->len = 0;
    for (size_t k = start; k < i; k++)
        if (lx->text[k] != '_' && hv__buf_putc(b, lx->text[k]) != HV_OK)
            return error_at(lx, start, HV_ENOMEM,
                            "out of memory reading a float");
    locale_t c = hv__lex_c_locale(), old = c ? uselocale(c) : (locale_t)0;
    tok->f = strtod((const char *)b->data, NULL);
    if (c)
        uselocale(old);
    tok->overflow = isinf(tok->f);
    advance(lx, i);
    return HV_OK;
integer:
    tok->kind = HV__TOK_INT;
    tok->u = v;
    tok->overflow = ovf;
    advance(lx, i);
    return HV_OK;
}

/* Operators and brackets, longest match first. */
static int
punct(struct hv__lex *lx, struct hv__tok *tok, unsigned flags)
{
    static const struct {
        char text[6];
        enum hv__tok_kind kind;
    } ops[] = {
        {"#Ref<", HV__TOK_REF_OPEN}, {"=:=", HV__TOK_EXACT_EQ},
        {"=/=", HV__TOK_EXACT_NE},   {"#{", HV__TOK_MAP_OPEN},
        {"<<", HV__TOK_BIN_OPEN},    {">>", HV__TOK_BIN_CLOSE},
        {"||", HV__TOK_BARBAR},      {"=>", HV__TOK_ARROW},
        {":=", HV__TOK_ASSOC},       {"==", HV__TOK_EQ},
        {"/=", HV__TOK_NE},          {"=<", HV__TOK_LE},
        {">=", HV__TOK_GE},          {"=~", HV__TOK_REGEX},
        {"{", HV__TOK_LBRACE},       {"}", HV__TOK_RBRACE},
        {"[", HV__TOK_LBRACKET},     {"]", HV__TOK_RBRACKET},
        {"(", HV__TOK_LPAREN},       {")", HV__TOK_RPAREN},
        {"#", HV__TOK_HASH},         {",", HV__TOK_COMMA},
        {";", HV__TOK_SEMI},         {".", HV__TOK_DOT},
        {":", HV__TOK_COLON},        {"|", HV__TOK_BAR},
        {"=", HV__TOK_MATCH},        {"<", HV__TOK_LT},
        {">", HV__TOK_GT},           {"+", HV__TOK_PLUS},
        {"-", HV__TOK_MINUS},        {"*", HV__TOK_STAR},
        {"/", HV__TOK_SLASH},        {"^", HV__TOK_CARET},
    };
    const char *p = lx->text + lx->pos;
    size_t left = lx->len - lx->pos;
    for (size_t k = 0; k < HV_ARRAY_LEN(ops); k++) {
        size_t n = strlen(ops[k].text);
        if (n > left || memcmp(p, ops[k].text, n) != 0)
            continue;
        if ((flags & HV__LEX_PLAIN) && p[0] == '>' && n > 1)
            continue;
        tok->kind = ops[k].kind;
        advance(lx, lx->pos + n);
        return HV_OK;
    }
    unsigned char c = (unsigned char)p[0];
    if (c >= 0x21 && c < 0x7f)
        return error_at(lx, lx->pos, HV_ESYNTAX, "unexpected character '%c'",
                        c);
    return error_at(lx, lx->pos, HV_ESYNTAX, "unexpected byte 0x%02x", c);
}

static void
skip_space(struct hv__lex *lx)
{
    size_t i = lx->pos;
    for (;;) {
        int c = peek(lx, i);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
            c == '\v') {
            i++;
        } else if (c == '%') {
            while (i < lx->len && lx->text[i] != '\n')
                i++;
        } else {
            break;
        }
    }
    advance(lx, i);
}

int
hv__lex_next(struct hv__lex *lx, struct hv__tok *tok, unsigned flags)
{
    skip_space(lx);
    tok->offset = lx->pos;
    tok->line = lx->line;
    tok->column = lx->column;
    tok->overflow = false;
    tok->quoted = false;
    tok->text = NULL;
    tok->text_len = 0;
    tok->u = 0;
    tok->f = 0;
    tok->letter = 0;
    int rc = HV_OK;
    int c = peek(lx, lx->pos);
    if (c < 0) {
        tok->kind = HV__TOK_EOF;
    } else if (c >= '0' && c <= '9') {
        rc = number(lx, tok, flags);
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
        size_t i = lx->pos + 1;
        while (is_name_char(peek(lx, i)))
            i++;
        tok->kind = c >= 'a' && c <= 'z' ? HV__TOK_ATOM : HV__TOK_VAR;
        tok->text = lx->text + lx->pos;
        tok->text_len = i - lx->pos;
        advance(lx, i);
    } else if (c == '\'' || c == '"') {
        rc = quoted(lx, tok, flags);
    } else if (c == '$') {
        rc = char_literal(lx, tok);
    } else if (c == '~') {
        int d = peek(lx, lx->pos + 1);
        if (!((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z')))
            return error_at(lx, lx->pos, HV_ESYNTAX,
                            "expected a letter after '~'");
        tok->kind = HV__TOK_DIRECTIVE;
        tok->letter = (char)d;
        advance(lx, lx->pos + 2);
    } else {
        rc = punct(lx, tok, flags);
    }
    tok->len = lx->pos - tok->offset;
    return rc;
}

void
hv__lex_describe(const struct hv__lex *lx, const struct hv__tok *tok, char *out,
                 size_t size)
{
    if (size == 0)
        return;
    if (tok->kind == HV__TOK_EOF || tok->kind >= HV__TOK_LBRACE) {
        snprintf(out, size, "%s", hv__lex_kind_name(tok->kind));
        return;
    }
    size_t max = 32, n = 0;
    const char *s = lx->text + tok->offset;
    for (size_t k = 0; k < tok->len && n + 1 < size; k++) {
        if (k == max && n + 4 < size) {
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        unsigned char c = (unsigned char)s[k];
        out[n++] = c >= 0x20 && c != 0x7f ? (char)c : '?';
    }
    out[n] = 0;
}

int
hv__lex_fail(struct hv__lex *lx, const struct hv__tok *at, int code,
             const char *fmt, ...)
{
    char what[sizeof lx->err->what];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hv__error_set(lx->err, code, at->offset, at->line, at->column,
                         "%s", what);
}

int
hv__lex_expected(struct hv__lex *lx, const struct hv__tok *found,
                 const struct hv__tok *prev, const char *what)
{
    char f[48], a[48];
    hv__lex_describe(lx, found, f, sizeof f);
    if (prev == NULL)
        return hv__lex_fail(lx, found, HV_ESYNTAX, "expected %s, found %s",
                            what, f);
    hv__lex_describe(lx, prev, a, sizeof a);
    return hv__lex_fail(lx, found, HV_ESYNTAX,
                        "expected %s after %s, found %s", what, a, f);
}
