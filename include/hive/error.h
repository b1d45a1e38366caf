/* hive/error.h - error codes and the optional error detail record. */
#ifndef HV_ERROR_H
#define HV_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define HV_API __attribute__((visibility("default")))
#else
#define HV_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* One list makes the enum and hv_strerror(). */
#define HV_ERRORS(X)                                                        \
    X(NOMEM, -1, "out of memory")                                           \
    X(BADARG, -2, "argument of the wrong type or range")                    \
    X(NOPROC, -3, "no such process")                                        \
    X(TIMEOUT, -4, "timed out")                                             \
    X(LIMIT, -5, "a configured limit was reached")                          \
    X(SYNTAX, -6, "malformed input")                                        \
    X(OVERFLOW, -7, "integer does not fit in 64 bits")                     \
    X(NOMATCH, -8, "no clause matched")                                    \
    X(EXIT, -9, "the process exited")                                       \
    X(IGNORE, -10, "init returned ignore")

enum {
    HV_OK = 0,
#define HV__ENUM(name, code, text) HV_E##name = code,
    HV_ERRORS(HV__ENUM)
#undef HV__ENUM
};

/* Optional detail of a failure.  Caller-owned; every function that takes
 * one accepts NULL.  Written only when the call fails. */
typedef struct hv_error {
    int code;          /* HV_E* */
    int line, column;  /* 1-based position in text input; 0 otherwise */
    size_t offset;     /* byte offset into the input where it went wrong */
    char what[160];    /* e.g. "expected ',' or '}' after 42" */
} hv_error;

/* The fixed message of an error code, "unknown error" for others. */
HV_API const char *hv_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif /* HV_ERROR_H */
