/* runtime/term_compare.c - Erlang's total term order and exact equality.
 *
 * Classes: number < atom < reference < fun < port < pid < tuple < map <
 * [] < list < bitstring (hive has no funs or ports).  Inside a class:
 * numbers by value; atoms by name; refs and pids by node, then their
 * numbers; tuples by arity, then elements; maps by size, then keys in
 * key order, then values in key order; lists element-wise, then tails;
 * binaries byte-wise, a prefix first.  The exact order (Erlang's map key
 * order, used for map keys and =:=) differs only in putting every integer
 * before every float, at any depth.  The walk keeps pending pairs on an
 * explicit stack, so a deep or long term cannot overflow the C stack. */
#include <math.h>
#include <string.h>

#include "runtime/atom.h"
#include "runtime/term_box.h"
#include "runtime/term_walk.h"
#include "runtime/util.h"

enum { CLASS_NONE, CLASS_NUMBER, CLASS_ATOM, CLASS_REF, CLASS_PID,
       CLASS_TUPLE, CLASS_MAP, CLASS_NIL, CLASS_LIST, CLASS_BINARY };

static int
class_of(hv_term t)
{
    switch (hv_type_of(t)) {
    case HV_TYPE_INTEGER:
    case HV_TYPE_FLOAT:
        return CLASS_NUMBER;
    case HV_TYPE_ATOM:
        return CLASS_ATOM;
    case HV_TYPE_REF:
        return CLASS_REF;
    case HV_TYPE_PID:
        return CLASS_PID;
    case HV_TYPE_TUPLE:
        return CLASS_TUPLE;
    case HV_TYPE_MAP:
        return CLASS_MAP;
    case HV_TYPE_NIL:
        return CLASS_NIL;
    case HV_TYPE_LIST:
        return CLASS_LIST;
    case HV_TYPE_BINARY:
        return CLASS_BINARY;
    case HV_TYPE_NONE:
        break;
    }
    return CLASS_NONE;
}

static int
sign_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int
sign_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* Sign of i - d; numerically equal is 0.  (Only the == order mixes
 * integers and floats by value; see cmp_numbers.) */
static int
cmp_int_float(int64_t i, double d)
{
    if (d < -9223372036854775808.0)
        return 1;
    if (d >= 9223372036854775808.0)
        return -1;
    double fl = floor(d);
    int c = sign_i64(i, (int64_t)fl);
    if (c != 0)
        return c;
    return d > fl ? -1 : 0;
}

static int
cmp_numbers(hv_term a, hv_term b, bool exact)
{
    int64_t ia, ib;
    double da, db;
    bool a_int = hv_int_value(a, &ia) == HV_OK;
    bool b_int = hv_int_value(b, &ib) == HV_OK;
    if (a_int && b_int)
        return sign_i64(ia, ib);
    if (!a_int && !b_int) {
        hv_float_value(a, &da);
        hv_float_value(b, &db);
        return da < db ? -1 : da > db;
    }
    /* Erlang's map key order (the exact order) puts every integer before
     * every float, whatever their values. */
    if (exact)
        return a_int ? -1 : 1;
    if (a_int) {
        hv_float_value(b, &db);
        return cmp_int_float(ia, db);
    }
    hv_float_value(a, &da);
    return -cmp_int_float(ib, da);
}

static int
cmp_nodes(hv_term a, hv_term b)
{
    return a == b ? 0 : hv__atom_compare(a, b);
}

static int
cmp_refs(hv_term a, hv_term b)
{
    hv_term na, nb;
    uint32_t ca, cb, wa[5], wb[5];
    int la = hv_ref_fields(a, &na, &ca, wa);
    int lb = hv_ref_fields(b, &nb, &cb, wb);
    int c = cmp_nodes(na, nb);
    if (c == 0)
        c = sign_u64(ca, cb);
    if (c == 0)
        c = sign_i64(la, lb); /* canonical: no leading zero words */
    for (int i = la - 1; c == 0 && i >= 0; i--)
        c = sign_u64(wa[i], wb[i]);
    return c;
}

static int
cmp_pids(hv_term a, hv_term b)
{
    hv_term na, nb;
    uint32_t numa, numb, sa, sb, ca, cb;
    hv_pid_fields(a, &na, &numa, &sa, &ca);
    hv_pid_fields(b, &nb, &numb, &sb, &cb);
    int c = cmp_nodes(na, nb);
    if (c == 0)
        c = sign_u64(sa, sb);
    if (c == 0)
        c = sign_u64(numa, numb);
    if (c == 0)
        c = sign_u64(ca, cb);
    return c;
}

static int
cmp_binaries(hv_term a, hv_term b)
{
    size_t la, lb;
    const uint8_t *pa = hv_binary_data(a, &la);
    const uint8_t *pb = hv_binary_data(b, &lb);
    size_t n = hv__min_size(la, lb);
    int c = n ? memcmp(pa, pb, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return sign_u64(la, lb);
}

struct pair {
    hv_term a, b;
    bool exact;
};

static bool
push_pair(struct hv__walk *w, hv_term a, hv_term b, bool exact)
{
    struct pair *p = hv__walk_push(w);
    if (p == NULL)
        return false;
    p->a = a;
    p->b = b;
    p->exact = exact;
    return true;
}

/* Compares one pair without looking inside containers; returns 2 when
 * the pair is equal so far and its children were pushed (or -2 on a
 * failed push). */
static int
cmp_step(struct hv__walk *w, hv_term a, hv_term b, bool exact)
{
    if (a == b)
        return 0;
    int ca = class_of(a), cb = class_of(b);
    if (ca != cb)
        return ca < cb ? -1 : 1;
    switch (ca) {
    case CLASS_NUMBER:
        return cmp_numbers(a, b, exact);
    case CLASS_ATOM:
        return hv__atom_compare(a, b);
    case CLASS_REF:
        return cmp_refs(a, b);
    case CLASS_PID:
        return cmp_pids(a, b);
    case CLASS_BINARY:
        return cmp_binaries(a, b);
    case CLASS_TUPLE: {
        const struct hv__tuple *ta = (const void *)hv__box_of(a);
        const struct hv__tuple *tb = (const void *)hv__box_of(b);
        if (ta->arity != tb->arity)
            return ta->arity < tb->arity ? -1 : 1;
        for (size_t i = ta->arity; i-- > 0;)
            if (!push_pair(w, ta->el[i], tb->el[i], exact))
                return -2;
        return 2;
    }
    case CLASS_MAP: {
        const struct hv__map *ma = (const void *)hv__box_of(a);
        const struct hv__map *mb = (const void *)hv__box_of(b);
        if (ma->count != mb->count)
            return ma->count < mb->count ? -1 : 1;
        /* All keys first (in map-key order, which is exact), then values:
         * pushed in reverse so they pop in that order. */
        for (size_t i = ma->count; i-- > 0;)
            if (!push_pair(w, ma->kv[2 * i + 1], mb->kv[2 * i + 1], exact))
                return -2;
        for (size_t i = ma->count; i-- > 0;)
            if (!push_pair(w, ma->kv[2 * i], mb->kv[2 * i], true))
                return -2;
        return 2;
    }
    case CLASS_LIST: {
        const struct hv__cons *la = (const void *)hv__box_of(a);
        const struct hv__cons *lb = (const void *)hv__box_of(b);
        if (!push_pair(w, la->tail, lb->tail, exact) ||
            !push_pair(w, la->head, lb->head, exact))
            return -2;
        return 2;
    }
    default: /* CLASS_NIL, CLASS_NONE: equal by class */
        return 0;
    }
}

static bool
is_container(hv_term t)
{
    int type = hv__box_type(t);
    return type == HV__BOX_TUPLE || type == HV__BOX_CONS ||
           type == HV__BOX_MAP;
}

static int
compare(hv_term a, hv_term b, bool exact)
{
    /* Leaves (the common case: map keys, tags) need no stack; cmp_step
     * pushes only when both sides are containers of one class. */
    if (!is_container(a) || !is_container(b))
        return cmp_step(NULL, a, b, exact);
    struct hv__walk w;
    hv__walk_init(&w, sizeof(struct pair));
    int c = 0;
    if (!push_pair(&w, a, b, exact))
        hv__panic("no memory to compare terms");
    while (c == 0 && !hv__walk_empty(&w)) {
        struct pair p = *(struct pair *)hv__walk_top(&w);
        hv__walk_pop(&w);
        c = cmp_step(&w, p.a, p.b, p.exact);
        if (c == 2)
            c = 0;
        else if (c == -2)
            hv__panic("no memory to compare terms");
    }
    hv__walk_fini(&w);
    return c;
}

int
hv_compare(hv_term a, hv_term b)
{
    return compare(a, b, false);
}

int
hv_compare_exact(hv_term a, hv_term b)
{
    return compare(a, b, true);
}

bool
hv_equal(hv_term a, hv_term b)
{
    if (a == b)
        return true;
    /* Immediates are canonical: different words, different terms. */
    if (!hv__is_boxed(a) || !hv__is_boxed(b))
        return false;
    return compare(a, b, true) == 0;
}
