/* runtime/error.c - error messages, detail records and panics. */
#include "runtime/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *
hv_strerror(int code)
{
    switch (code) {
    case HV_OK:
        return "ok";
#define HV__CASE(name, value, text)                                         \
    case value:                                                             \
        return text;
        HV_ERRORS(HV__CASE)
#undef HV__CASE
    default:
        return "unknown error";
    }
}

int
hv__error_set(hv_error *err, int code, size_t offset, int line, int column,
              const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->offset = offset;
    err->line = line;
    err->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->what, sizeof err->what, fmt, ap);
    va_end(ap);
    return code;
}

void
hv__panic(const char *fmt, ...)
{
    va_list ap;
    fputs("hive: fatal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
