/* match/pattern_parse.c - clause text to syntax tree: a pattern in
 * Erlang's syntax, optionally `when` and a guard sequence.
 *
 * Recursive descent over the term lexer's tokens (runtime/term_lex.h).
 * Literals the term parser reads better (binaries, pids, refs, and any
 * literal in a guard) are handed to it at their position.  Tuples and
 * lists whose parts are all literals fold into one literal term, so the
 * program compares them in one step.  Errors carry the position of the
 * token at fault and say what was expected. */
#include <stdio.h>
#include <string.h>

#include "match/parse.h"
#include "match/regex.h"
#include "runtime/atom.h"
#include "runtime/buf.h"
#include "runtime/term_lex.h"
#include "runtime/term_parse.h"



int
hv__pp_advance(struct hv__pp *p)
{
    p->prev = p->tok;
    p->has_prev = true;
    return hv__lex_next(&p->lx, &p->tok, 0);
}

/* Advances past a literal just made into *out, which the caller owns
 * only on success: a bad token after it must not leak it. */
static int
advance_keeping(struct hv__pp *p, hv_term *out)
{
    int rc = hv__pp_advance(p);
    if (rc != HV_OK) {
        hv_release(*out);
        *out = HV_NONE;
    }
    return rc;
}

int
hv__pp_expected(struct hv__pp *p, const char *what)
{
    return hv__lex_expected(&p->lx, &p->tok, p->has_prev ? &p->prev : NULL,
                            what);
}

bool
hv__pp_is_word(const struct hv__tok *t, const char *word)
{
    return t->kind == HV__TOK_ATOM && !t->quoted &&
           t->text_len == strlen(word) &&
           memcmp(t->text, word, t->text_len) == 0;
}

int
hv__pp_nomem(struct hv__pp *p)
{
    return hv__lex_fail(&p->lx, &p->tok, HV_ENOMEM, "out of memory");
}

static struct hv__pnode *
pnode(struct hv__pp *p, enum hv__pn_kind kind, size_t n)
{
    struct hv__pnode *node = hv__arena_alloc(&p->pat->arena, sizeof *node);
    if (node == NULL)
        return NULL;
    node->kind = kind;
    node->n = n;
    if (n > 0 &&
        (node->kids = hv__arena_alloc(&p->pat->arena, n * sizeof *node->kids)) ==
            NULL)
        return NULL;
    return node;
}

/* A literal node owning t (released on failure). */
static int
lit_node(struct hv__pp *p, hv_term t, struct hv__pnode **out)
{
    if (t == HV_NONE || hv__pattern_own(p->pat, t) != HV_OK)
        return hv__pp_nomem(p);
    if ((*out = pnode(p, PN_LIT, 0)) == NULL)
        return hv__pp_nomem(p);
    (*out)->lit = t;
    return HV_OK;
}

/* Hands the literal at the lookahead to the term parser. */
int
hv__pp_foreign_literal(struct hv__pp *p, hv_term *out)
{
    struct hv__lex_at at = {p->tok.offset, p->tok.line, p->tok.column};
    *out = hv__parse_one(p->text, p->len, &at, p->lx.err);
    if (*out == HV_NONE)
        return p->lx.err != NULL ? p->lx.err->code : HV_ESYNTAX;
    p->lx.pos = at.offset;
    p->lx.line = at.line;
    p->lx.column = at.column;
    return advance_keeping(p, out);
}

/* -5, +1.5: the lookahead is the sign or the number. */
int
hv__pp_number(struct hv__pp *p, hv_term *out)
{
    bool neg = false;
    if (p->tok.kind == HV__TOK_MINUS || p->tok.kind == HV__TOK_PLUS) {
        neg = p->tok.kind == HV__TOK_MINUS;
        int rc = hv__pp_advance(p);
        if (rc != HV_OK)
            return rc;
        if (p->tok.kind != HV__TOK_INT && p->tok.kind != HV__TOK_FLOAT)
            return hv__pp_expected(p, "a number");
    }
    if (p->tok.kind == HV__TOK_FLOAT) {
        if (p->tok.overflow)
            return hv__lex_fail(&p->lx, &p->tok, HV_ESYNTAX,
                                "float out of range");
        *out = hv_float(neg ? -p->tok.f : p->tok.f);
    } else {
        uint64_t u = p->tok.u;
        uint64_t max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (p->tok.overflow || u > max) {
            char found[48];
            hv__lex_describe(&p->lx, &p->tok, found, sizeof found);
            return hv__lex_fail(&p->lx, &p->tok, HV_EOVERFLOW,
                                "integer %s%s does not fit in 64 bits",
                                neg ? "-" : "", found);
        }
        *out = hv_int(neg ? (int64_t)(0 - u) : (int64_t)u);
    }
    if (*out == HV_NONE)
        return hv__pp_nomem(p);
    return advance_keeping(p, out);
}

int
hv__pp_atom_lit(struct hv__pp *p, hv_term *out)
{
    if (!p->tok.quoted && hv__atom_needs_quotes(p->tok.text, p->tok.text_len))
        return hv__lex_fail(&p->lx, &p->tok, HV_ESYNTAX,
                            "'%.*s' is a reserved word; quote it to make an "
                            "atom",
                            (int)p->tok.text_len, p->tok.text);
    hv_error e;
    *out = hv_atom_n(p->tok.text, p->tok.text_len, &e);
    if (*out == HV_NONE)
        return hv__lex_fail(&p->lx, &p->tok, e.code, "%s", e.what);
    return hv__pp_advance(p);
}

/* A variable's index, added on first sight. */
static int
var_index(struct hv__pp *p, int *index)
{
    struct hv__names *vars = &p->out->vars;
    *index = hv__names_find(vars, p->tok.text, p->tok.text_len);
    if (*index >= 0)
        return HV_OK;
    if (vars->n >= HV_MATCH_MAX_VARS)
        return hv__lex_fail(&p->lx, &p->tok, HV_ELIMIT,
                            "more than %d variables in one pattern, at %.*s",
                            HV_MATCH_MAX_VARS, (int)p->tok.text_len,
                            p->tok.text);
    *index = hv__names_add(vars, &p->pat->arena, p->tok.text,
                           p->tok.text_len);
    return *index < 0 ? hv__pp_nomem(p) : HV_OK;
}

/* ^Name: the lookahead is '^'. */
int
hv__pp_pin_index(struct hv__pp *p, int *index)
{
    int rc = hv__pp_advance(p);
    if (rc != HV_OK)
        return rc;
    if (p->tok.kind != HV__TOK_VAR || (p->tok.text_len == 1 &&
                                       p->tok.text[0] == '_'))
        return hv__pp_expected(p, "a variable name to pin");
    struct hv__names *pins = p->out->pins;
    *index = hv__names_find(pins, p->tok.text, p->tok.text_len);
    if (*index < 0)
        *index = hv__names_add(pins, p->names_arena, p->tok.text,
                               p->tok.text_len);
    if (*index < 0)
        return hv__pp_nomem(p);
    if ((unsigned)*index + 1 > p->pat->pins_needed)
        p->pat->pins_needed = (unsigned)*index + 1;
    return hv__pp_advance(p);
}


/* Folds a tuple or cons whose parts are all literals into one. */
static int
fold(struct hv__pp *p, struct hv__pnode **node)
{
    struct hv__pnode *n = *node;
    for (size_t i = 0; i < n->n; i++)
        if (n->kids[i]->kind != PN_LIT)
            return HV_OK;
    hv_term parts[n->n > 0 ? n->n : 1];
    for (size_t i = 0; i < n->n; i++)
        parts[i] = hv_retain(n->kids[i]->lit);
    hv_term t = n->kind == PN_TUPLE ? hv_tuple_v(n->n, parts)
                                    : hv_cons(parts[0], parts[1]);
    return lit_node(p, t, node);
}

/* Elements up to `close`, each a pattern; the lookahead is the opener. */
static int
sequence(struct hv__pp *p, enum hv__tok_kind close, struct hv__pnode ***items,
         size_t *n, bool allow_bar)
{
    size_t cap = 0;
    *n = 0;
    *items = NULL;
    int rc = hv__pp_advance(p);
    if (rc != HV_OK || p->tok.kind == close)
        return rc;
    for (;;) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct hv__pnode **grown =
                hv__arena_alloc(&p->pat->arena, ncap * sizeof *grown);
            if (grown == NULL)
                return hv__pp_nomem(p);
            if (*n > 0)
                memcpy(grown, *items, *n * sizeof *grown);
            *items = grown;
            cap = ncap;
        }
        if ((rc = hv__pp_pattern(p, &(*items)[(*n)++])) != HV_OK)
            return rc;
        if (p->tok.kind == HV__TOK_COMMA) {
            if ((rc = hv__pp_advance(p)) != HV_OK)
                return rc;
            continue;
        }
        if (p->tok.kind == close || (allow_bar && p->tok.kind == HV__TOK_BAR))
            return HV_OK;
        return hv__pp_expected(p, close == HV__TOK_RBRACE
                               ? "',' or '}'"
                               : "',', '|' or ']'");
    }
}

static int
tuple(struct hv__pp *p, struct hv__pnode **out)
{
    struct hv__pnode **items;
    size_t n;
    int rc = sequence(p, HV__TOK_RBRACE, &items, &n, false);
    if (rc != HV_OK)
        return rc;
    if ((*out = pnode(p, PN_TUPLE, 0)) == NULL)
        return hv__pp_nomem(p);
    (*out)->n = n;
    (*out)->kids = items;
    if ((rc = hv__pp_advance(p)) != HV_OK)
        return rc;
    return fold(p, out);
}

static int
list(struct hv__pp *p, struct hv__pnode **out)
{
    struct hv__pnode **items;
    size_t n;
    int rc = sequence(p, HV__TOK_RBRACKET, &items, &n, true);
    if (rc != HV_OK)
        return rc;
    struct hv__pnode *tail;
    if (p->tok.kind == HV__TOK_BAR) {
        if ((rc = hv__pp_advance(p)) != HV_OK || (rc = hv__pp_pattern(p, &tail)) != HV_OK)
            return rc;
        if (p->tok.kind != HV__TOK_RBRACKET)
            return hv__pp_expected(p, "']'");
    } else if ((rc = lit_node(p, HV_NIL, &tail)) != HV_OK) {
        return rc;
    }
    if ((rc = hv__pp_advance(p)) != HV_OK)
        return rc;
    for (size_t i = n; i-- > 0;) {
        struct hv__pnode *cell = pnode(p, PN_CONS, 2);
        if (cell == NULL)
            return hv__pp_nomem(p);
        cell->kids[0] = items[i];
        cell->kids[1] = tail;
        if ((rc = fold(p, &cell)) != HV_OK)
            return rc;
        tail = cell;
    }
    *out = tail;
    return HV_OK;
}

static int
map_key(struct hv__pp *p, struct hv__pnode **key)
{
    struct hv__tok at = p->tok;
    int rc = hv__pp_pattern(p, key);
    if (rc != HV_OK)
        return rc;
    if ((*key)->kind != PN_LIT && (*key)->kind != PN_PIN) {
        char found[48];
        hv__lex_describe(&p->lx, &at, found, sizeof found);
        return hv__lex_fail(&p->lx, &at, HV_ESYNTAX,
                            "map key %s: a key in a map pattern must be a "
                            "literal or a pin (^Name)",
                            found);
    }
    if (p->tok.kind == HV__TOK_ARROW)
        return hv__lex_fail(&p->lx, &p->tok, HV_ESYNTAX,
                            "'=>' builds a map; a map pattern uses ':='");
    if (p->tok.kind != HV__TOK_ASSOC)
        return hv__pp_expected(p, "':='");
    return hv__pp_advance(p);
}

static int
map(struct hv__pp *p, struct hv__pnode **out)
{
    size_t cap = 0, n = 0;
    struct hv__pnode **kids = NULL;
    int rc = hv__pp_advance(p);
    while (rc == HV_OK && p->tok.kind != HV__TOK_RBRACE) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct hv__pnode **grown =
                hv__arena_alloc(&p->pat->arena, ncap * sizeof *grown);
            if (grown == NULL)
                return hv__pp_nomem(p);
            if (n > 0)
                memcpy(grown, kids, n * sizeof *grown);
            kids = grown;
            cap = ncap;
        }
        if ((rc = map_key(p, &kids[n])) != HV_OK ||
            (rc = hv__pp_pattern(p, &kids[n + 1])) != HV_OK)
            return rc;
        n += 2;
        if (p->tok.kind == HV__TOK_COMMA)
            rc = hv__pp_advance(p);
        else if (p->tok.kind != HV__TOK_RBRACE)
            return hv__pp_expected(p, "',' or '}'");
    }
    if (rc != HV_OK)
        return rc;
    if ((*out = pnode(p, PN_MAP, 0)) == NULL)
        return hv__pp_nomem(p);
    (*out)->n = n;
    (*out)->kids = kids;
    return hv__pp_advance(p);
}

int
hv__pp_string_lit(struct hv__pp *p, hv_term *out)
{
    hv_buf bytes = HV_BUF_INIT;
    int rc = HV_OK;
    while (rc == HV_OK && p->tok.kind == HV__TOK_STRING) {
        if (hv__buf_append(&bytes, p->tok.text, p->tok.text_len) != HV_OK)
            rc = hv__pp_nomem(p);
        else
            rc = hv__pp_advance(p);
    }
    if (rc == HV_OK && (*out = hv_binary(bytes.data, bytes.len)) == HV_NONE)
        rc = hv__pp_nomem(p);
    hv_buf_free(&bytes);
    return rc;
}

/* One pattern without a top-level alias. */
static int
pterm(struct hv__pp *p, struct hv__pnode **out)
{
    hv_term t;
    int rc;
    switch (p->tok.kind) {
    case HV__TOK_VAR:
        if (p->tok.text_len == 1 && p->tok.text[0] == '_') {
            if ((*out = pnode(p, PN_ANY, 0)) == NULL)
                return hv__pp_nomem(p);
            return hv__pp_advance(p);
        }
        if ((*out = pnode(p, PN_VAR, 0)) == NULL)
            return hv__pp_nomem(p);
        if ((rc = var_index(p, &(*out)->index)) != HV_OK)
            return rc;
        return hv__pp_advance(p);
    case HV__TOK_CARET:
        if ((*out = pnode(p, PN_PIN, 0)) == NULL)
            return hv__pp_nomem(p);
        return hv__pp_pin_index(p, &(*out)->index);
    case HV__TOK_LBRACE:
        return tuple(p, out);
    case HV__TOK_LBRACKET:
        return list(p, out);
    case HV__TOK_MAP_OPEN:
        return map(p, out);
    case HV__TOK_INT:
    case HV__TOK_FLOAT:
    case HV__TOK_MINUS:
    case HV__TOK_PLUS:
        rc = hv__pp_number(p, &t);
        break;
    case HV__TOK_ATOM:
        rc = hv__pp_atom_lit(p, &t);
        break;
    case HV__TOK_STRING:
        rc = hv__pp_string_lit(p, &t);
        break;
    case HV__TOK_BIN_OPEN:
    case HV__TOK_LT:
    case HV__TOK_REF_OPEN:
        rc = hv__pp_foreign_literal(p, &t);
        break;
    default:
        return hv__pp_expected(p, "a pattern");
    }
    if (rc != HV_OK)
        return rc;
    return lit_node(p, t, out);
}

int
hv__pp_pattern(struct hv__pp *p, struct hv__pnode **out)
{
    if (++p->depth > HV__PARSE_MAX_DEPTH)
        return hv__lex_fail(&p->lx, &p->tok, HV_ELIMIT,
                            "pattern nested deeper than %d", HV__PARSE_MAX_DEPTH);
    int rc = pterm(p, out);
    if (rc == HV_OK && p->tok.kind == HV__TOK_MATCH) {
        struct hv__pnode *alias = pnode(p, PN_ALIAS, 2);
        if (alias == NULL)
            return hv__pp_nomem(p);
        alias->kids[0] = *out;
        if ((rc = hv__pp_advance(p)) == HV_OK)
            rc = hv__pp_pattern(p, &alias->kids[1]);
        *out = alias;
    }
    p->depth--;
    return rc;
}

int
hv__clause_parse(const char *text, size_t len, hv_pattern *pat,
                 struct hv__parsed *out, struct hv__arena *names_arena,
                 hv_error *err)
{
    struct hv__pp p = {.pat = pat,
                   .out = out,
                   .names_arena = names_arena,
                   .text = text,
                   .len = len};
    hv__lex_init(&p.lx, text, len, err);
    int rc = hv__lex_next(&p.lx, &p.tok, 0);
    if (rc == HV_OK)
        rc = hv__pp_pattern(&p, &out->root);
    if (rc == HV_OK && hv__pp_is_word(&p.tok, "when")) {
        if ((rc = hv__pp_advance(&p)) == HV_OK)
            rc = hv__pp_guard_sequence(&p, &out->guard);
    }
    if (rc == HV_OK && p.tok.kind == HV__TOK_DOT)
        rc = hv__pp_advance(&p);
    if (rc == HV_OK && p.tok.kind != HV__TOK_EOF)
        rc = hv__pp_expected(&p, out->guard != NULL ? "',', ';' or end of input"
                                             : "'when' or end of input");
    hv__lex_fini(&p.lx);
    return rc;
}
