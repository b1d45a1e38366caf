/* hive/term.h - terms: build, inspect, compare, hash, print, parse, msgpack.
 *
 * A term is one 64-bit word.  Small integers, atoms, local pids, local
 * refs and [] are immediates; tuples, lists, binaries, maps, floats, large
 * integers and remote pids/refs are immutable boxes with an atomic
 * reference count, so sending a term is O(1) and never copies.
 *
 * Ownership words used below:
 *   new       the caller receives one reference and must hv_release it;
 *   borrowed  valid while the term it came from is held;
 *   consumes  the function takes the caller's reference on every path,
 *             including errors (so nested constructors cannot leak).
 *
 * Builders return HV_NONE on failure.  Those that can fail for more than
 * memory take a trailing hv_error *err (may be NULL).  Every function here
 * may be called from any thread. */
#ifndef HV_TERM_H
#define HV_TERM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t hv_term;

/* The non-value: returned by failing builders, never a valid term. */
#define HV_NONE ((hv_term)0)
/* The empty list []. */
#define HV_NIL ((hv_term)0x0e)

/* Atoms that always exist, usable as constants. */
#define HV__ATOM(index) ((hv_term)(((uint64_t)(index) << 4) | 0x2))
#define HV_ATOM_FALSE HV__ATOM(0)
#define HV_ATOM_TRUE HV__ATOM(1)
#define HV_ATOM_OK HV__ATOM(2)
#define HV_ATOM_ERROR HV__ATOM(3)
#define HV_ATOM_UNDEFINED HV__ATOM(4)
#define HV_ATOM_NIL HV__ATOM(5)
#define HV_ATOM_NONODE HV__ATOM(6) /* 'nonode@nohost', the local node */

/* Integers that fit in 63 bits are immediates; the rest of int64 is boxed
 * transparently.  Arithmetic past 64 bits is HV_EOVERFLOW, never wraps. */
#define HV_SMALL_MIN (-((int64_t)1 << 62))
#define HV_SMALL_MAX (((int64_t)1 << 62) - 1)

typedef enum hv_type {
    HV_TYPE_NONE = 0, /* HV_NONE */
    HV_TYPE_INTEGER,
    HV_TYPE_FLOAT,
    HV_TYPE_ATOM,
    HV_TYPE_REF,
    HV_TYPE_PID,
    HV_TYPE_TUPLE,
    HV_TYPE_MAP,
    HV_TYPE_NIL,
    HV_TYPE_LIST, /* a cons cell: non-empty, proper or improper */
    HV_TYPE_BINARY
} hv_type;

/* Limits applied to outside input (hv_parse_n, hv_unpack_n, unpackers).
 * Zero in a field means its default. */
typedef struct hv_limits {
    unsigned max_depth; /* nesting of containers; default 256 */
    size_t max_count;   /* elements of one tuple/list/map; default 1<<24 */
    size_t max_bytes;   /* bytes of one term's input; default 64 MiB */
} hv_limits;

#define HV_DEFAULT_MAX_DEPTH 256u
#define HV_DEFAULT_MAX_COUNT ((size_t)1 << 24)
#define HV_DEFAULT_MAX_BYTES ((size_t)64 << 20)
#define HV_MAX_TUPLE_ARITY ((size_t)1 << 24) /* as Erlang: 16,777,215 */
#define HV_MAX_ATOM_BYTES 255

/* A growable byte buffer, filled by hv_print and hv_pack.  Start it as
 * HV_BUF_INIT (or zeroed); the functions append.  data is NUL-terminated
 * after hv_print. */
typedef struct hv_buf {
    uint8_t *data;
    size_t len, cap;
} hv_buf;
#define HV_BUF_INIT {NULL, 0, 0}
HV_API void hv_buf_free(hv_buf *buf);

/* ---- reference counting ---- */

/* Returns t with one more reference.  No-op on immediates, on HV_NONE and
 * on immortal constants. */
HV_API hv_term hv_retain(hv_term t);
/* Drops one reference; frees the term (iteratively) at zero. */
HV_API void hv_release(hv_term t);

/* ---- type ---- */

HV_API hv_type hv_type_of(hv_term t);
HV_API bool hv_is_integer(hv_term t);
HV_API bool hv_is_float(hv_term t);
HV_API bool hv_is_number(hv_term t);
HV_API bool hv_is_atom(hv_term t);
HV_API bool hv_is_ref(hv_term t);
HV_API bool hv_is_pid(hv_term t);
HV_API bool hv_is_tuple(hv_term t);
HV_API bool hv_is_map(hv_term t);
HV_API bool hv_is_binary(hv_term t);
HV_API bool hv_is_list(hv_term t); /* [] or a cons cell, as is_list/1 */
HV_API bool hv_is_cons(hv_term t); /* a non-empty list */
HV_API bool hv_is_boolean(hv_term t);

/* ---- numbers ---- */

/* New integer.  Fails only on allocation (values outside 63 bits box). */
HV_API hv_term hv_int(int64_t v);
/* New float.  HV_NONE for NaN or infinities (Erlang has neither) or on
 * allocation failure. */
HV_API hv_term hv_float(double v);
/* Writes the value to *out.  HV_EBADARG if t is no integer (or float). */
HV_API int hv_int_value(hv_term t, int64_t *out);
HV_API int hv_float_value(hv_term t, double *out);

/* ---- atoms ---- */

/* The atom named by the NUL-terminated UTF-8 name, created if new.
 * HV_NONE if the name is longer than HV_MAX_ATOM_BYTES, the atom table is
 * full, or on allocation failure.  Atoms are never freed. */
HV_API hv_term hv_atom(const char *name);
/* The same, for a name of len bytes, with the reason on failure
 * (HV_EBADARG too long or not UTF-8, HV_ELIMIT table full, HV_ENOMEM). */
HV_API hv_term hv_atom_n(const char *name, size_t len, hv_error *err);
/* The atom if it exists already, else HV_NONE (list_to_existing_atom). */
HV_API hv_term hv_atom_existing(const char *name, size_t len);
/* The atom's name, borrowed for the life of the program, and its length
 * in *len (may be NULL).  NULL if t is no atom. */
HV_API const char *hv_atom_name(hv_term t, size_t *len);
/* Number of atoms in the table, and its limit (default 1,048,576). */
HV_API size_t hv_atom_count(void);
HV_API size_t hv_atom_limit(void);
/* Sets the limit.  HV_EBADARG if below the current count or above
 * 64 Mi atoms. */
HV_API int hv_atom_limit_set(size_t max_atoms);

/* ---- binaries ---- */

/* New binary holding a copy of len bytes (data may be NULL if len is 0). */
HV_API hv_term hv_binary(const void *data, size_t len);
/* New binary of a NUL-terminated string, without the NUL. */
HV_API hv_term hv_string(const char *s);
/* New binary of len bytes left for the caller to fill through *data
 * before the term is shared with anyone. */
HV_API hv_term hv_binary_alloc(size_t len, uint8_t **data);
/* The bytes, borrowed, with their count in *len.  NULL if t is no binary
 * (an empty binary gives a non-NULL pointer and *len 0). */
HV_API const uint8_t *hv_binary_data(hv_term t, size_t *len);
/* Byte count, or HV_EBADARG. */
HV_API int64_t hv_binary_size(hv_term t);

/* ---- tuples ---- */

/* New tuple of n elements.  Consumes the elements.  HV_NONE if any is
 * HV_NONE, n > HV_MAX_TUPLE_ARITY, or on allocation failure. */
HV_API hv_term hv_tuple(size_t n, ...);
HV_API hv_term hv_tuple_v(size_t n, const hv_term *elems);
/* Arity, or HV_EBADARG if t is no tuple. */
HV_API int64_t hv_tuple_size(hv_term t);
/* Element i (0-based), borrowed.  HV_NONE if t is no tuple or i is out of
 * range. */
HV_API hv_term hv_tuple_at(hv_term t, size_t i);

/* ---- lists ---- */

/* New cons cell [head | tail].  Consumes both. */
HV_API hv_term hv_cons(hv_term head, hv_term tail);
/* New proper list of n elements.  Consumes the elements. */
HV_API hv_term hv_list(size_t n, ...);
HV_API hv_term hv_list_v(size_t n, const hv_term *elems);
/* Head and tail of a cons cell, borrowed; HV_NONE for anything else. */
HV_API hv_term hv_list_head(hv_term t);
HV_API hv_term hv_list_tail(hv_term t);
/* Length of a proper list, HV_EBADARG for an improper list or a non-list. */
HV_API int64_t hv_list_length(hv_term t);

/* ---- maps ----
 * A map is a sorted array of keys in map key order (hv_compare_exact:
 * all integers before all floats) with its values: lookup is a binary search, O(log n);
 * hv_map_put and hv_map_remove copy, O(n).  Keys match by =:=. */

/* The empty map #{} (an immortal constant). */
HV_API hv_term hv_map_new(void);
/* New map of n pairs.  Consumes keys and values; a repeated key keeps the
 * last value, as #{a => 1, a => 2} does. */
HV_API hv_term hv_map_from(size_t n, const hv_term *keys, const hv_term *vals);
/* New map: map with key set to val.  Consumes map, key and val. */
HV_API hv_term hv_map_put(hv_term map, hv_term key, hv_term val);
/* New map without key (map itself when absent).  Consumes map; borrows
 * key. */
HV_API hv_term hv_map_remove(hv_term map, hv_term key);
/* The value under key, borrowed, or HV_NONE when absent or map is no map. */
HV_API hv_term hv_map_get(hv_term map, hv_term key);
/* Pair count, or HV_EBADARG. */
HV_API int64_t hv_map_size(hv_term map);
/* The i-th key and value in key order, borrowed; HV_NONE out of range. */
HV_API hv_term hv_map_key_at(hv_term map, size_t i);
HV_API hv_term hv_map_value_at(hv_term map, size_t i);

/* ---- pids and refs ----
 * A local pid <0.Number.Serial> is an immediate; a pid of another node is
 * boxed with the node's name and creation, ready for distribution.  A
 * local ref is an immediate 60-bit counter; refs with more words or of
 * another node are boxed (up to five 32-bit words, as Erlang's). */

/* The local pid <0.number.serial>; HV_NONE if serial >= 2^28. */
HV_API hv_term hv_pid_local(uint32_t number, uint32_t serial);
/* New pid of node (an atom, borrowed), e.g. 'a@host'.  The local node's
 * atom gives a local pid when creation is 0. */
HV_API hv_term hv_pid_remote(hv_term node, uint32_t number, uint32_t serial,
                             uint32_t creation);
/* Fields of a pid; HV_EBADARG if t is no pid.  node is borrowed. */
HV_API int hv_pid_fields(hv_term t, hv_term *node, uint32_t *number,
                         uint32_t *serial, uint32_t *creation);
/* A fresh local reference, unique in this OS process and larger in term
 * order than every ref made before it. */
HV_API hv_term hv_ref_make(void);
/* New ref of node with nwords (1..5) 32-bit words, words[0] least
 * significant.  Normalized: a local ref that fits 60 bits is immediate. */
HV_API hv_term hv_ref_from(hv_term node, uint32_t creation,
                           const uint32_t *words, size_t nwords);
/* Fields of a ref; words needs room for 5.  Returns the word count, or
 * HV_EBADARG if t is no ref. */
HV_API int hv_ref_fields(hv_term t, hv_term *node, uint32_t *creation,
                         uint32_t *words);

/* ---- order, equality, hash ---- */

/* Erlang's term order, as < and == on terms: number < atom < reference <
 * fun < port < pid < tuple < map < [] < list < bitstring; 1 == 1.0.
 * Returns <0, 0 or >0.  HV_NONE sorts below everything. */
HV_API int hv_compare(hv_term a, hv_term b);
/* Erlang's map key order: the term order, except that every integer
 * sorts before every float (at any depth), so it is 0 only for exactly
 * equal terms (=:=).  Map keys are kept, printed and compared in it. */
HV_API int hv_compare_exact(hv_term a, hv_term b);
/* a =:= b. */
HV_API bool hv_equal(hv_term a, hv_term b);
/* A hash consistent with hv_equal, stable across runs and OS processes
 * (atoms hash by name, never by table index). */
HV_API uint64_t hv_hash(hv_term t);

/* ---- text (Erlang syntax) ----
 * Strings "..." parse as binaries (hive has no char lists in text form); a
 * list of integers prints as a list.  Atoms are quoted when needed. */

/* Appends the text of t to out (NUL-terminated).  HV_OK, HV_EBADARG for
 * HV_NONE, HV_ENOMEM. */
HV_API int hv_print(hv_term t, hv_buf *out);
/* snprintf-style: writes at most size bytes including the NUL and returns
 * the full length of the text, or a negative HV_E* code. */
HV_API int64_t hv_format(hv_term t, char *buf, size_t size);
/* New term from NUL-terminated text; exactly one term, surrounded by
 * optional white space and an optional final '.'.  On failure HV_NONE and
 * *err says where (line, column) and what was expected. */
HV_API hv_term hv_parse(const char *text, hv_error *err);
/* The same for len bytes under limits (NULL for the defaults). */
HV_API hv_term hv_parse_n(const char *text, size_t len, const hv_limits *lim,
                          hv_error *err);
/* New term from a format in Erlang syntax with directives:
 *   ~a  atom from const char *       ~i  integer from int
 *   ~l  integer from int64_t         ~f  float from double
 *   ~s  binary from const char *     ~b  binary from (const void *, size_t)
 *   ~p  pid (an hv_term, borrowed)   ~t  any term (an hv_term, consumed)
 * e.g. hv_make("{deposit, ~p, ~i}", self, 100).  ~t arguments are consumed
 * on every path, with one exception: when the format itself cannot be
 * read (an unterminated string, an unknown directive such as ~q), the
 * types of the arguments after that point are unknown, so ~t arguments
 * after it are not released (reading them would be undefined behaviour).
 * HV_NONE on a malformed format or bad argument. */
HV_API hv_term hv_make(const char *fmt, ...);
/* The same with the reason on failure. */
HV_API hv_term hv_make_e(hv_error *err, const char *fmt, ...);
HV_API hv_term hv_make_v(hv_error *err, const char *fmt, va_list ap);

/* ---- msgpack ----
 * Integers, floats, binaries, lists (arrays), maps and true/false/nil
 * (the atoms true, false and nil) are plain msgpack, so other languages
 * read them.  Ext types carry the rest, so every term round-trips exactly:
 *   1 atom      body: UTF-8 name
 *   2 pid       body: number, serial, creation (u32 BE each), node name
 *   3 ref       body: creation (u32 BE), word count (u8), words (u32 BE,
 *               least significant first), node name
 *   4 tuple     a zero-length ext as element 0 of an array that holds
 *               the tuple's elements after it
 *   5 improper  a zero-length ext as element 0 of an array holding the
 *               list's elements and then its tail
 * A node name is empty for the local node. */

/* Appends the msgpack form of t to out.  HV_OK, HV_EBADARG for HV_NONE,
 * HV_ENOMEM. */
HV_API int hv_pack(hv_term t, hv_buf *out);
/* New term from exactly len bytes holding one msgpack object.  Hostile
 * input is safe: truncated data, lying lengths and counts, too deep
 * nesting and trailing bytes give HV_NONE with *err set (code, offset). */
HV_API hv_term hv_unpack(const void *bytes, size_t len, hv_error *err);
/* New term from the first object in bytes, under limits (NULL: defaults);
 * *used (may be NULL) receives the bytes it took. */
HV_API hv_term hv_unpack_n(const void *bytes, size_t len, size_t *used,
                           const hv_limits *lim, hv_error *err);

/* A streaming decoder: feed it bytes as they arrive (any split), take out
 * whole terms.  Not thread-safe: one owner at a time. */
typedef struct hv_unpacker hv_unpacker;
/* New unpacker, NULL on allocation failure.  lim may be NULL. */
HV_API hv_unpacker *hv_unpacker_new(const hv_limits *lim);
HV_API void hv_unpacker_free(hv_unpacker *u);
/* Copies n bytes in.  HV_OK, HV_ENOMEM, or HV_ELIMIT when the buffered,
 * still incomplete term would pass lim->max_bytes. */
HV_API int hv_unpacker_feed(hv_unpacker *u, const void *bytes, size_t n);
/* 1 and a new term in *out when a whole term is buffered, 0 when more
 * bytes are needed, a negative HV_E* on malformed input.  After an error
 * the stream has lost its framing and every later call fails the same. */
HV_API int hv_unpacker_next(hv_unpacker *u, hv_term *out, hv_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HV_TERM_H */
