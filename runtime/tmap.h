/* runtime/tmap.h - a small map from immediate terms (pids, refs) to
 * terms, for a process's links and monitors.  Owner only: no locking.
 * Open addressing with linear probing; removal leaves a tombstone, and
 * the table is rebuilt when tombstones and entries fill it. */
#ifndef HV_RUNTIME_TMAP_H
#define HV_RUNTIME_TMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/term.h"

struct hv__tmap {
    hv_term *keys; /* HV_NONE: empty; HV_NIL: removed */
    hv_term *vals;
    uint32_t cap;   /* 0 or a power of two */
    uint32_t count; /* entries */
    uint32_t used;  /* entries and tombstones */
};

/* Sets key (an immediate other than []) to val, replacing any value
 * (which is returned in *old when old is not NULL, else dropped without
 * release).  HV_OK or HV_ENOMEM. */
int hv__tmap_put(struct hv__tmap *m, hv_term key, hv_term val, hv_term *old);
/* The value under key in *val (may be NULL); false when absent. */
bool hv__tmap_get(const struct hv__tmap *m, hv_term key, hv_term *val);
/* Removes key, its value in *val (may be NULL); false when absent. */
bool hv__tmap_del(struct hv__tmap *m, hv_term key, hv_term *val);
/* Iteration: *i starts at 0; false at the end. */
bool hv__tmap_next(const struct hv__tmap *m, uint32_t *i, hv_term *key,
                   hv_term *val);
/* Frees the table (not the values). */
void hv__tmap_free(struct hv__tmap *m);

#endif /* HV_RUNTIME_TMAP_H */
