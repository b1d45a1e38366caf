/* match/rset.h - the compiled receive set, shared by rset.c (compile,
 * match) and receive.c (the mailbox side). */
#ifndef HV_MATCH_RSET_H
#define HV_MATCH_RSET_H

#include "match/pattern.h"

/* One dispatch entry: the clauses that can match a tuple of `arity`
 * whose element 0 is `tag` (HV_NONE: any other element 0). */
struct hv__dispatch {
    bool used;
    uint32_t arity;
    hv_term tag;
    uint64_t mask; /* bit i: clause i, in clause order */
};

struct hv_rset {
    struct hv__arena arena; /* pin names */
    struct hv__names pins;
    hv_pattern **clauses; /* NULL at the after clause */
    size_t n;
    int after_clause;
    int64_t after_ms;
    uint64_t mask_any, mask_cons, mask_map, mask_other;
    struct hv__dispatch *table;
    size_t tmask;
    /* The index key: element key_elem (-1: none) must be pin key_pin,
     * or the literal key_lit when key_pin < 0. */
    int key_elem;
    int key_pin;
    hv_term key_lit;
    /* A pin every clause's message must hold somewhere (-1: none): the
     * receive may start at the mark when it is the caller's latest ref. */
    int within_pin;
};

/* The first clause matching t, with vars filled, or -1. */
int hv__rset_run(const hv_rset *s, hv_term t, const hv_term *pins,
                 hv_term *vars);
/* Clears b and checks the arguments of a match or receive on s: HV_OK or
 * HV_EBADARG with b->what saying why. */
int hv__rset_check(const hv_rset *s, const hv_pins *pins, hv_bindings *b);

#endif /* HV_MATCH_RSET_H */
