/* examples/voting.c - the voting machine of XUDD's design notes on hive:
 * actors that share nothing, talk in messages routed by directive, and
 * match replies to requests by message id.
 *
 * A request is {Directive, From, MsgId, Body...}; MsgId is a fresh ref.
 * A reply is {ReplyDirective, MsgId, Body}, naming the request it answers
 * (XUDD's "in-reply-to"), so the asker waits for exactly that reply with
 * a selective receive while whatever else arrives stays queued, in order.
 * voting_machine counts ballots and announces each to the voters so far;
 * slow_machine answers too late for the one voter who tries it.  main then
 * asks for a tally, sends an unknown directive, closes the polls, casts a
 * late ballot, and exits 1 unless the count is what the voters were told.
 * --short: 6 voters; without: 500. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hive/hive.h>

static const char *const candidates[] = {"alice", "bob", "carol"};
enum { NCANDIDATES = 3, SHOWN = 6, MAX_VOTERS = 500 };

/* Receive sets are compiled once, before the runtime starts, and shared
 * by every process: they are immutable. */
static struct {
    hv_rset *routing; /* the machines: what to do with a request */
    hv_rset *ack;     /* a voter: the answer to its own ballot */
    hv_rset *reply;   /* main: the answer to its own request */
    hv_rset *report;  /* main: what each voter was told */
    hv_term main;
    int voters;
    int status;
} ex;

/* Prints the label and the term, in Erlang syntax. */
static void
show(const char *label, hv_term t)
{
    char text[256];
    if (hv_format(t, text, sizeof text) < 0)
        strcpy(text, "(no answer)");
    printf("  %-22s %s\n", label, text);
}

/* voting_machine's state: no other process touches it.  main() releases
 * the tally once the runtime, which kills the machine, has stopped. */
static struct machine {
    hv_term tally;              /* #{Candidate => Ballots} */
    hv_term voters[MAX_VOTERS]; /* who voted, for the announcements */
    size_t nvoters;
    bool closed;
} vm;

/* Counts a ballot and tells everyone who voted so far, this voter too:
 * its acknowledgement then arrives behind an announcement it must skip.
 * Returns the result for the voter (new). */
static hv_term
count_ballot(struct machine *m, hv_term voter, hv_term candidate)
{
    if (m->closed)
        return hv_tuple(2, hv_atom("rejected"), hv_atom("closed"));
    int64_t n = 0;
    hv_int_value(hv_map_get(m->tally, candidate), &n); /* absent: 0 */
    m->tally = hv_map_put(m->tally, candidate, hv_int(n + 1));
    if (m->nvoters < MAX_VOTERS)
        m->voters[m->nvoters++] = voter;
    for (size_t i = 0; i < m->nvoters; i++)
        hv_send(m->voters[i],
                hv_tuple(3, hv_atom("announcement"), hv_atom("ballots_cast"),
                         hv_int((int64_t)m->nvoters)));
    return hv_atom("accepted");
}

/* Replies {Directive, MsgId, Body} (body consumed). */
static void
reply(hv_term to, const char *directive, hv_term msg_id, hv_term body)
{
    hv_send(to, hv_tuple(3, hv_atom(directive), hv_retain(msg_id), body));
}

/* XUDD routes a message through a table of handlers keyed by directive;
 * here one receive set does it.  Clauses are tried in order for each
 * message, so the catch-alls at the end see only what the others
 * refused: a {tally, ...} request never reaches clause 3. */
static void
voting_machine(void *arg)
{
    struct machine *m = &vm;
    hv_bindings b;
    (void)arg;
    m->tally = hv_map_new();
    while (hv_receive(ex.routing, NULL, HV_INFINITY, &b) == HV_OK) {
        hv_term from = hv_binding(&b, "From"), id = hv_binding(&b, "MsgId");
        switch (b.clause) {
        case 0: /* {cast_vote, From, MsgId, Candidate} */
            reply(from, "vote_ack", id,
                  count_ballot(m, from, hv_binding(&b, "Candidate")));
            break;
        case 1: /* {tally, From, MsgId} */
            reply(from, "tally", id, hv_retain(m->tally));
            break;
        case 2: /* {close, From, MsgId} */
            m->closed = true;
            reply(from, "closed", id, hv_retain(m->tally));
            break;
        case 3: /* {Directive, From, MsgId}: not one of ours */
            reply(from, "error", id,
                  hv_tuple(2, hv_atom("unknown_directive"),
                           hv_retain(hv_binding(&b, "Directive"))));
            break;
        default: /* no request at all: nobody to answer */
            show("voting_machine drops:", b.msg);
        }
        hv_bindings_release(&b);
    }
}

/* Accepts every ballot, 300 ms late, holding no term while it sleeps:
 * main's end kills it there, and a killed process leaks what it holds. */
static void
slow_machine(void *arg)
{
    hv_bindings b;
    (void)arg;
    while (hv_receive(ex.routing, NULL, HV_INFINITY, &b) == HV_OK) {
        hv_term from = hv_retain(hv_binding(&b, "From"));
        hv_term id = hv_retain(hv_binding(&b, "MsgId"));
        hv_bindings_release(&b);
        hv_sleep(300);
        reply(from, "vote_ack", id, hv_atom("accepted"));
        hv_release(from);
        hv_release(id);
    }
}

/* Sends machine (a registered name) the request {directive, Self, MsgId}
 * or, with a candidate, {directive, Self, MsgId, Candidate}, and waits
 * for the reply to it: the set pins MsgId, a ref made just now, so no
 * other message matches.  timeout_ms may be HV_AFTER: the set's `after`
 * clause.  Returns the reply's Body (new), or HV_NONE on timeout. */
static hv_term
call(const char *machine, const char *directive, hv_term candidate,
     const hv_rset *replies, int64_t timeout_ms)
{
    hv_term id = hv_ref_make(), body = HV_NONE;
    hv_term req =
        candidate == HV_NONE
            ? hv_tuple(3, hv_atom(directive), hv_self(), id)
            : hv_tuple(4, hv_atom(directive), hv_self(), id, candidate);
    hv_bindings b;
    hv_send(hv_atom(machine), req);
    if (hv_receive(replies, HV_PINS(id), timeout_ms, &b) == HV_OK) {
        body = hv_retain(hv_binding(&b, "Body"));
        hv_bindings_release(&b);
    }
    return body;
}

static void
voter(void *arg)
{
    int i = (int)(intptr_t)arg;
    hv_term candidate = hv_atom(candidates[i % NCANDIDATES]), result = HV_NONE;
    if (i == 0) {
        result = call("slow_machine", "cast_vote", candidate, ex.ack, 50);
        if (result == HV_NONE)
            printf("  voter 0 waited 50 ms for slow_machine; votes at "
                   "voting_machine instead\n");
    }
    /* A late answer from slow_machine carries the old MsgId: it cannot
     * match this call, which pins a new one. */
    if (result == HV_NONE)
        result =
            call("voting_machine", "cast_vote", candidate, ex.ack, HV_AFTER);
    /* The announcements that came while we waited are queued still. */
    int64_t waiting = 0;
    hv_term msg;
    while (hv_recv(0, &msg) == HV_OK) {
        waiting++;
        hv_release(msg);
    }
    hv_send(ex.main, hv_tuple(5, hv_atom("voted"), hv_int(i), candidate, result,
                              hv_int(waiting)));
}

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "voting: %s\n", what);
        ex.status = 1;
    }
}

/* Collects every voter's report; counts[c] gets the ballots for
 * candidate c that the machine accepted. */
static void
collect_reports(int64_t *counts)
{
    for (int n = 0; n < ex.voters; n++) {
        hv_bindings b;
        if (hv_receive(ex.report, NULL, 5000, &b) != HV_OK) {
            check(false, "a voter never reported");
            return;
        }
        int64_t i = 0, waiting = 0;
        hv_int_value(hv_binding(&b, "Voter"), &i);
        hv_int_value(hv_binding(&b, "Waiting"), &waiting);
        bool accepted = hv_binding(&b, "Result") == hv_atom("accepted");
        check(accepted, "a ballot was not accepted while polls were open");
        counts[i % NCANDIDATES] += accepted;
        if (i < SHOWN)
            printf("  voter %lld voted %s: %s; %lld announcement(s) were "
                   "left in its mailbox\n",
                   (long long)i, candidates[i % NCANDIDATES],
                   accepted ? "accepted" : "NOT accepted", (long long)waiting);
        hv_bindings_release(&b);
    }
    if (ex.voters > SHOWN)
        printf("  ... and %d more voters\n", ex.voters - SHOWN);
}

static void
election(void *arg)
{
    static const char *const names[] = {"voting_machine", "slow_machine"};
    hv_fn *const machines[] = {voting_machine, slow_machine};
    int64_t counts[NCANDIDATES] = {0};
    (void)arg;
    ex.main = hv_self();
    for (int i = 0; i < 2; i++) {
        hv_spawn_opts named = {.name = hv_atom(names[i])};
        hv_term pid;
        check(hv_spawn_opt(machines[i], NULL, &named, &pid, NULL) == HV_OK,
              names[i]);
    }
    printf("polls open: %d voters\n", ex.voters);
    for (int i = 0; i < ex.voters; i++)
        hv_spawn(voter, (void *)(intptr_t)i);
    collect_reports(counts);

    printf("requests from main\n");
    hv_term tally = call("voting_machine", "tally", HV_NONE, ex.reply, 1000);
    show("tally:", tally);
    hv_term error = call("voting_machine", "recount", HV_NONE, ex.reply, 1000);
    show("recount:", error);
    check(hv_is_tuple(error), "an unknown directive got no error");
    hv_send(hv_atom("voting_machine"), hv_atom("hello"));
    hv_term final = call("voting_machine", "close", HV_NONE, ex.reply, 1000);
    show("close, final count:", final);
    hv_term late =
        call("voting_machine", "cast_vote", hv_atom("bob"), ex.ack, HV_AFTER);
    show("a late ballot:", late);
    check(hv_is_tuple(late), "a ballot after the close was not rejected");

    for (int c = 0; c < NCANDIDATES; c++) {
        int64_t got = 0;
        hv_int_value(hv_map_get(final, hv_atom(candidates[c])), &got);
        printf("  %-6s %lld ballots, %lld acknowledged to voters\n",
               candidates[c], (long long)got, (long long)counts[c]);
        check(got == counts[c], "the count differs from the ballots cast");
    }
    hv_release(tally);
    hv_release(error);
    hv_release(final);
    hv_release(late);
}

int
main(int argc, char **argv)
{
    hv_error err = {0};
    ex.voters = argc > 1 && strcmp(argv[1], "--short") == 0 ? 6 : MAX_VOTERS;
    ex.routing = hv_rset_new(
        &err, "{cast_vote, From, MsgId, Candidate} when is_atom(Candidate)",
        "{tally, From, MsgId}", "{close, From, MsgId}",
        "{Directive, From, MsgId} when is_pid(From)", "_Other", NULL);
    /* Every clause pins element 1 to the MsgId, a ref made just before
     * the request: hive starts after the messages queued before the ref,
     * or answers from its mailbox index, so announcements piling up do
     * not slow the wait. */
    ex.ack = hv_rset_new(&err, "{vote_ack, ^MsgId, Body}",
                         "{error, ^MsgId, Body}", "after 1000", NULL);
    ex.reply = hv_rset_new(&err, "{_, ^MsgId, Body}", NULL);
    ex.report =
        hv_rset_new(&err, "{voted, Voter, _Candidate, Result, Waiting}", NULL);
    if (!ex.routing || !ex.ack || !ex.reply || !ex.report)
        check(false, err.what); /* fixed text: a bug worth its message */
    else
        check(hv_run(election, NULL, NULL, NULL) == HV_OK, "hv_run failed");
    hv_release(vm.tally);
    hv_rset_free(ex.routing);
    hv_rset_free(ex.ack);
    hv_rset_free(ex.reply);
    hv_rset_free(ex.report);
    printf(ex.status == 0 ? "the count is right\n" : "the count is WRONG\n");
    return ex.status;
}
