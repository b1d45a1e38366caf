/* match/regex.c - pcre2 behind `=~`.
 *
 * pcre2_code is immutable once compiled, so a pattern's regexes are
 * shared by every thread; match data and the JIT stack are mutable, so
 * each thread has its own, made on first use and freed when the thread
 * ends.  The JIT stack must not be the machine stack: by default JIT uses
 * 32 KiB of it, more than a process's frame may safely take.  A process
 * never switches out inside pcre2_match, so per-thread is safe even for
 * processes that move between schedulers. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/regex.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

struct hv__regex {
    pcre2_code *code;
};

/* Bounds on one match, so that a catastrophic regex is a false guard
 * rather than a hung process. */
#define MATCH_LIMIT 1000000u
#define HEAP_LIMIT_KIB 4096u
#define JIT_STACK_MIN (32u << 10)
#define JIT_STACK_MAX (512u << 10)

struct thread_state {
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
};

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static void
state_free(void *v)
{
    struct thread_state *st = v;
    pcre2_match_data_free(st->md);
    pcre2_match_context_free(st->mc);
    pcre2_jit_stack_free(st->js);
    free(st);
}

static void
state_key_make(void)
{
    (void)pthread_key_create(&state_key, state_free);
}

static pcre2_jit_stack *
jit_stack_of(void *ctx)
{
    return ctx;
}

static struct thread_state *
thread_state(void)
{
    pthread_once(&state_once, state_key_make);
    struct thread_state *st = pthread_getspecific(state_key);
    if (st != NULL)
        return st;
    st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->md = pcre2_match_data_create(1, NULL);
    st->mc = pcre2_match_context_create(NULL);
    st->js = pcre2_jit_stack_create(JIT_STACK_MIN, JIT_STACK_MAX, NULL);
    if (st->md == NULL || st->mc == NULL || st->js == NULL ||
        pthread_setspecific(state_key, st) != 0) {
        state_free(st);
        return NULL;
    }
    pcre2_jit_stack_assign(st->mc, jit_stack_of, st->js);
    pcre2_set_match_limit(st->mc, MATCH_LIMIT);
    pcre2_set_heap_limit(st->mc, HEAP_LIMIT_KIB);
    return st;
}

struct hv__regex *
hv__regex_compile(const char *src, size_t len, size_t *offset, char *msg,
                  size_t msg_size)
{
    struct hv__regex *re = malloc(sizeof *re);
    if (re == NULL) {
        *offset = SIZE_MAX;
        snprintf(msg, msg_size, "out of memory");
        return NULL;
    }
    int code;
    PCRE2_SIZE at;
    re->code = pcre2_compile((PCRE2_SPTR)src, len, 0, &code, &at, NULL);
    if (re->code == NULL) {
        free(re);
        if (code == PCRE2_ERROR_HEAPLIMIT || code == PCRE2_ERROR_NOMEMORY)
            at = SIZE_MAX;
        *offset = at;
        if (pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, msg_size) < 0)
            snprintf(msg, msg_size, "pcre2 error %d", code);
        return NULL;
    }
    /* Without JIT (not built in, or no executable memory) the
     * interpreter does the same work, slower.  Under valgrind too: JIT
     * code reads words past the subject's end, which valgrind reports. */
    if (!RUNNING_ON_VALGRIND)
        (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    return re;
}

bool
hv__regex_test(const struct hv__regex *re, const uint8_t *data, size_t len)
{
    struct thread_state *st = thread_state();
    if (st == NULL)
        return false;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)data, len, 0, 0, st->md,
                         st->mc);
    /* 0 is a match whose offsets did not fit the one-pair vector. */
    return rc >= 0;
}

void
hv__regex_free(struct hv__regex *re)
{
    if (re == NULL)
        return;
    pcre2_code_free(re->code);
    free(re);
}
