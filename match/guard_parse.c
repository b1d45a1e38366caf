/* match/guard_parse.c - guard text to tree, with Erlang's precedence
 * (loosest first): `;`, `,`, orelse, andalso, comparisons and =~ (which
 * do not chain), + - bor bxor bsl bsr or xor, * / div rem band and, then
 * unary - + bnot not.  Guards use only variables the pattern binds, pins
 * and literals; functions are checked by name and arity here, regexes
 * compiled here, so evaluation never meets an unknown. */
#include <stdio.h>
#include <string.h>

#include "match/parse.h"
#include "match/regex.h"
#include "runtime/atom.h"

static struct hv__gnode *
gnode(struct hv__pp *p, enum hv__gn_kind kind, int op, size_t n)
{
    struct hv__gnode *g = hv__arena_alloc(&p->pat->arena, sizeof *g);
    if (g == NULL)
        return NULL;
    g->kind = kind;
    g->op = op;
    g->n = n;
    if (n > 0 &&
        (g->kids = hv__arena_alloc(&p->pat->arena, n * sizeof *g->kids)) ==
            NULL)
        return NULL;
    return g;
}

static int expr(struct hv__pp *p, struct hv__gnode **out);

/* A node joining kids (a growable list while parsing). */
struct list {
    struct hv__gnode **v;
    size_t n, cap;
};

static int
list_push(struct hv__pp *p, struct list *l, struct hv__gnode *g)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        struct hv__gnode **v = hv__arena_alloc(&p->pat->arena, cap * sizeof *v);
        if (v == NULL)
            return hv__pp_nomem(p);
        if (l->n > 0)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = g;
    return HV_OK;
}

static int
joined(struct hv__pp *p, enum hv__gn_kind kind, enum hv__tok_kind sep,
       int (*item)(struct hv__pp *, struct hv__gnode **),
       struct hv__gnode **out)
{
    struct list l = {0};
    for (;;) {
        struct hv__gnode *g;
        int rc = item(p, &g);
        if (rc == HV_OK)
            rc = list_push(p, &l, g);
        if (rc != HV_OK)
            return rc;
        if (p->tok.kind != sep)
            break;
        if ((rc = hv__pp_advance(p)) != HV_OK)
            return rc;
    }
    if ((*out = gnode(p, kind, 0, 0)) == NULL)
        return hv__pp_nomem(p);
    (*out)->n = l.n;
    (*out)->kids = l.v;
    return HV_OK;
}

static int
guard(struct hv__pp *p, struct hv__gnode **out)
{
    return joined(p, GN_ALL, HV__TOK_COMMA, expr, out);
}

int
hv__pp_guard_sequence(struct hv__pp *p, struct hv__gnode **out)
{
    return joined(p, GN_ANY, HV__TOK_SEMI, guard, out);
}

/* ---- operators ---- */

struct opdef {
    enum hv__tok_kind tok; /* or HV__TOK_ATOM with word */
    const char *word;
    int op;
};

static const struct opdef add_ops[] = {
    {HV__TOK_PLUS, NULL, G_ADD},  {HV__TOK_MINUS, NULL, G_SUB},
    {HV__TOK_ATOM, "bor", G_BOR}, {HV__TOK_ATOM, "bxor", G_BXOR},
    {HV__TOK_ATOM, "bsl", G_BSL}, {HV__TOK_ATOM, "bsr", G_BSR},
    {HV__TOK_ATOM, "or", G_OR},   {HV__TOK_ATOM, "xor", G_XOR},
    {HV__TOK_EOF, NULL, 0}};
static const struct opdef mul_ops[] = {
    {HV__TOK_STAR, NULL, G_MUL},   {HV__TOK_SLASH, NULL, G_FDIV},
    {HV__TOK_ATOM, "div", G_DIV},  {HV__TOK_ATOM, "rem", G_REM},
    {HV__TOK_ATOM, "band", G_BAND}, {HV__TOK_ATOM, "and", G_AND},
    {HV__TOK_EOF, NULL, 0}};
static const struct opdef cmp_ops[] = {
    {HV__TOK_EQ, NULL, G_EQ},          {HV__TOK_NE, NULL, G_NE},
    {HV__TOK_EXACT_EQ, NULL, G_EXACT_EQ}, {HV__TOK_EXACT_NE, NULL, G_EXACT_NE},
    {HV__TOK_LT, NULL, G_LT},          {HV__TOK_LE, NULL, G_LE},
    {HV__TOK_GT, NULL, G_GT},          {HV__TOK_GE, NULL, G_GE},
    {HV__TOK_EOF, NULL, 0}};
static const struct opdef unary_ops[] = {
    {HV__TOK_MINUS, NULL, G_NEG},   {HV__TOK_PLUS, NULL, G_PLUS},
    {HV__TOK_ATOM, "bnot", G_BNOT}, {HV__TOK_ATOM, "not", G_NOT},
    {HV__TOK_EOF, NULL, 0}};
static const struct opdef andalso_ops[] = {{HV__TOK_ATOM, "andalso", G_ANDALSO},
                                           {HV__TOK_EOF, NULL, 0}};
static const struct opdef orelse_ops[] = {{HV__TOK_ATOM, "orelse", G_ORELSE},
                                          {HV__TOK_EOF, NULL, 0}};

/* The operator of `ops` at the lookahead, or -1. */
static int
op_at(const struct hv__pp *p, const struct opdef *ops)
{
    for (; ops->tok != HV__TOK_EOF; ops++)
        if (ops->word != NULL ? hv__pp_is_word(&p->tok, ops->word)
                              : p->tok.kind == ops->tok)
            return ops->op;
    return -1;
}

static int
binary(struct hv__pp *p, int op, struct hv__gnode *a, struct hv__gnode *b,
       struct hv__gnode **out)
{
    if ((*out = gnode(p, GN_OP, op, 2)) == NULL)
        return hv__pp_nomem(p);
    (*out)->kids[0] = a;
    (*out)->kids[1] = b;
    return HV_OK;
}

/* Left-associative levels: each parses `next` joined by its operators. */
static int
left_assoc(struct hv__pp *p, const struct opdef *ops,
           int (*next)(struct hv__pp *, struct hv__gnode **),
           struct hv__gnode **out)
{
    int rc = next(p, out);
    int op;
    while (rc == HV_OK && (op = op_at(p, ops)) >= 0) {
        struct hv__gnode *rhs;
        if ((rc = hv__pp_advance(p)) == HV_OK && (rc = next(p, &rhs)) == HV_OK)
            rc = binary(p, op, *out, rhs, out);
    }
    return rc;
}

static int primary(struct hv__pp *p, struct hv__gnode **out);

/* The kind of the token after the lookahead (a lexer error reads as
 * end of input; the real read reports it). */
static enum hv__tok_kind
peek_kind(const struct hv__pp *p)
{
    struct hv__lex ahead = p->lx;
    struct hv__tok tok;
    ahead.scratch = (hv_buf)HV_BUF_INIT;
    ahead.err = NULL;
    enum hv__tok_kind k = hv__lex_next(&ahead, &tok, 0) == HV_OK ? tok.kind
                                                                 : HV__TOK_EOF;
    hv__lex_fini(&ahead);
    return k;
}

static int literal(struct hv__pp *p, hv_term t, struct hv__gnode **out);

static int
unary(struct hv__pp *p, struct hv__gnode **out)
{
    int op = op_at(p, unary_ops);
    if (op < 0)
        return primary(p, out);
    if (op == G_NEG || op == G_PLUS) {
        /* -9223372036854775808 is one literal: its magnitude alone does
         * not fit in 64 bits. */
        enum hv__tok_kind k = peek_kind(p);
        if (k == HV__TOK_INT || k == HV__TOK_FLOAT) {
            hv_term t;
            int rc = hv__pp_number(p, &t);
            return rc != HV_OK ? rc : literal(p, t, out);
        }
    }
    if (++p->depth > HV__PARSE_MAX_DEPTH)
        return hv__lex_fail(&p->lx, &p->tok, HV_ELIMIT,
                            "guard nested deeper than %d",
                            HV__PARSE_MAX_DEPTH);
    struct hv__gnode *arg;
    int rc = hv__pp_advance(p);
    if (rc == HV_OK)
        rc = unary(p, &arg);
    p->depth--;
    if (rc != HV_OK)
        return rc;
    if ((*out = gnode(p, GN_OP, op, 1)) == NULL)
        return hv__pp_nomem(p);
    (*out)->kids[0] = arg;
    return HV_OK;
}

static int
mul(struct hv__pp *p, struct hv__gnode **out)
{
    return left_assoc(p, mul_ops, unary, out);
}

static int
add(struct hv__pp *p, struct hv__gnode **out)
{
    return left_assoc(p, add_ops, mul, out);
}

/* Bin =~ "regex": the lookahead is the string. */
static int
regex(struct hv__pp *p, struct hv__gnode *subject, struct hv__gnode **out)
{
    if (p->tok.kind != HV__TOK_STRING)
        return hv__pp_expected(p, "a string literal holding the regex");
    char msg[120];
    size_t at;
    struct hv__regex *re =
        hv__regex_compile(p->tok.text, p->tok.text_len, &at, msg, sizeof msg);
    if (re == NULL) {
        if (at == SIZE_MAX)
            return hv__pp_nomem(p);
        return hv__lex_fail(&p->lx, &p->tok, HV_ESYNTAX,
                            "bad regex \"%.*s\": %s at offset %zu",
                            (int)(p->tok.text_len < 40 ? p->tok.text_len : 40),
                            p->tok.text, msg, at);
    }
    struct hv__regex **list = hv__arena_alloc(
        &p->pat->arena, (p->pat->nregexes + 1) * sizeof *list);
    if (list == NULL) {
        hv__regex_free(re);
        return hv__pp_nomem(p);
    }
    if (p->pat->nregexes > 0)
        memcpy(list, p->pat->regexes, p->pat->nregexes * sizeof *list);
    list[p->pat->nregexes++] = re;
    p->pat->regexes = list;
    if ((*out = gnode(p, GN_REGEX, 0, 1)) == NULL)
        return hv__pp_nomem(p);
    (*out)->kids[0] = subject;
    (*out)->re = re;
    return hv__pp_advance(p);
}

static int
comparison(struct hv__pp *p, struct hv__gnode **out)
{
    int rc = add(p, out);
    if (rc != HV_OK)
        return rc;
    int op = op_at(p, cmp_ops);
    bool re = p->tok.kind == HV__TOK_REGEX;
    if (op < 0 && !re)
        return HV_OK;
    if ((rc = hv__pp_advance(p)) != HV_OK)
        return rc;
    if (re) {
        rc = regex(p, *out, out);
    } else {
        struct hv__gnode *rhs;
        if ((rc = add(p, &rhs)) == HV_OK)
            rc = binary(p, op, *out, rhs, out);
    }
    if (rc == HV_OK && (op_at(p, cmp_ops) >= 0 || p->tok.kind == HV__TOK_REGEX))
        return hv__lex_fail(&p->lx, &p->tok, HV_ESYNTAX,
                            "comparisons do not chain; use parentheses or "
                            "andalso");
    return rc;
}

static int
andalso(struct hv__pp *p, struct hv__gnode **out)
{
    return left_assoc(p, andalso_ops, comparison, out);
}

static int
expr(struct hv__pp *p, struct hv__gnode **out)
{
    return left_assoc(p, orelse_ops, andalso, out);
}

/* ---- primaries ---- */

static int
literal(struct hv__pp *p, hv_term t, struct hv__gnode **out)
{
    if (t == HV_NONE || hv__pattern_own(p->pat, t) != HV_OK)
        return hv__pp_nomem(p);
    if ((*out = gnode(p, GN_LIT, 0, 0)) == NULL)
        return hv__pp_nomem(p);
    (*out)->lit = t;
    return HV_OK;
}

/* name(args...): the lookahead is '(' and name is the atom before it. */
static int
call(struct hv__pp *p, const struct hv__tok *name_tok, const char *name,
     size_t name_len, struct hv__gnode **out)
{
    struct list args = {0};
    int rc = hv__pp_advance(p);
    while (rc == HV_OK && p->tok.kind != HV__TOK_RPAREN) {
        struct hv__gnode *a;
        if ((rc = expr(p, &a)) != HV_OK || (rc = list_push(p, &args, a)) != HV_OK)
            return rc;
        if (p->tok.kind == HV__TOK_COMMA)
            rc = hv__pp_advance(p);
        else if (p->tok.kind != HV__TOK_RPAREN)
            return hv__pp_expected(p, "',' or ')'");
    }
    if (rc != HV_OK)
        return rc;
    int fn = hv__guard_function(name, name_len, args.n);
    if (fn < 0)
        return hv__lex_fail(&p->lx, name_tok, HV_ESYNTAX,
                            "unknown guard function %.*s/%zu", (int)name_len,
                            name, args.n);
    if ((*out = gnode(p, GN_CALL, fn, 0)) == NULL)
        return hv__pp_nomem(p);
    (*out)->n = args.n;
    (*out)->kids = args.v;
    return hv__pp_advance(p);
}

static int
variable(struct hv__pp *p, struct hv__gnode **out)
{
    if (p->tok.text_len == 1 && p->tok.text[0] == '_')
        return hv__lex_fail(&p->lx, &p->tok, HV_ESYNTAX,
                            "'_' cannot be used in a guard");
    int index = hv__names_find(&p->out->vars, p->tok.text, p->tok.text_len);
    if (index < 0)
        return hv__lex_fail(&p->lx, &p->tok, HV_ESYNTAX,
                            "variable '%.*s' is unbound (a guard sees only "
                            "the pattern's variables)",
                            (int)p->tok.text_len, p->tok.text);
    if ((*out = gnode(p, GN_VAR, 0, 0)) == NULL)
        return hv__pp_nomem(p);
    (*out)->index = index;
    return hv__pp_advance(p);
}

static int
parenthesized(struct hv__pp *p, struct hv__gnode **out)
{
    if (++p->depth > HV__PARSE_MAX_DEPTH)
        return hv__lex_fail(&p->lx, &p->tok, HV_ELIMIT,
                            "guard nested deeper than %d",
                            HV__PARSE_MAX_DEPTH);
    int rc = hv__pp_advance(p);
    if (rc == HV_OK)
        rc = expr(p, out);
    p->depth--;
    if (rc != HV_OK)
        return rc;
    if (p->tok.kind != HV__TOK_RPAREN)
        return hv__pp_expected(p, "')'");
    return hv__pp_advance(p);
}

static int
primary(struct hv__pp *p, struct hv__gnode **out)
{
    hv_term t = HV_NONE;
    int rc;
    switch (p->tok.kind) {
    case HV__TOK_VAR:
        return variable(p, out);
    case HV__TOK_CARET:
        if ((*out = gnode(p, GN_PIN, 0, 0)) == NULL)
            return hv__pp_nomem(p);
        return hv__pp_pin_index(p, &(*out)->index);
    case HV__TOK_LPAREN:
        return parenthesized(p, out);
    case HV__TOK_ATOM: {
        /* Reserved words, and names too long to be atoms, fail there. */
        if (p->tok.text_len > HV_MAX_ATOM_BYTES ||
            (!p->tok.quoted &&
             hv__atom_needs_quotes(p->tok.text, p->tok.text_len))) {
            rc = hv__pp_atom_lit(p, &t);
            break;
        }
        struct hv__tok name_tok = p->tok;
        char name[HV_MAX_ATOM_BYTES + 1];
        size_t len = p->tok.text_len;
        memcpy(name, p->tok.text, len);
        name[len] = '\0';
        if ((rc = hv__pp_advance(p)) != HV_OK)
            return rc;
        if (p->tok.kind == HV__TOK_LPAREN)
            return call(p, &name_tok, name, len, out);
        hv_error e;
        if ((t = hv_atom_n(name, len, &e)) == HV_NONE)
            return hv__lex_fail(&p->lx, &name_tok, e.code, "%s", e.what);
        break;
    }
    case HV__TOK_INT:
    case HV__TOK_FLOAT:
        rc = hv__pp_number(p, &t);
        break;
    case HV__TOK_STRING:
        rc = hv__pp_string_lit(p, &t);
        break;
    case HV__TOK_LBRACE:
    case HV__TOK_LBRACKET:
    case HV__TOK_MAP_OPEN:
    case HV__TOK_BIN_OPEN:
    case HV__TOK_LT:
    case HV__TOK_REF_OPEN:
        /* Terms in a guard are constants (nothing is built at match
         * time): the term parser reads them. */
        rc = hv__pp_foreign_literal(p, &t);
        break;
    default:
        return hv__pp_expected(p, "a guard expression");
    }
    if (rc != HV_OK)
        return rc;
    return literal(p, t, out);
}
