/* bench/bench.h */
