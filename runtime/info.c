/* runtime/info.c - introspection: hv_process_info, hv_processes. */
#include "runtime/alloc.h"
#include "runtime/ptable.h"
#include "runtime/sched.h"
#include "runtime/term_box.h"
#include "runtime/util.h"

int
hv_process_info(hv_term pid, hv_proc_info *info)
{
    if (info == NULL || hv__imm_tag(pid) != HV__TAG_PID)
        return HV_EBADARG;
    if (!hv__api_enter())
        return HV_ENOPROC;
    struct hv__proc *p = hv__ptable_pin(pid);
    if (p == NULL) {
        hv__api_leave();
        return HV_ENOPROC;
    }
    /* Another thread may be changing these; each is read once, so the
     * record is a snapshot of fields that were each true at some point. */
    uint32_t st = atomic_load_explicit(&p->state, memory_order_relaxed) &
                  P_STATE_MASK;
    switch (st) {
    case P_RUNNING:
        info->status = HV_STATUS_RUNNING;
        break;
    case P_RUNNABLE:
        info->status = HV_STATUS_RUNNABLE;
        break;
    case P_EXITING:
        info->status = HV_STATUS_EXITING;
        break;
    default:
        info->status = HV_STATUS_WAITING;
        break;
    }
    uint64_t in = atomic_load_explicit(&p->enqueued, memory_order_relaxed) +
                  atomic_load_explicit(&p->local_in, memory_order_relaxed);
    uint64_t out = atomic_load_explicit(&p->dequeued, memory_order_relaxed);
    info->mailbox_len = in > out ? (size_t)(in - out) : 0;
    info->reductions =
        atomic_load_explicit(&p->reductions, memory_order_relaxed);
    info->stack_bytes =
        atomic_load_explicit(&p->stack_used, memory_order_relaxed);
    info->memory_bytes = sizeof *p + info->stack_bytes +
                         info->mailbox_len * sizeof(struct hv__msg);
    info->name = atomic_load_explicit(&p->name, memory_order_relaxed);
    info->dedicated_stack = p->kind == K_DEDICATED;
    info->thread = p->kind == K_THREAD;
    info->bridge = p->kind == K_BRIDGE;
    info->scheduler = hv__ptable_home(p);
    hv__ptable_unpin(p);
    hv__api_leave();
    return HV_OK;
}

struct collect {
    hv_term *out;
    size_t cap, n;
};

static void
collect_one(struct hv__proc *p, void *ctx)
{
    struct collect *c = ctx;
    if (c->n < c->cap)
        c->out[c->n] = p->pid;
    c->n++;
}

size_t
hv_processes(hv_term *out, size_t cap)
{
    struct collect c = {.out = out, .cap = out != NULL ? cap : 0, .n = 0};
    if (!hv__api_enter())
        return 0;
    hv__ptable_each(collect_one, &c);
    hv__api_leave();
    return c.n;
}

size_t
hv_process_count(void)
{
    return hv__ptable_count();
}
