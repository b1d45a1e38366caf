/* supervisor/server_table.c - pattern-dispatched servers: the table's
 * patterns compiled into one receive set, whose matching clause picks
 * the handler (server_loop.c's call). */
#include <stdio.h>
#include <stdlib.h>

#include "supervisor/server.h"

int
hv_server_start_table(const hv_server_clause *clauses, size_t n,
                      const hv_server_callbacks *cb, void *arg,
                      const hv_server_opts *opts, hv_term *pid,
                      hv_term *reason)
{
    static const hv_server_callbacks none = {0};
    if (reason != NULL)
        *reason = HV_NONE;
    if (cb == NULL)
        cb = &none;
    if (clauses == NULL || n == 0 || n > HV_MATCH_MAX_CLAUSES ||
        cb->handle_call != NULL)
        return HV_EBADARG;
    const char *texts[HV_MATCH_MAX_CLAUSES];
    for (size_t i = 0; i < n; i++) {
        if (clauses[i].pattern == NULL || clauses[i].handler == NULL)
            return HV_EBADARG;
        texts[i] = clauses[i].pattern;
    }
    hv_error err;
    hv_rset *set = hv_rset_compile(texts, n, &err);
    if (set == NULL) {
        /* "clause N: ..." names the clause; keep its index apart too. */
        long index = -1;
        sscanf(err.what, "clause %ld", &index);
        hv_term why = hv_tuple(3, hv__srv_atoms()->bad_pattern, hv_int(index),
                               hv_string(err.what));
        if (reason != NULL)
            *reason = why;
        else
            hv_release(why);
        return HV_EBADARG;
    }
    struct hv__srv *s = calloc(1, sizeof *s);
    hv_server_handler **h = calloc(n, sizeof *h);
    if (s == NULL || h == NULL) {
        free(s);
        free(h);
        hv_rset_free(set);
        return HV_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        h[i] = clauses[i].handler;
    s->cb = *cb;
    s->arg = arg;
    s->table = set;
    s->handlers = h;
    s->nclauses = n;
    return hv__server_spawn(s, opts, pid, reason);
}
