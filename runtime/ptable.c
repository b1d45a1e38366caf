/* runtime/ptable.c - the process table; the protocol is in ptable.h. */
#include "runtime/ptable.h"

#include <stdatomic.h>
#include <sys/mman.h>

#include "runtime/sched.h"
#include "runtime/term_box.h"
#include "runtime/util.h"

#define ALIVE ((uint64_t)1 << 31)
#define PINS ((uint64_t)ALIVE - 1)
#define SERIAL_MASK (((uint64_t)1 << HV__PID_SERIAL_BITS) - 1)

struct slot {
    _Atomic uint64_t word;
    _Atomic(struct hv__proc *) proc;
    _Atomic uint32_t next_free; /* number + 1 of the next free slot */
    _Atomic uint32_t home;      /* home scheduler index + 1; 0: none */
};

static struct slot *slots;
static size_t capacity;
static size_t map_bytes;
static _Atomic size_t fresh; /* numbers below this have been used */
static _Atomic uint64_t free_top; /* tag << 32 | (number + 1); 0: empty */
static _Atomic size_t live;

int
hv__ptable_init(size_t cap)
{
    if (cap == 0 || cap > ((size_t)1 << 28))
        return HV_EBADARG;
    /* An anonymous mapping is zeroed lazily: a million slots cost address
     * space until used. */
    map_bytes = cap * sizeof *slots;
    void *m = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return HV_ENOMEM;
    slots = m;
    capacity = cap;
    atomic_store(&fresh, 0);
    atomic_store(&free_top, 0);
    atomic_store(&live, 0);
    return HV_OK;
}

void
hv__ptable_fini(void)
{
    if (slots != NULL)
        munmap(slots, map_bytes);
    slots = NULL;
    capacity = 0;
    atomic_store(&fresh, 0);
    atomic_store(&live, 0);
}

static bool
pop_free(uint32_t *number)
{
    uint64_t top = atomic_load_explicit(&free_top, memory_order_acquire);
    for (;;) {
        uint32_t n1 = (uint32_t)top;
        if (n1 == 0)
            return false;
        uint32_t next = atomic_load_explicit(&slots[n1 - 1].next_free,
                                             memory_order_relaxed);
        uint64_t tag = (top >> 32) + 1;
        if (atomic_compare_exchange_weak_explicit(
                &free_top, &top, tag << 32 | next, memory_order_acquire,
                memory_order_acquire)) {
            *number = n1 - 1;
            return true;
        }
    }
}

int
hv__ptable_insert(struct hv__proc *p)
{
    uint32_t n;
    if (!pop_free(&n)) {
        size_t f = atomic_load_explicit(&fresh, memory_order_relaxed);
        do {
            if (f >= capacity)
                return HV_ELIMIT;
        } while (!atomic_compare_exchange_weak_explicit(
            &fresh, &f, f + 1, memory_order_relaxed, memory_order_relaxed));
        n = (uint32_t)f;
    }
    struct slot *s = &slots[n];
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    uint32_t serial = (uint32_t)((w >> 32) & SERIAL_MASK);
    p->number = n;
    p->pid = hv_pid_local(n, serial);
    atomic_store_explicit(&s->proc, p, memory_order_relaxed);
    atomic_store_explicit(&s->home,
                          (p->kind == K_COPY || p->kind == K_DEDICATED)
                              ? p->home->index + 1
                              : 0,
                          memory_order_relaxed);
    /* Release: a sender that pins sees the record initialised. */
    atomic_store_explicit(&s->word, (uint64_t)serial << 32 | ALIVE,
                          memory_order_release);
    atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return HV_OK;
}

void
hv__ptable_kill(struct hv__proc *p)
{
    struct slot *s = &slots[p->number];
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    while (w & ALIVE) {
        if (atomic_compare_exchange_weak_explicit(&s->word, &w, w & ~ALIVE,
                                                  memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
            break;
        }
    }
    /* Pins are held for a push and a wake: spin them out. */
    while (atomic_load_explicit(&s->word, memory_order_acquire) & PINS)
        hv__cpu_relax();
}

void
hv__ptable_release_number(struct hv__proc *p)
{
    struct slot *s = &slots[p->number];
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    uint64_t serial = ((w >> 32) + 1) & SERIAL_MASK;
    atomic_store_explicit(&s->proc, NULL, memory_order_relaxed);
    atomic_store_explicit(&s->word, serial << 32, memory_order_relaxed);
    uint64_t top = atomic_load_explicit(&free_top, memory_order_relaxed);
    do {
        atomic_store_explicit(&s->next_free, (uint32_t)top,
                              memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(
        &free_top, &top, (((top >> 32) + 1) << 32) | (p->number + 1),
        memory_order_release, memory_order_relaxed));
}

struct hv__proc *
hv__ptable_pin(hv_term pid)
{
    if (hv__imm_tag(pid) != HV__TAG_PID || slots == NULL)
        return NULL;
    uint64_t v = hv__imm_payload(pid);
    uint32_t n = (uint32_t)v;
    uint64_t serial = v >> 32;
    if (n >= capacity)
        return NULL;
    struct slot *s = &slots[n];
    /* Acquire on every path: a caller that finds the process dead may
     * free what it used, so its end must happen before that. */
    uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
    do {
        if ((w >> 32) != serial || !(w & ALIVE))
            return NULL;
    } while (!atomic_compare_exchange_weak_explicit(
        &s->word, &w, w + 1, memory_order_acquire, memory_order_acquire));
    return atomic_load_explicit(&s->proc, memory_order_relaxed);
}

void
hv__ptable_set_home(struct hv__proc *p, unsigned sched_index)
{
    atomic_store_explicit(&slots[p->number].home, sched_index + 1,
                          memory_order_relaxed);
}

unsigned
hv__ptable_home(struct hv__proc *p)
{
    uint32_t h = atomic_load_explicit(&slots[p->number].home,
                                      memory_order_relaxed);
    return h > 0 ? h - 1 : 0;
}

struct hv__proc *
hv__ptable_local(hv_term pid, unsigned sched_index)
{
    if (hv__imm_tag(pid) != HV__TAG_PID)
        return NULL;
    uint64_t v = hv__imm_payload(pid);
    uint32_t n = (uint32_t)v;
    if (n >= capacity)
        return NULL;
    struct slot *s = &slots[n];
    uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
    if ((w >> 32) != (v >> 32) || !(w & ALIVE) ||
        atomic_load_explicit(&s->home, memory_order_relaxed) !=
            sched_index + 1)
        return NULL;
    return atomic_load_explicit(&s->proc, memory_order_relaxed);
}

void
hv__ptable_unpin(struct hv__proc *p)
{
    atomic_fetch_sub_explicit(&slots[p->number].word, 1,
                              memory_order_release);
}

size_t
hv__ptable_count(void)
{
    return atomic_load_explicit(&live, memory_order_relaxed);
}

size_t
hv__ptable_capacity(void)
{
    return capacity;
}

void
hv__ptable_each(void (*fn)(struct hv__proc *p, void *ctx), void *ctx)
{
    if (slots == NULL)
        return;
    size_t f = atomic_load_explicit(&fresh, memory_order_acquire);
    for (size_t n = 0; n < f; n++) {
        uint64_t w = atomic_load_explicit(&slots[n].word,
                                          memory_order_relaxed);
        if (!(w & ALIVE))
            continue;
        struct hv__proc *p = hv__ptable_pin(
            hv_pid_local((uint32_t)n, (uint32_t)(w >> 32)));
        if (p == NULL)
            continue;
        fn(p, ctx);
        hv__ptable_unpin(p);
    }
}

void
hv__ptable_drain(void (*fn)(struct hv__proc *p, void *ctx), void *ctx)
{
    size_t f = atomic_load_explicit(&fresh, memory_order_acquire);
    for (size_t n = 0; n < f; n++) {
        uint64_t w = atomic_load_explicit(&slots[n].word,
                                          memory_order_relaxed);
        if (w & ALIVE)
            fn(atomic_load_explicit(&slots[n].proc, memory_order_relaxed),
               ctx);
    }
}
