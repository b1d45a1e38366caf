/* runtime/term.c - term boxes: allocation, reference counts, freeing,
 * type tests, and the constructors and accessors of numbers, binaries,
 * tuples and lists. */
#include "runtime/term_box.h"

#include <math.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/term_walk.h"
#include "runtime/util.h"

/* ---- boxes ---- */

struct hv__box *
hv__box_alloc(size_t size, enum hv__box_type type)
{
    struct hv__box *b = hv__alloc(size);
    if (b == NULL)
        return NULL;
    atomic_init(&b->rc, 1);
    b->type = (uint8_t)type;
    memset(b->pad, 0, sizeof b->pad);
    return b;
}

size_t
hv__box_size(const struct hv__box *b)
{
    switch ((enum hv__box_type)b->type) {
    case HV__BOX_INT:
        return sizeof(struct hv__int);
    case HV__BOX_FLOAT:
        return sizeof(struct hv__float);
    case HV__BOX_BINARY:
        return sizeof(struct hv__binary) +
               ((const struct hv__binary *)b)->size;
    case HV__BOX_TUPLE:
        return sizeof(struct hv__tuple) +
               ((const struct hv__tuple *)b)->arity * sizeof(hv_term);
    case HV__BOX_CONS:
        return sizeof(struct hv__cons);
    case HV__BOX_MAP:
        return sizeof(struct hv__map) +
               ((const struct hv__map *)b)->count * 2 * sizeof(hv_term);
    case HV__BOX_PID:
        return sizeof(struct hv__xpid);
    case HV__BOX_REF:
        return sizeof(struct hv__xref);
    }
    hv__panic("box %p has unknown type %d", (const void *)b, b->type);
}

/* The children of a container box, as one array of terms (a cons cell's
 * head and tail are adjacent, a map's kv array holds both).  Atoms inside
 * remote pids and refs are immediates and need no visit. */
static hv_term *
children(struct hv__box *b, size_t *n)
{
    switch ((enum hv__box_type)b->type) {
    case HV__BOX_TUPLE:
        *n = ((struct hv__tuple *)b)->arity;
        return ((struct hv__tuple *)b)->el;
    case HV__BOX_CONS:
        *n = 2;
        return &((struct hv__cons *)b)->head;
    case HV__BOX_MAP:
        *n = ((struct hv__map *)b)->count * 2;
        return ((struct hv__map *)b)->kv;
    default:
        *n = 0;
        return NULL;
    }
}

/* True when this reference was the last one.  acq_rel: the release half
 * publishes our writes to whoever frees, the acquire half makes theirs
 * visible to us.  (A release decrement plus an acquire fence would be
 * cheaper on weak memory models, but ThreadSanitizer cannot see fences
 * and would report the free as a race; on x86-64 both are one locked
 * instruction.) */
static bool
drop_ref(struct hv__box *b)
{
    if (atomic_load_explicit(&b->rc, memory_order_relaxed) == HV__RC_IMMORTAL)
        return false;
    return atomic_fetch_sub_explicit(&b->rc, 1, memory_order_acq_rel) == 1;
}

hv_term
hv_retain(hv_term t)
{
    if (hv__is_boxed(t)) {
        struct hv__box *b = hv__box_of(t);
        if (atomic_load_explicit(&b->rc, memory_order_relaxed) !=
            HV__RC_IMMORTAL)
            atomic_fetch_add_explicit(&b->rc, 1, memory_order_relaxed);
    }
    return t;
}

void
hv_release(hv_term t)
{
    if (!hv__is_boxed(t) || !drop_ref(hv__box_of(t)))
        return;
    /* Dead boxes wait on an explicit stack: a long list or a deep tree
     * must not recurse on a small process stack.  Popping the last child
     * pushed (a list's tail) keeps the stack short for lists. */
    struct hv__walk w;
    hv__walk_init(&w, sizeof(hv_term));
    *(hv_term *)hv__walk_push(&w) = t;
    while (!hv__walk_empty(&w)) {
        struct hv__box *b = hv__box_of(*(hv_term *)hv__walk_top(&w));
        hv__walk_pop(&w);
        size_t n;
        hv_term *kids = children(b, &n);
        for (size_t i = 0; i < n; i++) {
            if (hv__is_boxed(kids[i]) && drop_ref(hv__box_of(kids[i]))) {
                hv_term *slot = hv__walk_push(&w);
                if (slot == NULL)
                    hv__panic("out of memory while freeing a term");
                *slot = kids[i];
            }
        }
        hv__free(b, hv__box_size(b));
    }
    hv__walk_fini(&w);
}

void
hv__make_immortal(hv_term t)
{
    struct hv__walk w;
    hv__walk_init(&w, sizeof(hv_term));
    if (hv__is_boxed(t))
        *(hv_term *)hv__walk_push(&w) = t;
    while (!hv__walk_empty(&w)) {
        struct hv__box *b = hv__box_of(*(hv_term *)hv__walk_top(&w));
        hv__walk_pop(&w);
        if (atomic_load_explicit(&b->rc, memory_order_relaxed) ==
            HV__RC_IMMORTAL)
            continue;
        atomic_store_explicit(&b->rc, HV__RC_IMMORTAL, memory_order_relaxed);
        size_t n;
        hv_term *kids = children(b, &n);
        for (size_t i = 0; i < n; i++) {
            if (hv__is_boxed(kids[i])) {
                hv_term *slot = hv__walk_push(&w);
                if (slot == NULL)
                    hv__panic("out of memory while marking a constant");
                *slot = kids[i];
            }
        }
    }
    hv__walk_fini(&w);
}

/* ---- types ---- */

hv_type
hv_type_of(hv_term t)
{
    if (t == HV_NONE)
        return HV_TYPE_NONE;
    if (hv__is_small(t))
        return HV_TYPE_INTEGER;
    switch (hv__box_type(t)) {
    case HV__BOX_INT:
        return HV_TYPE_INTEGER;
    case HV__BOX_FLOAT:
        return HV_TYPE_FLOAT;
    case HV__BOX_BINARY:
        return HV_TYPE_BINARY;
    case HV__BOX_TUPLE:
        return HV_TYPE_TUPLE;
    case HV__BOX_CONS:
        return HV_TYPE_LIST;
    case HV__BOX_MAP:
        return HV_TYPE_MAP;
    case HV__BOX_PID:
        return HV_TYPE_PID;
    case HV__BOX_REF:
        return HV_TYPE_REF;
    default:
        break;
    }
    switch (hv__imm_tag(t)) {
    case HV__TAG_ATOM:
        return HV_TYPE_ATOM;
    case HV__TAG_PID:
        return HV_TYPE_PID;
    case HV__TAG_REF:
        return HV_TYPE_REF;
    default:
        return t == HV_NIL ? HV_TYPE_NIL : HV_TYPE_NONE;
    }
}

bool
hv_is_integer(hv_term t)
{
    return hv__is_small(t) || hv__box_type(t) == HV__BOX_INT;
}

bool
hv_is_float(hv_term t)
{
    return hv__box_type(t) == HV__BOX_FLOAT;
}

bool
hv_is_number(hv_term t)
{
    return hv_is_integer(t) || hv_is_float(t);
}

bool
hv_is_atom(hv_term t)
{
    return hv__imm_tag(t) == HV__TAG_ATOM;
}

bool
hv_is_ref(hv_term t)
{
    return hv__imm_tag(t) == HV__TAG_REF || hv__box_type(t) == HV__BOX_REF;
}

bool
hv_is_pid(hv_term t)
{
    return hv__imm_tag(t) == HV__TAG_PID || hv__box_type(t) == HV__BOX_PID;
}

bool
hv_is_tuple(hv_term t)
{
    return hv__box_type(t) == HV__BOX_TUPLE;
}

bool
hv_is_map(hv_term t)
{
    return hv__box_type(t) == HV__BOX_MAP;
}

bool
hv_is_binary(hv_term t)
{
    return hv__box_type(t) == HV__BOX_BINARY;
}

bool
hv_is_list(hv_term t)
{
    return t == HV_NIL || hv__box_type(t) == HV__BOX_CONS;
}

bool
hv_is_cons(hv_term t)
{
    return hv__box_type(t) == HV__BOX_CONS;
}

bool
hv_is_boolean(hv_term t)
{
    return t == HV_ATOM_TRUE || t == HV_ATOM_FALSE;
}

/* ---- numbers ---- */

hv_term
hv_int(int64_t v)
{
    if (v >= HV_SMALL_MIN && v <= HV_SMALL_MAX)
        return hv__small(v);
    struct hv__int *b =
        (struct hv__int *)hv__box_alloc(sizeof *b, HV__BOX_INT);
    if (b == NULL)
        return HV_NONE;
    b->value = v;
    return hv__term_of_box(b);
}

hv_term
hv_float(double v)
{
    if (!isfinite(v))
        return HV_NONE;
    struct hv__float *b =
        (struct hv__float *)hv__box_alloc(sizeof *b, HV__BOX_FLOAT);
    if (b == NULL)
        return HV_NONE;
    b->value = v;
    return hv__term_of_box(b);
}

int
hv_int_value(hv_term t, int64_t *out)
{
    if (hv__is_small(t))
        *out = hv__small_value(t);
    else if (hv__box_type(t) == HV__BOX_INT)
        *out = ((const struct hv__int *)hv__box_of(t))->value;
    else
        return HV_EBADARG;
    return HV_OK;
}

int
hv_float_value(hv_term t, double *out)
{
    if (!hv_is_float(t))
        return HV_EBADARG;
    *out = ((const struct hv__float *)hv__box_of(t))->value;
    return HV_OK;
}

/* ---- binaries ---- */

hv_term
hv_binary_alloc(size_t len, uint8_t **data)
{
    if (len > SIZE_MAX - sizeof(struct hv__binary))
        return HV_NONE;
    struct hv__binary *b = (struct hv__binary *)hv__box_alloc(
        sizeof *b + len, HV__BOX_BINARY);
    if (b == NULL)
        return HV_NONE;
    b->size = len;
    if (data != NULL)
        *data = b->data;
    return hv__term_of_box(b);
}

hv_term
hv_binary(const void *data, size_t len)
{
    if (data == NULL && len != 0)
        return HV_NONE;
    uint8_t *p;
    hv_term t = hv_binary_alloc(len, &p);
    if (t != HV_NONE && len != 0)
        memcpy(p, data, len);
    return t;
}

hv_term
hv_string(const char *s)
{
    return s ? hv_binary(s, strlen(s)) : HV_NONE;
}

const uint8_t *
hv_binary_data(hv_term t, size_t *len)
{
    if (!hv_is_binary(t))
        return NULL;
    const struct hv__binary *b = (const struct hv__binary *)hv__box_of(t);
    if (len != NULL)
        *len = b->size;
    return b->data;
}

int64_t
hv_binary_size(hv_term t)
{
    if (!hv_is_binary(t))
        return HV_EBADARG;
    return (int64_t)((const struct hv__binary *)hv__box_of(t))->size;
}

/* ---- tuples ---- */

static void
release_all(size_t n, const hv_term *elems)
{
    for (size_t i = 0; i < n; i++)
        hv_release(elems[i]);
}

hv_term
hv_tuple_v(size_t n, const hv_term *elems)
{
    if (n > HV_MAX_TUPLE_ARITY || (n != 0 && elems == NULL))
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (elems[i] == HV_NONE)
            goto fail;
    struct hv__tuple *b = (struct hv__tuple *)hv__box_alloc(
        sizeof *b + n * sizeof(hv_term), HV__BOX_TUPLE);
    if (b == NULL)
        goto fail;
    b->arity = n;
    if (n != 0)
        memcpy(b->el, elems, n * sizeof(hv_term));
    return hv__term_of_box(b);
fail:
    if (elems != NULL)
        release_all(n, elems);
    return HV_NONE;
}

hv_term
hv_tuple(size_t n, ...)
{
    va_list ap;
    bool ok = n <= HV_MAX_TUPLE_ARITY;
    struct hv__tuple *b = NULL;
    if (ok)
        b = (struct hv__tuple *)hv__box_alloc(sizeof *b + n * sizeof(hv_term),
                                              HV__BOX_TUPLE);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        hv_term e = va_arg(ap, hv_term);
        if (b != NULL)
            b->el[i] = e;
        else
            hv_release(e);
        ok = ok && e != HV_NONE;
    }
    va_end(ap);
    if (b == NULL)
        return HV_NONE;
    b->arity = n;
    if (!ok) {
        hv_release(hv__term_of_box(b));
        return HV_NONE;
    }
    return hv__term_of_box(b);
}

int64_t
hv_tuple_size(hv_term t)
{
    if (!hv_is_tuple(t))
        return HV_EBADARG;
    return (int64_t)((const struct hv__tuple *)hv__box_of(t))->arity;
}

hv_term
hv_tuple_at(hv_term t, size_t i)
{
    if (!hv_is_tuple(t))
        return HV_NONE;
    const struct hv__tuple *b = (const struct hv__tuple *)hv__box_of(t);
    return i < b->arity ? b->el[i] : HV_NONE;
}

/* ---- lists ---- */

hv_term
hv_cons(hv_term head, hv_term tail)
{
    if (head == HV_NONE || tail == HV_NONE)
        goto fail;
    struct hv__cons *c =
        (struct hv__cons *)hv__box_alloc(sizeof *c, HV__BOX_CONS);
    if (c == NULL)
        goto fail;
    c->head = head;
    c->tail = tail;
    return hv__term_of_box(c);
fail:
    hv_release(head);
    hv_release(tail);
    return HV_NONE;
}

hv_term
hv_list_v(size_t n, const hv_term *elems)
{
    if (n != 0 && elems == NULL)
        return HV_NONE;
    hv_term list = HV_NIL;
    /* Built from the end, so a failure at i leaves elems[0..i-1] to
     * release besides the partial list (hv_cons took elems[i]). */
    for (size_t i = n; i-- > 0;) {
        list = hv_cons(elems[i], list);
        if (list == HV_NONE) {
            release_all(i, elems);
            return HV_NONE;
        }
    }
    return list;
}

hv_term
hv_list(size_t n, ...)
{
    hv_term small[16];
    hv_term *elems = small;
    if (n > HV_ARRAY_LEN(small))
        elems = hv__alloc(n * sizeof(hv_term));
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        hv_term e = va_arg(ap, hv_term);
        if (elems != NULL)
            elems[i] = e;
        else
            hv_release(e);
    }
    va_end(ap);
    if (elems == NULL)
        return HV_NONE;
    hv_term list = hv_list_v(n, elems);
    if (elems != small)
        hv__free(elems, n * sizeof(hv_term));
    return list;
}

hv_term
hv_list_head(hv_term t)
{
    return hv_is_cons(t) ? ((const struct hv__cons *)hv__box_of(t))->head
                         : HV_NONE;
}

hv_term
hv_list_tail(hv_term t)
{
    return hv_is_cons(t) ? ((const struct hv__cons *)hv__box_of(t))->tail
                         : HV_NONE;
}

int64_t
hv_list_length(hv_term t)
{
    int64_t n = 0;
    while (hv_is_cons(t)) {
        n++;
        t = ((const struct hv__cons *)hv__box_of(t))->tail;
    }
    return t == HV_NIL ? n : HV_EBADARG;
}
