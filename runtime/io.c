/* runtime/io.c - hv_io_wait: parking a process on its scheduler's epoll
 * set instead of blocking the thread.
 *
 * Each wait registers the fd one-shot with the waiting process's pid as
 * its data (EPOLL_CTL_MOD when the fd is registered already, as it stays
 * after a one-shot fires).  The scheduler polls without blocking between
 * runs while processes wait, and sleeps in epoll_wait, not on its futex,
 * when idle; an eventfd (data 0, as no pid is 0) lets wakers interrupt
 * that sleep. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "runtime/ptable.h"
#include "runtime/sched.h"
#include "runtime/util.h"

int
hv__io_init(struct hv__sched *s)
{
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0)
        return HV_ENOMEM;
    s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->evfd < 0) {
        close(s->epfd);
        s->epfd = -1;
        return HV_ENOMEM;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->evfd, &ev) != 0) {
        close(s->evfd);
        close(s->epfd);
        s->epfd = s->evfd = -1;
        return HV_ENOMEM;
    }
    return HV_OK;
}

void
hv__io_fini(struct hv__sched *s)
{
    if (s->evfd >= 0)
        close(s->evfd);
    if (s->epfd >= 0)
        close(s->epfd);
    s->epfd = s->evfd = -1;
}

void
hv__io_kick(struct hv__sched *s)
{
    uint64_t one = 1;
    ssize_t w = write(s->evfd, &one, sizeof one);
    (void)w; /* EAGAIN: the counter is non-zero, a wake is pending */
}

static uint32_t
to_hv(uint32_t ev)
{
    uint32_t r = 0;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLPRI))
        r |= HV_IO_READ;
    if (ev & EPOLLOUT)
        r |= HV_IO_WRITE;
    if (ev & (EPOLLERR | EPOLLHUP))
        r |= HV_IO_ERROR | HV_IO_READ;
    return r;
}

size_t
hv__io_poll(struct hv__sched *s, int timeout_ms)
{
    struct epoll_event evs[64];
    int n = epoll_wait(s->epfd, evs, 64, timeout_ms);
    size_t woke = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == 0) {
            uint64_t v;
            ssize_t r = read(s->evfd, &v, sizeof v);
            (void)r;
            continue;
        }
        struct hv__proc *p = hv__ptable_pin((hv_term)evs[i].data.u64);
        if (p == NULL)
            continue;
        uint32_t old = atomic_load_explicit(&p->state, memory_order_relaxed);
        while ((old & P_STATE_MASK) == P_WAIT_IO && p->home == s) {
            if (atomic_compare_exchange_weak_explicit(
                    &p->state, &old, (old & P_NOTIFY) | P_RUNNABLE,
                    memory_order_acq_rel, memory_order_relaxed)) {
                p->io_revents = to_hv(evs[i].events);
                hv__sched_enqueue(p);
                woke++;
                break;
            }
        }
        hv__ptable_unpin(p);
    }
    return woke;
}

void
hv__io_forget(struct hv__sched *s, struct hv__proc *p)
{
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->io_fd, NULL);
    p->io_fd = -1;
}

/* A wait that blocks its thread: for thread processes and polls. */
static int
wait_poll(int fd, uint32_t events, int64_t timeout_ms, uint32_t *revents)
{
    struct pollfd pfd = {.fd = fd, .events = 0};
    if (events & HV_IO_READ)
        pfd.events |= POLLIN;
    if (events & HV_IO_WRITE)
        pfd.events |= POLLOUT;
    int t = timeout_ms < 0 ? -1 : timeout_ms > INT32_MAX ? INT32_MAX
                                                          : (int)timeout_ms;
    int n;
    do {
        n = poll(&pfd, 1, t);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n == 0 ? HV_ETIMEOUT : HV_EBADARG;
    if (pfd.revents & POLLNVAL)
        return HV_EBADARG;
    uint32_t r = 0;
    if (pfd.revents & (POLLIN | POLLPRI | POLLRDHUP))
        r |= HV_IO_READ;
    if (pfd.revents & POLLOUT)
        r |= HV_IO_WRITE;
    if (pfd.revents & (POLLERR | POLLHUP))
        r |= HV_IO_ERROR | HV_IO_READ;
    if (revents != NULL)
        *revents = r;
    return HV_OK;
}

int
hv_io_wait(int fd, uint32_t events, int64_t timeout_ms, uint32_t *revents)
{
    struct hv__proc *p = hv__tls_proc;
    if (revents != NULL)
        *revents = 0;
    if (p == NULL || p->exiting || fd < 0 || events == 0 ||
        (events & ~(HV_IO_READ | HV_IO_WRITE)) != 0)
        return HV_EBADARG;
    if (fcntl(fd, F_GETFD) < 0)
        return HV_EBADARG;
    if (p->kind == K_THREAD || timeout_ms == 0)
        return wait_poll(fd, events, timeout_ms, revents);

    struct hv__sched *s = p->home;
    struct epoll_event ev = {.events = EPOLLONESHOT | EPOLLRDHUP,
                             .data.u64 = p->pid};
    if (events & HV_IO_READ)
        ev.events |= EPOLLIN;
    if (events & HV_IO_WRITE)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) {
        if (errno != ENOENT ||
            epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            /* EPERM: a regular file or directory, always ready, as
             * poll(2) says. */
            if (errno == EPERM) {
                if (revents != NULL)
                    *revents = events;
                return HV_OK;
            }
            return HV_EBADARG;
        }
    }
    p->io_fd = fd;
    s->io_waiters++;
    int64_t deadline = hv__deadline(timeout_ms);
    int rc;
    for (;;) {
        rc = hv__proc_block(p, P_WAIT_IO, deadline);
        if (rc != HV_OK || p->io_revents != 0)
            break;
        /* Woken for another reason (a stale P_NOTIFY): wait on. */
    }
    s->io_waiters--;
    if (rc == HV_OK) {
        if (revents != NULL)
            *revents = p->io_revents;
        p->io_fd = -1; /* the one-shot disarmed itself */
    } else {
        hv__io_forget(s, p);
    }
    p->io_revents = 0;
    return rc == HV_ENOPROC ? HV_ETIMEOUT : rc;
}
