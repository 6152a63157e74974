/*
 * moss/port.h - the operating-system interface of the runtime.
 *
 * port/posix/ is the only code that includes OS headers; everything above
 * it (ev/, conn/, ...) calls these functions.  A device port (lwIP sockets
 * or raw pcbs on ESP-IDF) would implement the same set.
 *
 * Conventions: file descriptors are plain ints owned by whoever opened
 * them; every socket made here is non-blocking and close-on-exec.
 * Functions return 0 (MOSS_OK) or a negative enum moss_err; I/O functions
 * return a byte count (>0), 0 for end of file, or a negative moss_err
 * (MOSS_ERR_AGAIN when the call would block).  moss_port_last_error()
 * gives the OS's text for the last failure of a port call (static storage,
 * valid until the next port call), for messages such as
 * "cannot listen on 127.0.0.1:80: Permission denied".
 */
#ifndef MOSS_PORT_H
#define MOSS_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- time and randomness --------------------------------------------- */

/* Milliseconds of a monotonic clock (never goes back; arbitrary origin). */
uint64_t moss_port_time_ms(void);
/* Fill buf with n bytes from the OS CSPRNG (getrandom). MOSS_ERR_IO. */
int moss_port_random(void *buf, size_t n);

/* Text of the OS error behind the last failed port call ("" if none). */
const char *moss_port_last_error(void);

/* ---- readiness polling (epoll, or poll() as a fallback) ---------------- */

#define MOSS_PORT_IN 1u  /* readable (or a listener has a connection) */
#define MOSS_PORT_OUT 2u /* writable (or a connect finished) */
#define MOSS_PORT_ERR 4u /* error or hang-up: reading tells which */

enum moss_port_poll_kind {
  MOSS_PORT_POLL_EPOLL = 1,
  MOSS_PORT_POLL_POLL = 2,
};

/* One ready descriptor: ptr is what was registered with the fd. */
struct moss_port_pevent {
  void *ptr;
  unsigned events;
};

struct moss_port_poller;

/* Open a poller of the given kind that watches at most max_fds
 * descriptors.  The poll() kind keeps its tables on the moss heap
 * (MOSS_SUB_CONN), growing up to max_fds.  MOSS_ERR_NOMEM, MOSS_ERR_IO. */
int moss_port_poller_open(enum moss_port_poll_kind kind, size_t max_fds,
                          struct moss_port_poller **out);
/* NULL-safe; does not close the watched descriptors. */
void moss_port_poller_close(struct moss_port_poller *p);
enum moss_port_poll_kind moss_port_poller_kind(
    const struct moss_port_poller *p);
/* Change the interest of fd from `was` to `now` (MOSS_PORT_IN|OUT bits):
 * was == 0 adds it, now == 0 removes it.  ptr is returned with events.
 * MOSS_ERR_NOSPC past max_fds, MOSS_ERR_NOMEM, MOSS_ERR_IO. */
int moss_port_poller_ctl(struct moss_port_poller *p, int fd, void *ptr,
                         unsigned was, unsigned now);
/* Wait up to timeout_ms (-1: forever) and store at most max ready
 * descriptors in evs.  Returns the count (0 on timeout or EINTR) or
 * MOSS_ERR_IO. */
int moss_port_poller_wait(struct moss_port_poller *p,
                          struct moss_port_pevent *evs, int max,
                          int timeout_ms);

/* ---- signals ------------------------------------------------------------ */

/* Block SIGINT and SIGTERM for the process and return a non-blocking
 * descriptor that becomes readable when one is pending (signalfd).
 * MOSS_ERR_IO. */
int moss_port_signal_open(int *fd);
/* The number of one pending signal, or 0 if none. */
int moss_port_signal_read(int fd);
/* Close the descriptor and unblock the two signals again. */
void moss_port_signal_close(int fd);

/* ---- TCP over IPv4 ------------------------------------------------------- */

/* Addresses are in host byte order (0x7f000001 is 127.0.0.1). */

/* Socket bound to ip:port and listening.  *bound gets the port actually
 * bound (useful with port 0).  Errors: MOSS_ERR_BUSY (address in use),
 * MOSS_ERR_PERM (privileged port), MOSS_ERR_NOENT (address not on this
 * host), MOSS_ERR_IO; moss_port_last_error() has the OS text. */
int moss_port_tcp_listen(uint32_t ip, uint16_t port, int backlog, int *fd,
                         uint16_t *bound);
/* Accept one connection: MOSS_OK, MOSS_ERR_AGAIN when none is waiting,
 * MOSS_ERR_NOSPC when out of descriptors, MOSS_ERR_IO. */
int moss_port_tcp_accept(int lfd, int *fd, uint32_t *peer_ip,
                         uint16_t *peer_port);
/* Start a non-blocking connect; completion is signalled by writability,
 * then moss_port_sock_error() tells the outcome. */
int moss_port_tcp_connect(uint32_t ip, uint16_t port, int *fd);
/* Pending error of a socket: MOSS_OK, MOSS_ERR_IO (refused, reset,
 * unreachable; see moss_port_last_error()). */
int moss_port_sock_error(int fd);
/* Set SO_SNDBUF and SO_RCVBUF to bytes (the kernel may round). */
void moss_port_sock_bufsize(int fd, uint32_t bytes);
/* Local port of a bound socket (0 on error). */
uint16_t moss_port_sock_port(int fd);

/* ---- byte streams (sockets, PTYs, pipes) -------------------------------- */

/* Make an existing descriptor non-blocking. MOSS_ERR_IO. */
int moss_port_fd_nonblock(int fd);
/* read()/recv(): >0 bytes, 0 end of stream, MOSS_ERR_AGAIN, MOSS_ERR_IO.
 * `sock` selects recv/send (no SIGPIPE) over read/write. */
long moss_port_read(int fd, bool sock, void *buf, size_t n);
long moss_port_write(int fd, bool sock, const void *buf, size_t n);
/* Drop output written to fd that the other side has not read yet (a
 * terminal's output queue); nothing for other descriptors. */
void moss_port_discard_output(int fd);
/* Half-close: no more data will be sent (FIN after the queued bytes). */
void moss_port_shutdown_wr(int fd);
/* NULL-fd-safe (ignores fd < 0). */
void moss_port_close(int fd);

#endif
