/* runtime/pidref.c - pids and references, local (immediate) and remote
 * (boxed, for distribution). */
#include <string.h>

#include "runtime/proc.h"
#include "runtime/term_box.h"
#include "runtime/util.h"

/* Refs count up from 1 so that a ref made later is larger in term order;
 * the receive optimization for fresh refs relies on that. */
static _Atomic uint64_t next_ref = 1;

hv_term
hv_pid_local(uint32_t number, uint32_t serial)
{
    if (serial >> HV__PID_SERIAL_BITS)
        return HV_NONE;
    return hv__imm(HV__TAG_PID, (uint64_t)serial << 32 | number);
}

hv_term
hv_pid_remote(hv_term node, uint32_t number, uint32_t serial,
              uint32_t creation)
{
    if (!hv_is_atom(node))
        return HV_NONE;
    /* Canonical form: whatever fits the immediate is the immediate. */
    if (node == HV_ATOM_NONODE && creation == 0 &&
        (serial >> HV__PID_SERIAL_BITS) == 0)
        return hv_pid_local(number, serial);
    struct hv__xpid *p =
        (struct hv__xpid *)hv__box_alloc(sizeof *p, HV__BOX_PID);
    if (p == NULL)
        return HV_NONE;
    p->node = node;
    p->number = number;
    p->serial = serial;
    p->creation = creation;
    return hv__term_of_box(p);
}

int
hv_pid_fields(hv_term t, hv_term *node, uint32_t *number, uint32_t *serial,
              uint32_t *creation)
{
    hv_term n;
    uint32_t num, ser, cre;
    if (hv__imm_tag(t) == HV__TAG_PID) {
        uint64_t v = hv__imm_payload(t);
        n = HV_ATOM_NONODE;
        num = (uint32_t)v;
        ser = (uint32_t)(v >> 32);
        cre = 0;
    } else if (hv__box_type(t) == HV__BOX_PID) {
        const struct hv__xpid *p = (const struct hv__xpid *)hv__box_of(t);
        n = p->node;
        num = p->number;
        ser = p->serial;
        cre = p->creation;
    } else {
        return HV_EBADARG;
    }
    if (node)
        *node = n;
    if (number)
        *number = num;
    if (serial)
        *serial = ser;
    if (creation)
        *creation = cre;
    return HV_OK;
}

hv_term
hv_ref_make(void)
{
    uint64_t v = atomic_fetch_add_explicit(&next_ref, 1, memory_order_relaxed);
    hv_term ref = hv__imm(HV__TAG_REF, v & HV__IMM_PAYLOAD_MAX);
    /* Erlang's receive mark: nothing queued now can hold the new ref, so
     * a receive for it may start behind what is queued (mailbox.c). */
    struct hv__proc *p = hv__tls_proc;
    if (p != NULL) {
        p->mark_ref = ref;
        p->mark_at = p->lastp;
    }
    return ref;
}

hv_term
hv_ref_from(hv_term node, uint32_t creation, const uint32_t *words,
            size_t nwords)
{
    if (!hv_is_atom(node) || words == NULL || nwords < 1 || nwords > 5)
        return HV_NONE;
    /* Canonical form: no leading zero words, so equal refs are equal
     * terms whatever word count they were written with. */
    while (nwords > 1 && words[nwords - 1] == 0)
        nwords--;
    if (node == HV_ATOM_NONODE && creation == 0 && nwords <= 2 &&
        (nwords == 1 || words[1] >> (HV__IMM_PAYLOAD_BITS - 32) == 0))
        return hv__imm(HV__TAG_REF, (uint64_t)(nwords == 2 ? words[1] : 0)
                                            << 32 |
                                        words[0]);
    struct hv__xref *r =
        (struct hv__xref *)hv__box_alloc(sizeof *r, HV__BOX_REF);
    if (r == NULL)
        return HV_NONE;
    r->node = node;
    r->creation = creation;
    r->nwords = (uint32_t)nwords;
    memset(r->word, 0, sizeof r->word);
    memcpy(r->word, words, nwords * sizeof(uint32_t));
    return hv__term_of_box(r);
}

int
hv_ref_fields(hv_term t, hv_term *node, uint32_t *creation, uint32_t *words)
{
    if (hv__imm_tag(t) == HV__TAG_REF) {
        uint64_t v = hv__imm_payload(t);
        if (node)
            *node = HV_ATOM_NONODE;
        if (creation)
            *creation = 0;
        if (words) {
            words[0] = (uint32_t)v;
            words[1] = (uint32_t)(v >> 32);
        }
        return v >> 32 ? 2 : 1;
    }
    if (hv__box_type(t) != HV__BOX_REF)
        return HV_EBADARG;
    const struct hv__xref *r = (const struct hv__xref *)hv__box_of(t);
    if (node)
        *node = r->node;
    if (creation)
        *creation = r->creation;
    if (words)
        memcpy(words, r->word, r->nwords * sizeof(uint32_t));
    return (int)r->nwords;
}
