/* runtime/unpacker.c - hv_unpacker: msgpack terms out of a byte stream
 * that arrives in pieces of any size.
 *
 * Fed bytes go into one buffer; buf[start, len) is not yet consumed, and
 * the object at start is scanned as far as its bytes go.  The scan is
 * resumable (term_scan.c), and after it stops it knows a lower bound on
 * the object's size (`need`), so a feed that cannot complete the object
 * costs a copy and a compare: an object fed one byte at a time is scanned
 * once in all, not once per byte.
 *
 * Errors: a malformed object loses the framing of everything after it,
 * so the first error poisons the stream and is returned forever after.
 * Running out of memory does not: the state is left as it was and the
 * same call may be retried. */
#include "hive/term.h"

#include <string.h>

#include "runtime/alloc.h"
#include "runtime/buf.h"
#include "runtime/term_unpack.h"
#include "runtime/util.h"

struct hv_unpacker {
    hv_buf in;            /* fed bytes; in.data[start..in.len) unread */
    size_t start;
    uint64_t offset;      /* stream offset of buf[start], for errors */
    struct hv__scan scan; /* of the object at start */
    int poison;           /* the error that ended the stream, or HV_OK */
    hv_error perr;
};

hv_unpacker *
hv_unpacker_new(const hv_limits *lim)
{
    hv_unpacker *u = hv__alloc(sizeof *u);
    if (u == NULL)
        return NULL;
    u->in = (hv_buf)HV_BUF_INIT;
    u->start = 0;
    u->offset = 0;
    hv__scan_init(&u->scan, lim);
    u->poison = HV_OK;
    return u;
}

void
hv_unpacker_free(hv_unpacker *u)
{
    if (u == NULL)
        return;
    hv__scan_fini(&u->scan);
    hv_buf_free(&u->in);
    hv__free(u, sizeof *u);
}

/* Drops the consumed prefix, so the buffer grows only with what is still
 * unread. */
static void
compact(hv_unpacker *u)
{
    if (u->start == 0)
        return;
    memmove(u->in.data, u->in.data + u->start, u->in.len - u->start);
    u->in.len -= u->start;
    u->start = 0;
}

/* Ends the stream with err's code; offsets become stream offsets. */
static int
poison(hv_unpacker *u, const hv_error *err)
{
    u->poison = err->code;
    u->perr = *err;
    u->perr.offset += u->offset;
    return u->poison;
}

/* Scans the object at start as far as the buffered bytes go.  HV_OK when
 * it is whole, HV__SCAN_MORE, or an error (the stream is then poisoned,
 * except for HV_ENOMEM). */
static int
advance(hv_unpacker *u)
{
    if (u->scan.done)
        return HV_OK;
    if (u->in.len - u->start < u->scan.need)
        return HV__SCAN_MORE;
    hv_error err;
    int rc = hv__scan_run(&u->scan, u->in.data + u->start, u->in.len - u->start, false,
                          &err);
    if (rc < 0 && rc != HV_ENOMEM)
        poison(u, &err);
    return rc;
}

int
hv_unpacker_feed(hv_unpacker *u, const void *bytes, size_t n)
{
    /* A poisoned stream drops what comes; next reports why. */
    if (u->poison != HV_OK)
        return u->poison == HV_ELIMIT ? HV_ELIMIT : HV_OK;
    if (n == 0)
        return HV_OK;
    if (bytes == NULL)
        return HV_EBADARG;
    if (u->in.cap - u->in.len <= n)
        compact(u);
    int rc = hv__buf_append(&u->in, bytes, n);
    if (rc != HV_OK)
        return rc;
    /* Scanning here finds an object bound to pass max_bytes while it is
     * still coming in, so a peer cannot fill memory with one endless
     * term.  Other errors wait for hv_unpacker_next, which reports them
     * (feed's contract has only HV_ELIMIT), and so does a failed scan
     * allocation. */
    rc = advance(u);
    return rc == HV_ELIMIT ? HV_ELIMIT : HV_OK;
}

int
hv_unpacker_next(hv_unpacker *u, hv_term *out, hv_error *err)
{
    if (u->poison != HV_OK) {
        if (err != NULL)
            *err = u->perr;
        return u->poison;
    }
    hv_error e;
    int rc = advance(u);
    if (rc == HV__SCAN_MORE)
        return 0;
    if (rc == HV_ENOMEM)
        return hv__error_set(err, rc, u->offset + u->scan.pos, 0, 0,
                             "out of memory scanning at stream offset %llu",
                             (unsigned long long)(u->offset + u->scan.pos));
    if (rc == HV_OK) {
        size_t size = u->scan.pos;
        rc = hv__unpack_build(u->in.data + u->start, size, out, &e);
        if (rc == HV_OK) {
            u->start += size;
            u->offset += size;
            if (u->start == u->in.len)
                u->start = u->in.len = 0;
            hv__scan_reset(&u->scan);
            return 1;
        }
        if (rc != HV_ENOMEM)
            poison(u, &e);
        else
            e.offset += u->offset;
    }
    if (u->poison != HV_OK)
        e = u->perr;
    if (err != NULL)
        *err = e;
    return rc;
}
