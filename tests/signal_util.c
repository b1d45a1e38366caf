/* tests/signal_util.c - what the links and monitors suites share:
 * receiving by pattern with a bound on the wait, and matching results. */
#include "tests/signal_util.h"

#include "tests/hv_check.h"
#include "tests/proc_util.h"

enum { WAIT_MS = SIGNAL_WAIT_MS, QUIET_MS = SIGNAL_QUIET_MS };

/* (process) The first message matching pattern (match.h syntax, pins
 * in order) within ms, removed (new); HV_NONE if none came. */
hv_term
recv_match(const char *pattern, const hv_pins *pins, int64_t ms)
{
    hv_rset *s = hv_rset_new(NULL, pattern, (const char *)NULL);
    hv_bindings b;
    hv_term m = HV_NONE;

    if (hv_expect_at(s != NULL, pattern, __LINE__) &&
        hv_receive(s, pins, ms, &b) == HV_OK)
        m = b.msg;
    hv_rset_free(s);
    return m;
}

/* (process) Whether a message matching pattern arrives within ms (it is
 * dropped). */
bool
got_within(int64_t ms, const char *pattern, const hv_pins *pins)
{
    hv_term m = recv_match(pattern, pins, ms);
    hv_release(m);
    return m != HV_NONE;
}

bool
got(const char *pattern, const hv_pins *pins)
{
    return got_within(WAIT_MS, pattern, pins);
}

/* (process) Whether nothing matching pattern arrives within QUIET_MS. */
bool
quiet(const char *pattern, const hv_pins *pins)
{
    return !got_within(QUIET_MS, pattern, pins);
}

/* Whether t (consumed) matches pattern: a literal pattern is exact. */
bool
matches(hv_term t, const char *pattern, const hv_pins *pins)
{
    hv_pattern *p = hv_pattern_compile(pattern, NULL);
    hv_bindings b;
    bool ok = t != HV_NONE && hv_match(p, t, pins, &b) == HV_OK;

    hv_pattern_free(p);
    hv_release(t);
    return ok;
}

/* (process) The reason of the DOWN for ref (borrowed), new; HV_NONE if
 * none came. */
hv_term
down_reason(hv_term ref)
{
    hv_term m =
        recv_match("{'DOWN', ^R, process, _, _}", HV_PINS(ref), WAIT_MS);
    hv_term reason = hv_retain(hv_tuple_at(m, 4));

    hv_release(m);
    return reason;
}

/* (process) Waits until the caller's mailbox holds n messages; sleeping
 * is a point where the caller acts on its signals. */
bool
mailbox_reaches(size_t n)
{
    hv_proc_info info;
    for (int i = 0; i < WAIT_MS; i++) {
        if (hv_process_info(hv_self(), &info) == HV_OK && info.mailbox_len >= n)
            return true;
        hv_sleep(1);
    }
    return false;
}

void *
term_arg(hv_term t)
{
    return (void *)(uintptr_t)t;
}

hv_term
dead_pid(void)
{
    hv_term ref = HV_NONE, p = hv_spawn_monitor(returns_at_once, NULL, &ref);
    EXPECT(matches(down_reason(ref), "normal", NULL));
    return p;
}

hv_term
never_alive_pid(void)
{
    return hv_pid_local(7, (1u << 28) - 1);
}

void
run_row(void *arg)
{
    (*(void (*const *)(void))arg)();
}
