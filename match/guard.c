/* match/guard.c - evaluating guards.
 *
 * Values are terms borrowed from the message, the pins or the pattern's
 * literals, or numbers computed in C (arithmetic builds no terms), so a
 * guard allocates nothing.  Every operation that would raise in Erlang
 * returns false from eval; the guard test it is in then fails, and in a
 * sequence the next guard is tried, as Erlang does.  Integer arithmetic
 * past 64 bits raises too (Erlang would move to bignums). */
#include <math.h>
#include <string.h>

#include "hive/process.h"
#include "match/pattern.h"
#include "match/regex.h"
#include "runtime/term_box.h"

enum { V_TERM, V_INT, V_FLOAT };

struct val {
    int k;
    hv_term t;
    int64_t i;
    double f;
};

static struct val
term_val(hv_term t)
{
    return (struct val){V_TERM, t, 0, 0};
}

static struct val
bool_val(bool b)
{
    return term_val(b ? HV_ATOM_TRUE : HV_ATOM_FALSE);
}

/* Numbers as C numbers: a term holding one becomes V_INT or V_FLOAT. */
static struct val
numeric(struct val v)
{
    if (v.k != V_TERM)
        return v;
    if (hv__is_small(v.t))
        return (struct val){V_INT, 0, hv__small_value(v.t), 0};
    int64_t i;
    double f;
    if (hv_int_value(v.t, &i) == HV_OK && hv_is_integer(v.t))
        return (struct val){V_INT, 0, i, 0};
    if (hv_is_float(v.t) && hv_float_value(v.t, &f) == HV_OK)
        return (struct val){V_FLOAT, 0, 0, f};
    return v;
}

/* Boxes that live on the C stack so a computed number can be handed to
 * term functions (map lookups, term comparison) without allocating. */
struct tmp {
    struct hv__int i;
    struct hv__float f;
};

static hv_term
as_term(struct val v, struct tmp *tmp)
{
    if (v.k == V_TERM)
        return v.t;
    if (v.k == V_INT) {
        if (v.i >= HV_SMALL_MIN && v.i <= HV_SMALL_MAX)
            return hv__small(v.i);
        tmp->i.h = (struct hv__box){HV__RC_IMMORTAL, HV__BOX_INT, {0}};
        tmp->i.value = v.i;
        return hv__term_of_box(&tmp->i);
    }
    tmp->f.h = (struct hv__box){HV__RC_IMMORTAL, HV__BOX_FLOAT, {0}};
    tmp->f.value = v.f;
    return hv__term_of_box(&tmp->f);
}

/* Erlang compares an integer and a float by their exact values. */
static int
cmp_int_float(int64_t i, double f)
{
    if (f >= 9223372036854775808.0)
        return -1;
    if (f < -9223372036854775808.0)
        return 1;
    double fl = floor(f);
    int64_t fi = (int64_t)fl;
    if (i != fi)
        return i < fi ? -1 : 1;
    return f > fl ? -1 : 0;
}

/* Term order, numbers by value (==, <, ...). */
static int
compare(struct val a, struct val b)
{
    struct val x = numeric(a), y = numeric(b);
    if (x.k == V_INT && y.k == V_INT)
        return (x.i > y.i) - (x.i < y.i);
    if (x.k == V_FLOAT && y.k == V_FLOAT)
        return (x.f > y.f) - (x.f < y.f);
    if (x.k == V_INT && y.k == V_FLOAT)
        return cmp_int_float(x.i, y.f);
    if (x.k == V_FLOAT && y.k == V_INT)
        return -cmp_int_float(y.i, x.f);
    struct tmp ta, tb;
    return hv_compare(as_term(a, &ta), as_term(b, &tb));
}

/* =:= */
static bool
exact_eq(struct val a, struct val b)
{
    struct val x = numeric(a), y = numeric(b);
    if (x.k == V_INT && y.k == V_INT)
        return x.i == y.i;
    if (x.k == V_FLOAT && y.k == V_FLOAT)
        return x.f == y.f;
    if (x.k != V_TERM || y.k != V_TERM)
        return false;
    return hv_equal(a.t, b.t);
}

static bool
as_bool(struct val v, bool *out)
{
    if (v.k != V_TERM || (v.t != HV_ATOM_TRUE && v.t != HV_ATOM_FALSE))
        return false;
    *out = v.t == HV_ATOM_TRUE;
    return true;
}

static bool
as_int(struct val v, int64_t *out)
{
    v = numeric(v);
    if (v.k != V_INT)
        return false;
    *out = v.i;
    return true;
}

static bool
arith(int op, struct val a, struct val b, struct val *out)
{
    a = numeric(a);
    b = numeric(b);
    if (a.k == V_TERM || b.k == V_TERM)
        return false;
    int64_t r;
    if (a.k == V_INT && b.k == V_INT) {
        switch (op) {
        case G_ADD:
            if (__builtin_add_overflow(a.i, b.i, &r))
                return false;
            break;
        case G_SUB:
            if (__builtin_sub_overflow(a.i, b.i, &r))
                return false;
            break;
        case G_MUL:
            if (__builtin_mul_overflow(a.i, b.i, &r))
                return false;
            break;
        default:
            goto floats;
        }
        *out = (struct val){V_INT, 0, r, 0};
        return true;
    }
floats:;
    double x = a.k == V_INT ? (double)a.i : a.f;
    double y = b.k == V_INT ? (double)b.i : b.f;
    double f = op == G_ADD ? x + y : op == G_SUB ? x - y : op == G_MUL ? x * y
                                                                       : x / y;
    if (op == G_FDIV && y == 0)
        return false;
    if (!isfinite(f))
        return false; /* Erlang raises badarith on float overflow */
    *out = (struct val){V_FLOAT, 0, 0, f};
    return true;
}

static bool
integer_op(int op, struct val a, struct val b, struct val *out)
{
    int64_t x, y, r;
    if (!as_int(a, &x) || !as_int(b, &y))
        return false;
    switch (op) {
    case G_DIV:
    case G_REM:
        if (y == 0 || (op == G_DIV && x == INT64_MIN && y == -1))
            return false; /* badarith, or a quotient past 64 bits */
        /* C truncates, as Erlang; x rem -1 is 0 even for INT64_MIN,
         * where C's % would trap. */
        r = y == -1 ? (op == G_DIV ? -x : 0) : op == G_DIV ? x / y : x % y;
        break;
    case G_BAND:
        r = x & y;
        break;
    case G_BOR:
        r = x | y;
        break;
    case G_BXOR:
        r = x ^ y;
        break;
    case G_BSL:
    case G_BSR: {
        int64_t shift = op == G_BSL ? y : y == INT64_MIN ? INT64_MAX : -y;
        if (shift < 0)
            r = shift <= -63 ? (x < 0 ? -1 : 0) : x >> -shift;
        else if (x == 0)
            r = 0;
        else if (shift > 63 || x > (INT64_MAX >> shift) ||
                 x < (INT64_MIN >> shift))
            return false; /* past 64 bits (-1 bsl 63 still fits) */
        else
            r = (int64_t)((uint64_t)x << shift);
        break;
    }
    default:
        return false;
    }
    *out = (struct val){V_INT, 0, r, 0};
    return true;
}

static bool eval(const struct hv__gnode *g, const hv_term *vars,
                 const hv_term *pins, struct val *out);

static bool
logic(int op, struct val a, struct val b, struct val *out)
{
    bool x, y;
    if (!as_bool(a, &x) || !as_bool(b, &y))
        return false;
    *out = bool_val(op == G_AND ? x && y : op == G_OR ? x || y : x != y);
    return true;
}

static bool
unary(int op, struct val a, struct val *out)
{
    bool b;
    int64_t i;
    struct val n = numeric(a);
    switch (op) {
    case G_NOT:
        if (!as_bool(a, &b))
            return false;
        *out = bool_val(!b);
        return true;
    case G_BNOT:
        if (!as_int(a, &i))
            return false;
        *out = (struct val){V_INT, 0, ~i, 0};
        return true;
    case G_PLUS:
        if (n.k == V_TERM)
            return false;
        *out = n;
        return true;
    default: /* G_NEG */
        if (n.k == V_INT) {
            if (n.i == INT64_MIN)
                return false;
            *out = (struct val){V_INT, 0, -n.i, 0};
            return true;
        }
        if (n.k != V_FLOAT)
            return false;
        *out = (struct val){V_FLOAT, 0, 0, -n.f};
        return true;
    }
}

static bool
binary_op(const struct hv__gnode *g, const hv_term *vars, const hv_term *pins,
          struct val *out)
{
    struct val a, b;
    bool x;
    if (!eval(g->kids[0], vars, pins, &a))
        return false;
    if (g->n == 1)
        return unary(g->op, a, out);
    if (g->op == G_ANDALSO || g->op == G_ORELSE) {
        if (!as_bool(a, &x))
            return false;
        if (x == (g->op == G_ORELSE)) {
            *out = a;
            return true;
        }
        return eval(g->kids[1], vars, pins, out);
    }
    if (!eval(g->kids[1], vars, pins, &b))
        return false;
    switch (g->op) {
    case G_ADD:
    case G_SUB:
    case G_MUL:
    case G_FDIV:
        return arith(g->op, a, b, out);
    case G_AND:
    case G_OR:
    case G_XOR:
        return logic(g->op, a, b, out);
    case G_EQ:
        *out = bool_val(compare(a, b) == 0);
        return true;
    case G_NE:
        *out = bool_val(compare(a, b) != 0);
        return true;
    case G_EXACT_EQ:
        *out = bool_val(exact_eq(a, b));
        return true;
    case G_EXACT_NE:
        *out = bool_val(!exact_eq(a, b));
        return true;
    case G_LT:
        *out = bool_val(compare(a, b) < 0);
        return true;
    case G_LE:
        *out = bool_val(compare(a, b) <= 0);
        return true;
    case G_GT:
        *out = bool_val(compare(a, b) > 0);
        return true;
    case G_GE:
        *out = bool_val(compare(a, b) >= 0);
        return true;
    default:
        return integer_op(g->op, a, b, out);
    }
}

/* ---- guard functions ---- */

static const struct fn {
    const char *name;
    unsigned arity;
    int op;
} functions[] = {
    {"is_atom", 1, G_IS_ATOM},         {"is_integer", 1, G_IS_INTEGER},
    {"is_float", 1, G_IS_FLOAT},       {"is_number", 1, G_IS_NUMBER},
    {"is_binary", 1, G_IS_BINARY},     {"is_tuple", 1, G_IS_TUPLE},
    {"is_list", 1, G_IS_LIST},         {"is_map", 1, G_IS_MAP},
    {"is_pid", 1, G_IS_PID},           {"is_reference", 1, G_IS_REFERENCE},
    {"is_boolean", 1, G_IS_BOOLEAN},   {"tuple_size", 1, G_TUPLE_SIZE},
    {"length", 1, G_LENGTH},           {"map_size", 1, G_MAP_SIZE},
    {"byte_size", 1, G_BYTE_SIZE},     {"size", 1, G_SIZE},
    {"element", 2, G_ELEMENT},         {"hd", 1, G_HD},
    {"tl", 1, G_TL},                   {"is_map_key", 2, G_IS_MAP_KEY},
    {"map_get", 2, G_MAP_GET},         {"abs", 1, G_ABS},
    {"min", 2, G_MIN},                 {"max", 2, G_MAX},
    {"self", 0, G_SELF},
};

int
hv__guard_function(const char *name, size_t len, size_t arity)
{
    for (size_t i = 0; i < sizeof functions / sizeof *functions; i++)
        if (functions[i].arity == arity && strlen(functions[i].name) == len &&
            memcmp(functions[i].name, name, len) == 0)
            return functions[i].op;
    return -1;
}

/* A type test on a value: computed numbers are numbers. */
static bool
type_test(int op, struct val v)
{
    if (v.k != V_TERM)
        return op == G_IS_NUMBER ||
               op == (v.k == V_INT ? G_IS_INTEGER : G_IS_FLOAT);
    hv_term t = v.t;
    switch (op) {
    case G_IS_ATOM:
        return hv_is_atom(t);
    case G_IS_INTEGER:
        return hv_is_integer(t);
    case G_IS_FLOAT:
        return hv_is_float(t);
    case G_IS_NUMBER:
        return hv_is_number(t);
    case G_IS_BINARY:
        return hv_is_binary(t);
    case G_IS_TUPLE:
        return hv_is_tuple(t);
    case G_IS_LIST:
        return hv_is_list(t);
    case G_IS_MAP:
        return hv_is_map(t);
    case G_IS_PID:
        return hv_is_pid(t);
    case G_IS_REFERENCE:
        return hv_is_ref(t);
    default: /* G_IS_BOOLEAN */
        return hv_is_boolean(t);
    }
}

static bool
int_result(int64_t n, struct val *out)
{
    if (n < 0)
        return false; /* the size function's badarg */
    *out = (struct val){V_INT, 0, n, 0};
    return true;
}

/* Functions of one term argument that return a size or a part. */
static bool
term_function(int op, hv_term t, struct val *out)
{
    switch (op) {
    case G_TUPLE_SIZE:
        return int_result(hv_tuple_size(t), out);
    case G_LENGTH:
        return int_result(hv_list_length(t), out);
    case G_MAP_SIZE:
        return int_result(hv_map_size(t), out);
    case G_BYTE_SIZE:
        return int_result(hv_binary_size(t), out);
    case G_SIZE:
        return int_result(hv_is_tuple(t) ? hv_tuple_size(t)
                                         : hv_binary_size(t),
                          out);
    case G_HD:
    case G_TL:
        if (!hv_is_cons(t))
            return false;
        *out = term_val(op == G_HD ? hv_list_head(t) : hv_list_tail(t));
        return true;
    default:
        return false;
    }
}

static bool
call(const struct hv__gnode *g, const hv_term *vars, const hv_term *pins,
     struct val *out)
{
    struct val a[2];
    for (size_t i = 0; i < g->n; i++)
        if (!eval(g->kids[i], vars, pins, &a[i]))
            return false;
    struct tmp tmp;
    int64_t n;
    switch (g->op) {
    case G_SELF: {
        hv_term self = hv_self();
        if (self == HV_NONE)
            return false;
        *out = term_val(self);
        return true;
    }
    case G_ELEMENT:
        if (!as_int(a[0], &n) || a[1].k != V_TERM || !hv_is_tuple(a[1].t) ||
            n < 1 || n > hv_tuple_size(a[1].t))
            return false;
        *out = term_val(hv_tuple_at(a[1].t, (size_t)n - 1));
        return true;
    case G_IS_MAP_KEY:
    case G_MAP_GET: {
        if (a[1].k != V_TERM || !hv_is_map(a[1].t))
            return false;
        hv_term v = hv_map_get(a[1].t, as_term(a[0], &tmp));
        if (g->op == G_IS_MAP_KEY) {
            *out = bool_val(v != HV_NONE);
            return true;
        }
        if (v == HV_NONE)
            return false; /* {badkey, K} */
        *out = term_val(v);
        return true;
    }
    case G_ABS: {
        struct val x = numeric(a[0]);
        if (x.k == V_TERM || (x.k == V_INT && x.i == INT64_MIN))
            return false;
        *out = x;
        if (x.k == V_INT && x.i < 0)
            out->i = -x.i;
        if (x.k == V_FLOAT)
            out->f = fabs(x.f);
        return true;
    }
    case G_MIN:
    case G_MAX: {
        /* Erlang returns the first argument when they compare equal. */
        int c = compare(a[0], a[1]);
        *out = (g->op == G_MIN ? c <= 0 : c >= 0) ? a[0] : a[1];
        return true;
    }
    default:
        if (g->op < G_TUPLE_SIZE) {
            *out = bool_val(type_test(g->op, a[0]));
            return true;
        }
        if (a[0].k != V_TERM)
            return false;
        return term_function(g->op, a[0].t, out);
    }
}

static bool
eval(const struct hv__gnode *g, const hv_term *vars, const hv_term *pins,
     struct val *out)
{
    switch (g->kind) {
    case GN_LIT:
        *out = term_val(g->lit);
        return true;
    case GN_VAR:
        *out = term_val(vars[g->index]);
        return true;
    case GN_PIN:
        *out = term_val(pins[g->index]);
        return true;
    case GN_OP:
        return binary_op(g, vars, pins, out);
    case GN_CALL:
        return call(g, vars, pins, out);
    case GN_REGEX: {
        struct val s;
        size_t len;
        const uint8_t *data;
        if (!eval(g->kids[0], vars, pins, &s))
            return false;
        /* A test rather than a function: false, not an error, for
         * anything but a binary. */
        data = s.k == V_TERM ? hv_binary_data(s.t, &len) : NULL;
        *out = bool_val(data != NULL && hv__regex_test(g->re, data, len));
        return true;
    }
    default:
        return false; /* GN_ALL / GN_ANY appear only at the top */
    }
}

/* One guard: every test true, stopping at the first that is not. */
static bool
all_hold(const struct hv__gnode *g, const hv_term *vars, const hv_term *pins)
{
    for (size_t i = 0; i < g->n; i++) {
        struct val v;
        if (!eval(g->kids[i], vars, pins, &v) || v.k != V_TERM ||
            v.t != HV_ATOM_TRUE)
            return false;
    }
    return true;
}

bool
hv__guard_holds(const struct hv__gnode *g, const hv_term *vars,
                const hv_term *pins)
{
    for (size_t i = 0; i < g->n; i++)
        if (all_hold(g->kids[i], vars, pins))
            return true;
    return false;
}
