/* match/regex.h - the regexes of `=~` guards: pcre2, compiled (and
 * JIT-compiled where available) with the pattern, matched with per-thread
 * match data and JIT stack, so one compiled regex serves every thread. */
#ifndef HV_MATCH_REGEX_H
#define HV_MATCH_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hv__regex;

/* Compiles len bytes of source.  NULL on failure, with pcre2's message
 * in msg (NUL-terminated) and the offset in the source it points to;
 * *offset is SIZE_MAX when memory ran out. */
struct hv__regex *hv__regex_compile(const char *src, size_t len,
                                    size_t *offset, char *msg,
                                    size_t msg_size);
/* True when re matches somewhere in the len bytes at data.  A match that
 * hits a limit (catastrophic backtracking) or fails for memory is false. */
bool hv__regex_test(const struct hv__regex *re, const uint8_t *data,
                    size_t len);
void hv__regex_free(struct hv__regex *re);

#endif /* HV_MATCH_REGEX_H */
