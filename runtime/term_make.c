/* runtime/term_make.c - terms from a format with ~x directives (hv_make).
 *
 * The format is parsed by term_parse.c like any text; each directive
 * token pulls its argument from the va_list as the parser reaches it, so
 * arguments are taken in text order and a '~' inside a quoted atom or a
 * string is no directive.  ~t arguments are consumed on every path: a
 * pre-scan first checks the whole format's tokens, and after any failure
 * the directives the parser did not reach are walked again and their
 * arguments pulled, releasing each ~t.  Both walks lex in the lexer's
 * skim mode, which allocates nothing, so the clean-up itself cannot fail.
 * A format the lexer cannot read (an unterminated string, an unknown
 * directive) stops the pre-scan: arguments after that point cannot be
 * told apart and are not touched, so only the ~t before it are released.
 *
 * Inside <<...>> the byte directives also work: ~i and ~l give one byte,
 * ~s and ~b their bytes: hv_make("<<~s, 0>>", name). */
#include "hive/term.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "runtime/buf.h"
#include "runtime/term_lex.h"
#include "runtime/term_parse.h"
#include "runtime/util.h"

struct make {
    va_list ap;
    size_t used; /* directives whose argument has been pulled */
};

static bool
known_directive(char letter)
{
    return letter != 0 && strchr("ailfsbpt", letter) != NULL;
}

static int
take_value(void *ctx, char letter, hv_term *out, const char **why)
{
    struct make *m = ctx;
    const char *s;
    m->used++;
    switch (letter) {
    case 'a': {
        s = va_arg(m->ap, const char *);
        if (s == NULL) {
            *why = "atom name is NULL";
            return HV_EBADARG;
        }
        hv_error e;
        *out = hv_atom_n(s, strlen(s), &e);
        if (*out == HV_NONE) {
            *why = e.code == HV_ELIMIT   ? "the atom table is full"
                   : e.code == HV_ENOMEM ? "out of memory"
                                         : "not an atom name (longer than "
                                           "255 bytes or not UTF-8)";
            return e.code;
        }
        return HV_OK;
    }
    case 'i':
        *out = hv_int(va_arg(m->ap, int));
        break;
    case 'l':
        *out = hv_int(va_arg(m->ap, int64_t));
        break;
    case 'f': {
        double d = va_arg(m->ap, double);
        if (!isfinite(d)) {
            *why = "a float is never NaN or infinite";
            return HV_EBADARG;
        }
        *out = hv_float(d);
        break;
    }
    case 's':
        s = va_arg(m->ap, const char *);
        if (s == NULL) {
            *why = "string is NULL";
            return HV_EBADARG;
        }
        *out = hv_string(s);
        break;
    case 'b': {
        const void *p = va_arg(m->ap, const void *);
        size_t n = va_arg(m->ap, size_t);
        if (p == NULL && n != 0) {
            *why = "binary data is NULL";
            return HV_EBADARG;
        }
        *out = hv_binary(p, n);
        break;
    }
    case 'p': {
        hv_term t = va_arg(m->ap, hv_term);
        if (!hv_is_pid(t)) {
            *why = "argument is not a pid";
            return HV_EBADARG;
        }
        *out = hv_retain(t); /* borrowed from the caller */
        return HV_OK;
    }
    default: { /* 't'; the pre-scan let no other letter through */
        hv_term t = va_arg(m->ap, hv_term);
        if (t == HV_NONE) {
            *why = "argument is HV_NONE";
            return HV_EBADARG;
        }
        *out = t; /* the caller's reference moves into the term */
        return HV_OK;
    }
    }
    if (*out == HV_NONE) {
        *why = "out of memory";
        return HV_ENOMEM;
    }
    return HV_OK;
}

static int
take_bytes(void *ctx, char letter, hv_buf *bin, const char **why)
{
    struct make *m = ctx;
    int64_t v;
    int rc;
    if (letter == 's') {
        const char *s = va_arg(m->ap, const char *);
        m->used++;
        if (s == NULL) {
            *why = "string is NULL";
            return HV_EBADARG;
        }
        rc = hv__buf_append(bin, s, strlen(s));
    } else if (letter == 'b') {
        const void *p = va_arg(m->ap, const void *);
        size_t n = va_arg(m->ap, size_t);
        m->used++;
        if (p == NULL && n != 0) {
            *why = "binary data is NULL";
            return HV_EBADARG;
        }
        rc = hv__buf_append(bin, p, n);
    } else if (letter == 'i' || letter == 'l') {
        v = letter == 'i' ? va_arg(m->ap, int) : va_arg(m->ap, int64_t);
        m->used++;
        if (v < 0 || v > 255) {
            *why = "byte out of range 0..255";
            return HV_EBADARG;
        }
        rc = hv__buf_putc(bin, (char)v);
    } else {
        /* Pull (and for ~t release) the argument anyway, so the rest
         * stay in step for the clean-up. */
        hv_term t = HV_NONE;
        if (take_value(ctx, letter, &t, why) == HV_OK)
            hv_release(t);
        *why = "only ~i, ~l, ~s and ~b may appear inside <<...>>";
        return HV_EBADARG;
    }
    if (rc != HV_OK) {
        *why = "out of memory";
        return rc;
    }
    return HV_OK;
}

/* Pulls the arguments of directives [m->used, upto) of the format and
 * releases the ~t ones.  Skim lexing cannot fail on a format the
 * pre-scan read up to upto. */
static void
release_rest(const char *fmt, size_t len, struct make *m, size_t upto)
{
    struct hv__lex lx;
    struct hv__tok tok;
    size_t k = 0;
    hv__lex_init(&lx, fmt, len, NULL);
    while (k < upto && hv__lex_next(&lx, &tok, HV__LEX_SKIM) == HV_OK &&
           tok.kind != HV__TOK_EOF) {
        if (tok.kind != HV__TOK_DIRECTIVE || k++ < m->used)
            continue;
        hv_term t = HV_NONE;
        const char *why;
        if (take_value(m, tok.letter, &t, &why) == HV_OK)
            hv_release(t);
    }
    hv__lex_fini(&lx);
}

/* Checks every token and directive letter; *count receives the number of
 * directives before the first problem (all of them on success). */
static int
prescan(const char *fmt, size_t len, size_t *count, hv_error *err)
{
    struct hv__lex lx;
    struct hv__tok tok;
    int rc;
    *count = 0;
    hv__lex_init(&lx, fmt, len, err);
    while ((rc = hv__lex_next(&lx, &tok, HV__LEX_SKIM)) == HV_OK &&
           tok.kind != HV__TOK_EOF) {
        if (tok.kind != HV__TOK_DIRECTIVE)
            continue;
        if (!known_directive(tok.letter)) {
            rc =
                hv__error_set(err, HV_ESYNTAX, tok.offset, tok.line, tok.column,
                              "unknown directive ~%c (expected one of "
                              "~a ~i ~l ~f ~s ~b ~p ~t)",
                              tok.letter);
            break;
        }
        ++*count;
    }
    hv__lex_fini(&lx);
    return rc;
}

hv_term
hv_make_v(hv_error *err, const char *fmt, va_list ap)
{
    if (fmt == NULL) {
        hv__error_set(err, HV_EBADARG, 0, 0, 0, "format is NULL");
        return HV_NONE;
    }
    size_t len = strlen(fmt), count;
    struct make m;
    va_copy(m.ap, ap);
    m.used = 0;
    hv_term t = HV_NONE;
    int rc = prescan(fmt, len, &count, err);
    if (rc == HV_OK) {
        struct hv__parse_hooks hooks = {take_value, take_bytes, &m};
        t = hv__parse(fmt, len, NULL, &hooks, err);
    }
    if (t == HV_NONE)
        release_rest(fmt, len, &m, count);
    va_end(m.ap);
    return t;
}

hv_term
hv_make_e(hv_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_term t = hv_make_v(err, fmt, ap);
    va_end(ap);
    return t;
}

hv_term
hv_make(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_term t = hv_make_v(NULL, fmt, ap);
    va_end(ap);
    return t;
}
