/* match/rset.c - receive sets: several clauses compiled together.
 *
 * Shared tests are done once per message: a dispatch table maps what a
 * message is (a tuple's arity and element 0, or cons, map, other) to the
 * clauses that can match it, as a bit mask in clause order, and each of
 * those runs its program past the tests the dispatch already made.  The
 * set also finds the key for the mailbox index: a tuple element every
 * clause requires to be the same pin (preferred: it is what an RPC reply
 * is told apart by) or the same literal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/pattern.h"
#include "match/rset.h"
#include "runtime/term_box.h"
#include "runtime/term_lex.h"
#include "runtime/util.h"

static uint64_t
slot_hash(uint32_t arity, hv_term tag)
{
    uint64_t h = (tag ^ ((uint64_t)arity << 40)) * 0x9e3779b97f4a7c15u;
    return h ^ (h >> 31);
}

static struct hv__dispatch *
slot_find(const hv_rset *s, uint32_t arity, hv_term tag)
{
    size_t i = slot_hash(arity, tag) & s->tmask;
    for (;; i = (i + 1) & s->tmask) {
        struct hv__dispatch *d = &s->table[i];
        if (!d->used || (d->arity == arity && d->tag == tag))
            return d;
    }
}

/* The clauses that can match a tuple of arity with element 0 tag (tag
 * HV_NONE: the clauses that do not test element 0). */
static uint64_t
tuple_mask(const hv_rset *s, uint32_t arity, hv_term tag)
{
    uint64_t m = s->mask_any;
    for (size_t i = 0; i < s->n; i++) {
        const hv_pattern *c = s->clauses[i];
        if (c != NULL && c->shape == SHAPE_TUPLE && c->arity == arity &&
            (c->tag == HV_NONE || c->tag == tag))
            m |= (uint64_t)1 << i;
    }
    return m;
}

static int
build_dispatch(hv_rset *s)
{
    size_t tuples = 0;
    for (size_t i = 0; i < s->n; i++) {
        const hv_pattern *c = s->clauses[i];
        if (c == NULL)
            continue;
        uint64_t bit = (uint64_t)1 << i;
        switch (c->shape) {
        case SHAPE_ANY:
            s->mask_any |= bit;
            break;
        case SHAPE_TUPLE:
            tuples++;
            break;
        case SHAPE_CONS:
            s->mask_cons |= bit;
            break;
        case SHAPE_MAP:
            s->mask_map |= bit;
            break;
        case SHAPE_OTHER:
            s->mask_other |= bit;
            break;
        }
    }
    s->mask_cons |= s->mask_any;
    s->mask_map |= s->mask_any;
    s->mask_other |= s->mask_any;
    size_t size = 4;
    while (size < tuples * 4)
        size *= 2;
    if ((s->table = calloc(size, sizeof *s->table)) == NULL)
        return HV_ENOMEM;
    s->tmask = size - 1;
    for (size_t i = 0; i < s->n; i++) {
        const hv_pattern *c = s->clauses[i];
        if (c == NULL || c->shape != SHAPE_TUPLE)
            continue;
        /* Each tuple clause adds its (arity, tag) entry and, so that
         * messages with another element 0 find the clauses that do not
         * test it, its (arity, none) entry. */
        hv_term tags[2] = {c->tag, HV_NONE};
        for (int k = 0; k < 2; k++) {
            struct hv__dispatch *d = slot_find(s, c->arity, tags[k]);
            if (d->used)
                continue;
            *d = (struct hv__dispatch){true, c->arity, tags[k],
                                       tuple_mask(s, c->arity, tags[k])};
        }
    }
    return HV_OK;
}

/* The clauses that can match t. */
static uint64_t
candidates(const hv_rset *s, hv_term t)
{
    switch (hv__box_type(t)) {
    case HV__BOX_TUPLE: {
        const struct hv__tuple *tu = (const struct hv__tuple *)hv__box_of(t);
        uint32_t arity = (uint32_t)tu->arity;
        if (tu->arity > UINT32_MAX)
            return s->mask_any;
        if (arity > 0 && !hv__is_boxed(tu->el[0])) {
            const struct hv__dispatch *d = slot_find(s, arity, tu->el[0]);
            if (d->used)
                return d->mask;
        }
        const struct hv__dispatch *d = slot_find(s, arity, HV_NONE);
        return d->used ? d->mask : s->mask_any;
    }
    case HV__BOX_CONS:
        return s->mask_cons;
    case HV__BOX_MAP:
        return s->mask_map;
    default:
        return s->mask_other;
    }
}

int
hv__rset_run(const hv_rset *s, hv_term t, const hv_term *pins, hv_term *vars)
{
    uint64_t m = candidates(s, t);
    bool tuple = hv__box_type(t) == HV__BOX_TUPLE;
    while (m != 0) {
        int i = __builtin_ctzll(m);
        m &= m - 1;
        const hv_pattern *c = s->clauses[i];
        /* A tuple clause reached through the table has its arity and
         * element 0 checked already. */
        unsigned from = tuple && c->shape == SHAPE_TUPLE ? c->skip : 0;
        if (hv__pattern_run(c, t, pins, vars, from))
            return i;
    }
    return -1;
}

/* ---- the index key ---- */

static bool
clause_has(const hv_pattern *c, const struct hv__keyfact *k)
{
    for (unsigned i = 0; i < c->nkeys; i++) {
        const struct hv__keyfact *o = &c->keys[i];
        if (o->elem == k->elem && o->pin == k->pin &&
            (k->pin >= 0 || hv_equal(o->lit, k->lit)))
            return true;
    }
    return false;
}

static void
choose_within(hv_rset *s)
{
    uint64_t all = ~(uint64_t)0;
    bool any = false;
    for (size_t i = 0; i < s->n; i++)
        if (s->clauses[i] != NULL) {
            all &= s->clauses[i]->pins_within;
            any = true;
        }
    s->within_pin = any && all != 0 ? __builtin_ctzll(all) : -1;
}

static void
choose_key(hv_rset *s)
{
    s->key_elem = -1;
    const hv_pattern *first = NULL;
    for (size_t i = 0; i < s->n && first == NULL; i++)
        first = s->clauses[i];
    if (first == NULL)
        return;
    for (int want_pin = 1; want_pin >= 0; want_pin--) {
        for (unsigned k = 0; k < first->nkeys; k++) {
            const struct hv__keyfact *f = &first->keys[k];
            if ((f->pin >= 0) != want_pin)
                continue;
            bool everywhere = true;
            for (size_t i = 0; i < s->n && everywhere; i++)
                everywhere = s->clauses[i] == NULL ||
                             clause_has(s->clauses[i], f);
            if (everywhere) {
                s->key_elem = (int)f->elem;
                s->key_pin = f->pin;
                s->key_lit = f->lit;
                return;
            }
        }
    }
}

/* ---- compile ---- */

static int
clause_error(hv_error *err, size_t i)
{
    if (err == NULL)
        return HV_OK;
    /* The message loses its tail rather than the clause number. */
    char what[sizeof err->what + 24];
    snprintf(what, sizeof what, "clause %zu: %s", i, err->what);
    snprintf(err->what, sizeof err->what, "%.*s", (int)sizeof err->what - 1,
             what);
    return err->code;
}

/* "after T" as clause i: T ms or infinity.  HV_ENOMATCH: not an after
 * clause. */
static int
after_clause(hv_rset *s, const char *text, size_t i, hv_error *err)
{
    struct hv__lex lx;
    struct hv__tok tok, prev;
    hv__lex_init(&lx, text, strlen(text), err);
    int rc = hv__lex_next(&lx, &tok, 0);
    if (rc != HV_OK || tok.kind != HV__TOK_ATOM || tok.quoted ||
        tok.text_len != 5 || memcmp(tok.text, "after", 5) != 0) {
        hv__lex_fini(&lx);
        return HV_ENOMATCH;
    }
    prev = tok;
    if ((rc = hv__lex_next(&lx, &tok, 0)) != HV_OK)
        goto out;
    if (s->after_clause >= 0) {
        rc = hv__lex_fail(&lx, &prev, HV_ESYNTAX,
                          "a second after clause (the first is clause %d)",
                          s->after_clause);
        goto out;
    }
    if (tok.kind == HV__TOK_INT && !tok.overflow && tok.u <= INT64_MAX) {
        s->after_ms = (int64_t)tok.u;
    } else if (tok.kind == HV__TOK_ATOM && !tok.quoted &&
               tok.text_len == 8 && memcmp(tok.text, "infinity", 8) == 0) {
        s->after_ms = HV_INFINITY;
    } else {
        rc = hv__lex_expected(&lx, &tok, &prev,
                              "a timeout in milliseconds or infinity");
        goto out;
    }
    prev = tok;
    if ((rc = hv__lex_next(&lx, &tok, 0)) == HV_OK &&
        tok.kind == HV__TOK_DOT)
        rc = hv__lex_next(&lx, &tok, 0);
    if (rc == HV_OK && tok.kind != HV__TOK_EOF)
        rc = hv__lex_expected(&lx, &tok, &prev, "end of input");
    if (rc == HV_OK)
        s->after_clause = (int)i;
out:
    hv__lex_fini(&lx);
    return rc;
}

hv_rset *
hv_rset_compile(const char *const *clauses, size_t n, hv_error *err)
{
    if (clauses == NULL || n == 0 || n > HV_MATCH_MAX_CLAUSES) {
        hv__error_set(err, n > HV_MATCH_MAX_CLAUSES ? HV_ELIMIT : HV_EBADARG,
                      0, 0, 0, "a receive set needs 1 to %d clauses, not %zu",
                      HV_MATCH_MAX_CLAUSES, clauses == NULL ? 0 : n);
        return NULL;
    }
    hv_rset *s = calloc(1, sizeof *s);
    if (s == NULL || (s->clauses = calloc(n, sizeof *s->clauses)) == NULL) {
        free(s);
        hv__error_set(err, HV_ENOMEM, 0, 0, 0, "out of memory");
        return NULL;
    }
    s->n = n;
    s->after_clause = -1;
    s->after_ms = HV_INFINITY;
    int rc = HV_OK;
    for (size_t i = 0; i < n && rc == HV_OK; i++) {
        if (clauses[i] == NULL) {
            rc = hv__error_set(err, HV_EBADARG, 0, 0, 0, "clause %zu is NULL",
                               i);
            break;
        }
        rc = after_clause(s, clauses[i], i, err);
        if (rc == HV_ENOMATCH)
            rc = hv__clause_compile(clauses[i], strlen(clauses[i]), &s->pins,
                                    &s->arena, &s->clauses[i], err);
        if (rc != HV_OK)
            clause_error(err, i);
    }
    if (rc == HV_OK && build_dispatch(s) != HV_OK)
        rc = hv__error_set(err, HV_ENOMEM, 0, 0, 0, "out of memory");
    if (rc != HV_OK) {
        hv_rset_free(s);
        return NULL;
    }
    choose_key(s);
    choose_within(s);
    return s;
}

hv_rset *
hv_rset_new(hv_error *err, const char *clause, ...)
{
    const char *v[HV_MATCH_MAX_CLAUSES + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, clause);
    for (const char *c = clause; c != NULL; c = va_arg(ap, const char *)) {
        if (n == HV_MATCH_MAX_CLAUSES) {
            n++;
            break;
        }
        v[n++] = c;
    }
    va_end(ap);
    return hv_rset_compile(v, n, err);
}

void
hv_rset_free(hv_rset *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        hv_pattern_free(s->clauses[i]);
    free(s->clauses);
    free(s->table);
    hv__arena_free(&s->arena);
    free(s);
}

size_t
hv_rset_size(const hv_rset *s)
{
    return s != NULL ? s->n : 0;
}

const hv_pattern *
hv_rset_clause(const hv_rset *s, size_t i)
{
    return s != NULL && i < s->n ? s->clauses[i] : NULL;
}

int64_t
hv_rset_after(const hv_rset *s)
{
    return s != NULL ? s->after_ms : HV_INFINITY;
}

int
hv_rset_after_clause(const hv_rset *s)
{
    return s != NULL ? s->after_clause : -1;
}

size_t
hv_rset_pin_count(const hv_rset *s)
{
    return s != NULL ? s->pins.n : 0;
}

const char *
hv_rset_pin_name(const hv_rset *s, size_t i)
{
    return s != NULL && i < s->pins.n ? s->pins.v[i] : NULL;
}

int
hv__rset_check(const hv_rset *s, const hv_pins *pins, hv_bindings *b)
{
    if (b == NULL)
        return HV_EBADARG;
    hv__bindings_clear(b);
    if (s == NULL) {
        snprintf(b->what, sizeof b->what, "receive set is NULL");
        return HV_EBADARG;
    }
    return hv__pins_check(pins, (unsigned)s->pins.n, s->pins.v, b);
}

int
hv_rset_match(const hv_rset *s, hv_term t, const hv_pins *pins, hv_bindings *b)
{
    int rc = hv__rset_check(s, pins, b);
    if (rc != HV_OK)
        return rc;
    if (t == HV_NONE) {
        snprintf(b->what, sizeof b->what, "term is HV_NONE");
        return HV_EBADARG;
    }
    int i = hv__rset_run(s, t, pins != NULL ? pins->v : NULL, b->var);
    if (i < 0)
        return HV_ENOMATCH;
    hv__bindings_set(b, s->clauses[i], i, t);
    return HV_OK;
}
