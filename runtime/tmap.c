/* runtime/tmap.c - see tmap.h. */
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/tmap.h"

#define TOMB HV_NIL

static uint32_t
slot_of(hv_term key, uint32_t cap)
{
    uint64_t h = key * 0x9e3779b97f4a7c15u;
    return (uint32_t)(h >> 32) & (cap - 1);
}

/* The slot holding key, or the first free one for it (-1: none). */
static int64_t
find(const struct hv__tmap *m, hv_term key, bool *found)
{
    *found = false;
    if (m->cap == 0)
        return -1;
    int64_t free_at = -1;
    for (uint32_t i = slot_of(key, m->cap), n = 0; n < m->cap;
         i = (i + 1) & (m->cap - 1), n++) {
        hv_term k = m->keys[i];
        if (k == key) {
            *found = true;
            return i;
        }
        if (k == TOMB && free_at < 0)
            free_at = i;
        if (k == HV_NONE)
            return free_at >= 0 ? free_at : i;
    }
    return free_at;
}

static int
rebuild(struct hv__tmap *m, uint32_t cap)
{
    struct hv__tmap n = {0};
    n.keys = hv__alloc(cap * sizeof *n.keys);
    n.vals = hv__alloc(cap * sizeof *n.vals);
    if (n.keys == NULL || n.vals == NULL) {
        hv__free(n.keys, cap * sizeof *n.keys);
        hv__free(n.vals, cap * sizeof *n.vals);
        return HV_ENOMEM;
    }
    memset(n.keys, 0, cap * sizeof *n.keys);
    n.cap = cap;
    for (uint32_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == HV_NONE || m->keys[i] == TOMB)
            continue;
        bool found;
        int64_t at = find(&n, m->keys[i], &found);
        n.keys[at] = m->keys[i];
        n.vals[at] = m->vals[i];
        n.count++;
        n.used++;
    }
    hv__tmap_free(m);
    *m = n;
    return HV_OK;
}

int
hv__tmap_put(struct hv__tmap *m, hv_term key, hv_term val, hv_term *old)
{
    bool found;
    int64_t at = find(m, key, &found);
    if (found) {
        if (old != NULL)
            *old = m->vals[at];
        m->vals[at] = val;
        return HV_OK;
    }
    if (old != NULL)
        *old = HV_NONE;
    /* Keep a quarter free so that probes stay short and end. */
    if ((m->used + 1) * 4 > m->cap * 3) {
        uint32_t cap = m->cap == 0 ? 8 : m->cap;
        while ((m->count + 1) * 2 > cap)
            cap *= 2;
        if (rebuild(m, cap) != HV_OK)
            return HV_ENOMEM;
        at = find(m, key, &found);
    }
    if (m->keys[at] == HV_NONE)
        m->used++;
    m->keys[at] = key;
    m->vals[at] = val;
    m->count++;
    return HV_OK;
}

bool
hv__tmap_get(const struct hv__tmap *m, hv_term key, hv_term *val)
{
    bool found;
    int64_t at = find(m, key, &found);
    if (found && val != NULL)
        *val = m->vals[at];
    return found;
}

bool
hv__tmap_del(struct hv__tmap *m, hv_term key, hv_term *val)
{
    bool found;
    int64_t at = find(m, key, &found);
    if (!found)
        return false;
    if (val != NULL)
        *val = m->vals[at];
    m->keys[at] = TOMB;
    m->count--;
    return true;
}

bool
hv__tmap_next(const struct hv__tmap *m, uint32_t *i, hv_term *key,
              hv_term *val)
{
    for (; *i < m->cap; (*i)++) {
        hv_term k = m->keys[*i];
        if (k != HV_NONE && k != TOMB) {
            *key = k;
            if (val != NULL)
                *val = m->vals[*i];
            (*i)++;
            return true;
        }
    }
    return false;
}

void
hv__tmap_free(struct hv__tmap *m)
{
    hv__free(m->keys, m->cap * sizeof *m->keys);
    hv__free(m->vals, m->cap * sizeof *m->vals);
    memset(m, 0, sizeof *m);
}
