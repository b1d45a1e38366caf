/* tests/fuzz/fuzz_unpack.c - libFuzzer target for msgpack decoding: any
 * bytes must give a term or an error, never a crash or a leak; a term
 * must survive pack and unpack unchanged; and the streaming unpacker,
 * fed the same bytes in two pieces, must agree with hv_unpack_n. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "hive/term.h"

static void
check(int ok)
{
    if (!ok)
        abort();
}

/* The first result of an unpacker fed data in two pieces split at
 * `split`: 1 and a new term in *out, 0 if it wants more bytes, or an
 * error code with *err filled.  Later terms are taken and dropped, to
 * walk the rest of the stream too. */
static int
stream_first(const uint8_t *data, size_t size, size_t split, hv_term *out,
             hv_error *err)
{
    hv_unpacker *u = hv_unpacker_new(NULL);
    check(u != NULL);
    int first = 0;
    bool have_first = false;
    for (int piece = 0; piece < 2; piece++) {
        const uint8_t *p = piece == 0 ? data : data + split;
        size_t n = piece == 0 ? split : size - split;
        int rc = hv_unpacker_feed(u, p, n);
        check(rc == HV_OK || rc == HV_ELIMIT);
        for (;;) {
            hv_term t = HV_NONE;
            hv_error e;
            rc = hv_unpacker_next(u, &t, &e);
            if (rc == 0 && piece == 0)
                break;
            if (!have_first && (rc != 0 || piece == 1)) {
                have_first = true;
                first = rc;
                if (rc == 1)
                    *out = t;
                else if (rc < 0)
                    *err = e;
            } else if (rc == 1) {
                hv_release(t);
            }
            if (rc != 1)
                break;
        }
    }
    hv_unpacker_free(u);
    return first;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hv_error err = {0};
    size_t used = 0;
    hv_term t = hv_unpack_n(data, size, &used, NULL, &err);
    if (t != HV_NONE) {
        check(used >= 1 && used <= size);
        hv_buf b = HV_BUF_INIT;
        check(hv_pack(t, &b) == HV_OK);
        hv_error err2;
        hv_term again = hv_unpack(b.data, b.len, &err2);
        check(again != HV_NONE);
        check(hv_compare_exact(t, again) == 0);
        hv_release(again);
        hv_buf_free(&b);
    } else {
        check(err.code < 0 && err.offset <= size);
    }

    hv_term first = HV_NONE;
    hv_error serr = {0};
    size_t split = size ? data[0] % size : 0;
    int rc = stream_first(data, size, split, &first, &serr);
    if (t != HV_NONE) {
        /* A whole object is a whole object however it arrives. */
        check(rc == 1);
        check(hv_compare_exact(t, first) == 0);
    } else if (err.code != HV_ESYNTAX) {
        /* Errors other than truncation and lying counts are found at
         * the same place in a stream, unless the stream is still waiting
         * for bytes that elements after the bad one need. */
        check(rc == 0 || rc == err.code);
        check(rc == 0 || serr.offset == err.offset);
    } else {
        check(rc <= 0);
    }
    hv_release(first);
    hv_release(t);
    return 0;
}
