/* tests/fuzz/fuzz_parse.c - libFuzzer target: any bytes either fail to
 * parse cleanly or parse to a term whose printed text reads back to an
 * exactly equal term (=:=) and prints the same again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive/term.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
die(const char *why, const hv_buf *a, const hv_buf *b)
{
    fprintf(stderr, "fuzz_parse: %s\nfirst:  %s\nsecond: %s\n", why,
            a && a->data ? (const char *)a->data : "-",
            b && b->data ? (const char *)b->data : "-");
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A small depth keeps each run fast; the depth limit itself is
     * exercised by inputs that pass it. */
    hv_limits lim = {.max_depth = 64, .max_count = 4096};
    hv_error err;
    hv_term t = hv_parse_n((const char *)data, size, &lim, &err);
    if (t == HV_NONE) {
        if (err.code >= 0 || err.line < 1 || err.column < 1 ||
            err.offset > size)
            die("a failure without a proper error record", NULL, NULL);
        return 0;
    }
    hv_buf a = HV_BUF_INIT, b = HV_BUF_INIT;
    if (hv_print(t, &a) != HV_OK)
        die("print failed", NULL, NULL);
    if ((int64_t)a.len != hv_format(t, NULL, 0))
        die("hv_format disagrees with hv_print on the length", &a, NULL);
    hv_term u = hv_parse_n((const char *)a.data, a.len, &lim, &err);
    if (u == HV_NONE) {
        fprintf(stderr, "reparse error %d at %d:%d: %s\n", err.code, err.line,
                err.column, err.what);
        die("printed text does not parse", &a, NULL);
    }
    if (hv_compare_exact(t, u) != 0)
        die("printed text reads back as a different term", &a, NULL);
    if (hv_print(u, &b) != HV_OK || b.len != a.len ||
        memcmp(a.data, b.data, a.len) != 0)
        die("the text of the reread term differs", &a, &b);
    hv_buf_free(&a);
    hv_buf_free(&b);
    hv_release(t);
    hv_release(u);
    return 0;
}
