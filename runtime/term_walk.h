/* runtime/term_walk.h - an explicit stack for walking terms without
 * recursion (free, compare, print, pack): a hostile term may be deeper
 * than any process stack.  Items are fixed-size records chosen by the
 * walker; the first HV__WALK_INLINE bytes live in the struct itself, so
 * shallow walks never allocate. */
#ifndef HV_RUNTIME_TERM_WALK_H
#define HV_RUNTIME_TERM_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HV__WALK_INLINE 512

struct hv__walk {
    uint8_t *items;
    size_t item_size, len, cap; /* len and cap in items */
    _Alignas(16) uint8_t inline_items[HV__WALK_INLINE];
};

void hv__walk_init(struct hv__walk *w, size_t item_size);
void hv__walk_fini(struct hv__walk *w);
/* Pointer to a new top item, NULL on allocation failure. */
void *hv__walk_push(struct hv__walk *w);
/* Pointer to the top item, NULL when empty. */
static inline void *
hv__walk_top(struct hv__walk *w)
{
    return w->len ? w->items + (w->len - 1) * w->item_size : NULL;
}
static inline void
hv__walk_pop(struct hv__walk *w)
{
    w->len--;
}
static inline bool
hv__walk_empty(const struct hv__walk *w)
{
    return w->len == 0;
}

#endif /* HV_RUNTIME_TERM_WALK_H */
