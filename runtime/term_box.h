/* runtime/term_box.h - the tagged-word layout of terms and their boxes.
 *
 * Low bits of an hv_term:
 *   ...xxx1  small integer, value in the upper 63 bits (arithmetic shift)
 *   ...x000  pointer to a struct hv__box (8-byte aligned, never 0)
 *   ...0010  atom, table index in the upper 60 bits
 *   ...0110  local pid, serial << 32 | number in the upper 60 bits
 *   ...1010  local ref, a 60-bit counter in the upper bits
 *   ...1110  special: 0x0e is [] (HV_NIL)
 * 0 is HV_NONE, the non-value.  Low bits ...100 are unused.
 *
 * Boxes are immutable once shared and carry an atomic reference count;
 * HV__RC_IMMORTAL marks constants that retain/release never touch. */
#ifndef HV_RUNTIME_TERM_BOX_H
#define HV_RUNTIME_TERM_BOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hive/term.h"

#define HV__TAG_SMALL 0x1u
#define HV__TAG_ATOM 0x2u
#define HV__TAG_PID 0x6u
#define HV__TAG_REF 0xau
#define HV__TAG_SPECIAL 0xeu
#define HV__IMM_PAYLOAD_BITS 60
#define HV__IMM_PAYLOAD_MAX (((uint64_t)1 << HV__IMM_PAYLOAD_BITS) - 1)
#define HV__PID_SERIAL_BITS 28

enum hv__box_type {
    HV__BOX_INT = 1, /* int64 outside the small range */
    HV__BOX_FLOAT,
    HV__BOX_BINARY,
    HV__BOX_TUPLE,
    HV__BOX_CONS,
    HV__BOX_MAP,
    HV__BOX_PID, /* pid of another node */
    HV__BOX_REF  /* ref with more than 60 bits, or of another node */
};

#define HV__RC_IMMORTAL UINT32_MAX

struct hv__box {
    _Atomic uint32_t rc;
    uint8_t type; /* enum hv__box_type */
    uint8_t pad[3];
};

struct hv__int {
    struct hv__box h;
    int64_t value;
};

struct hv__float {
    struct hv__box h;
    double value;
};

struct hv__binary {
    struct hv__box h;
    size_t size;
    uint8_t data[];
};

struct hv__tuple {
    struct hv__box h;
    size_t arity;
    hv_term el[];
};

struct hv__cons {
    struct hv__box h;
    hv_term head, tail;
};

/* kv[2i] is the i-th key in exact term order, kv[2i+1] its value. */
struct hv__map {
    struct hv__box h;
    size_t count;
    hv_term kv[];
};

struct hv__xpid {
    struct hv__box h;
    hv_term node; /* atom */
    uint32_t number, serial, creation;
};

struct hv__xref {
    struct hv__box h;
    hv_term node; /* atom; HV_ATOM_NONODE for local */
    uint32_t creation;
    uint32_t nwords;  /* 1..5 */
    uint32_t word[5]; /* word[0] least significant */
};

_Static_assert(sizeof(hv_term) == 8, "a term is one 64-bit word");
_Static_assert(sizeof(struct hv__box) == 8, "box header is one word");

static inline bool
hv__is_boxed(hv_term t)
{
    return (t & 7u) == 0 && t != 0;
}

static inline struct hv__box *
hv__box_of(hv_term t)
{
    return (struct hv__box *)(uintptr_t)t;
}

static inline hv_term
hv__term_of_box(const void *box)
{
    return (hv_term)(uintptr_t)box;
}

/* Box type, or 0 when t is not boxed. */
static inline int
hv__box_type(hv_term t)
{
    return hv__is_boxed(t) ? hv__box_of(t)->type : 0;
}

static inline bool
hv__is_small(hv_term t)
{
    return (t & 1u) != 0;
}

static inline int64_t
hv__small_value(hv_term t)
{
    return (int64_t)t >> 1;
}

static inline hv_term
hv__small(int64_t v)
{
    return ((uint64_t)v << 1) | HV__TAG_SMALL;
}

static inline unsigned
hv__imm_tag(hv_term t)
{
    return (unsigned)(t & 0xfu);
}

static inline uint64_t
hv__imm_payload(hv_term t)
{
    return t >> 4;
}

static inline hv_term
hv__imm(unsigned tag, uint64_t payload)
{
    return (payload << 4) | tag;
}

static inline uint32_t
hv__atom_index(hv_term t)
{
    return (uint32_t)(t >> 4);
}

/* Allocates a box of size bytes with rc 1 and the type set; NULL on
 * failure.  Released boxes go back through hv__box_free. */
struct hv__box *hv__box_alloc(size_t size, enum hv__box_type type);
/* Size in bytes of a box, as allocated. */
size_t hv__box_size(const struct hv__box *b);
/* Marks t and everything in it immortal (pattern literals, constants).
 * Must happen before t is shared. */
void hv__make_immortal(hv_term t);

#endif /* HV_RUNTIME_TERM_BOX_H */
