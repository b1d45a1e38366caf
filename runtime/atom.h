/* runtime/atom.h - the global atom table, internal side.  Lookups by name
 * are lock-free (open addressing over an atomically published table);
 * inserts take a mutex and grow the table by publishing a new one, with
 * old tables kept until exit so late readers stay safe.  Index to name is
 * lock-free through a fixed directory of chunks. */
#ifndef HV_RUNTIME_ATOM_H
#define HV_RUNTIME_ATOM_H

#include <stddef.h>
#include <stdint.h>

#include "hive/term.h"

struct hv__atom_entry {
    uint64_t hash; /* of the name; stable across runs */
    uint32_t len;
    char name[]; /* NUL-terminated */
};

/* The entry of an atom term (no checks: t must be an atom). */
const struct hv__atom_entry *hv__atom_entry(hv_term t);
/* Orders atoms by name, as Erlang does (UTF-8 byte order equals code
 * point order).  Returns -1, 0 or 1. */
int hv__atom_compare(hv_term a, hv_term b);
/* The stable hash of a byte string, used for atom names and binaries. */
uint64_t hv__hash_bytes(const void *p, size_t len, uint64_t seed);
/* Whether name needs quotes to print as an atom: 'EXIT', 'hello world'. */
int hv__atom_needs_quotes(const char *name, size_t len);

#endif /* HV_RUNTIME_ATOM_H */
