/* runtime/buf.c - growable byte buffers (hv_buf). */
#include "runtime/buf.h"

#include <stdarg.h>
#include <stdio.h>

#include "runtime/alloc.h"

void
hv_buf_free(hv_buf *buf)
{
    if (buf == NULL)
        return;
    if (buf->data != NULL)
        hv__free(buf->data, buf->cap);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

int
hv__buf_reserve(hv_buf *b, size_t n)
{
    /* One byte beyond len is always kept for the NUL. */
    if (n > SIZE_MAX / 2 - b->len)
        return HV_ENOMEM;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return HV_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    uint8_t *p = hv__realloc(b->data, b->cap, cap);
    if (p == NULL)
        return HV_ENOMEM;
    b->data = p;
    b->cap = cap;
    return HV_OK;
}

int
hv__buf_printf(hv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return HV_EBADARG;
    int rc = hv__buf_reserve(b, (size_t)n);
    if (rc != HV_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return HV_OK;
}
