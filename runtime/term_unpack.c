/* runtime/term_unpack.c - msgpack to terms: hv_unpack, hv_unpack_n, and
 * the build pass that makes the term of bytes the scan accepted.
 *
 * We decode msgpack ourselves rather than with msgpack-c's unpacker, for
 * three reasons.  msgpack-c allocates what a hostile count announces
 * before any element arrives (the 5 bytes dd ff ff ff ff ask for ~96 GiB,
 * dd 04 00 00 00 reserves 1.5 GiB and waits); it caps nesting at 32, so
 * deeper terms that hv_pack writes would not come back; and it builds an
 * object tree that we would then copy into terms.
 *
 * Decoding takes two passes.  The scan (term_scan.c) validates one object
 * and measures it, checking every count against the bytes that can still
 * follow and enforcing hv_limits, so nothing is allocated for what the
 * input merely announces; it is resumable, which is what hv_unpacker
 * needs.  Then the build walks the same bytes again and makes the term.
 *
 * The build is bottom-up with two explicit stacks: finished values, and
 * the open arrays and maps, each knowing where its values start.  A
 * container is made once its last element is done, by the constructors
 * that consume their elements, so at any moment every value is owned by
 * exactly one place: the value stack, or the term it went into.  On error
 * the value stack is released and nothing else needs undoing.
 *
 * Because the scan checked every header and length, the build reads
 * without bounds checks and fails only for memory or when the atom table
 * refuses a name. */
#include "runtime/term_unpack.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/util.h"

enum frame_kind { FRAME_LIST, FRAME_TUPLE, FRAME_IMPROPER, FRAME_MAP };

struct frame {
    uint64_t left;  /* elements not yet done */
    uint64_t count; /* all elements, two per pair in a map */
    size_t base;    /* index of its first value on the value stack */
    enum frame_kind kind;
};

struct build {
    hv_term *vals;
    size_t nvals, cap;
    hv_term inline_vals[32]; /* small terms build without allocating */
    struct hv__walk frames;
};

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int
push_value(struct build *b, hv_term v)
{
    if (b->nvals == b->cap) {
        size_t cap = b->cap * 2;
        hv_term *p;
        if (b->vals == b->inline_vals) {
            p = hv__alloc(cap * sizeof *p);
            if (p != NULL)
                memcpy(p, b->vals, b->nvals * sizeof *p);
        } else {
            p = hv__realloc(b->vals, b->cap * sizeof *p, cap * sizeof *p);
        }
        if (p == NULL) {
            hv_release(v);
            return HV_ENOMEM;
        }
        b->vals = p;
        b->cap = cap;
    }
    b->vals[b->nvals++] = v;
    return HV_OK;
}

/* The improper list e[0] .. e[n-2] with tail e[n-1].  A tail that is a
 * list just extends it, so [1 | [2]] comes out as [1, 2]. */
static hv_term
make_improper(size_t n, hv_term *e)
{
    hv_term t = e[n - 1];
    for (size_t i = n - 1; i-- > 0;) {
        t = hv_cons(e[i], t);
        if (t == HV_NONE) {
            for (size_t j = 0; j < i; j++)
                hv_release(e[j]);
            return HV_NONE;
        }
    }
    return t;
}

/* The map of the n key-value pairs interleaved in kv.  Consumes them. */
static hv_term
make_map(size_t n, hv_term *kv)
{
    hv_term *keys = hv__alloc(2 * n * sizeof *keys);
    if (keys == NULL) {
        for (size_t i = 0; i < 2 * n; i++)
            hv_release(kv[i]);
        return HV_NONE;
    }
    hv_term *vals = keys + n;
    for (size_t i = 0; i < n; i++) {
        keys[i] = kv[2 * i];
        vals[i] = kv[2 * i + 1];
    }
    hv_term m = hv_map_from(n, keys, vals);
    hv__free(keys, 2 * n * sizeof *keys);
    return m;
}

/* Makes the term of the finished top frame from its values, which it
 * consumes, and pops the frame. */
static hv_term
close_frame(struct build *b)
{
    struct frame *f = hv__walk_top(&b->frames);
    size_t n = b->nvals - f->base;
    hv_term *e = b->vals + f->base;
    hv_term t;
    switch (f->kind) {
    case FRAME_LIST:
        t = hv_list_v(n, e);
        break;
    case FRAME_TUPLE:
        t = hv_tuple_v(n, e);
        break;
    case FRAME_IMPROPER:
        t = make_improper(n, e);
        break;
    default:
        t = make_map(n / 2, e);
        break;
    }
    b->nvals = f->base;
    hv__walk_pop(&b->frames);
    return t;
}

/* One element of the top frame is done (its value pushed, or it was the
 * marker); closes every frame this completes. */
static int
element_done(struct build *b)
{
    struct frame *f;
    while ((f = hv__walk_top(&b->frames)) != NULL && --f->left == 0) {
        hv_term t = close_frame(b);
        if (t == HV_NONE)
            return HV_ENOMEM;
        int rc = push_value(b, t);
        if (rc != HV_OK)
            return rc;
    }
    return HV_OK;
}

/* The atom of a name, or HV_NONE with the reason in *aerr. */
static hv_term
make_atom(const uint8_t *name, size_t len, hv_error *aerr)
{
    return hv_atom_n((const char *)name, len, aerr);
}

/* The node atom of a pid or ref: an empty name is the local node. */
static hv_term
make_node(const uint8_t *name, size_t len, hv_error *aerr)
{
    return len == 0 ? HV_ATOM_NONODE : make_atom(name, len, aerr);
}

/* The term of an ext (hive's layout, checked by the scan); HV_NONE with
 * aerr->code set when an atom is refused, else for memory. */
static hv_term
make_ext(const struct hv__head *h, const uint8_t *body, size_t at,
         hv_error *aerr)
{
    size_t n = (size_t)h->n;
    hv_term node;
    switch (h->ext_type) {
    case HV__EXT_ATOM:
        return make_atom(body, n, aerr);
    case HV__EXT_PID:
        node =
            make_node(body + HV__PID_BODY_FIXED, n - HV__PID_BODY_FIXED, aerr);
        if (node == HV_NONE)
            return HV_NONE;
        return hv_pid_remote(node, be32(body), be32(body + 4), be32(body + 8));
    case HV__EXT_REF: {
        uint32_t words[5];
        unsigned nwords = body[4];
        for (unsigned i = 0; i < nwords; i++)
            words[i] = be32(body + HV__REF_BODY_FIXED + 4 * i);
        size_t skip = HV__REF_BODY_FIXED + 4 * (size_t)nwords;
        node = make_node(body + skip, n - skip, aerr);
        if (node == HV_NONE)
            return HV_NONE;
        return hv_ref_from(node, be32(body), words, nwords);
    }
    default:
        hv__panic("unpack: ext type %d at offset %zu passed the scan",
                  h->ext_type, at);
    }
}

/* The value of a scalar item, or HV_NONE (see make_ext). */
static hv_term
make_scalar(const struct hv__head *h, const uint8_t *body, size_t at,
            hv_error *aerr)
{
    switch (h->kind) {
    case HV__HEAD_NIL:
        return HV_ATOM_NIL;
    case HV__HEAD_FALSE:
        return HV_ATOM_FALSE;
    case HV__HEAD_TRUE:
        return HV_ATOM_TRUE;
    case HV__HEAD_INT:
        return hv_int(h->i);
    case HV__HEAD_F32:
    case HV__HEAD_F64:
        return hv_float(h->f);
    case HV__HEAD_STR:
    case HV__HEAD_BIN:
        return hv_binary(body, (size_t)h->n);
    case HV__HEAD_EXT:
        return make_ext(h, body, at, aerr);
    default:
        hv__panic("unpack: item of kind %d at offset %zu passed the scan",
                  (int)h->kind, at);
    }
}

/* Starts an array or map of h->n elements: an empty one is a value at
 * once, the others wait on the frame stack for their elements. */
static int
open_container(struct build *b, const struct hv__head *h)
{
    if (h->n == 0) {
        hv_term t = h->kind == HV__HEAD_MAP ? hv_map_new() : HV_NIL;
        int rc = push_value(b, t);
        return rc == HV_OK ? element_done(b) : rc;
    }
    struct frame *f = hv__walk_push(&b->frames);
    if (f == NULL)
        return HV_ENOMEM;
    f->kind = h->kind == HV__HEAD_MAP ? FRAME_MAP : FRAME_LIST;
    f->left = f->count = h->kind == HV__HEAD_MAP ? 2 * h->n : h->n;
    f->base = b->nvals;
    return HV_OK;
}

static bool
is_marker(const struct hv__head *h)
{
    return h->kind == HV__HEAD_EXT && h->n == 0 &&
           (h->ext_type == HV__EXT_TUPLE || h->ext_type == HV__EXT_IMPROPER);
}

int
hv__unpack_build(const uint8_t *p, size_t size, hv_term *out, hv_error *err)
{
    struct build b;
    b.vals = b.inline_vals;
    b.nvals = 0;
    b.cap = HV_ARRAY_LEN(b.inline_vals);
    hv__walk_init(&b.frames, sizeof(struct frame));
    hv_error aerr = {.code = HV_ENOMEM};
    int rc = HV_OK;
    size_t pos = 0, at;
    do {
        at = pos;
        struct hv__head h;
        hv__scan_head(p + pos, &h);
        pos += h.len;
        if (h.kind == HV__HEAD_ARRAY || h.kind == HV__HEAD_MAP) {
            rc = open_container(&b, &h);
            continue;
        }
        /* The scan let a marker through only as element 0 of an array. */
        struct frame *f = hv__walk_top(&b.frames);
        if (is_marker(&h) && f != NULL && f->kind == FRAME_LIST &&
            f->left == f->count) {
            f->kind =
                h.ext_type == HV__EXT_TUPLE ? FRAME_TUPLE : FRAME_IMPROPER;
            rc = element_done(&b);
            continue;
        }
        hv_term t = make_scalar(&h, p + pos, at, &aerr);
        if (h.kind == HV__HEAD_STR || h.kind == HV__HEAD_BIN ||
            h.kind == HV__HEAD_EXT)
            pos += (size_t)h.n;
        if (t == HV_NONE) {
            rc = aerr.code;
            break;
        }
        rc = push_value(&b, t);
        if (rc == HV_OK)
            rc = element_done(&b);
    } while (rc == HV_OK && !hv__walk_empty(&b.frames));

    if (rc == HV_OK) {
        HV_ASSERT(b.nvals == 1 && pos == size);
        *out = b.vals[0];
    } else {
        for (size_t i = 0; i < b.nvals; i++)
            hv_release(b.vals[i]);
        if (rc == HV_ENOMEM)
            hv__error_set(err, rc, at, 0, 0,
                          "out of memory building the term at offset %zu", at);
        else
            hv__error_set(err, rc, at, 0, 0, "atom at offset %zu: %s", at,
                          aerr.what);
    }
    (void)size;
    if (b.vals != b.inline_vals)
        hv__free(b.vals, b.cap * sizeof *b.vals);
    hv__walk_fini(&b.frames);
    return rc;
}

hv_term
hv_unpack_n(const void *bytes, size_t len, size_t *used, const hv_limits *lim,
            hv_error *err)
{
    if (bytes == NULL && len != 0) {
        hv__error_set(err, HV_EBADARG, 0, 0, 0, "bytes is NULL");
        return HV_NONE;
    }
    struct hv__scan s;
    hv__scan_init(&s, lim);
    int rc = hv__scan_run(&s, bytes, len, true, err);
    size_t size = s.pos;
    hv__scan_fini(&s);
    hv_term t = HV_NONE;
    if (rc == HV_OK)
        rc = hv__unpack_build(bytes, size, &t, err);
    if (rc != HV_OK)
        return HV_NONE;
    if (used != NULL)
        *used = size;
    return t;
}

hv_term
hv_unpack(const void *bytes, size_t len, hv_error *err)
{
    size_t used;
    hv_term t = hv_unpack_n(bytes, len, &used, NULL, err);
    if (t != HV_NONE && used != len) {
        hv_release(t);
        hv__error_set(err, HV_ESYNTAX, used, 0, 0,
                      "%zu trailing bytes after the object at offset %zu",
                      len - used, used);
        return HV_NONE;
    }
    return t;
}
