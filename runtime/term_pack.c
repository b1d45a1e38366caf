/* runtime/term_pack.c - hv_pack: terms to msgpack, in the layout described
 * before hv_pack in hive/term.h, written through msgpack-c's packer.
 *
 * The walk keeps one frame per open container on an explicit stack (a
 * term may be deeper than any process stack).  A frame hands out its
 * children one at a time: a tuple or map by index, a list by a cursor
 * that moves down the cons cells, so even a long list costs one frame. */
#include "hive/term.h"

#include <msgpack.h>

#include "runtime/buf.h"
#include "runtime/term_box.h"
#include "runtime/term_unpack.h"
#include "runtime/term_walk.h"
#include "runtime/util.h"

enum frame_kind { FRAME_SEQ, FRAME_LIST };

struct frame {
    enum frame_kind kind;
    hv_term cursor;      /* FRAME_LIST: the rest of the list */
    const hv_term *next; /* FRAME_SEQ: tuple elements or map pairs */
    const hv_term *end;
};

/* The packer's write callback: msgpack-c wants 0 for success. */
static int
write_buf(void *data, const char *bytes, size_t len)
{
    return hv__buf_append(data, bytes, len) == HV_OK ? 0 : -1;
}

static void
store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes an ext of type whose body is fixed bytes then a node name, the
 * name left out for the local node. */
static int
pack_with_node(msgpack_packer *pk, int8_t type, const uint8_t *fixed,
               size_t nfixed, hv_term node)
{
    size_t nlen = 0;
    const char *name = "";
    if (node != HV_ATOM_NONODE)
        name = hv_atom_name(node, &nlen);
    if (name == NULL)
        return HV_EBADARG;
    if (msgpack_pack_ext(pk, nfixed + nlen, type) != 0 ||
        msgpack_pack_ext_body(pk, fixed, nfixed) != 0 ||
        msgpack_pack_ext_body(pk, name, nlen) != 0)
        return HV_ENOMEM;
    return HV_OK;
}

static int
pack_pid(msgpack_packer *pk, hv_term t)
{
    hv_term node;
    uint32_t number, serial, creation;
    uint8_t fixed[HV__PID_BODY_FIXED];
    if (hv_pid_fields(t, &node, &number, &serial, &creation) != HV_OK)
        return HV_EBADARG;
    store32(fixed, number);
    store32(fixed + 4, serial);
    store32(fixed + 8, creation);
    return pack_with_node(pk, HV__EXT_PID, fixed, sizeof fixed, node);
}

static int
pack_ref(msgpack_packer *pk, hv_term t)
{
    hv_term node;
    uint32_t creation, words[5];
    uint8_t fixed[HV__REF_BODY_FIXED + 4 * 5];
    int nwords = hv_ref_fields(t, &node, &creation, words);
    if (nwords < 1 || nwords > 5)
        return HV_EBADARG;
    store32(fixed, creation);
    fixed[4] = (uint8_t)nwords;
    for (int i = 0; i < nwords; i++)
        store32(fixed + HV__REF_BODY_FIXED + 4 * i, words[i]);
    return pack_with_node(pk, HV__EXT_REF, fixed,
                          HV__REF_BODY_FIXED + 4 * (size_t)nwords, node);
}

static int
pack_atom(msgpack_packer *pk, hv_term t)
{
    int rc;
    if (t == HV_ATOM_TRUE)
        rc = msgpack_pack_true(pk);
    else if (t == HV_ATOM_FALSE)
        rc = msgpack_pack_false(pk);
    else if (t == HV_ATOM_NIL)
        rc = msgpack_pack_nil(pk);
    else {
        size_t len;
        const char *name = hv_atom_name(t, &len);
        if (name == NULL)
            return HV_EBADARG;
        rc = msgpack_pack_ext_with_body(pk, name, len, HV__EXT_ATOM);
    }
    return rc == 0 ? HV_OK : HV_ENOMEM;
}

/* An array header for n elements, after a zero-length ext marker when
 * marker is not 0.  msgpack counts are 32-bit. */
static int
pack_array(msgpack_packer *pk, uint64_t n, int marker)
{
    if (n > UINT32_MAX)
        return HV_EBADARG;
    if (msgpack_pack_array(pk, (size_t)n) != 0 ||
        (marker != 0 && msgpack_pack_ext(pk, 0, (int8_t)marker) != 0))
        return HV_ENOMEM;
    return HV_OK;
}

static int
push_seq(struct hv__walk *w, const hv_term *first, size_t n)
{
    if (n == 0)
        return HV_OK;
    struct frame *f = hv__walk_push(w);
    if (f == NULL)
        return HV_ENOMEM;
    f->kind = FRAME_SEQ;
    f->next = first;
    f->end = first + n;
    return HV_OK;
}

/* Writes a list: a plain array when proper, else the improper marker,
 * the elements and the tail.  The elements come from a frame. */
static int
pack_list(msgpack_packer *pk, struct hv__walk *w, hv_term t)
{
    uint64_t n = 0;
    hv_term rest = t;
    while (hv__box_type(rest) == HV__BOX_CONS) {
        n++;
        rest = ((const struct hv__cons *)hv__box_of(rest))->tail;
    }
    bool proper = rest == HV_NIL;
    int rc =
        proper ? pack_array(pk, n, 0) : pack_array(pk, n + 2, HV__EXT_IMPROPER);
    if (rc != HV_OK)
        return rc;
    struct frame *f = hv__walk_push(w);
    if (f == NULL)
        return HV_ENOMEM;
    f->kind = FRAME_LIST;
    f->cursor = t;
    return HV_OK;
}

/* Writes t, or the header of a container whose children a new frame
 * will hand out. */
static int
pack_one(msgpack_packer *pk, struct hv__walk *w, hv_term t)
{
    if (hv__is_small(t))
        return msgpack_pack_int64(pk, hv__small_value(t)) == 0 ? HV_OK
                                                               : HV_ENOMEM;
    if (t == HV_NIL)
        return pack_array(pk, 0, 0);
    switch (hv__imm_tag(t)) {
    case HV__TAG_ATOM:
        return pack_atom(pk, t);
    case HV__TAG_PID:
        return pack_pid(pk, t);
    case HV__TAG_REF:
        return pack_ref(pk, t);
    default:
        break;
    }
    if (!hv__is_boxed(t))
        return HV_EBADARG;
    const struct hv__box *b = hv__box_of(t);
    int rc;
    switch (b->type) {
    case HV__BOX_INT:
        rc = msgpack_pack_int64(pk, ((const struct hv__int *)b)->value);
        break;
    case HV__BOX_FLOAT:
        rc = msgpack_pack_double(pk, ((const struct hv__float *)b)->value);
        break;
    case HV__BOX_BINARY: {
        const struct hv__binary *bin = (const struct hv__binary *)b;
        if (bin->size > UINT32_MAX)
            return HV_EBADARG;
        rc = msgpack_pack_bin_with_body(pk, bin->data, bin->size);
        break;
    }
    case HV__BOX_TUPLE: {
        const struct hv__tuple *tu = (const struct hv__tuple *)b;
        rc = pack_array(pk, (uint64_t)tu->arity + 1, HV__EXT_TUPLE);
        return rc == HV_OK ? push_seq(w, tu->el, tu->arity) : rc;
    }
    case HV__BOX_MAP: {
        const struct hv__map *m = (const struct hv__map *)b;
        if (m->count > UINT32_MAX)
            return HV_EBADARG;
        if (msgpack_pack_map(pk, m->count) != 0)
            return HV_ENOMEM;
        return push_seq(w, m->kv, 2 * m->count);
    }
    case HV__BOX_CONS:
        return pack_list(pk, w, t);
    case HV__BOX_PID:
        return pack_pid(pk, t);
    case HV__BOX_REF:
        return pack_ref(pk, t);
    default:
        return HV_EBADARG;
    }
    return rc == 0 ? HV_OK : HV_ENOMEM;
}

/* The next child of the top frame, or HV_NONE when it has no more.  A
 * list frame ends at [], or after handing out an improper tail. */
static hv_term
next_child(struct frame *f)
{
    if (f->kind == FRAME_SEQ)
        return f->next < f->end ? *f->next++ : HV_NONE;
    hv_term c = f->cursor;
    if (hv__box_type(c) == HV__BOX_CONS) {
        const struct hv__cons *cell = (const struct hv__cons *)hv__box_of(c);
        f->cursor = cell->tail;
        return cell->head;
    }
    f->cursor = HV_NIL;
    return c == HV_NIL ? HV_NONE : c;
}

int
hv_pack(hv_term t, hv_buf *out)
{
    if (t == HV_NONE || out == NULL)
        return HV_EBADARG;
    size_t start = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, write_buf);
    struct hv__walk w;
    hv__walk_init(&w, sizeof(struct frame));
    int rc = pack_one(&pk, &w, t);
    while (rc == HV_OK && !hv__walk_empty(&w)) {
        /* Take the child before pack_one: a push may move the stack. */
        hv_term child = next_child(hv__walk_top(&w));
        if (child == HV_NONE)
            hv__walk_pop(&w);
        else
            rc = pack_one(&pk, &w, child);
    }
    hv__walk_fini(&w);
    if (rc != HV_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = 0;
    }
    return rc;
}
