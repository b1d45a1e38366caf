/* tests/pack_util.h - helpers the pack and unpacker suites share. */
#ifndef HV_TESTS_PACK_UTIL_H
#define HV_TESTS_PACK_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hive/term.h"

/* Bytes from hex text such as "93 c7 00 04"; returns the count. */
size_t hex(const char *text, uint8_t *out, size_t cap);
/* hv_pack that must succeed. */
void pack_ok(hv_term t, hv_buf *b);
/* A new term with one of everything. */
hv_term assorted(void);

#endif /* HV_TESTS_PACK_UTIL_H */
