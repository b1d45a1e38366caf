/* match/pattern_compile.c - syntax tree to program, and the compiled
 * pattern's life: compile, free, introspection.
 *
 * The program walks the term with registers (reg 0 is the term): a tuple
 * is checked for its arity once, then its immediate literal elements are
 * compared first (the cheapest way to reject), then the rest in text
 * order, so a variable binds at its first occurrence and is compared at
 * the later ones.  Alongside, the compiler records what a receive set
 * uses: the clause's shape for dispatch and the tuple elements it
 * requires to be one value (keys for the mailbox index). */
#include <stdlib.h>
#include <string.h>

#include "match/parse.h"
#include "match/regex.h"
#include "runtime/alloc.h"
#include "runtime/term_box.h"
#include "runtime/util.h"

/* ---- arena ---- */

struct hv__chunk {
    struct hv__chunk *next;
    size_t size, used;
    _Alignas(8) unsigned char data[];
};

void *
hv__arena_alloc(struct hv__arena *a, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    struct hv__chunk *c = a->chunks;
    if (c == NULL || c->size - c->used < size) {
        size_t want = size > 2048 ? size : 2048;
        c = hv__alloc(sizeof *c + want);
        if (c == NULL)
            return NULL;
        c->size = want;
        c->used = 0;
        c->next = a->chunks;
        a->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

void
hv__arena_free(struct hv__arena *a)
{
    struct hv__chunk *c = a->chunks;
    while (c != NULL) {
        struct hv__chunk *next = c->next;
        hv__free(c, sizeof *c + c->size);
        c = next;
    }
    a->chunks = NULL;
}

/* ---- names and literals ---- */

int
hv__names_find(const struct hv__names *names, const char *name, size_t len)
{
    for (unsigned i = 0; i < names->n; i++)
        if (strlen(names->v[i]) == len && memcmp(names->v[i], name, len) == 0)
            return (int)i;
    return -1;
}

int
hv__names_add(struct hv__names *names, struct hv__arena *arena,
              const char *name, size_t len)
{
    if (names->n == names->cap) {
        unsigned cap = names->cap ? names->cap * 2 : 8;
        const char **v = hv__arena_alloc(arena, cap * sizeof *v);
        if (v == NULL)
            return -1;
        if (names->n > 0)
            memcpy(v, names->v, names->n * sizeof *v);
        names->v = v;
        names->cap = cap;
    }
    char *copy = hv__arena_alloc(arena, len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, len);
    names->v[names->n] = copy;
    return (int)names->n++;
}

int
hv__pattern_own(hv_pattern *pat, hv_term t)
{
    if (!hv__is_boxed(t))
        return HV_OK; /* immediates need no release */
    if (pat->nlits == pat->lits_cap) {
        size_t cap = pat->lits_cap ? pat->lits_cap * 2 : 8;
        hv_term *v = realloc(pat->lits, cap * sizeof *v);
        if (v == NULL) {
            hv_release(t);
            return HV_ENOMEM;
        }
        pat->lits = v;
        pat->lits_cap = cap;
    }
    pat->lits[pat->nlits++] = t;
    return HV_OK;
}

/* ---- the program ---- */

struct cc {
    hv_pattern *pat;
    struct hv__insn *code;
    size_t n, cap;
    unsigned regs, max_regs;
    uint64_t bound; /* variables bound so far, in program order */
    bool overflow;
};

static void
emit(struct cc *c, uint8_t op, unsigned r, unsigned d, uint32_t n, hv_term lit)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct hv__insn *v = realloc(c->code, cap * sizeof *v);
        if (v == NULL) {
            c->overflow = true;
            return;
        }
        c->code = v;
        c->cap = cap;
    }
    c->code[c->n++] = (struct hv__insn){op, (uint8_t)r, (uint16_t)d, n, lit};
}

static unsigned
reg_take(struct cc *c, unsigned k)
{
    unsigned r = c->regs;
    c->regs += k;
    if (c->regs > c->max_regs)
        c->max_regs = c->regs;
    return r;
}

static bool
is_first_use(struct cc *c, int var)
{
    uint64_t bit = (uint64_t)1 << var;
    bool first = !(c->bound & bit);
    c->bound |= bit;
    return first;
}

static void node(struct cc *c, const struct hv__pnode *n, unsigned r);

static void
tuple(struct cc *c, const struct hv__pnode *n, unsigned r)
{
    emit(c, OP_TUPLE, r, 0, (uint32_t)n->n, 0);
    for (size_t i = 0; i < n->n; i++) {
        const struct hv__pnode *k = n->kids[i];
        if (k->kind == PN_LIT && !hv__is_boxed(k->lit))
            emit(c, OP_ELEM_IMM, r, 0, (uint32_t)i, k->lit);
    }
    for (size_t i = 0; i < n->n; i++) {
        const struct hv__pnode *k = n->kids[i];
        if (k->kind == PN_ANY || (k->kind == PN_LIT && !hv__is_boxed(k->lit)))
            continue;
        if (k->kind == PN_VAR && is_first_use(c, k->index)) {
            emit(c, OP_ELEM_BIND, r, (unsigned)k->index, (uint32_t)i, 0);
            continue;
        }
        unsigned d = reg_take(c, 1);
        emit(c, OP_ELEM, r, d, (uint32_t)i, 0);
        node(c, k, d);
        c->regs = d;
    }
}

static void
node(struct cc *c, const struct hv__pnode *n, unsigned r)
{
    unsigned d;
    switch (n->kind) {
    case PN_ANY:
        break;
    case PN_LIT:
        emit(c, hv__is_boxed(n->lit) ? OP_LIT : OP_IMM, r, 0, 0, n->lit);
        break;
    case PN_VAR:
        emit(c, is_first_use(c, n->index) ? OP_BIND : OP_SAME, r,
             (unsigned)n->index, 0, 0);
        break;
    case PN_PIN:
        emit(c, OP_PIN, r, 0, (uint32_t)n->index, 0);
        break;
    case PN_TUPLE:
        tuple(c, n, r);
        break;
    case PN_CONS:
        d = reg_take(c, 2);
        emit(c, OP_CONS, r, d, 0, 0);
        node(c, n->kids[0], d);
        node(c, n->kids[1], d + 1);
        c->regs = d;
        break;
    case PN_MAP:
        emit(c, OP_MAP, r, 0, 0, 0);
        for (size_t i = 0; i < n->n; i += 2) {
            const struct hv__pnode *key = n->kids[i];
            d = reg_take(c, 1);
            if (key->kind == PN_PIN)
                emit(c, OP_MAP_PIN, r, d, (uint32_t)key->index, 0);
            else
                emit(c, OP_MAP_GET, r, d, 0, key->lit);
            node(c, n->kids[i + 1], d);
            c->regs = d;
        }
        break;
    case PN_ALIAS:
        node(c, n->kids[0], r);
        node(c, n->kids[1], r);
        break;
    }
}

/* ---- guards ----
 * A guard of one alternative is a conjunction, so its type tests on
 * variables can run as instructions, in any order and before the rest
 * (a guard has no effects, and a test that fails or raises makes the
 * whole guard false either way).  What is left, if anything, stays a
 * tree for guard.c. */

static bool
is_type_test(const struct hv__gnode *g)
{
    return g->kind == GN_CALL && g->op >= G_IS_ATOM &&
           g->op <= G_IS_BOOLEAN && g->n == 1 && g->kids[0]->kind == GN_VAR;
}

static struct hv__gnode *
lift_type_tests(struct cc *c, struct hv__gnode *guard)
{
    if (guard == NULL || guard->n != 1)
        return guard;
    struct hv__gnode *all = guard->kids[0];
    size_t kept = 0;
    for (size_t i = 0; i < all->n; i++) {
        struct hv__gnode *t = all->kids[i];
        if (is_type_test(t))
            emit(c, OP_IS, 0, (unsigned)t->kids[0]->index, (uint32_t)t->op, 0);
        else
            all->kids[kept++] = t;
    }
    all->n = kept;
    return kept > 0 ? guard : NULL;
}

/* ---- facts for receive sets ---- */

/* The side of an alias that says most about the term's shape. */
static const struct hv__pnode *
shaped(const struct hv__pnode *n)
{
    while (n->kind == PN_ALIAS) {
        const struct hv__pnode *a = n->kids[0];
        n = (a->kind == PN_ANY || a->kind == PN_VAR || a->kind == PN_ALIAS)
                ? n->kids[1]
                : a;
    }
    return n;
}

/* The pins a match requires the term to contain: every pin in the
 * pattern (a pattern has no alternatives, so each of its parts must be
 * there). */
static uint64_t
pins_in(const struct hv__pnode *n)
{
    if (n->kind == PN_PIN)
        return n->index < 64 ? (uint64_t)1 << n->index : 0;
    uint64_t m = 0;
    for (size_t i = 0; i < n->n; i++)
        m |= pins_in(n->kids[i]);
    return m;
}

static void
record_facts(hv_pattern *pat, const struct hv__pnode *root)
{
    pat->pins_within = pins_in(root);
    const struct hv__pnode *n = shaped(root);
    pat->shape = SHAPE_ANY;
    pat->skip = 0;
    pat->tag = HV_NONE;
    if (n->kind == PN_CONS) {
        pat->shape = SHAPE_CONS;
    } else if (n->kind == PN_MAP) {
        pat->shape = SHAPE_MAP;
    } else if (n->kind == PN_LIT) {
        int t = hv__box_type(n->lit);
        pat->shape = t == HV__BOX_TUPLE  ? SHAPE_TUPLE
                     : t == HV__BOX_CONS ? SHAPE_CONS
                     : t == HV__BOX_MAP  ? SHAPE_MAP
                                         : SHAPE_OTHER;
        if (pat->shape == SHAPE_TUPLE) {
            pat->arity = (uint32_t)hv_tuple_size(n->lit);
            hv_term e0 = hv_tuple_at(n->lit, 0);
            if (e0 != HV_NONE && !hv__is_boxed(e0))
                pat->tag = e0;
        }
    } else if (n->kind == PN_TUPLE) {
        pat->shape = SHAPE_TUPLE;
        pat->arity = (uint32_t)n->n;
        /* The program starts with OP_TUPLE on reg 0 exactly when the
         * root itself is this tuple, then element 0 if it is an
         * immediate literal. */
        if (n == root) {
            pat->skip = 1;
            if (n->n > 0 && n->kids[0]->kind == PN_LIT &&
                !hv__is_boxed(n->kids[0]->lit)) {
                pat->tag = n->kids[0]->lit;
                pat->skip = 2;
            }
        } else if (n->n > 0 && n->kids[0]->kind == PN_LIT &&
                   !hv__is_boxed(n->kids[0]->lit)) {
            pat->tag = n->kids[0]->lit;
        }
        for (size_t i = 0; i < n->n && pat->nkeys < HV__MAX_KEYFACTS; i++) {
            const struct hv__pnode *k = n->kids[i];
            if (k->kind != PN_PIN && k->kind != PN_LIT)
                continue;
            pat->keys[pat->nkeys++] = (struct hv__keyfact){
                (uint32_t)i, k->kind == PN_PIN ? k->index : -1,
                k->kind == PN_LIT ? k->lit : HV_NONE};
        }
    }
}

/* ---- compile and free ---- */

int
hv__clause_compile(const char *text, size_t len, struct hv__names *pins,
                   struct hv__arena *names_arena, hv_pattern **out,
                   hv_error *err)
{
    *out = NULL;
    hv_pattern *pat = calloc(1, sizeof *pat);
    if (pat == NULL)
        return hv__error_set(err, HV_ENOMEM, 0, 0, 0, "out of memory");
    struct hv__names own_pins = {0};
    pat->in_set = pins != NULL;
    struct hv__parsed parsed = {.pins = pins != NULL ? pins : &own_pins};
    int rc = hv__clause_parse(text, len, pat, &parsed,
                              pins != NULL ? names_arena : &pat->arena, err);
    struct cc c = {.pat = pat, .regs = 1, .max_regs = 1};
    if (rc == HV_OK) {
        node(&c, parsed.root, 0);
        parsed.guard = lift_type_tests(&c, parsed.guard);
        if (c.overflow)
            rc = hv__error_set(err, HV_ENOMEM, 0, 0, 0, "out of memory");
        else if (c.max_regs > HV__MAX_REGS)
            rc = hv__error_set(err, HV_ELIMIT, 0, 1, 1,
                               "pattern too deeply nested (more than %d "
                               "registers)",
                               HV__MAX_REGS);
    }
    if (rc != HV_OK) {
        free(c.code);
        hv_pattern_free(pat);
        return rc;
    }
    pat->code = c.code;
    pat->ncode = c.n;
    pat->guard = parsed.guard;
    pat->nvars = parsed.vars.n;
    pat->var_names = parsed.vars.v;
    pat->npins = parsed.pins->n;
    pat->pin_names = parsed.pins->v;
    record_facts(pat, parsed.root);
    *out = pat;
    return HV_OK;
}

hv_pattern *
hv_pattern_compile_n(const char *text, size_t len, hv_error *err)
{
    if (text == NULL) {
        hv__error_set(err, HV_EBADARG, 0, 0, 0, "pattern text is NULL");
        return NULL;
    }
    hv_pattern *pat;
    hv__clause_compile(text, len, NULL, NULL, &pat, err);
    return pat;
}

hv_pattern *
hv_pattern_compile(const char *text, hv_error *err)
{
    return hv_pattern_compile_n(text, text != NULL ? strlen(text) : 0, err);
}

void
hv_pattern_free(hv_pattern *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nlits; i++)
        hv_release(p->lits[i]);
    free(p->lits);
    for (size_t i = 0; i < p->nregexes; i++)
        hv__regex_free(p->regexes[i]);
    free((void *)p->code);
    hv__arena_free(&p->arena);
    free(p);
}

size_t
hv_pattern_var_count(const hv_pattern *p)
{
    return p != NULL ? p->nvars : 0;
}

const char *
hv_pattern_var_name(const hv_pattern *p, size_t i)
{
    return p != NULL && i < p->nvars ? p->var_names[i] : NULL;
}

int
hv_pattern_var_index(const hv_pattern *p, const char *name)
{
    if (p == NULL || name == NULL)
        return -1;
    struct hv__names names = {(const char **)p->var_names, p->nvars, p->nvars};
    return hv__names_find(&names, name, strlen(name));
}

size_t
hv_pattern_pin_count(const hv_pattern *p)
{
    return p != NULL ? p->npins : 0;
}

const char *
hv_pattern_pin_name(const hv_pattern *p, size_t i)
{
    return p != NULL && i < p->npins ? p->pin_names[i] : NULL;
}
