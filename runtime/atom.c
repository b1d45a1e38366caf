/* runtime/atom.c - the global atom table.
 *
 * Atoms live for the life of the program, as in Erlang, so their memory
 * comes from malloc directly (not hv__alloc: the tests' leak accounting
 * must not see an interned atom as a leak) and is never freed: a thread
 * still running at exit may read any atom, and every block stays
 * reachable from the statics here, so leak checkers stay quiet.
 *
 * Name to index: an open-addressing table of uint32 slots (index + 1, 0 is
 * empty).  Readers load the current table with acquire and probe without
 * a lock; a miss may only mean the atom was added to a newer table, so it
 * is retried under the mutex before inserting.  Growth publishes a new
 * table with release and keeps the old one on a retired list for good,
 * so a reader still probing it never touches freed memory.
 *
 * Index to name: a fixed directory of chunk pointers; entries are
 * published before the slot that names them, so anyone holding an atom
 * term can read its entry with acquire loads and no lock. */
#include "runtime/atom.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/term_box.h"
#include "runtime/util.h"

#define CHUNK_BITS 12
#define CHUNK_SIZE ((size_t)1 << CHUNK_BITS)
#define HARD_MAX_ATOMS ((size_t)64 << 20)
#define DIR_SIZE (HARD_MAX_ATOMS / CHUNK_SIZE)
#define DEFAULT_LIMIT ((size_t)1 << 20)
#define FIRST_TABLE_SLOTS 1024

struct table {
    struct table *retired_next;
    size_t mask;
    _Atomic uint32_t slot[];
};

typedef _Atomic(struct hv__atom_entry *) entry_ptr;

static entry_ptr *_Atomic directory[DIR_SIZE];
static struct table *_Atomic current;
static struct table *retired;
static pthread_mutex_t insert_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic size_t count;
static _Atomic size_t limit = DEFAULT_LIMIT;

/* The atoms every program has, at the indexes term.h promises. */
static const char *const fixed_atoms[] = {
    "false", "true", "ok", "error", "undefined", "nil", "nonode@nohost",
};

static inline uint64_t
load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v); /* stable hashes across architectures */
#endif
    return v;
}

static inline uint64_t
fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t
hv__hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        h ^= fmix64(load64(p));
        h = (h << 31 | h >> 33) * 0x87c37b91114253d5ULL;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < len; i++)
        tail |= (uint64_t)p[i] << (8 * i);
    h ^= fmix64(tail ^ 0x52dce729ULL);
    return fmix64(h);
}

static const struct hv__atom_entry *
entry_at(uint32_t index)
{
    entry_ptr *chunk = atomic_load_explicit(&directory[index >> CHUNK_BITS],
                                            memory_order_acquire);
    return atomic_load_explicit(&chunk[index & (CHUNK_SIZE - 1)],
                                memory_order_acquire);
}

const struct hv__atom_entry *
hv__atom_entry(hv_term t)
{
    return entry_at(hv__atom_index(t));
}

static bool
entry_is(const struct hv__atom_entry *e, const char *name, size_t len,
         uint64_t hash)
{
    return e->hash == hash && e->len == len && memcmp(e->name, name, len) == 0;
}

/* Index + 1 of the atom in tab, or 0. */
static uint32_t
probe(const struct table *tab, const char *name, size_t len, uint64_t hash)
{
    if (tab == NULL) /* before the first atom */
        return 0;
    for (size_t i = hash & tab->mask;; i = (i + 1) & tab->mask) {
        uint32_t s = atomic_load_explicit(&tab->slot[i], memory_order_acquire);
        if (s == 0)
            return 0;
        if (entry_is(entry_at(s - 1), name, len, hash))
            return s;
    }
}

static void
place(struct table *tab, uint64_t hash, uint32_t slot_value)
{
    size_t i = hash & tab->mask;
    while (atomic_load_explicit(&tab->slot[i], memory_order_relaxed) != 0)
        i = (i + 1) & tab->mask;
    /* release: the entry is visible before the slot that names it */
    atomic_store_explicit(&tab->slot[i], slot_value, memory_order_release);
}

static struct table *
table_new(size_t slots)
{
    struct table *tab =
        calloc(1, sizeof *tab + slots * sizeof(_Atomic uint32_t));
    if (tab != NULL)
        tab->mask = slots - 1;
    return tab;
}

/* Doubles the table once it is half full.  Caller holds insert_lock. */
static int
grow_if_needed(size_t n)
{
    struct table *old = atomic_load_explicit(&current, memory_order_relaxed);
    if (old != NULL && (n + 1) * 2 <= old->mask + 1)
        return HV_OK;
    size_t slots = old ? (old->mask + 1) * 2 : FIRST_TABLE_SLOTS;
    struct table *tab = table_new(slots);
    if (tab == NULL)
        return HV_ENOMEM;
    for (size_t i = 0; i < n; i++)
        place(tab, entry_at((uint32_t)i)->hash, (uint32_t)i + 1);
    atomic_store_explicit(&current, tab, memory_order_release);
    if (old != NULL) {
        old->retired_next = retired;
        retired = old;
    }
    return HV_OK;
}

/* Adds a new atom.  Caller holds insert_lock and has checked it is new. */
static int
insert(const char *name, size_t len, uint64_t hash, uint32_t *index)
{
    size_t n = atomic_load_explicit(&count, memory_order_relaxed);
    if (n >= atomic_load_explicit(&limit, memory_order_relaxed))
        return HV_ELIMIT;
    int rc = grow_if_needed(n);
    if (rc != HV_OK)
        return rc;
    size_t dir = n >> CHUNK_BITS;
    entry_ptr *chunk = atomic_load_explicit(&directory[dir],
                                            memory_order_relaxed);
    if (chunk == NULL) {
        chunk = calloc(CHUNK_SIZE, sizeof *chunk);
        if (chunk == NULL)
            return HV_ENOMEM;
        atomic_store_explicit(&directory[dir], chunk, memory_order_release);
    }
    struct hv__atom_entry *e = malloc(sizeof *e + len + 1);
    if (e == NULL)
        return HV_ENOMEM;
    e->hash = hash;
    e->len = (uint32_t)len;
    memcpy(e->name, name, len);
    e->name[len] = 0;
    atomic_store_explicit(&chunk[n & (CHUNK_SIZE - 1)], e,
                          memory_order_release);
    place(atomic_load_explicit(&current, memory_order_relaxed), hash,
          (uint32_t)n + 1);
    atomic_store_explicit(&count, n + 1, memory_order_release);
    *index = (uint32_t)n;
    return HV_OK;
}

/* Length of the valid UTF-8 sequence starting at p, 0 if invalid. */
static size_t
utf8_seq(const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    else if ((c & 0xe0) == 0xc0)
        n = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        n = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static bool
valid_utf8(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

hv_term
hv_atom_n(const char *name, size_t len, hv_error *err)
{
    if (name == NULL && len != 0) {
        hv__error_set(err, HV_EBADARG, 0, 0, 0, "atom name is NULL");
        return HV_NONE;
    }
    if (name == NULL)
        name = ""; /* memcmp and memcpy want a pointer even for 0 bytes */
    if (len > HV_MAX_ATOM_BYTES) {
        hv__error_set(err, HV_EBADARG, 0, 0, 0,
                      "atom name of %zu bytes is longer than %d", len,
                      HV_MAX_ATOM_BYTES);
        return HV_NONE;
    }
    uint64_t hash = hv__hash_bytes(name, len, 0);
    uint32_t s = probe(atomic_load_explicit(&current, memory_order_acquire),
                       name, len, hash);
    if (s != 0)
        return HV__ATOM(s - 1);
    if (!valid_utf8(name, len)) {
        hv__error_set(err, HV_EBADARG, 0, 0, 0,
                      "atom name is not valid UTF-8");
        return HV_NONE;
    }
    pthread_mutex_lock(&insert_lock);
    uint32_t index;
    int rc = HV_OK;
    s = probe(atomic_load_explicit(&current, memory_order_relaxed), name, len,
              hash);
    if (s != 0)
        index = s - 1;
    else
        rc = insert(name, len, hash, &index);
    pthread_mutex_unlock(&insert_lock);
    if (rc == HV_ELIMIT) {
        hv__error_set(err, rc, 0, 0, 0,
                      "atom table is full (%zu atoms); cannot add '%.*s'",
                      hv_atom_limit(), (int)hv__min_size(len, 64), name);
        return HV_NONE;
    }
    if (rc != HV_OK) {
        hv__error_set(err, rc, 0, 0, 0, "no memory for atom");
        return HV_NONE;
    }
    return HV__ATOM(index);
}

hv_term
hv_atom(const char *name)
{
    if (name == NULL)
        return HV_NONE;
    return hv_atom_n(name, strlen(name), NULL);
}

hv_term
hv_atom_existing(const char *name, size_t len)
{
    if ((name == NULL && len != 0) || len > HV_MAX_ATOM_BYTES)
        return HV_NONE;
    if (name == NULL)
        name = "";
    uint64_t hash = hv__hash_bytes(name, len, 0);
    uint32_t s = probe(atomic_load_explicit(&current, memory_order_acquire),
                       name, len, hash);
    if (s == 0) {
        /* The atom may sit only in a newer table than the one we read. */
        pthread_mutex_lock(&insert_lock);
        s = probe(atomic_load_explicit(&current, memory_order_relaxed), name,
                  len, hash);
        pthread_mutex_unlock(&insert_lock);
    }
    return s ? HV__ATOM(s - 1) : HV_NONE;
}

const char *
hv_atom_name(hv_term t, size_t *len)
{
    if (!hv_is_atom(t))
        return NULL;
    const struct hv__atom_entry *e = hv__atom_entry(t);
    if (len != NULL)
        *len = e->len;
    return e->name;
}

size_t
hv_atom_count(void)
{
    return atomic_load_explicit(&count, memory_order_acquire);
}

size_t
hv_atom_limit(void)
{
    return atomic_load_explicit(&limit, memory_order_relaxed);
}

int
hv_atom_limit_set(size_t max_atoms)
{
    pthread_mutex_lock(&insert_lock);
    int rc = HV_OK;
    if (max_atoms < atomic_load_explicit(&count, memory_order_relaxed) ||
        max_atoms > HARD_MAX_ATOMS)
        rc = HV_EBADARG;
    else
        atomic_store_explicit(&limit, max_atoms, memory_order_relaxed);
    pthread_mutex_unlock(&insert_lock);
    return rc;
}

int
hv__atom_compare(hv_term a, hv_term b)
{
    if (a == b)
        return 0;
    const struct hv__atom_entry *ea = hv__atom_entry(a);
    const struct hv__atom_entry *eb = hv__atom_entry(b);
    int c = memcmp(ea->name, eb->name, hv__min_size(ea->len, eb->len));
    if (c != 0)
        return c < 0 ? -1 : 1;
    return ea->len < eb->len ? -1 : 1;
}

int
hv__atom_needs_quotes(const char *name, size_t len)
{
    static const char *const reserved[] = {
        "after", "and",  "andalso", "band",    "begin", "bnot", "bor",
        "bsl",   "bsr",  "bxor",    "case",    "catch", "cond", "div",
        "else",  "end",  "fun",     "if",      "let",   "maybe", "not",
        "of",    "or",   "orelse",  "receive", "rem",   "try",  "when",
        "xor",
    };
    if (len == 0 || !(name[0] >= 'a' && name[0] <= 'z'))
        return 1;
    for (size_t i = 1; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '@'))
            return 1;
    }
    for (size_t i = 0; i < HV_ARRAY_LEN(reserved); i++)
        if (strlen(reserved[i]) == len && memcmp(reserved[i], name, len) == 0)
            return 1;
    return 0;
}

__attribute__((constructor)) static void
atom_table_init(void)
{
    for (size_t i = 0; i < HV_ARRAY_LEN(fixed_atoms); i++) {
        hv_term a = hv_atom(fixed_atoms[i]);
        if (a != HV__ATOM(i))
            hv__panic("atom table: cannot create the fixed atom %s",
                      fixed_atoms[i]);
    }
}
