/* tests/proc_fixtures.c - processes and counters the process life-cycle
 * suites (check_process, check_spawn, check_exit, check_sched) share. */
#include "tests/proc_fixtures.h"

#include "tests/hv_check.h"
#include "tests/proc_util.h"

atomic_int ran;

void
main_returns(void *arg)
{
    EXPECT(arg == &ran);
    EXPECT(hv_running());
    EXPECT(hv_is_pid(hv_self()));
    atomic_fetch_add(&ran, 1);
}

atomic_int returned_into;

/* hv_exit through a pointer the compiler cannot see through, so that it
 * neither warns that the recursions below never end nor drops the code
 * after the calls, which must never run. */
void (*volatile exit_fn)(hv_term) = hv_exit;

void __attribute__((noinline))
exit_at_depth(int depth, hv_term reason)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth == 0) {
        exit_fn(reason);
        atomic_fetch_add(&returned_into, 1000);
        return;
    }
    exit_at_depth(depth - 1, reason);
    atomic_fetch_add(&returned_into, 1 + frame[0]);
}

atomic_int nested_ran;

void
nested_main(void *arg)
{
    (void)arg;
    atomic_fetch_add(&nested_ran, 1);
}

atomic_int deferred;

void
count_defer(void *arg)
{
    (void)arg;
    atomic_fetch_add(&deferred, 1);
}

/* Answers {From, N} with N + 1 until it gets `stop`. */
void
echo_plus_one(void *arg)
{
    (void)arg;
    EXPECT(hv_defer(count_defer, NULL) == HV_OK);
    for (;;) {
        hv_term m = HV_NONE;
        if (hv_recv(HV_INFINITY, &m) != HV_OK)
            return;
        if (m == hv_atom("stop"))
            return;
        int64_t n = -1;
        hv_term from = hv_tuple_at(m, 0);
        EXPECT(hv_int_value(hv_tuple_at(m, 1), &n) == HV_OK);
        EXPECT(hv_send(from, hv_int(n + 1)) == HV_OK);
        hv_release(m);
    }
}

atomic_int resumed_after_kill;
/* Which way of blocking (struct blocker's how) returned when killed. */
atomic_int resumed_how[3];

hv_term parent;
void
exit_on_message(void *arg)
{
    (void)arg;
    hv_term m = next_msg();
    hv_release(m);
}
