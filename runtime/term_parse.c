/* runtime/term_parse.c - terms from Erlang-syntax text (hv_parse).
 *
 * A shift-reduce loop over the tokens of term_lex.c with no recursion:
 * open containers are frames on an explicit stack, and finished elements
 * wait on a value stack until their container closes, when the matching
 * constructor takes them all at once (so building is linear).  Every
 * value on the stack is owned by the parser; an error releases them all,
 * so no path leaks.  Nesting deeper than lim->max_depth is an error
 * (HV_ELIMIT), not a crash, whatever the input.
 *
 * Beyond Erlang's own syntax: a string "..." is a binary (hive has no
 * char lists in text form), pids read <0.Number.Serial> (a non-zero first
 * field names the node by atom table index, meaningful only inside this
 * OS process) and refs read #Ref<Node.W.W.W>, most significant word
 * first, as erlang:ref_to_list/1 prints them.  Bare reserved words such
 * as `when` are not atoms, as in Erlang. */
#include "runtime/term_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/atom.h"
#include "runtime/buf.h"
#include "runtime/term_box.h"
#include "runtime/term_lex.h"
#include "runtime/term_walk.h"
#include "runtime/util.h"

enum frame_kind { FRAME_TUPLE, FRAME_LIST, FRAME_MAP };

struct frame {
    enum frame_kind kind;
    bool tail;   /* a list after '|': only its tail and ']' remain */
    size_t base; /* index of its first element on the value stack */
};

struct parser {
    struct hv__lex lx;
    struct hv__tok tok;  /* the lookahead */
    struct hv__tok prev; /* the last token taken, for "after ..." */
    bool has_prev;
    struct hv__walk frames; /* struct frame */
    struct hv__walk vals;   /* hv_term, each owned by the parser */
    hv_buf bin;             /* bytes of the binary being read */
    const struct hv__parse_hooks *hooks;
    hv_limits lim;
    hv_error *err;
};

#define fail(p, at, code, ...) hv__lex_fail(&(p)->lx, (at), (code), __VA_ARGS__)

static int
nomem(struct parser *p)
{
    return fail(p, &p->tok, HV_ENOMEM, "out of memory");
}

/* "expected X after Y, found Z", at the lookahead Z. */
static int
expected(struct parser *p, const char *what)
{
    return hv__lex_expected(&p->lx, &p->tok, p->has_prev ? &p->prev : NULL,
                            what);
}

/* Takes the lookahead and reads the next one, lexed under flags. */
static int
advance(struct parser *p, unsigned flags)
{
    p->prev = p->tok;
    p->has_prev = true;
    return hv__lex_next(&p->lx, &p->tok, flags);
}

static int
push_value(struct parser *p, hv_term v)
{
    hv_term *slot = hv__walk_push(&p->vals);
    if (slot == NULL) {
        hv_release(v);
        return nomem(p);
    }
    *slot = v;
    return HV_OK;
}

static hv_term *
vals_at(struct parser *p, size_t i)
{
    return (hv_term *)(void *)p->vals.items + i;
}

/* Releases the values from index base up and drops them from the stack. */
static void
drop_values(struct parser *p, size_t base)
{
    for (size_t i = base; i < p->vals.len; i++)
        hv_release(*vals_at(p, i));
    p->vals.len = base;
}

static int
atom_token(struct parser *p, hv_term *out)
{
    if (!p->tok.quoted && hv__atom_needs_quotes(p->tok.text, p->tok.text_len))
        return fail(p, &p->tok, HV_ESYNTAX,
                    "'%.*s' is a reserved word; quote it to make an atom",
                    (int)p->tok.text_len, p->tok.text);
    hv_error e;
    *out = hv_atom_n(p->tok.text, p->tok.text_len, &e);
    if (*out == HV_NONE)
        return fail(p, &p->tok, e.code, "%s", e.what);
    return advance(p, 0);
}

/* A number with an optional sign before it: -5, +1.5, - 9. */
static int
number_token(struct parser *p, hv_term *out)
{
    bool neg = false;
    if (p->tok.kind == HV__TOK_MINUS || p->tok.kind == HV__TOK_PLUS) {
        neg = p->tok.kind == HV__TOK_MINUS;
        int rc = advance(p, 0);
        if (rc != HV_OK)
            return rc;
        if (p->tok.kind != HV__TOK_INT && p->tok.kind != HV__TOK_FLOAT)
            return expected(p, "a number");
    }
    char text[48];
    hv__lex_describe(&p->lx, &p->tok, text, sizeof text);
    if (p->tok.kind == HV__TOK_FLOAT) {
        if (p->tok.overflow)
            return fail(p, &p->tok, HV_ESYNTAX, "float %s is out of range",
                        text);
        *out = hv_float(neg ? -p->tok.f : p->tok.f);
    } else {
        uint64_t u = p->tok.u, max = (uint64_t)INT64_MAX + (neg ? 1 : 0);
        if (p->tok.overflow || u > max)
            return fail(p, &p->tok, HV_EOVERFLOW,
                        "integer %s%s does not fit in 64 bits", neg ? "-" : "",
                        text);
        /* Negating in unsigned arithmetic reaches INT64_MIN too. */
        *out = hv_int(neg ? (int64_t)(0 - u) : (int64_t)u);
    }
    if (*out == HV_NONE)
        return nomem(p);
    return advance(p, 0);
}

/* Adjacent strings are one, as in Erlang: "ab" "cd" is "abcd". */
static int
string_run(struct parser *p)
{
    while (p->tok.kind == HV__TOK_STRING) {
        if (hv__buf_append(&p->bin, p->tok.text, p->tok.text_len) != HV_OK)
            return nomem(p);
        int rc = advance(p, 0);
        if (rc != HV_OK)
            return rc;
    }
    return HV_OK;
}

static int
directive(struct parser *p, bool in_binary, hv_term *out)
{
    char letter = p->tok.letter;
    const char *why = "not allowed here";
    int rc = HV_ESYNTAX;
    if (p->hooks == NULL)
        return fail(p, &p->tok, HV_ESYNTAX,
                    "directive ~%c is only for hv_make formats", letter);
    if (in_binary && p->hooks->bytes)
        rc = p->hooks->bytes(p->hooks->ctx, letter, &p->bin, &why);
    else if (!in_binary && p->hooks->value)
        rc = p->hooks->value(p->hooks->ctx, letter, out, &why);
    if (rc != HV_OK) {
        if (out != NULL)
            *out = HV_NONE;
        return fail(p, &p->tok, rc, "~%c: %s", letter, why);
    }
    return advance(p, 0);
}

/* <<"text", 1, 2>>: strings and bytes, flat (binaries do not nest). */
static int
binary(struct parser *p, hv_term *out)
{
    p->bin.len = 0;
    int rc = advance(p, 0);
    size_t count = 0;
    if (rc == HV_OK && p->tok.kind != HV__TOK_BIN_CLOSE) {
        for (;;) {
            if (++count > p->lim.max_count)
                return fail(p, &p->tok, HV_ELIMIT,
                            "binary of more than %zu elements",
                            p->lim.max_count);
            if (p->tok.kind == HV__TOK_STRING) {
                rc = string_run(p);
            } else if (p->tok.kind == HV__TOK_INT) {
                if (p->tok.overflow || p->tok.u > 255) {
                    char found[48];
                    hv__lex_describe(&p->lx, &p->tok, found, sizeof found);
                    return fail(p, &p->tok, HV_ESYNTAX,
                                "byte %s out of range 0..255 in a binary",
                                found);
                }
                rc = hv__buf_putc(&p->bin, (char)p->tok.u);
                rc = rc != HV_OK ? nomem(p) : advance(p, 0);
            } else if (p->tok.kind == HV__TOK_DIRECTIVE) {
                rc = directive(p, true, NULL);
            } else {
                return expected(p, "a byte 0..255 or a string");
            }
            if (rc != HV_OK)
                return rc;
            if (p->tok.kind == HV__TOK_BIN_CLOSE)
                break;
            if (p->tok.kind != HV__TOK_COMMA)
                return expected(p, "',' or '>>'");
            if ((rc = advance(p, 0)) != HV_OK)
                return rc;
        }
    }
    if (rc != HV_OK)
        return rc;
    *out = hv_binary(p->bin.data, p->bin.len);
    if (*out == HV_NONE)
        return nomem(p);
    return advance(p, 0);
}

/* A field of a pid or ref: plain decimal, 0..UINT32_MAX. */
static int
field(struct parser *p, uint32_t *out, const char *what)
{
    if (p->tok.kind != HV__TOK_INT || p->tok.overflow ||
        p->tok.u > UINT32_MAX) {
        char e[64];
        snprintf(e, sizeof e, "a number 0..4294967295 in %s", what);
        return expected(p, e);
    }
    *out = (uint32_t)p->tok.u;
    return advance(p, HV__LEX_PLAIN);
}

/* The node a pid or ref names by atom index: 0 is the local node. */
static int
node_atom(struct parser *p, const struct hv__tok *at, uint32_t index,
          hv_term *node)
{
    if (index == 0) {
        *node = HV_ATOM_NONODE;
        return HV_OK;
    }
    /* A nonzero field is the node atom's index + 1 (see term_print.c). */
    if (index > hv_atom_count())
        return fail(p, at, HV_EBADARG, "no node: no atom has index %lu",
                    (unsigned long)index - 1);
    *node = HV__ATOM(index - 1);
    return HV_OK;
}

/* <Node.Number.Serial>; the lookahead is '<'. */
static int
pid(struct parser *p, hv_term *out)
{
    uint32_t f[3];
    struct hv__tok first;
    int rc = advance(p, HV__LEX_PLAIN);
    first = p->tok;
    for (int i = 0; rc == HV_OK && i < 3; i++) {
        if (i > 0 && p->tok.kind != HV__TOK_DOT)
            return expected(p, "'.' in a pid");
        if (i > 0)
            rc = advance(p, HV__LEX_PLAIN);
        if (rc == HV_OK)
            rc = field(p, &f[i], "a pid");
    }
    if (rc != HV_OK)
        return rc;
    if (p->tok.kind != HV__TOK_GT)
        return expected(p, "'>' closing a pid");
    hv_term node = HV_NONE;
    if ((rc = node_atom(p, &first, f[0], &node)) != HV_OK)
        return rc;
    if (f[0] == 0) {
        *out = hv_pid_local(f[1], f[2]);
        if (*out == HV_NONE)
            return fail(p, &first, HV_EBADARG,
                        "serial %lu of a local pid is not below 2^%d",
                        (unsigned long)f[2], HV__PID_SERIAL_BITS);
    } else {
        /* The local node named by its index gives the immediate pid when
         * the serial fits, else a box: either way the term printed. */
        *out = hv_pid_remote(node, f[1], f[2], 0);
        if (*out == HV_NONE)
            return nomem(p);
    }
    return advance(p, 0);
}

/* #Ref<Node.W.W.W>, 1 to 5 words, most significant first. */
static int
ref(struct parser *p, hv_term *out)
{
    uint32_t node_index, ms_first[5], words[5];
    size_t n = 0;
    int rc = advance(p, HV__LEX_PLAIN);
    struct hv__tok first = p->tok;
    if (rc == HV_OK)
        rc = field(p, &node_index, "a reference");
    while (rc == HV_OK && p->tok.kind == HV__TOK_DOT) {
        if (n == 5)
            return fail(p, &p->tok, HV_ESYNTAX,
                        "a reference has at most 5 words");
        rc = advance(p, HV__LEX_PLAIN);
        if (rc == HV_OK)
            rc = field(p, &ms_first[n++], "a reference");
    }
    if (rc != HV_OK)
        return rc;
    if (n == 0)
        return expected(p, "'.' and a word of the reference");
    if (p->tok.kind != HV__TOK_GT)
        return expected(p, "'.' or '>' closing a reference");
    hv_term node = HV_NONE;
    if ((rc = node_atom(p, &first, node_index, &node)) != HV_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        words[i] = ms_first[n - 1 - i];
    *out = hv_ref_from(node, 0, words, n);
    if (*out == HV_NONE)
        return nomem(p);
    return advance(p, 0);
}

/* A term that is not a container, or an empty container. */
static int
leaf(struct parser *p, hv_term *out)
{
    switch (p->tok.kind) {
    case HV__TOK_INT:
    case HV__TOK_FLOAT:
    case HV__TOK_MINUS:
    case HV__TOK_PLUS:
        return number_token(p, out);
    case HV__TOK_ATOM:
        return atom_token(p, out);
    case HV__TOK_STRING: {
        p->bin.len = 0;
        int rc = string_run(p);
        if (rc != HV_OK)
            return rc;
        *out = hv_binary(p->bin.data, p->bin.len);
        return *out == HV_NONE ? nomem(p) : HV_OK;
    }
    case HV__TOK_BIN_OPEN:
        return binary(p, out);
    case HV__TOK_LT:
        return pid(p, out);
    case HV__TOK_REF_OPEN:
        return ref(p, out);
    case HV__TOK_DIRECTIVE:
        return directive(p, false, out);
    default:
        return expected(p, "a term");
    }
}

/* Builds the container of the top frame from its values, pops it. */
static int
close_frame(struct parser *p, hv_term *out)
{
    struct frame f = *(struct frame *)hv__walk_top(&p->frames);
    hv__walk_pop(&p->frames);
    size_t n = p->vals.len - f.base;
    hv_term *el = vals_at(p, f.base);
    if (f.kind == FRAME_TUPLE) {
        p->vals.len = f.base;
        *out = hv_tuple_v(n, el); /* consumes el, even on failure */
    } else if (f.kind == FRAME_LIST) {
        hv_term t = HV_NIL;
        if (f.tail)
            t = el[--n];
        p->vals.len = f.base;
        for (size_t i = n; i-- > 0;) {
            t = hv_cons(el[i], t); /* consumes both, even on failure */
            if (t == HV_NONE) {
                for (size_t k = 0; k < i; k++)
                    hv_release(el[k]);
                break;
            }
        }
        *out = t;
    } else {
        /* The stack holds k0 v0 k1 v1 ...: keys move down in place (each
         * write lands on a slot already read), values go to a side array. */
        n /= 2;
        hv_term *vs = hv__alloc(n * sizeof *vs);
        if (vs == NULL) {
            drop_values(p, f.base);
            return nomem(p);
        }
        for (size_t i = 0; i < n; i++) {
            hv_term k = el[2 * i], v = el[2 * i + 1];
            el[i] = k;
            vs[i] = v;
        }
        p->vals.len = f.base;
        *out = hv_map_from(n, el, vs); /* consumes keys and values */
        hv__free(vs, n * sizeof *vs);
    }
    return *out == HV_NONE ? nomem(p) : advance(p, 0);
}

/* Opens a container; an empty one is finished at once into *out. */
static int
open_frame(struct parser *p, hv_term *out)
{
    static const enum hv__tok_kind close[] = {
        [FRAME_TUPLE] = HV__TOK_RBRACE,
        [FRAME_LIST] = HV__TOK_RBRACKET,
        [FRAME_MAP] = HV__TOK_RBRACE,
    };
    enum frame_kind kind = p->tok.kind == HV__TOK_LBRACE     ? FRAME_TUPLE
                           : p->tok.kind == HV__TOK_LBRACKET ? FRAME_LIST
                                                             : FRAME_MAP;
    if (p->frames.len >= p->lim.max_depth)
        return fail(p, &p->tok, HV_ELIMIT, "nesting deeper than %u",
                    p->lim.max_depth);
    int rc = advance(p, 0);
    if (rc != HV_OK)
        return rc;
    *out = HV_NONE;
    if (p->tok.kind == close[kind]) {
        *out = kind == FRAME_TUPLE  ? hv_tuple_v(0, NULL)
               : kind == FRAME_LIST ? HV_NIL
                                    : hv_map_new();
        return *out == HV_NONE ? nomem(p) : advance(p, 0);
    }
    struct frame *f = hv__walk_push(&p->frames);
    if (f == NULL)
        return nomem(p);
    f->kind = kind;
    f->tail = false;
    f->base = p->vals.len;
    return HV_OK;
}

/* After a value went onto the stack: what may follow it in the top
 * frame.  When that closes the frame, *out receives the container. */
static int
after_value(struct parser *p, hv_term *out)
{
    struct frame *f = hv__walk_top(&p->frames);
    size_t n = p->vals.len - f->base;
    enum hv__tok_kind k = p->tok.kind;
    if ((f->kind == FRAME_MAP ? (n + 1) / 2 : n) > p->lim.max_count)
        return fail(p, &p->tok, HV_ELIMIT,
                    "container of more than %zu elements", p->lim.max_count);
    if (f->kind == FRAME_TUPLE && n > HV_MAX_TUPLE_ARITY)
        return fail(p, &p->tok, HV_ELIMIT, "tuple of more than %zu elements",
                    HV_MAX_TUPLE_ARITY);
    if (f->kind == FRAME_MAP && n % 2 == 1) {
        if (k != HV__TOK_ARROW)
            return expected(p, "'=>' after a map key");
        return advance(p, 0);
    }
    enum hv__tok_kind end =
        f->kind == FRAME_LIST ? HV__TOK_RBRACKET : HV__TOK_RBRACE;
    if (k == end)
        return close_frame(p, out);
    if (f->tail)
        return expected(p, "']' after the tail of a list");
    if (k == HV__TOK_BAR && f->kind == FRAME_LIST) {
        f->tail = true;
        return advance(p, 0);
    }
    if (k == HV__TOK_COMMA)
        return advance(p, 0);
    return expected(p, f->kind == FRAME_TUPLE ? "',' or '}'"
                       : f->kind == FRAME_MAP ? "',' or '}' in a map"
                                              : "',', '|' or ']'");
}

static int
parse_term(struct parser *p, hv_term *root)
{
    int rc = advance(p, 0);
    p->has_prev = false;
    while (rc == HV_OK) {
        /* v is owned here: a builder may succeed and the token after it
         * fail to lex, so it is released on every error. */
        hv_term v = HV_NONE;
        enum hv__tok_kind k = p->tok.kind;
        if (k == HV__TOK_LBRACE || k == HV__TOK_LBRACKET ||
            k == HV__TOK_MAP_OPEN)
            rc = open_frame(p, &v);
        else
            rc = leaf(p, &v);
        /* Climb out of every container this value completes. */
        while (rc == HV_OK && v != HV_NONE) {
            if (hv__walk_empty(&p->frames)) {
                *root = v;
                return HV_OK;
            }
            rc = push_value(p, v); /* takes v, even on failure */
            v = HV_NONE;
            if (rc == HV_OK)
                rc = after_value(p, &v);
        }
        hv_release(v);
    }
    return rc;
}

static void
parser_init(struct parser *p, const char *text, size_t len,
            const hv_limits *lim, const struct hv__parse_hooks *hooks,
            hv_error *err)
{
    p->lim.max_depth =
        lim && lim->max_depth ? lim->max_depth : HV_DEFAULT_MAX_DEPTH;
    p->lim.max_count =
        lim && lim->max_count ? lim->max_count : HV_DEFAULT_MAX_COUNT;
    p->lim.max_bytes =
        lim && lim->max_bytes ? lim->max_bytes : HV_DEFAULT_MAX_BYTES;
    hv__lex_init(&p->lx, text ? text : "", len, err);
    p->has_prev = false;
    memset(&p->tok, 0, sizeof p->tok);
    hv__walk_init(&p->frames, sizeof(struct frame));
    hv__walk_init(&p->vals, sizeof(hv_term));
    p->bin = (hv_buf)HV_BUF_INIT;
    p->hooks = hooks;
    p->err = err;
}

static void
parser_fini(struct parser *p)
{
    drop_values(p, 0);
    hv_buf_free(&p->bin);
    hv__walk_fini(&p->vals);
    hv__walk_fini(&p->frames);
    hv__lex_fini(&p->lx);
}

hv_term
hv__parse(const char *text, size_t len, const hv_limits *lim,
          const struct hv__parse_hooks *hooks, hv_error *err)
{
    struct parser p;
    if (text == NULL && len != 0) {
        hv__error_set(err, HV_EBADARG, 0, 0, 0, "text is NULL");
        return HV_NONE;
    }
    parser_init(&p, text, len, lim, hooks, err);
    if (len > p.lim.max_bytes) {
        int line, col;
        hv__lex_position(text, p.lim.max_bytes, &line, &col);
        hv__error_set(err, HV_ELIMIT, p.lim.max_bytes, line, col,
                      "text of %zu bytes is longer than the limit of %zu", len,
                      p.lim.max_bytes);
        parser_fini(&p);
        return HV_NONE;
    }
    hv_term root = HV_NONE;
    int rc = parse_term(&p, &root);
    if (rc == HV_OK && p.tok.kind == HV__TOK_DOT)
        rc = advance(&p, 0);
    if (rc == HV_OK && p.tok.kind != HV__TOK_EOF)
        rc = expected(&p, "end of input");
    if (rc != HV_OK) {
        hv_release(root);
        root = HV_NONE;
    }
    parser_fini(&p);
    return root;
}

hv_term
hv__parse_one(const char *text, size_t len, struct hv__lex_at *at,
              hv_error *err)
{
    struct parser p;
    parser_init(&p, text, len, NULL, NULL, err);
    p.lx.pos = at->offset;
    p.lx.line = at->line;
    p.lx.column = at->column;
    hv_term root = HV_NONE;
    if (parse_term(&p, &root) == HV_OK) {
        at->offset = p.tok.offset;
        at->line = p.tok.line;
        at->column = p.tok.column;
    }
    parser_fini(&p);
    return root;
}

hv_term
hv_parse(const char *text, hv_error *err)
{
    if (text == NULL) {
        hv__error_set(err, HV_EBADARG, 0, 0, 0, "text is NULL");
        return HV_NONE;
    }
    return hv__parse(text, strlen(text), NULL, NULL, err);
}

hv_term
hv_parse_n(const char *text, size_t len, const hv_limits *lim, hv_error *err)
{
    return hv__parse(text, len, lim, NULL, err);
}
