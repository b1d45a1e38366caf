/* runtime/term_walk.c - the explicit stack behind iterative term walks. */
#include "runtime/term_walk.h"

#include <stdlib.h>
#include <string.h>

void
hv__walk_init(struct hv__walk *w, size_t item_size)
{
    w->items = w->inline_items;
    w->item_size = item_size;
    w->len = 0;
    w->cap = HV__WALK_INLINE / item_size;
}

void
hv__walk_fini(struct hv__walk *w)
{
    /* Growth uses malloc, not hv__alloc: the stack lives only during one
     * call, and fault injection must not make freeing a term fail. */
    if (w->items != w->inline_items)
        free(w->items);
    w->items = w->inline_items;
    w->len = 0;
}

void *
hv__walk_push(struct hv__walk *w)
{
    if (w->len == w->cap) {
        size_t cap = w->cap * 2;
        uint8_t *p;
        if (w->items == w->inline_items) {
            p = malloc(cap * w->item_size);
            if (p != NULL)
                memcpy(p, w->items, w->len * w->item_size);
        } else {
            p = realloc(w->items, cap * w->item_size);
        }
        if (p == NULL)
            return NULL;
        w->items = p;
        w->cap = cap;
    }
    return w->items + w->len++ * w->item_size;
}
