/* runtime/map.c - maps as one sorted array of key/value pairs.
 *
 * Keys are kept in Erlang's map key order (hv_compare_exact: the term
 * order with every integer before every float, so 1 and 1.0 are different
 * keys), which is the order Erlang prints and compares maps in.  Lookup is
 * a binary search.  Updates copy the array, O(n), unless the caller held
 * the only reference: then the box is resized in place.  Erlang switches
 * to a HAMT above 32 keys; a sorted array keeps messages compact and
 * lookups O(log n), and a HAMT can replace it behind this file later. */
#include "runtime/map.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/term_box.h"
#include "runtime/util.h"

static struct hv__map empty_map = {
    .h = {.rc = HV__RC_IMMORTAL, .type = HV__BOX_MAP},
    .count = 0,
};

static size_t
map_bytes(size_t count)
{
    return sizeof(struct hv__map) + count * 2 * sizeof(hv_term);
}

static struct hv__map *
map_of(hv_term t)
{
    return (struct hv__map *)hv__box_of(t);
}

/* Index of key, or -(insertion point) - 1 when absent. */
static ptrdiff_t
search(const struct hv__map *m, hv_term key)
{
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = hv_compare_exact(m->kv[2 * mid], key);
        if (c == 0)
            return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(ptrdiff_t)lo - 1;
}

ptrdiff_t
hv__map_find(hv_term map, hv_term key)
{
    ptrdiff_t i = search(map_of(map), key);
    return i >= 0 ? i : -1;
}

static bool
unique(hv_term map)
{
    return atomic_load_explicit(&hv__box_of(map)->rc, memory_order_acquire) ==
           1;
}

static struct hv__map *
map_alloc(size_t count)
{
    struct hv__map *m =
        (struct hv__map *)hv__box_alloc(map_bytes(count), HV__BOX_MAP);
    if (m != NULL)
        m->count = count;
    return m;
}

hv_term
hv_map_new(void)
{
    return hv__term_of_box(&empty_map);
}

/* Stable merge sort of pairs by key, so that among equal keys the last
 * given stays last (and wins).  tmp has room for n pairs. */
static void
sort_pairs(hv_term *kv, hv_term *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = hv__min_size(lo + width, n);
            size_t hi = hv__min_size(lo + 2 * width, n);
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (hv_compare_exact(kv[2 * j], kv[2 * i]) < 0) {
                    tmp[2 * k] = kv[2 * j], tmp[2 * k + 1] = kv[2 * j + 1];
                    j++;
                } else {
                    tmp[2 * k] = kv[2 * i], tmp[2 * k + 1] = kv[2 * i + 1];
                    i++;
                }
                k++;
            }
            for (; i < mid; i++, k++)
                tmp[2 * k] = kv[2 * i], tmp[2 * k + 1] = kv[2 * i + 1];
            for (; j < hi; j++, k++)
                tmp[2 * k] = kv[2 * j], tmp[2 * k + 1] = kv[2 * j + 1];
        }
        memcpy(kv, tmp, n * 2 * sizeof(hv_term));
    }
}

hv_term
hv_map_from(size_t n, const hv_term *keys, const hv_term *vals)
{
    bool ok = n == 0 || (keys != NULL && vals != NULL);
    for (size_t i = 0; ok && i < n; i++)
        ok = keys[i] != HV_NONE && vals[i] != HV_NONE;
    struct hv__map *m = NULL;
    hv_term *tmp = NULL;
    if (ok && n == 0)
        return hv_map_new();
    if (ok && n <= SIZE_MAX / (4 * sizeof(hv_term))) {
        m = map_alloc(n);
        tmp = hv__alloc(n * 2 * sizeof(hv_term));
    }
    if (m == NULL || tmp == NULL) {
        if (m != NULL)
            hv__free(m, map_bytes(n));
        if (tmp != NULL)
            hv__free(tmp, n * 2 * sizeof(hv_term));
        /* Consumes on every path, even when only one array was given. */
        for (size_t i = 0; i < n; i++) {
            if (keys != NULL)
                hv_release(keys[i]);
            if (vals != NULL)
                hv_release(vals[i]);
        }
        return HV_NONE;
    }
    for (size_t i = 0; i < n; i++) {
        m->kv[2 * i] = keys[i];
        m->kv[2 * i + 1] = vals[i];
    }
    sort_pairs(m->kv, tmp, n);
    hv__free(tmp, n * 2 * sizeof(hv_term));
    /* Keep the last of each run of equal keys. */
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && hv_compare_exact(m->kv[2 * i], m->kv[2 * i + 2]) == 0) {
            hv_release(m->kv[2 * i]);
            hv_release(m->kv[2 * i + 1]);
            continue;
        }
        m->kv[2 * out] = m->kv[2 * i];
        m->kv[2 * out + 1] = m->kv[2 * i + 1];
        out++;
    }
    if (out != n) {
        m = hv__realloc(m, map_bytes(n), map_bytes(out));
        m->count = out;
    }
    return hv__term_of_box(m);
}

hv_term
hv_map_put(hv_term map, hv_term key, hv_term val)
{
    if (!hv_is_map(map) || key == HV_NONE || val == HV_NONE)
        goto fail;
    struct hv__map *m = map_of(map);
    ptrdiff_t i = search(m, key);
    if (i >= 0 && unique(map)) {
        hv_release(m->kv[2 * i]);
        hv_release(m->kv[2 * i + 1]);
        m->kv[2 * i] = key;
        m->kv[2 * i + 1] = val;
        return map;
    }
    size_t n = m->count + (i < 0);
    size_t at = i >= 0 ? (size_t)i : (size_t)(-i - 1);
    struct hv__map *r;
    if (unique(map)) {
        /* Only we hold it: grow in place instead of copying. */
        r = hv__realloc(m, map_bytes(m->count), map_bytes(n));
        if (r == NULL)
            goto fail;
        memmove(&r->kv[2 * at + 2], &r->kv[2 * at],
                (r->count - at) * 2 * sizeof(hv_term));
        r->count = n;
    } else {
        r = map_alloc(n);
        if (r == NULL)
            goto fail;
        size_t skip = i >= 0 ? 1 : 0;
        for (size_t j = 0; j < at; j++) {
            r->kv[2 * j] = hv_retain(m->kv[2 * j]);
            r->kv[2 * j + 1] = hv_retain(m->kv[2 * j + 1]);
        }
        for (size_t j = at + skip; j < m->count; j++) {
            size_t d = j - skip + 1;
            r->kv[2 * d] = hv_retain(m->kv[2 * j]);
            r->kv[2 * d + 1] = hv_retain(m->kv[2 * j + 1]);
        }
        hv_release(map);
    }
    r->kv[2 * at] = key;
    r->kv[2 * at + 1] = val;
    return hv__term_of_box(r);
fail:
    hv_release(map);
    hv_release(key);
    hv_release(val);
    return HV_NONE;
}

hv_term
hv_map_remove(hv_term map, hv_term key)
{
    if (!hv_is_map(map) || key == HV_NONE) {
        hv_release(map);
        return HV_NONE;
    }
    struct hv__map *m = map_of(map);
    ptrdiff_t i = search(m, key);
    if (i < 0)
        return map;
    size_t at = (size_t)i, n = m->count - 1;
    if (n == 0) {
        hv_release(map);
        return hv_map_new();
    }
    if (unique(map)) {
        hv_release(m->kv[2 * at]);
        hv_release(m->kv[2 * at + 1]);
        memmove(&m->kv[2 * at], &m->kv[2 * at + 2],
                (n - at) * 2 * sizeof(hv_term));
        struct hv__map *r = hv__realloc(m, map_bytes(m->count), map_bytes(n));
        r->count = n;
        return hv__term_of_box(r);
    }
    struct hv__map *r = map_alloc(n);
    if (r == NULL) {
        hv_release(map);
        return HV_NONE;
    }
    for (size_t j = 0, d = 0; j < m->count; j++) {
        if (j == at)
            continue;
        r->kv[2 * d] = hv_retain(m->kv[2 * j]);
        r->kv[2 * d + 1] = hv_retain(m->kv[2 * j + 1]);
        d++;
    }
    hv_release(map);
    return hv__term_of_box(r);
}

hv_term
hv_map_get(hv_term map, hv_term key)
{
    if (!hv_is_map(map))
        return HV_NONE;
    ptrdiff_t i = search(map_of(map), key);
    return i >= 0 ? map_of(map)->kv[2 * i + 1] : HV_NONE;
}

int64_t
hv_map_size(hv_term map)
{
    return hv_is_map(map) ? (int64_t)map_of(map)->count : HV_EBADARG;
}

hv_term
hv_map_key_at(hv_term map, size_t i)
{
    if (!hv_is_map(map) || i >= map_of(map)->count)
        return HV_NONE;
    return map_of(map)->kv[2 * i];
}

hv_term
hv_map_value_at(hv_term map, size_t i)
{
    if (!hv_is_map(map) || i >= map_of(map)->count)
        return HV_NONE;
    return map_of(map)->kv[2 * i + 1];
}
