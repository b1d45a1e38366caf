/* runtime/buf.h - appending to an hv_buf, shared by print and pack. */
#ifndef HV_RUNTIME_BUF_H
#define HV_RUNTIME_BUF_H

#include <stddef.h>
#include <string.h>

#include "hive/term.h"

/* Makes room for n more bytes (plus a NUL).  HV_OK or HV_ENOMEM. */
int hv__buf_reserve(hv_buf *b, size_t n);

/* Appends n bytes and keeps the buffer NUL-terminated.  HV_OK or
 * HV_ENOMEM (the buffer is left as it was). */
static inline int
hv__buf_append(hv_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len <= n) {
        int rc = hv__buf_reserve(b, n);
        if (rc != HV_OK)
            return rc;
    }
    if (n != 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return HV_OK;
}

static inline int
hv__buf_putc(hv_buf *b, char c)
{
    return hv__buf_append(b, &c, 1);
}

/* Appends a printf-style text.  HV_OK or HV_ENOMEM. */
int hv__buf_printf(hv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* HV_RUNTIME_BUF_H */
