/*
 * moss/rt.h - the device runtime: everything above the board.
 *
 * moss_rt_start() builds the running device from what the board hands
 * over (moss/board.h: the filesystem partition, the UART connection, the
 * MAC, the firmware identity): it mounts the filesystem, loads the
 * configuration from the layers on flash (plus run-only overrides), and
 * builds the RPC core with the Sys.*, Config.* and FS.* services, the UART
 * channel and the HTTP/WebSocket server.  moss_rt_stop() tears all of it
 * down and unmounts.  A reboot (Sys.Reboot, Config.Set with reboot) is
 * stop + start from the same state: mossd's main loop does it when
 * moss_rt_reboot_pending() says so, after moss_ev_run() returns.
 *
 * Ownership: the runtime borrows ev and the board (both outlive it); it
 * owns everything it creates.
 */
#ifndef MOSS_RT_H
#define MOSS_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/board.h"
#include "moss/ev.h"

struct moss_rt;

/* What a server is doing after a start (Sys.GetInfo "servers"). */
enum moss_rt_srv_state {
  MOSS_RT_SRV_DISABLED = 0, /* switched off by the configuration */
  MOSS_RT_SRV_RUNNING,
  MOSS_RT_SRV_FAILED, /* configured but could not start: see error */
};

/* Longest reason kept for a server that failed (NUL included). */
#define MOSS_RT_SRV_ERROR_MAX 256u

/* One server as reported to on_endpoint.  Strings live for the call. */
struct moss_rt_endpoint {
  const char *what; /* "HTTP" */
  enum moss_rt_srv_state state;
  const char *addr;  /* RUNNING: host address as bound ("0.0.0.0:8000"),
                      * FAILED: the address it tried ("" if none), else "" */
  const char *error; /* FAILED: one human-readable line, else "" */
  bool tls;          /* configured for TLS (http.ssl_cert set) */
};

struct moss_rt_opts {
  /* "key=value" overrides applied after the layers, never saved. */
  const char *const *sets;
  size_t nsets;
  /* "80=8000,443=127.0.0.1:8443": device port -> host port or address. */
  const char *port_map;
  /* Called at every moss_rt_start() (boot and each reboot), once per
   * server, whatever its state: the HTTP server running on
   * "127.0.0.1:8000", failed with "listen on 127.0.0.1:8000: Address
   * already in use", or disabled.  May be NULL. */
  void (*on_endpoint)(void *arg, const struct moss_rt_endpoint *ep);
  void *arg;
};

/* MOSS_ERR_INVAL (a bad --set or port map: logged), MOSS_ERR_NOMEM, or
 * the filesystem's mount error (logged with the cure).  A
 * server that cannot listen is logged, reported (on_endpoint, Sys.GetInfo)
 * and left off; the runtime runs.  When RPC is reachable over the network
 * without authentication a WARN says so (docs/security.md). */
int moss_rt_start(struct moss_rt **out, struct moss_ev *ev,
                  const struct moss_board *b, const struct moss_rt_opts *o);
/* NULL-safe.  Closes every connection and channel and frees the tree. */
void moss_rt_stop(struct moss_rt *rt);
/* A reboot was requested and is due: the loop has been stopped. */
bool moss_rt_reboot_pending(const struct moss_rt *rt);
/* Host address the HTTP server listens on ("" when off or failed). */
const char *moss_rt_http_addr(const struct moss_rt *rt);
/* The HTTP server's state; *error (may be NULL) gets the reason of a
 * failure ("" otherwise), valid until moss_rt_stop(). */
enum moss_rt_srv_state moss_rt_http_state(const struct moss_rt *rt,
                                          const char **error);

#endif
