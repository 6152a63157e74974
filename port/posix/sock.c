/* POSIX port: non-blocking IPv4 TCP sockets and byte-stream I/O. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "moss/err.h"
#include "moss/port.h"
#include "port_int.h"

static int map_errno(int e) {
  moss_port_set_error(e);
  switch (e) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
      return MOSS_ERR_AGAIN;
    case EADDRINUSE:
      return MOSS_ERR_BUSY;
    case EACCES:
    case EPERM:
      return MOSS_ERR_PERM;
    case EADDRNOTAVAIL:
      return MOSS_ERR_NOENT;
    case EMFILE:
    case ENFILE:
      return MOSS_ERR_NOSPC;
    case ENOMEM:
    case ENOBUFS:
      return MOSS_ERR_NOMEM;
    default:
      return MOSS_ERR_IO;
  }
}

static void sin_make(struct sockaddr_in *sa, uint32_t ip, uint16_t port) {
  memset(sa, 0, sizeof(*sa));
  sa->sin_family = AF_INET;
  sa->sin_port = htons(port);
  sa->sin_addr.s_addr = htonl(ip);
}

int moss_port_tcp_listen(uint32_t ip, uint16_t port, int backlog, int *fd,
                         uint16_t *bound) {
  struct sockaddr_in sa;
  int one = 1, ret;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0)
    return map_errno(errno);
  /* Restarting mossd must not wait for TIME_WAIT sockets to expire. */
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sin_make(&sa, ip, port);
  if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
      listen(s, backlog) != 0) {
    ret = map_errno(errno);
    close(s);
    return ret;
  }
  *fd = s;
  *bound = moss_port_sock_port(s);
  return MOSS_OK;
}

int moss_port_tcp_accept(int lfd, int *fd, uint32_t *peer_ip,
                         uint16_t *peer_port) {
  struct sockaddr_in sa;
  socklen_t sl = sizeof(sa);
  int s;
  do {
    s = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (s < 0 && errno == EINTR);
  if (s < 0) {
    /* A connection that died in the backlog is not a listener error. */
    if (errno == ECONNABORTED)
      return MOSS_ERR_AGAIN;
    return map_errno(errno);
  }
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  *fd = s;
  *peer_ip = ntohl(sa.sin_addr.s_addr);
  *peer_port = ntohs(sa.sin_port);
  return MOSS_OK;
}

int moss_port_tcp_connect(uint32_t ip, uint16_t port, int *fd) {
  struct sockaddr_in sa;
  int one = 1, ret;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0)
    return map_errno(errno);
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sin_make(&sa, ip, port);
  if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
      errno != EINPROGRESS) {
    ret = map_errno(errno);
    close(s);
    return ret;
  }
  *fd = s;
  return MOSS_OK;
}

int moss_port_sock_error(int fd) {
  int e = 0;
  socklen_t l = sizeof(e);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
    e = errno;
  if (e == 0)
    return MOSS_OK;
  map_errno(e);
  return MOSS_ERR_IO;
}

void moss_port_sock_bufsize(int fd, uint32_t bytes) {
  int v = bytes > INT32_MAX ? INT32_MAX : (int)bytes;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

uint16_t moss_port_sock_port(int fd) {
  struct sockaddr_in sa;
  socklen_t sl = sizeof(sa);
  if (getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
    return 0;
  return ntohs(sa.sin_port);
}

int moss_port_fd_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
    return map_errno(errno);
  return MOSS_OK;
}

long moss_port_read(int fd, bool sock, void *buf, size_t n) {
  ssize_t r;
  do {
    r = sock ? recv(fd, buf, n, 0) : read(fd, buf, n);
  } while (r < 0 && errno == EINTR);
  if (r < 0)
    return map_errno(errno);
  return (long)r;
}

long moss_port_write(int fd, bool sock, const void *buf, size_t n) {
  ssize_t r;
  do {
    r = sock ? send(fd, buf, n, MSG_NOSIGNAL) : write(fd, buf, n);
  } while (r < 0 && errno == EINTR);
  if (r < 0)
    return map_errno(errno);
  return (long)r;
}

void moss_port_shutdown_wr(int fd) {
  shutdown(fd, SHUT_WR);
}

void moss_port_close(int fd) {
  if (fd >= 0)
    close(fd);
}
