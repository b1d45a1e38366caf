/* runtime/io.c - hv_io_wait: parking a process on its scheduler's epoll
 * set instead of blocking the thread.
 *
 * Each scheduler keeps, by fd, the list of its processes waiting on that
 * fd, and registers the fd one-shot (data: fd + 1) for the union of what
 * they wait for; several processes may wait on one fd (a reader and a
 * writer on a socket).  When it fires, every waiter whose interest is met
 * wakes and the fd is re-armed for the rest.  A registration stays after
 * its waiters are gone (disarmed), so the next wait is one EPOLL_CTL_MOD.
 * The scheduler polls without blocking between runs while processes
 * wait, and sleeps in epoll_wait, not on its futex, when idle; an eventfd
 * (data 0) lets wakers interrupt that sleep. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "runtime/alloc.h"
#include "runtime/ptable.h"
#include "runtime/signal.h"
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
    hv__free(s->io_lists, s->io_lists_len * sizeof *s->io_lists);
    s->io_lists = NULL;
    s->io_lists_len = 0;
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

/* Registers fd for what its waiters want, or (none left) leaves it
 * disarmed.  Returns 0 or an errno. */
static int
arm(struct hv__sched *s, int fd)
{
    uint32_t want = 0;
    for (struct hv__proc *p = s->io_lists[fd]; p != NULL; p = p->io_next)
        want |= p->io_events;
    if (want == 0)
        return 0;
    struct epoll_event ev = {.events = EPOLLONESHOT | EPOLLRDHUP,
                             .data.u64 = (uint64_t)fd + 1};
    if (want & HV_IO_READ)
        ev.events |= EPOLLIN;
    if (want & HV_IO_WRITE)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    if (errno == ENOENT && epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    return errno;
}

static void
unlink_waiter(struct hv__sched *s, struct hv__proc *p)
{
    for (struct hv__proc **pp = &s->io_lists[p->io_fd]; *pp != NULL;
         pp = &(*pp)->io_next) {
        if (*pp == p) {
            *pp = p->io_next;
            break;
        }
    }
    p->io_next = NULL;
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
        int fd = (int)(evs[i].data.u64 - 1);
        if ((size_t)fd >= s->io_lists_len)
            continue;
        uint32_t got = to_hv(evs[i].events);
        struct hv__proc **pp = &s->io_lists[fd];
        while (*pp != NULL) {
            struct hv__proc *p = *pp;
            if ((p->io_events & got) == 0 && !(got & HV_IO_ERROR)) {
                pp = &p->io_next;
                continue;
            }
            uint32_t old =
                atomic_load_explicit(&p->state, memory_order_relaxed);
            if ((old & P_STATE_MASK) != P_WAIT_IO ||
                !atomic_compare_exchange_strong_explicit(
                    &p->state, &old, (old & P_NOTIFY) | P_RUNNABLE,
                    memory_order_acq_rel, memory_order_relaxed)) {
                /* Its timeout won; it unlinks itself when it runs. */
                pp = &p->io_next;
                continue;
            }
            *pp = p->io_next;
            p->io_next = NULL;
            p->io_revents = got;
            hv__sched_enqueue(p);
            woke++;
        }
        arm(s, fd);
    }
    return woke;
}

void
hv__io_forget(struct hv__sched *s, struct hv__proc *p)
{
    int fd = p->io_fd;
    unlink_waiter(s, p);
    p->io_fd = -1;
    if (s->io_lists[fd] == NULL)
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
    else
        arm(s, fd);
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

/* Makes s->io_lists cover fd.  False when memory is out. */
static bool
reserve_fd(struct hv__sched *s, int fd)
{
    if ((size_t)fd < s->io_lists_len)
        return true;
    size_t len = s->io_lists_len ? s->io_lists_len : 64;
    while (len <= (size_t)fd)
        len *= 2;
    struct hv__proc **l = hv__realloc(s->io_lists,
                                      s->io_lists_len * sizeof *l,
                                      len * sizeof *l);
    if (l == NULL)
        return false;
    memset(l + s->io_lists_len, 0, (len - s->io_lists_len) * sizeof *l);
    s->io_lists = l;
    s->io_lists_len = len;
    return true;
}

/* Puts p on fd's waiter list and arms the poller.  HV_ETIMEOUT: enlisted
 * (wait now); HV_OK: ready without waiting; HV_EBADARG. */
static int
enlist(struct hv__sched *s, struct hv__proc *p, int fd, uint32_t events,
       uint32_t *revents)
{
    p->io_fd = fd;
    p->io_events = events;
    p->io_revents = 0;
    p->io_next = s->io_lists[fd];
    s->io_lists[fd] = p;
    int e = arm(s, fd);
    if (e == 0)
        return HV_ETIMEOUT;
    unlink_waiter(s, p);
    p->io_fd = -1;
    arm(s, fd);
    /* EPERM: a regular file or directory, always ready, as poll(2)
     * says. */
    if (e == EPERM) {
        if (revents != NULL)
            *revents = events;
        return HV_OK;
    }
    return HV_EBADARG;
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
    if (!reserve_fd(s, fd))
        return HV_ENOMEM;
    int64_t deadline = hv__deadline(timeout_ms);
    int rc;
    for (;;) {
        hv__signal_check(p);
        rc = enlist(s, p, fd, events, revents);
        if (rc != HV_ETIMEOUT)
            return rc; /* ready at once, or an error */
        s->io_waiters++;
        do
            rc = hv__proc_block(p, P_WAIT_IO, deadline);
        while (rc == HV_OK && p->io_revents == 0 &&
               atomic_load_explicit(&p->signals_in, memory_order_relaxed) ==
                   p->signals_taken);
        /* Woken without readiness for another reason (a stale P_NOTIFY)
         * it waits on; for a signal it leaves the poller's lists first,
         * so that it can end with the books straight, and waits again if
         * it lives on. */
        s->io_waiters--;
        if (rc != HV_OK || p->io_revents == 0)
            hv__io_forget(s, p);
        if (rc != HV_OK || p->io_revents != 0)
            break;
        hv__signal_check(p);
    }
    if (rc == HV_OK) {
        if (revents != NULL)
            *revents = p->io_revents;
        p->io_fd = -1; /* the poller unlinked it */
    }
    p->io_revents = 0;
    return rc == HV_ENOPROC ? HV_ETIMEOUT : rc;
}
