/* tests/term_gen.h - a seeded random term generator for property tests,
 * benchmarks and fuzz seeds: same seed, same terms, on every machine. */
#ifndef HV_TESTS_TERM_GEN_H
#define HV_TESTS_TERM_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "hive/term.h"

struct hv_gen {
    uint64_t state;
    unsigned max_depth; /* containers nest at most this deep */
    /* Only terms whose text form round-trips: remote pids and refs get
     * creation 0, which Erlang's text form cannot carry either. */
    bool text_safe;
};

void hv_gen_init(struct hv_gen *g, uint64_t seed);
uint64_t hv_gen_u64(struct hv_gen *g);
/* A new random term (never HV_NONE unless memory ran out). */
hv_term hv_gen_term(struct hv_gen *g);

#endif /* HV_TESTS_TERM_GEN_H */
