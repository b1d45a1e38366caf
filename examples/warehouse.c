/* examples/warehouse.c - the seeds' worker and warehouses (the threaded
 * actors post) as servers under a supervisor, called from main, a plain
 * thread, through a bridge.
 *
 * The worker has a skill (doubling): a task {task, Input, Warehouse}
 * makes it stock its output in that warehouse.  The warehouses,
 * positives and negatives, keep what they get and answer get_inventory.
 * All three are registered servers under the one_for_one supervisor
 * warehouse_sup.  main is no process: it starts the runtime (hv_start),
 * opens a bridge (a mailbox and pid for a plain thread), sends tasks
 * (hv_send) and calls servers by name (hv_bridge_call), as the seed's
 * Bridge.  A task with no number crashes the worker; the supervisor
 * restarts it alone; the warehouses keep their stock.  Exit status 1 at
 * a wrong reply.  --short sends the seed's tasks; the default 100000 more. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hive/hive.h>

enum { WAIT_MS = 30000, BULK = 100000 };

static hv_pattern *task_pattern; /* {task, Input, Warehouse} */

/* The seed's Worker; its state is its skill, a factor (no init callback:
 * the state is the start argument).  A task is a plain message (main
 * sends it with hv_send, as the seed's worker.send) for handle_info.  C
 * has no exceptions: a task with no number crashes the worker with the
 * reason Erlang's 2 * <<"ten">> raises. */
static hv_server_result
worker_info(hv_term msg, void *state)
{
    hv_bindings b;
    int64_t input;
    if (hv_match(task_pattern, msg, NULL, &b) != HV_OK)
        return hv_result_noreply(); /* not a task: ignored */
    if (hv_int_value(hv_binding(&b, "Input"), &input) != HV_OK)
        hv_exit(hv_parse("{badarith, [{worker, handle_info, 2}]}", NULL));
    hv_cast(hv_binding(&b, "Warehouse"),
            hv_tuple(2, hv_atom("stock"), hv_int((intptr_t)state * input)));
    return hv_result_noreply();
}

/* Any call (main's `sync`) is answered ok.  The worker takes its mailbox
 * in order, so by then every task sent before is done, and hv_cast put
 * its output into the warehouse's mailbox before it returned. */
static hv_server_result
worker_call(hv_term request, hv_term from, void *state)
{
    (void)request;
    (void)from;
    (void)state;
    return hv_result_reply(hv_atom("ok"));
}

static const hv_server_callbacks worker_cb = {.handle_call = worker_call,
                                              .handle_info = worker_info};

/* A warehouse: the seed's Warehouse.  Its stock is a list, newest first,
 * so that stocking is one cons; get_inventory answers it oldest first. */
struct warehouse {
    const char *name;
    hv_term stock;
};

static enum hv_server_init_action
warehouse_init(void *arg, void **state, int64_t *timeout_ms, hv_term *reason)
{
    struct warehouse *w = malloc(sizeof *w);
    (void)timeout_ms;
    if (w == NULL) {
        *reason = hv_atom("enomem");
        return HV_SERVER_INIT_STOP;
    }
    *w = (struct warehouse){.name = arg, .stock = HV_NIL};
    *state = w;
    return HV_SERVER_INIT_OK;
}

static hv_server_result
warehouse_cast(hv_term msg, void *state) /* {stock, Item} */
{
    struct warehouse *w = state;
    w->stock = hv_cons(hv_retain(hv_tuple_at(msg, 1)), w->stock);
    return hv_result_noreply();
}

static hv_server_result
get_inventory(const hv_bindings *b, hv_term from, void *state)
{
    const struct warehouse *w = state;
    hv_term oldest_first = HV_NIL;
    (void)b;
    (void)from;
    for (hv_term l = w->stock; hv_is_cons(l); l = hv_list_tail(l))
        oldest_first = hv_cons(hv_retain(hv_list_head(l)), oldest_first);
    return hv_result_reply(oldest_first);
}

/* Runs however the server ends, except by `kill`. */
static void
warehouse_terminate(hv_term reason, void *state)
{
    struct warehouse *w = state;
    char why[64];
    hv_format(reason, why, sizeof why);
    printf("  %s closes (%s) with %lld items\n", w->name, why,
           (long long)hv_list_length(w->stock));
    hv_release(w->stock);
    free(w);
}

static const hv_server_clause warehouse_clauses[] = {
    {"get_inventory", get_inventory}};
static const hv_server_callbacks warehouse_cb = {
    .init = warehouse_init,
    .handle_cast = warehouse_cast,
    .terminate = warehouse_terminate,
};

/* Every child's start function: runs in the supervisor and starts the
 * server named arg linked to it, registered under that name.  They trap
 * exits, so a `shutdown` from the supervisor runs terminate. */
static int
start_server(void *arg, hv_term args, hv_term *pid, hv_term *reason)
{
    hv_server_opts opts = {
        .name = hv_atom(arg), .link = true, .trap_exit = true};
    (void)args;
    if (strcmp(arg, "worker") == 0) /* its skill: doubling */
        return hv_server_start(&worker_cb, (void *)(intptr_t)2, &opts, pid,
                               reason);
    return hv_server_start_table(warehouse_clauses, 1, &warehouse_cb, arg,
                                 &opts, pid, reason);
}

/* The application: starts the supervisor (warehouses first, as the
 * worker needs them), tells main, and stops it when main says so.  Only
 * a process can start or stop servers; main is a plain thread. */
static void
application(void *arg)
{
    hv_term bridge = (hv_term)(uintptr_t)arg; /* a local pid is one word */
    static const char *const names[] = {"positives", "negatives", "worker"};
    hv_child_spec children[3];
    for (int i = 0; i < 3; i++)
        children[i] = (hv_child_spec){.id = hv_atom(names[i]),
                                      .start = start_server,
                                      .arg = (void *)names[i]};
    hv_sup_flags flags = {HV_ONE_FOR_ONE, 3, 5000, HV_AUTO_NEVER};
    hv_server_opts opts = {.name = hv_atom("warehouse_sup"), .link = true};
    hv_term sup = HV_NONE, reason = HV_NONE, stop = HV_NONE;
    hv_trap_exit(true); /* the supervisor's exit at the end is a message */
    int rc = hv_sup_start(&flags, children, 3, &opts, &sup, &reason);
    hv_release(reason);
    hv_send(bridge, hv_atom(rc == HV_OK ? "started" : "failed"));
    if (rc != HV_OK)
        return;
    hv_recv(HV_INFINITY, &stop);
    hv_release(stop);
    rc = hv_server_stop(sup, hv_atom("shutdown"), WAIT_MS);
    hv_send(bridge, hv_atom(rc == HV_OK ? "stopped" : "failed"));
}

/* The rest is main's: plain C on the program's own thread. */
static bool
expect(bool ok, const char *what)
{
    if (!ok)
        fprintf(stderr, "warehouse: unexpected: %s\n", what);
    return ok;
}

/* Calls `to` with request and checks the reply against want (texts in
 * Erlang syntax), printing both. */
static bool
call(hv_bridge *b, const char *to, const char *request, const char *want)
{
    hv_term reply = HV_NONE, wanted = hv_parse(want, NULL);
    char got[128] = "";
    int rc = hv_bridge_call(b, hv_atom(to), hv_parse(request, NULL), WAIT_MS,
                            &reply);
    hv_format(reply, got, sizeof got); /* on failure, reply is HV_NONE */
    printf("  %s ! %s -> %s\n", to, request,
           rc == HV_OK ? got : hv_strerror(rc));
    bool ok = expect(rc == HV_OK && hv_equal(reply, wanted), want);
    hv_release(reply);
    hv_release(wanted);
    return ok;
}

/* As in the seed, positives get the tasks whose input is >= 0. */
static void
send_task(int64_t input)
{
    const char *to = input >= 0 ? "positives" : "negatives";
    hv_send(hv_atom("worker"), hv_make("{task, ~l, ~a}", input, to));
}

/* Waits for the application to say `what` (started, stopped). */
static bool
await(hv_bridge *b, const char *what)
{
    hv_term msg = HV_NONE;
    bool ok = hv_bridge_recv(b, WAIT_MS, &msg) == HV_OK && msg == hv_atom(what);
    hv_release(msg);
    return expect(ok, what);
}

/* Waits until the worker's name names a new process. */
static bool
await_restart(hv_term old)
{
    for (int ms = 0; ms < WAIT_MS; ms++) {
        hv_term now = hv_whereis(hv_atom("worker"));
        if (now != HV_NONE && now != old)
            return true;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return expect(false, "the worker was not restarted");
}

/* The seed's story: six tasks, then each warehouse's inventory. */
static bool
seed_story(hv_bridge *b)
{
    static const int64_t inputs[] = {1, 2, 3, -2, -4, -6};
    printf("main sends the worker 6 tasks and asks the warehouses:\n");
    for (int i = 0; i < 6; i++)
        send_task(inputs[i]);
    return call(b, "worker", "sync", "ok") &&
           call(b, "positives", "get_inventory", "[2, 4, 6]") &&
           call(b, "negatives", "get_inventory", "[-4, -8, -12]") &&
           call(b, "positives", "{steal, 2}",
                "{error, {bad_request, {steal, 2}}}");
}

/* A task with no number crashes the worker; one_for_one restarts only
 * it, under the same name, and the warehouses keep their stock. */
static bool
crash_story(hv_bridge *b)
{
    hv_term worker = hv_whereis(hv_atom("worker"));
    hv_term positives = hv_whereis(hv_atom("positives"));
    printf("main sends {task, <<\"ten\">>, positives}: the worker crashes\n");
    hv_send(hv_atom("worker"),
            hv_parse("{task, <<\"ten\">>, positives}", NULL));
    if (!await_restart(worker))
        return false;
    printf("  warehouse_sup restarted the worker alone (one_for_one)\n");
    send_task(5);
    return call(b, "worker", "sync", "ok") &&
           call(b, "positives", "get_inventory", "[2, 4, 6, 10]") &&
           expect(hv_whereis(hv_atom("positives")) == positives,
                  "positives was restarted");
}

/* The default run: many more tasks, all for negatives. */
static bool
bulk(hv_bridge *b)
{
    hv_term reply = HV_NONE;
    printf("main sends %d more tasks\n", BULK);
    for (int i = 1; i <= BULK; i++)
        send_task(-i);
    bool ok = call(b, "worker", "sync", "ok") &&
              hv_bridge_call(b, hv_atom("negatives"), hv_atom("get_inventory"),
                             WAIT_MS, &reply) == HV_OK &&
              hv_list_length(reply) == 3 + BULK;
    hv_release(reply);
    return expect(ok, "negatives does not hold them all");
}

int
main(int argc, char **argv)
{
    bool short_run = argc > 1 && strcmp(argv[1], "--short") == 0;
    task_pattern = hv_pattern_compile("{task, Input, Warehouse}", NULL);
    if (task_pattern == NULL || hv_start(NULL) != HV_OK)
        return 1;
    hv_bridge *b = hv_bridge_open(NULL);
    void *bridge_pid = b == NULL ? NULL : (void *)(uintptr_t)hv_bridge_pid(b);
    hv_term app = b == NULL ? HV_NONE : hv_spawn(application, bridge_pid);
    bool ok = expect(app != HV_NONE, "no bridge or application") &&
              await(b, "started") && seed_story(b) && crash_story(b) &&
              (short_run || bulk(b));
    if (ok) {
        printf("main asks the application to stop the supervisor:\n");
        hv_send(app, hv_atom("stop"));
        ok = await(b, "stopped");
    }
    hv_bridge_close(b);
    hv_stop();
    hv_pattern_free(task_pattern);
    printf("%s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
