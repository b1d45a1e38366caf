/* hive/match.h - patterns, guards, receive sets and selective receive.
 *
 * A pattern is Erlang's, written as text and compiled once:
 *
 *     {withdraw, Amount, From} when is_integer(Amount), Amount > 0
 *
 * Patterns.  Literals of every term type (42, -1.5, ok, 'Quoted', "text"
 * and <<"text">> or <<1,2,3>> as binaries, [], <0.12.3> pids,
 * #Ref<0.1.2.3> refs); variables, which bind on their first occurrence
 * and must be equal (=:=) on every later one (`_Name` is a variable too);
 * `_`, which matches anything; tuples {P, ...}; lists [P, ... | Tail];
 * maps #{Key := P, ...} (keys literal or pinned, the map may hold more);
 * aliases P1 = P2 (both match the same term); and pins ^Name, whose
 * values the caller supplies at match time, so one compiled pattern
 * serves every call.  Matching is exact, as Erlang's: 1 does not match
 * 1.0.
 *
 * Guards, after `when`: guard tests separated by ',' (all must hold) and
 * guard sequences separated by ';' (one must hold).  A guard expression
 * holds when it evaluates to the atom true.  Available:
 *   type tests   is_atom is_integer is_float is_number is_binary is_tuple
 *                is_list is_map is_pid is_reference is_boolean
 *   comparisons  == /= =:= =/= < =< > >= (term order; == compares numbers
 *                by value, =:= exactly)
 *   arithmetic   + - * / div rem band bor bxor bsl bsr bnot, unary -
 *   logic        and or xor not (strict) andalso orelse (short-circuit)
 *   functions    tuple_size length map_size byte_size size element hd tl
 *                is_map_key map_get abs min max self
 *   regex        Bin =~ "regex": true when Bin is a binary and the
 *                regex (pcre2, UTF-8 off, compiled and JIT-compiled with
 *                the pattern) matches somewhere in it.
 * A guard that would raise in Erlang (a wrong type, element/2 out of
 * range, a division by zero, an integer past 64 bits - Erlang would go to
 * bignums there) is simply false; in a guard sequence the next guard is
 * tried.  Guards see the pattern's variables and the pins.
 *
 * Errors.  A malformed pattern or guard, an unknown guard function, a
 * guard variable that the pattern does not bind, a bad regex (pcre2's
 * message and offset) or a pattern with more than HV_MATCH_MAX_VARS
 * variables is rejected at compile time: NULL, with *err holding the
 * code (HV_ESYNTAX; HV_ELIMIT for a limit such as the variable count;
 * HV_EOVERFLOW for an integer literal past 64 bits; HV_EBADARG for an
 * atom longer than 255 bytes or not UTF-8, as hv_atom_n says;
 * HV_ENOMEM), the 1-based line and column,
 * the byte offset and a message naming the offending text and what was
 * expected.  A match or receive whose pins are not all supplied fails
 * with HV_EBADARG and says which pin in hv_bindings.what.
 *
 * Compiled patterns and receive sets are immutable: share them freely
 * between processes and threads (free them once nobody uses them).
 *
 * Receive.  hv_receive(set, pins, timeout, &b) scans the caller's mailbox
 * from the oldest message; the first message that matches any clause
 * (clauses tried in order) is removed and returned with its bindings; all
 * other messages stay, in order.  While it waits it tests only messages
 * that arrived since, never one it already rejected.  Two shortcuts make
 * it faster than Erlang's scan, with the same result:
 *   - When every clause requires the same position of the message (say,
 *     element 1 of a tuple) to equal the same pin or literal (the fresh
 *     ref of an RPC reply, a tag), the receive is answered from an index
 *     of the mailbox by that position: O(1) whatever the mailbox holds.
 *     The index is built once such a receive has had to scan past 32 or
 *     more messages and the mailbox is that long (building costs a few
 *     scans, which pays only for a process that keeps receiving so), and
 *     is kept up to date as messages come and go.
 *   - As in Erlang, when such a pin is a ref made by this process with
 *     hv_ref_make after the messages now queued arrived, the receive
 *     starts after them. */
#ifndef HV_MATCH_H
#define HV_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "hive/error.h"
#include "hive/process.h"
#include "hive/term.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most variables one pattern may bind (`_` does not count). */
#define HV_MATCH_MAX_VARS 32
/* Most clauses in one receive set. */
#define HV_MATCH_MAX_CLAUSES 64
/* hv_receive's timeout argument that means "the set's `after` clause"
 * (or HV_INFINITY when it has none). */
#define HV_AFTER ((int64_t)-2)

typedef struct hv_pattern hv_pattern;
typedef struct hv_rset hv_rset;

/* Values of the pins, in the order the pins first appear in the pattern
 * (in a set: across its clauses, in clause order).  HV_PINS(a, b) makes
 * one in place. */
typedef struct hv_pins {
    size_t n;
    const hv_term *v;
} hv_pins;
#define HV_PINS(...)                                                         \
    (&(const hv_pins){sizeof((const hv_term[]){__VA_ARGS__}) /                \
                          sizeof(hv_term),                                   \
                      (const hv_term[]){__VA_ARGS__}})

/* The result of a match.  var[i] is variable i's value (in the order the
 * variables first appear in the clause), borrowed from msg: valid while
 * msg is.  After hv_receive, msg is the removed message and belongs to
 * the caller (hv_bindings_release, or take it and hv_release it later);
 * after hv_match it is the term given, borrowed. */
typedef struct hv_bindings {
    const hv_pattern *pattern; /* the clause that matched, for names */
    int clause;                /* its index in the set; -1 for none */
    hv_term msg;
    unsigned nvars;
    hv_term var[HV_MATCH_MAX_VARS];
    char what[96]; /* on HV_EBADARG: what was wrong */
} hv_bindings;

/* ---- single patterns ------------------------------------------------ */

/* Compiles "pattern" or "pattern when guards" (NUL-terminated), with an
 * optional final '.'.  NULL on failure, *err (may be NULL) filled. */
HV_API hv_pattern *hv_pattern_compile(const char *text, hv_error *err);
HV_API hv_pattern *hv_pattern_compile_n(const char *text, size_t len,
                                        hv_error *err);
/* Frees a pattern from hv_pattern_compile (NULL is fine).  Patterns
 * owned by a receive set are freed with the set. */
HV_API void hv_pattern_free(hv_pattern *p);

/* Variables, in order of first appearance; the index is var[]'s. */
HV_API size_t hv_pattern_var_count(const hv_pattern *p);
HV_API const char *hv_pattern_var_name(const hv_pattern *p, size_t i);
/* Index of the variable, or -1 when the pattern has none of that name. */
HV_API int hv_pattern_var_index(const hv_pattern *p, const char *name);
/* Pins of a standalone pattern, in order of first appearance. */
HV_API size_t hv_pattern_pin_count(const hv_pattern *p);
HV_API const char *hv_pattern_pin_name(const hv_pattern *p, size_t i);

/* Matches t against p.  HV_OK with *b filled (b->clause 0); HV_ENOMATCH;
 * HV_EBADARG for a NULL pattern or bindings, t HV_NONE, or a pin not
 * supplied (b->what says which). */
HV_API int hv_match(const hv_pattern *p, hv_term t, const hv_pins *pins,
                    hv_bindings *b);

/* Variable `name`'s value in b (borrowed), HV_NONE when the matched
 * clause has no such variable. */
HV_API hv_term hv_binding(const hv_bindings *b, const char *name);
/* Releases b->msg (after hv_receive) and clears it. */
HV_API void hv_bindings_release(hv_bindings *b);

/* ---- receive sets --------------------------------------------------- */

/* Compiles n clauses into one set, tried in order.  Each is a pattern
 * with optional guards, or "after T" (T milliseconds, or infinity; at
 * most one, anywhere in the list; it may be the only one, as Erlang's
 * `receive after T -> ... end`) giving the set's timeout for
 * hv_receive(..., HV_AFTER, ...).  Pin names are shared by the clauses:
 * ^Ref in two clauses is one pin.  NULL on failure, *err naming the
 * clause by its index ("clause 1: ..." for the second) with the line and
 * column inside it. */
HV_API hv_rset *hv_rset_compile(const char *const *clauses, size_t n,
                                hv_error *err);
/* The same with the clauses as arguments, ended by NULL. */
HV_API hv_rset *hv_rset_new(hv_error *err, const char *clause, ...);
HV_API void hv_rset_free(hv_rset *s);

/* Clause count (the after clause included) and clause i (NULL for the
 * after clause or out of range). */
HV_API size_t hv_rset_size(const hv_rset *s);
HV_API const hv_pattern *hv_rset_clause(const hv_rset *s, size_t i);
/* The after clause's timeout (HV_INFINITY when there is none) and its
 * index (-1 when there is none). */
HV_API int64_t hv_rset_after(const hv_rset *s);
HV_API int hv_rset_after_clause(const hv_rset *s);
/* Pins of the set, in order of first appearance across its clauses. */
HV_API size_t hv_rset_pin_count(const hv_rset *s);
HV_API const char *hv_rset_pin_name(const hv_rset *s, size_t i);

/* Matches t against the set's clauses in order, as a receive would test
 * one message.  HV_OK with b->clause the first matching clause;
 * HV_ENOMATCH; HV_EBADARG as hv_match. */
HV_API int hv_rset_match(const hv_rset *s, hv_term t, const hv_pins *pins,
                         hv_bindings *b);

/* Selective receive in the calling process (see the top of this file).
 * timeout_ms: 0 polls, HV_INFINITY waits for ever, HV_AFTER takes the
 * set's after clause.  HV_OK: b->clause matched, b->msg is the message
 * (the caller's).  HV_ETIMEOUT: nothing matched in time (whatever
 * timeout was given); b->clause is the after clause's index (or -1).
 * HV_EBADARG: not called from a process, a NULL set or bindings, a
 * timeout below HV_AFTER, or a pin not supplied (b->what says which);
 * nothing is removed then.  As everywhere in C, a process that is killed
 * while it holds a received message leaks it unless a hv_defer cleanup
 * releases it. */
HV_API int hv_receive(const hv_rset *s, const hv_pins *pins,
                      int64_t timeout_ms, hv_bindings *b);

#ifdef __cplusplus
}
#endif
#endif /* HV_MATCH_H */
