/* POSIX port: readiness polling with epoll, or poll() as the fallback.
 *
 * Both are level-triggered: a descriptor that still has data is reported
 * again on the next wait, so callers may read one chunk per event and stay
 * fair between connections.  The poll() kind keeps a dense pollfd table
 * (swap-with-last removal) and a parallel table of user pointers. */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/port.h"
#include "port_int.h"

struct moss_port_poller {
  enum moss_port_poll_kind kind;
  int epfd;
  size_t max, n, size; /* poll(): entries used / allocated */
  size_t count;        /* epoll: registered descriptors */
  struct pollfd *pfd;
  void **ptr;
};

int moss_port_poller_open(enum moss_port_poll_kind kind, size_t max_fds,
                          struct moss_port_poller **out) {
  struct moss_port_poller *p = moss_calloc(MOSS_SUB_CONN, 1, sizeof(*p));
  if (p == NULL)
    return MOSS_ERR_NOMEM;
  p->kind = kind;
  p->max = max_fds;
  p->epfd = -1;
  if (kind == MOSS_PORT_POLL_EPOLL) {
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0) {
      moss_port_set_error(errno);
      moss_free(p);
      return MOSS_ERR_IO;
    }
  } else if (kind != MOSS_PORT_POLL_POLL) {
    moss_free(p);
    return MOSS_ERR_INVAL;
  }
  *out = p;
  return MOSS_OK;
}

void moss_port_poller_close(struct moss_port_poller *p) {
  if (p == NULL)
    return;
  if (p->epfd >= 0)
    close(p->epfd);
  moss_free(p->pfd);
  moss_free(p->ptr);
  moss_free(p);
}

enum moss_port_poll_kind moss_port_poller_kind(
    const struct moss_port_poller *p) {
  return p->kind;
}

static short to_poll(unsigned ev) {
  return (short)(((ev & MOSS_PORT_IN) ? POLLIN : 0) |
                 ((ev & MOSS_PORT_OUT) ? POLLOUT : 0));
}

static int ctl_epoll(struct moss_port_poller *p, int fd, void *ptr,
                     unsigned was, unsigned now) {
  struct epoll_event e = {0};
  int op = was == 0 ? EPOLL_CTL_ADD : now == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (op == EPOLL_CTL_ADD && p->count >= p->max)
    return MOSS_ERR_NOSPC;
  e.events = ((now & MOSS_PORT_IN) ? EPOLLIN | EPOLLRDHUP : 0) |
             ((now & MOSS_PORT_OUT) ? EPOLLOUT : 0);
  e.data.ptr = ptr;
  if (epoll_ctl(p->epfd, op, fd, &e) != 0) {
    moss_port_set_error(errno);
    return errno == ENOMEM ? MOSS_ERR_NOMEM : MOSS_ERR_IO;
  }
  if (op == EPOLL_CTL_ADD)
    p->count++;
  if (op == EPOLL_CTL_DEL)
    p->count--;
  return MOSS_OK;
}

static int grow_poll(struct moss_port_poller *p) {
  size_t ns = p->size == 0 ? 8 : p->size * 2;
  if (ns > p->max)
    ns = p->max;
  if (ns <= p->size)
    return MOSS_ERR_NOSPC;
  struct pollfd *nf = p->pfd == NULL
                          ? moss_alloc(MOSS_SUB_CONN, ns * sizeof(*nf))
                          : moss_realloc(p->pfd, ns * sizeof(*nf));
  if (nf == NULL)
    return MOSS_ERR_NOMEM;
  p->pfd = nf;
  void **np = p->ptr == NULL ? moss_alloc(MOSS_SUB_CONN, ns * sizeof(*np))
                             : moss_realloc(p->ptr, ns * sizeof(*np));
  if (np == NULL)
    return MOSS_ERR_NOMEM; /* pfd grew; size stays: safe */
  p->ptr = np;
  p->size = ns;
  return MOSS_OK;
}

static int ctl_poll(struct moss_port_poller *p, int fd, void *ptr, unsigned was,
                    unsigned now) {
  size_t i;
  if (was == 0) {
    if (p->n == p->size) {
      int rc = grow_poll(p);
      if (rc != MOSS_OK)
        return rc;
    }
    p->pfd[p->n].fd = fd;
    p->pfd[p->n].events = to_poll(now);
    p->pfd[p->n].revents = 0;
    p->ptr[p->n++] = ptr;
    return MOSS_OK;
  }
  for (i = 0; i < p->n; i++)
    if (p->pfd[i].fd == fd)
      break;
  if (i == p->n)
    return MOSS_ERR_NOENT;
  if (now != 0) {
    p->pfd[i].events = to_poll(now);
    p->ptr[i] = ptr;
    return MOSS_OK;
  }
  p->n--;
  p->pfd[i] = p->pfd[p->n];
  p->ptr[i] = p->ptr[p->n];
  if (p->n == 0) { /* an idle loop holds no table */
    moss_free(p->pfd);
    moss_free(p->ptr);
    p->pfd = NULL;
    p->ptr = NULL;
    p->size = 0;
  }
  return MOSS_OK;
}

int moss_port_poller_ctl(struct moss_port_poller *p, int fd, void *ptr,
                         unsigned was, unsigned now) {
  if (was == 0 && now == 0)
    return MOSS_OK;
  if (p->kind == MOSS_PORT_POLL_EPOLL)
    return ctl_epoll(p, fd, ptr, was, now);
  return ctl_poll(p, fd, ptr, was, now);
}

static unsigned from_epoll(uint32_t e) {
  return ((e & EPOLLIN) ? MOSS_PORT_IN : 0) |
         ((e & EPOLLOUT) ? MOSS_PORT_OUT : 0) |
         ((e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) ? MOSS_PORT_ERR : 0);
}

int moss_port_poller_wait(struct moss_port_poller *p,
                          struct moss_port_pevent *evs, int max,
                          int timeout_ms) {
  if (p->kind == MOSS_PORT_POLL_EPOLL) {
    struct epoll_event ee[64];
    if (max > 64)
      max = 64;
    int r = epoll_wait(p->epfd, ee, max, timeout_ms);
    if (r < 0) {
      if (errno == EINTR)
        return 0;
      moss_port_set_error(errno);
      return MOSS_ERR_IO;
    }
    for (int i = 0; i < r; i++) {
      evs[i].ptr = ee[i].data.ptr;
      evs[i].events = from_epoll(ee[i].events);
    }
    return r;
  }
  int r = poll(p->pfd, (nfds_t)p->n, timeout_ms);
  if (r < 0) {
    if (errno == EINTR)
      return 0;
    moss_port_set_error(errno);
    return MOSS_ERR_IO;
  }
  int k = 0;
  for (size_t i = 0; i < p->n && k < max && r > 0; i++) {
    short re = p->pfd[i].revents;
    if (re == 0)
      continue;
    r--;
    evs[k].ptr = p->ptr[i];
    evs[k].events = ((re & POLLIN) ? MOSS_PORT_IN : 0) |
                    ((re & POLLOUT) ? MOSS_PORT_OUT : 0) |
                    ((re & (POLLERR | POLLHUP | POLLNVAL)) ? MOSS_PORT_ERR : 0);
    k++;
  }
  return k;
}
