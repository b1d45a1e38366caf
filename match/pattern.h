/* match/pattern.h - what match/'s files share: the syntax tree the parser
 * builds, the program a pattern compiles to, and the compiled pattern.
 *
 * A clause goes text -> tree (pattern_parse.c) -> program + guard tree
 * (pattern_compile.c) -> run against terms (pattern_match.c, guard.c).
 * Everything a compiled pattern points to lives in its arena, freed with
 * it; its literals are owned terms, released with it. */
#ifndef HV_MATCH_PATTERN_H
#define HV_MATCH_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/match.h"

/* ---- the arena (pattern_compile.c) ---- */

struct hv__arena {
    struct hv__chunk *chunks;
};
/* size bytes, 8-aligned, zeroed; NULL when out of memory. */
void *hv__arena_alloc(struct hv__arena *a, size_t size);
void hv__arena_free(struct hv__arena *a);

/* ---- the syntax tree ---- */

enum hv__pn_kind {
    PN_LIT,   /* a literal term: lit */
    PN_ANY,   /* _ */
    PN_VAR,   /* index: the variable */
    PN_PIN,   /* index: the pin */
    PN_TUPLE, /* kids: the elements */
    PN_CONS,  /* kids: head, tail */
    PN_MAP,   /* kids: key, value, key, value...; keys PN_LIT or PN_PIN */
    PN_ALIAS  /* kids: the two sides of P1 = P2 */
};

struct hv__pnode {
    enum hv__pn_kind kind;
    int index;
    hv_term lit; /* owned by the clause's literal list */
    size_t n;
    struct hv__pnode **kids;
};

/* Guard expressions.  Operators and functions carry their G_* code in op. */
enum hv__gn_kind {
    GN_LIT,   /* lit */
    GN_VAR,   /* index */
    GN_PIN,   /* index */
    GN_OP,    /* op on kids[0..n) (1 or 2) */
    GN_CALL,  /* function op on kids[0..n) */
    GN_REGEX, /* kids[0] =~ re */
    GN_ALL,   /* a guard: kids joined by ',' */
    GN_ANY    /* a guard sequence: kids joined by ';' */
};

struct hv__gnode {
    enum hv__gn_kind kind;
    int op;
    int index;
    hv_term lit;
    size_t n;
    struct hv__gnode **kids;
    const struct hv__regex *re;
};

/* Guard operators and functions (guard.c evaluates them). */
enum hv__gop {
    G_ADD, G_SUB, G_MUL, G_FDIV, G_DIV, G_REM, G_BAND, G_BOR, G_BXOR,
    G_BSL, G_BSR, G_NEG, G_PLUS, G_BNOT,
    G_AND, G_OR, G_XOR, G_NOT, G_ANDALSO, G_ORELSE,
    G_EQ, G_NE, G_EXACT_EQ, G_EXACT_NE, G_LT, G_LE, G_GT, G_GE,
    /* functions */
    G_IS_ATOM, G_IS_INTEGER, G_IS_FLOAT, G_IS_NUMBER, G_IS_BINARY,
    G_IS_TUPLE, G_IS_LIST, G_IS_MAP, G_IS_PID, G_IS_REFERENCE,
    G_IS_BOOLEAN, G_TUPLE_SIZE, G_LENGTH, G_MAP_SIZE, G_BYTE_SIZE, G_SIZE,
    G_ELEMENT, G_HD, G_TL, G_IS_MAP_KEY, G_MAP_GET, G_ABS, G_MIN, G_MAX,
    G_SELF
};

/* The function of name (len bytes) and arity, or -1. */
int hv__guard_function(const char *name, size_t len, size_t arity);
/* True when the guard holds for the bound variables and the pins. */
bool hv__guard_holds(const struct hv__gnode *g, const hv_term *vars,
                     const hv_term *pins);

/* ---- the program ---- */

enum hv__op {
    OP_TUPLE,     /* r is a tuple of arity n */
    OP_ELEM,      /* reg d = element n of tuple r */
    OP_ELEM_IMM,  /* element n of tuple r is the immediate lit */
    OP_ELEM_BIND, /* var d = element n of tuple r */
    OP_CONS,      /* r is a cons; reg d = head, reg d+1 = tail */
    OP_MAP,       /* r is a map */
    OP_MAP_GET,   /* reg d = the value under lit in map r, or fail */
    OP_MAP_PIN,   /* reg d = the value under pin n in map r, or fail */
    OP_IMM,       /* r is the immediate lit */
    OP_LIT,       /* r =:= lit */
    OP_PIN,       /* r =:= pin n */
    OP_BIND,      /* var d = r */
    OP_SAME,      /* r =:= var d */
    OP_IS         /* var d passes type test n (a G_IS_* code) */
};

struct hv__insn {
    uint8_t op;
    uint8_t r;
    uint16_t d;
    uint32_t n;
    hv_term lit;
};

/* Registers one program may use: the term is reg 0; each level of
 * nesting that is not a literal takes one or two. */
#define HV__MAX_REGS 64

/* A clause's facts the set uses to dispatch and to index. */
enum hv__shape { SHAPE_ANY, SHAPE_TUPLE, SHAPE_CONS, SHAPE_MAP, SHAPE_OTHER };

/* A tuple element the clause requires to be one value: a pin or a
 * literal.  Candidates for a receive's key (mailbox.c). */
struct hv__keyfact {
    uint32_t elem;
    int pin;     /* >= 0: pin; -1: lit */
    hv_term lit; /* borrowed from the clause */
};
#define HV__MAX_KEYFACTS 8

struct hv_pattern {
    struct hv__arena arena;
    const struct hv__insn *code;
    size_t ncode;
    const struct hv__gnode *guard; /* NULL: none */
    unsigned nvars;
    const char **var_names;
    unsigned npins;          /* pins known when this clause compiled */
    const char **pin_names;  /* in a set: the set's, shared */
    unsigned pins_needed;    /* 1 + the highest pin index it uses */
    hv_term *lits;           /* literals, released with the pattern */
    size_t nlits, lits_cap;
    struct hv__regex **regexes;
    size_t nregexes;
    bool in_set;
    /* dispatch: the shape of the whole term, and for tuples the arity
     * and (when an immediate literal) element 0; the first `skip`
     * instructions test exactly that. */
    enum hv__shape shape;
    uint32_t arity;
    hv_term tag;
    unsigned skip;
    struct hv__keyfact keys[HV__MAX_KEYFACTS];
    unsigned nkeys;
    /* Pins the term must hold somewhere (bit i: pin i, for i < 64). */
    uint64_t pins_within;
};

/* The names a compile shares with the clauses compiled before it (the
 * set's pins). */
struct hv__names {
    const char **v;
    unsigned n, cap;
};

/* Compiles one clause of len bytes into *out.  pins is the set's pin
 * table (NULL for a standalone pattern); arena holds the names.  HV_OK
 * or an error with *err filled. */
int hv__clause_compile(const char *text, size_t len, struct hv__names *pins,
                       struct hv__arena *names_arena, hv_pattern **out,
                       hv_error *err);

/* Parses the clause into a tree (pattern_parse.c).  The tree and the
 * names live in the pattern's arena; literals are added to its list. */
struct hv__parsed {
    struct hv__pnode *root;
    struct hv__gnode *guard;
    struct hv__names vars;
    struct hv__names *pins;
};
int hv__clause_parse(const char *text, size_t len, hv_pattern *pat,
                     struct hv__parsed *out, struct hv__arena *names_arena,
                     hv_error *err);
/* Adds t (owned) to pat's literal list; HV_ENOMEM releases it. */
int hv__pattern_own(hv_pattern *pat, hv_term t);
/* Adds a name to a table (the string lives in arena); its index. */
int hv__names_add(struct hv__names *names, struct hv__arena *arena,
                  const char *name, size_t len);
int hv__names_find(const struct hv__names *names, const char *name,
                   size_t len);

/* Runs the program from instruction `from` and then the guard: true on a
 * match, with vars filled. */
bool hv__pattern_run(const hv_pattern *p, hv_term t, const hv_term *pins,
                     hv_term *vars, unsigned from);
/* Checks that pins supplies every pin below `needed`; else fills b->what
 * and returns HV_EBADARG. */
int hv__pins_check(const hv_pins *pins, unsigned needed,
                   const char *const *names, hv_bindings *b);
/* Starts b empty, so that a failed call leaves nothing stale in it. */
void hv__bindings_clear(hv_bindings *b);
/* Fills b for a match of clause p. */
void hv__bindings_set(hv_bindings *b, const hv_pattern *p, int clause,
                      hv_term msg);

#endif /* HV_MATCH_PATTERN_H */
