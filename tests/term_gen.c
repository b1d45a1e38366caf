/* tests/term_gen.c - seeded random terms covering every type and the
 * awkward corners: integer edges, shortest-float cases, atoms that need
 * quotes, binaries that are and are not printable, improper lists,
 * remote pids and refs, maps with int and float keys that are ==. */
#include "tests/term_gen.h"

#include <math.h>
#include <string.h>

void
hv_gen_init(struct hv_gen *g, uint64_t seed)
{
    g->state = seed;
    g->max_depth = 4;
    g->text_safe = false;
}

uint64_t
hv_gen_u64(struct hv_gen *g)
{
    /* splitmix64: tiny, fast, and good enough to spread test cases. */
    uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned
below(struct hv_gen *g, unsigned n)
{
    return (unsigned)(hv_gen_u64(g) % n);
}

static hv_term
gen_int(struct hv_gen *g)
{
    static const int64_t edges[] = {
        0, 1, -1, 255, 256, HV_SMALL_MAX, HV_SMALL_MIN, HV_SMALL_MAX + 1,
        HV_SMALL_MIN - 1, INT64_MAX, INT64_MIN, 4294967296LL, -2147483649LL,
    };
    switch (below(g, 4)) {
    case 0:
        return hv_int(edges[below(g, sizeof edges / sizeof edges[0])]);
    case 1:
        return hv_int((int64_t)hv_gen_u64(g));
    default:
        return hv_int((int64_t)below(g, 2001) - 1000);
    }
}

static hv_term
gen_float(struct hv_gen *g)
{
    static const double nice[] = {0.0, -0.0, 0.1, 1.0, -2.5, 1e100, 5e-324,
                                  1.7976931348623157e308, 123456789.125,
                                  0.30000000000000004, 1e21, 1e-7};
    if (below(g, 2) == 0)
        return hv_float(nice[below(g, sizeof nice / sizeof nice[0])]);
    for (;;) {
        uint64_t bits = hv_gen_u64(g);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isfinite(d))
            return hv_float(d);
    }
}

static hv_term
gen_atom(struct hv_gen *g)
{
    static const char *const names[] = {
        "ok", "error", "true", "false", "undefined", "EXIT", "hello world",
        "", "it's", "back\\slash", "when", "a@b", "_under", "Caps",
        "h\xc3\xa9llo", "tab\there", "nonode@nohost", "x1_Y2",
    };
    return hv_atom(names[below(g, sizeof names / sizeof names[0])]);
}

static hv_term
gen_binary(struct hv_gen *g)
{
    uint8_t buf[24];
    unsigned n = below(g, sizeof buf + 1);
    bool printable = below(g, 2) == 0;
    for (unsigned i = 0; i < n; i++)
        buf[i] = printable ? (uint8_t)(' ' + below(g, 95))
                           : (uint8_t)hv_gen_u64(g);
    return hv_binary(buf, n);
}

static hv_term
gen_node(struct hv_gen *g)
{
    static const char *const nodes[] = {"a@host", "b@other.example",
                                        "nonode@nohost"};
    return hv_atom(nodes[below(g, 3)]);
}

static hv_term
gen_pid(struct hv_gen *g)
{
    if (below(g, 3) != 0)
        return hv_pid_local(below(g, 100000),
                            below(g, 4) == 0 ? below(g, 1u << 28) : 0);
    uint32_t creation = g->text_safe ? 0 : (uint32_t)hv_gen_u64(g);
    return hv_pid_remote(gen_node(g), (uint32_t)hv_gen_u64(g),
                         (uint32_t)hv_gen_u64(g) & 0xffff, creation);
}

static hv_term
gen_ref(struct hv_gen *g)
{
    uint32_t w[5];
    for (int i = 0; i < 5; i++)
        w[i] = (uint32_t)hv_gen_u64(g);
    size_t n = 1 + below(g, 5);
    hv_term node = below(g, 2) ? HV_ATOM_NONODE : gen_node(g);
    uint32_t creation = g->text_safe ? 0 : below(g, 3);
    return hv_ref_from(node, creation, w, n);
}

static hv_term gen_depth(struct hv_gen *g, unsigned depth);

static hv_term
gen_container(struct hv_gen *g, unsigned depth)
{
    hv_term el[6];
    unsigned n = below(g, 6);
    switch (below(g, 4)) {
    case 0:
        for (unsigned i = 0; i < n; i++)
            el[i] = gen_depth(g, depth + 1);
        return hv_tuple_v(n, el);
    case 1: {
        hv_term list = below(g, 5) == 0 ? gen_depth(g, depth + 1) : HV_NIL;
        for (unsigned i = 0; i < n; i++)
            list = hv_cons(gen_depth(g, depth + 1), list);
        return list;
    }
    case 2: {
        hv_term keys[6], vals[6];
        n = below(g, 5);
        for (unsigned i = 0; i < n; i++) {
            keys[i] = below(g, 4) == 0 ? hv_float((double)below(g, 3))
                                       : gen_depth(g, depth + 1);
            vals[i] = gen_depth(g, depth + 1);
        }
        return hv_map_from(n, keys, vals);
    }
    default:
        return HV_NIL;
    }
}

static hv_term
gen_depth(struct hv_gen *g, unsigned depth)
{
    unsigned pick = below(g, depth < g->max_depth ? 10 : 7);
    switch (pick) {
    case 0:
        return gen_int(g);
    case 1:
        return gen_float(g);
    case 2:
        return gen_atom(g);
    case 3:
        return gen_binary(g);
    case 4:
        return gen_pid(g);
    case 5:
        return gen_ref(g);
    case 6:
        return below(g, 2) ? HV_NIL : hv_int(below(g, 10));
    default:
        return gen_container(g, depth);
    }
}

hv_term
hv_gen_term(struct hv_gen *g)
{
    return gen_depth(g, 0);
}
