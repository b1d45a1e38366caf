/* runtime/term_hash.c - a stable structural hash, consistent with
 * hv_equal: equal terms hash equal whatever their sharing, and nothing
 * depends on addresses or atom table order, so hashes survive restarts
 * and can name terms in storage.  Preorder walk on an explicit stack;
 * container sizes go into the hash, so the preorder is unambiguous. */
#include <string.h>

#include "runtime/atom.h"
#include "runtime/term_box.h"
#include "runtime/term_walk.h"
#include "runtime/util.h"

static inline uint64_t
mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 31);
}

static uint64_t
hash_leaf(hv_term t)
{
    int64_t i;
    double d;
    switch (hv_type_of(t)) {
    case HV_TYPE_INTEGER:
        hv_int_value(t, &i);
        return mix(1, (uint64_t)i);
    case HV_TYPE_FLOAT: {
        hv_float_value(t, &d);
        if (d == 0)
            d = 0; /* -0.0 =:= 0.0, so they must hash alike */
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return mix(2, bits);
    }
    case HV_TYPE_ATOM:
        return mix(3, hv__atom_entry(t)->hash);
    case HV_TYPE_REF: {
        hv_term node;
        uint32_t creation, w[5];
        int n = hv_ref_fields(t, &node, &creation, w);
        uint64_t h = mix(mix(4, hv__atom_entry(node)->hash), creation);
        for (int k = 0; k < n; k++)
            h = mix(h, w[k]);
        return h;
    }
    case HV_TYPE_PID: {
        hv_term node;
        uint32_t num, ser, cre;
        hv_pid_fields(t, &node, &num, &ser, &cre);
        return mix(mix(mix(mix(5, hv__atom_entry(node)->hash), num), ser),
                   cre);
    }
    case HV_TYPE_BINARY: {
        size_t len;
        const uint8_t *p = hv_binary_data(t, &len);
        return mix(6, hv__hash_bytes(p, len, 6));
    }
    case HV_TYPE_NIL:
        return 7;
    default:
        return 0;
    }
}

uint64_t
hv_hash(hv_term t)
{
    struct hv__walk w;
    hv__walk_init(&w, sizeof(hv_term));
    uint64_t h = 0x68697665; /* "hive" */
    *(hv_term *)hv__walk_push(&w) = t;
    while (!hv__walk_empty(&w)) {
        hv_term x = *(hv_term *)hv__walk_top(&w);
        hv__walk_pop(&w);
        size_t n = 0;
        const hv_term *kids = NULL;
        uint64_t tag;
        switch (hv__box_type(x)) {
        case HV__BOX_TUPLE:
            n = ((const struct hv__tuple *)hv__box_of(x))->arity;
            kids = ((const struct hv__tuple *)hv__box_of(x))->el;
            tag = mix(8, n);
            break;
        case HV__BOX_MAP:
            n = ((const struct hv__map *)hv__box_of(x))->count * 2;
            kids = ((const struct hv__map *)hv__box_of(x))->kv;
            tag = mix(9, n);
            break;
        case HV__BOX_CONS:
            n = 2;
            kids = &((const struct hv__cons *)hv__box_of(x))->head;
            tag = 10;
            break;
        default:
            tag = hash_leaf(x);
            break;
        }
        h = mix(h, tag);
        for (size_t i = n; i-- > 0;) {
            hv_term *slot = hv__walk_push(&w);
            if (slot == NULL)
                hv__panic("no memory to hash a term");
            *slot = kids[i];
        }
    }
    hv__walk_fini(&w);
    return h;
}
