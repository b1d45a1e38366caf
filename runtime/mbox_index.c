/* runtime/mbox_index.c - the index of a private queue by one element of
 * its tuple messages, which answers a keyed receive (every clause wants
 * element N to be one value: an RPC reply's ref, a tag) in O(1) however
 * many other messages wait.
 *
 * Each distinct value has a record with the list of its messages, oldest
 * first, linked through the messages' ixnext.  The index covers the queue
 * up to `end` (the next field of the last message indexed) and is caught
 * up before each use, so a message is indexed once.  A message taken by
 * any receive leaves its key's list at once; finding its predecessor
 * there walks that list from its head, which costs no more than the scan
 * that reached the message did (everything before it in the list is
 * before it in the queue).  Owner only, like the private queue. */
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/proc.h"
#include "runtime/term_box.h"

/* ixnext values besides a next message: NULL is "not indexed". */
#define IX_END ((struct hv__msg *)1)   /* last in its key's list */
#define IX_NOKEY ((struct hv__msg *)2) /* indexed; has no such element */

struct ixkey {
    uint64_t hash;
    hv_term key; /* retained */
    struct hv__msg *head, *tail;
    struct ixkey *chain;
};

struct hv__mbox_index {
    size_t elem;
    struct hv__msg **end;
    struct ixkey **buckets;
    size_t mask; /* bucket count - 1 */
    size_t nkeys;
};

/* The element the index is by, or HV_NONE when m has none. */
static hv_term
key_of(hv_term t, size_t elem)
{
    if (hv__box_type(t) != HV__BOX_TUPLE)
        return HV_NONE;
    const struct hv__tuple *tu = (const struct hv__tuple *)hv__box_of(t);
    return elem < tu->arity ? tu->el[elem] : HV_NONE;
}

/* Consistent with key_eq: an immediate is its own canonical form. */
static uint64_t
key_hash(hv_term k)
{
    if (hv__is_boxed(k))
        return hv_hash(k);
    uint64_t h = k * 0x9e3779b97f4a7c15u;
    return h ^ (h >> 29);
}

static bool
key_eq(hv_term a, hv_term b)
{
    return a == b || (hv__is_boxed(a) && hv__is_boxed(b) && hv_equal(a, b));
}

static struct ixkey **
slot_of(struct hv__mbox_index *ix, hv_term key, uint64_t hash)
{
    struct ixkey **at = &ix->buckets[hash & ix->mask];
    while (*at != NULL && !((*at)->hash == hash && key_eq((*at)->key, key)))
        at = &(*at)->chain;
    return at;
}

static int
grow(struct hv__mbox_index *ix)
{
    size_t n = (ix->mask + 1) * 2;
    struct ixkey **b = hv__alloc(n * sizeof *b);
    if (b == NULL)
        return HV_ENOMEM;
    memset(b, 0, n * sizeof *b);
    for (size_t i = 0; i <= ix->mask; i++) {
        struct ixkey *k = ix->buckets[i];
        while (k != NULL) {
            struct ixkey *next = k->chain;
            k->chain = b[k->hash & (n - 1)];
            b[k->hash & (n - 1)] = k;
            k = next;
        }
    }
    hv__free(ix->buckets, (ix->mask + 1) * sizeof *b);
    ix->buckets = b;
    ix->mask = n - 1;
    return HV_OK;
}

/* Appends m to its key's list. */
static int
add(struct hv__mbox_index *ix, struct hv__msg *m)
{
    hv_term key = key_of(m->term, ix->elem);
    if (key == HV_NONE) {
        m->ixnext = IX_NOKEY;
        return HV_OK;
    }
    uint64_t hash = key_hash(key);
    struct ixkey **at = slot_of(ix, key, hash);
    struct ixkey *k = *at;
    if (k == NULL) {
        if (ix->nkeys > ix->mask && grow(ix) == HV_OK)
            at = slot_of(ix, key, hash);
        k = hv__alloc(sizeof *k);
        if (k == NULL)
            return HV_ENOMEM;
        k->hash = hash;
        k->key = hv_retain(key);
        k->head = k->tail = NULL;
        k->chain = NULL;
        *at = k;
        ix->nkeys++;
    }
    m->ixnext = IX_END;
    if (k->tail != NULL)
        k->tail->ixnext = m;
    else
        k->head = m;
    k->tail = m;
    return HV_OK;
}

static void
free_key(struct ixkey *k)
{
    hv_release(k->key);
    hv__free(k, sizeof *k);
}

void
hv__mbox_index_free(struct hv__proc *p)
{
    struct hv__mbox_index *ix = p->index;
    if (ix == NULL)
        return;
    for (struct hv__msg *m = p->first; m != NULL; m = m->next)
        m->ixnext = NULL;
    for (size_t i = 0; i <= ix->mask; i++) {
        struct ixkey *k = ix->buckets[i];
        while (k != NULL) {
            struct ixkey *next = k->chain;
            free_key(k);
            k = next;
        }
    }
    hv__free(ix->buckets, (ix->mask + 1) * sizeof *ix->buckets);
    hv__free(ix, sizeof *ix);
    p->index = NULL;
}

static struct hv__mbox_index *
index_new(struct hv__proc *p, size_t elem)
{
    enum { FIRST_BUCKETS = 64 };
    struct hv__mbox_index *ix = hv__alloc(sizeof *ix);
    if (ix == NULL)
        return NULL;
    ix->buckets = hv__alloc(FIRST_BUCKETS * sizeof *ix->buckets);
    if (ix->buckets == NULL) {
        hv__free(ix, sizeof *ix);
        return NULL;
    }
    memset(ix->buckets, 0, FIRST_BUCKETS * sizeof *ix->buckets);
    ix->mask = FIRST_BUCKETS - 1;
    ix->nkeys = 0;
    ix->elem = elem;
    ix->end = &p->first;
    return ix;
}

int
hv__mbox_index_catch_up(struct hv__proc *p, size_t elem)
{
    if (p->index != NULL && p->index->elem != elem)
        hv__mbox_index_free(p);
    if (p->index == NULL && (p->index = index_new(p, elem)) == NULL)
        return HV_ENOMEM;
    struct hv__mbox_index *ix = p->index;
    hv__mbox_pull(p);
    struct hv__msg *m;
    while ((m = *ix->end) != NULL) {
        if (add(ix, m) != HV_OK)
            return HV_ENOMEM; /* the index stays whole up to end */
        ix->end = &m->next;
    }
    return HV_OK;
}

bool
hv__mbox_index_by(const struct hv__proc *p, size_t elem)
{
    return p->index != NULL && p->index->elem == elem;
}

struct hv__msg *
hv__mbox_index_first(struct hv__proc *p, hv_term key)
{
    struct ixkey *k = *slot_of(p->index, key, key_hash(key));
    return k != NULL ? k->head : NULL;
}

struct hv__msg *
hv__mbox_index_next(const struct hv__msg *m)
{
    return m->ixnext == IX_END ? NULL : m->ixnext;
}

void
hv__mbox_index_remove(struct hv__proc *p, struct hv__msg *m)
{
    struct hv__msg *next = m->ixnext;
    if (next == NULL)
        return;
    m->ixnext = NULL;
    if (next == IX_NOKEY)
        return;
    struct hv__mbox_index *ix = p->index;
    hv_term key = key_of(m->term, ix->elem);
    struct ixkey **at = slot_of(ix, key, key_hash(key));
    struct ixkey *k = *at;
    struct hv__msg *prev = NULL;
    for (struct hv__msg *q = k->head; q != m; q = q->ixnext)
        prev = q;
    if (next == IX_END) {
        k->tail = prev;
        if (prev != NULL)
            prev->ixnext = IX_END;
        else
            k->head = NULL;
    } else if (prev != NULL) {
        prev->ixnext = next;
    } else {
        k->head = next;
    }
    if (k->head == NULL) {
        *at = k->chain;
        ix->nkeys--;
        free_key(k);
    }
}

void
hv__mbox_index_retarget(struct hv__proc *p, struct hv__msg *m)
{
    if (p->index != NULL && p->index->end == &m->next)
        p->index->end = m->prevp;
}
