/* runtime/registry.c - registered names: atom -> pid.
 *
 * One open-addressed table under a mutex.  Names change rarely and a send
 * by name holds the lock for one probe, so a lock is simpler than a
 * lock-free map and fast enough; the hot path (send to a pid) never comes
 * here.  A process records its own name, so its exit removes it. */
#include <pthread.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/ptable.h"
#include "runtime/sched.h"
#include "runtime/util.h"

struct entry {
    hv_term name; /* HV_NONE: empty; TOMB: deleted */
    hv_term pid;
};

#define TOMB ((hv_term)1)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static size_t cap, used, live; /* used counts tombstones too */

static size_t
slot_of(hv_term name)
{
    return (size_t)((name * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

int
hv__registry_init(void)
{
    pthread_mutex_lock(&lock);
    table = NULL;
    cap = used = live = 0;
    pthread_mutex_unlock(&lock);
    return HV_OK;
}

void
hv__registry_fini(void)
{
    pthread_mutex_lock(&lock);
    hv__free(table, cap * sizeof *table);
    table = NULL;
    cap = used = live = 0;
    pthread_mutex_unlock(&lock);
}

/* The entry for name, or NULL.  Lock held. */
static struct entry *
find(hv_term name)
{
    if (cap == 0)
        return NULL;
    for (size_t i = slot_of(name);; i = (i + 1) & (cap - 1)) {
        if (table[i].name == name)
            return &table[i];
        if (table[i].name == HV_NONE)
            return NULL;
    }
}

/* Makes room for one more.  Lock held.  False when memory is out. */
static bool
reserve(void)
{
    if ((used + 1) * 2 <= cap)
        return true;
    size_t ncap = cap == 0 ? 16 : (live + 1) * 4 > cap ? cap * 2 : cap;
    struct entry *n = hv__alloc(ncap * sizeof *n);
    if (n == NULL)
        return false;
    memset(n, 0, ncap * sizeof *n);
    struct entry *old = table;
    size_t ocap = cap;
    table = n;
    cap = ncap;
    used = live;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].name == HV_NONE || old[i].name == TOMB)
            continue;
        size_t j = slot_of(old[i].name);
        while (table[j].name != HV_NONE)
            j = (j + 1) & (cap - 1);
        table[j] = old[i];
    }
    hv__free(old, ocap * sizeof *old);
    return true;
}

static int
bad(hv_error *err, int code, hv_term name, const char *why)
{
    size_t len = 0;
    const char *s = hv_atom_name(name, &len);
    return hv__error_set(err, code, 0, 0, 0,
                         "hv_register: cannot register '%.*s': %s", (int)len,
                         s, why);
}

int
hv_register(hv_term name, hv_term pid, hv_error *err)
{
    if (!hv_is_atom(name) || name == HV_ATOM_UNDEFINED)
        return hv__error_set(err, HV_EBADARG, 0, 0, 0,
                             "hv_register: the name must be an atom other "
                             "than 'undefined'");
    if (hv_type_of(pid) != HV_TYPE_PID)
        return bad(err, HV_EBADARG, name, "the second argument is no pid");
    if (!hv__api_enter())
        return hv__error_set(err, HV_EBADARG, 0, 0, 0,
                             "hv_register: the runtime is not running");
    struct hv__proc *p = hv__ptable_pin(pid);
    if (p == NULL) {
        hv__api_leave();
        return bad(err, HV_ENOPROC, name, "the pid is not a live process");
    }
    int rc = HV_OK;
    pthread_mutex_lock(&lock);
    if (find(name) != NULL) {
        rc = bad(err, HV_EBADARG, name, "the name is already registered");
    } else if (atomic_load_explicit(&p->name, memory_order_relaxed) !=
               HV_NONE) {
        rc = bad(err, HV_EBADARG, name, "the process already has a name");
    } else if (!reserve()) {
        rc = hv__error_set(err, HV_ENOMEM, 0, 0, 0,
                           "hv_register: out of memory");
    } else {
        size_t i = slot_of(name);
        while (table[i].name != HV_NONE && table[i].name != TOMB)
            i = (i + 1) & (cap - 1);
        if (table[i].name == HV_NONE)
            used++;
        table[i].name = name;
        table[i].pid = pid;
        live++;
        atomic_store_explicit(&p->name, name, memory_order_relaxed);
    }
    pthread_mutex_unlock(&lock);
    hv__ptable_unpin(p);
    hv__api_leave();
    return rc;
}

/* Removes e (lock held); clears its process's name when still alive. */
static void
remove_entry(struct entry *e, struct hv__proc *owner)
{
    if (owner != NULL)
        atomic_store_explicit(&owner->name, HV_NONE, memory_order_relaxed);
    e->name = TOMB;
    e->pid = HV_NONE;
    live--;
}

int
hv_unregister(hv_term name)
{
    if (!hv_is_atom(name) || !hv__api_enter())
        return HV_EBADARG;
    int rc = HV_EBADARG;
    pthread_mutex_lock(&lock);
    struct entry *e = find(name);
    if (e != NULL) {
        /* The owner may be exiting; its reaper then finds no entry. */
        struct hv__proc *p = hv__ptable_pin(e->pid);
        remove_entry(e, p);
        if (p != NULL)
            hv__ptable_unpin(p);
        rc = HV_OK;
    }
    pthread_mutex_unlock(&lock);
    hv__api_leave();
    return rc;
}

hv_term
hv_whereis(hv_term name)
{
    if (!hv_is_atom(name))
        return HV_NONE;
    pthread_mutex_lock(&lock);
    struct entry *e = find(name);
    hv_term pid = e != NULL ? e->pid : HV_NONE;
    pthread_mutex_unlock(&lock);
    return pid;
}

void
hv__registry_drop(struct hv__proc *p)
{
    hv_term name = atomic_load_explicit(&p->name, memory_order_relaxed);
    if (name == HV_NONE)
        return;
    pthread_mutex_lock(&lock);
    struct entry *e = find(name);
    if (e != NULL && e->pid == p->pid)
        remove_entry(e, NULL);
    atomic_store_explicit(&p->name, HV_NONE, memory_order_relaxed);
    pthread_mutex_unlock(&lock);
}
