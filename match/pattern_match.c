/* match/pattern_match.c - running a compiled pattern against a term, and
 * the public single-pattern API.  Matching allocates nothing and changes
 * no reference count: bindings are borrowed from the term. */
#include <stdio.h>
#include <string.h>

#include "match/pattern.h"
#include "runtime/term_box.h"

static const struct hv__tuple *
tuple_of(hv_term t)
{
    return (const struct hv__tuple *)hv__box_of(t);
}

/* The type tests of guards, on the tag bits (as the hv_is_* functions,
 * without the calls). */
static bool
type_is(int test, hv_term t)
{
    int box = hv__box_type(t);
    unsigned tag = hv__imm_tag(t);
    switch (test) {
    case G_IS_ATOM:
        return tag == HV__TAG_ATOM;
    case G_IS_INTEGER:
        return hv__is_small(t) || box == HV__BOX_INT;
    case G_IS_FLOAT:
        return box == HV__BOX_FLOAT;
    case G_IS_NUMBER:
        return hv__is_small(t) || box == HV__BOX_INT || box == HV__BOX_FLOAT;
    case G_IS_BINARY:
        return box == HV__BOX_BINARY;
    case G_IS_TUPLE:
        return box == HV__BOX_TUPLE;
    case G_IS_LIST:
        return t == HV_NIL || box == HV__BOX_CONS;
    case G_IS_MAP:
        return box == HV__BOX_MAP;
    case G_IS_PID:
        return tag == HV__TAG_PID || box == HV__BOX_PID;
    case G_IS_REFERENCE:
        return tag == HV__TAG_REF || box == HV__BOX_REF;
    default: /* G_IS_BOOLEAN */
        return t == HV_ATOM_TRUE || t == HV_ATOM_FALSE;
    }
}

bool
hv__pattern_run(const hv_pattern *p, hv_term t, const hv_term *pins,
                hv_term *vars, unsigned from)
{
    hv_term reg[HV__MAX_REGS];
    reg[0] = t;
    /* code is NULL for a pattern that tests nothing (`_`). */
    const struct hv__insn *i = p->ncode > 0 ? p->code + from : NULL;
    const struct hv__insn *end = p->ncode > 0 ? p->code + p->ncode : NULL;
    for (; i < end; i++) {
        hv_term x = reg[i->r];
        switch (i->op) {
        case OP_TUPLE:
            if (hv__box_type(x) != HV__BOX_TUPLE || tuple_of(x)->arity != i->n)
                return false;
            break;
        case OP_ELEM:
            reg[i->d] = tuple_of(x)->el[i->n];
            break;
        case OP_ELEM_IMM:
            if (tuple_of(x)->el[i->n] != i->lit)
                return false;
            break;
        case OP_ELEM_BIND:
            vars[i->d] = tuple_of(x)->el[i->n];
            break;
        case OP_CONS: {
            if (hv__box_type(x) != HV__BOX_CONS)
                return false;
            const struct hv__cons *c = (const struct hv__cons *)hv__box_of(x);
            reg[i->d] = c->head;
            reg[i->d + 1] = c->tail;
            break;
        }
        case OP_MAP:
            if (hv__box_type(x) != HV__BOX_MAP)
                return false;
            break;
        case OP_MAP_GET:
            if ((reg[i->d] = hv_map_get(x, i->lit)) == HV_NONE)
                return false;
            break;
        case OP_MAP_PIN:
            if ((reg[i->d] = hv_map_get(x, pins[i->n])) == HV_NONE)
                return false;
            break;
        case OP_IMM:
            if (x != i->lit)
                return false;
            break;
        case OP_LIT:
            if (!hv_equal(x, i->lit))
                return false;
            break;
        case OP_PIN:
            if (x != pins[i->n] && !hv_equal(x, pins[i->n]))
                return false;
            break;
        case OP_BIND:
            vars[i->d] = x;
            break;
        case OP_SAME:
            if (x != vars[i->d] && !hv_equal(x, vars[i->d]))
                return false;
            break;
        case OP_IS:
            if (!type_is((int)i->n, vars[i->d]))
                return false;
            break;
        }
    }
    return p->guard == NULL || hv__guard_holds(p->guard, vars, pins);
}

int
hv__pins_check(const hv_pins *pins, unsigned needed,
               const char *const *names, hv_bindings *b)
{
    size_t have = pins != NULL ? pins->n : 0;
    for (unsigned i = 0; i < needed; i++) {
        if (i < have && pins->v != NULL && pins->v[i] != HV_NONE)
            continue;
        snprintf(b->what, sizeof b->what,
                 "pin ^%s (pin %u) is not supplied: %zu pin value%s given",
                 names[i], i, have, have == 1 ? "" : "s");
        return HV_EBADARG;
    }
    return HV_OK;
}

void
hv__bindings_set(hv_bindings *b, const hv_pattern *p, int clause, hv_term msg)
{
    b->pattern = p;
    b->clause = clause;
    b->msg = msg;
    b->nvars = p->nvars;
}

void
hv__bindings_clear(hv_bindings *b)
{
    b->pattern = NULL;
    b->clause = -1;
    b->msg = HV_NONE;
    b->nvars = 0;
    b->what[0] = '\0';
}

int
hv_match(const hv_pattern *p, hv_term t, const hv_pins *pins, hv_bindings *b)
{
    if (b == NULL)
        return HV_EBADARG;
    hv__bindings_clear(b);
    if (p == NULL || t == HV_NONE) {
        snprintf(b->what, sizeof b->what, "%s",
                 p == NULL ? "pattern is NULL" : "term is HV_NONE");
        return HV_EBADARG;
    }
    int rc = hv__pins_check(pins, p->pins_needed, p->pin_names, b);
    if (rc != HV_OK)
        return rc;
    if (!hv__pattern_run(p, t, pins != NULL ? pins->v : NULL, b->var, 0))
        return HV_ENOMATCH;
    hv__bindings_set(b, p, 0, t);
    return HV_OK;
}

hv_term
hv_binding(const hv_bindings *b, const char *name)
{
    if (b == NULL || b->pattern == NULL)
        return HV_NONE;
    int i = hv_pattern_var_index(b->pattern, name);
    return i >= 0 ? b->var[i] : HV_NONE;
}

void
hv_bindings_release(hv_bindings *b)
{
    if (b == NULL)
        return;
    hv_release(b->msg);
    b->msg = HV_NONE;
}
