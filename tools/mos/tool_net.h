/* mos network helpers shared by the transports (tool_conn.c). */
#ifndef MOS_TOOL_NET_H
#define MOS_TOOL_NET_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "moss/buf.h"

int tool_write_all(int fd, const void *buf, size_t len, long long deadline);
int tool_read_some(int fd, struct moss_buf *b, long long deadline);
int tool_tcp_connect(const char *host, const char *port, long long deadline,
                     char *err, size_t errsz);

/* WebSocket client (tool_ws.c): upgrade on path, then one text message per
 * frame.  rx keeps bytes that arrived after the handshake. */
int tool_ws_handshake(int fd, const char *host, const char *port,
                      const char *path, struct moss_buf *rx, long long deadline,
                      char *err, size_t errsz);
/* Sends frame, waits for a text message that parses as JSON with the same
 * id; *reply gets it (caller deletes).  0 ok, -1 error (err set). */
int tool_ws_call(int fd, struct moss_buf *rx, const char *frame, cJSON **reply,
                 long long deadline, char *err, size_t errsz);
void tool_ws_close(int fd);

/* HTTP client (tool_http.c): POST the frame to path, one connection per
 * call; *reply is the parsed JSON body.  0 ok, -1 error (err set; *code
 * is 401 when the device asked for credentials and did not take them). */
int tool_http_call(const char *host, const char *port, const char *path,
                   bool tls, const char *frame, cJSON **reply, int *code,
                   long long deadline, char *err, size_t errsz);

/* TLS to the device (tool_tls.c, mos-cli.md §2.4).  One session at a
 * time, bound to the descriptor given to tool_tls_start(); while it is
 * active tool_write_all()/tool_read_some() on that descriptor go through
 * it.  tool_tls_wanted: the --port scheme or --cert-file asks for TLS. */
bool tool_tls_wanted(const char *port);
int tool_tls_start(int fd, const char *host, const char *port,
                   long long deadline, char *err, size_t errsz);
bool tool_tls_active(int fd);
int tool_tls_write_all(int fd, const void *buf, size_t len, long long deadline);
int tool_tls_read_some(int fd, struct moss_buf *b, long long deadline);
/* close_notify and free; no-op if fd has no session. */
void tool_tls_close(int fd);
/* The last TLS error on an established session ("" if none), worded as
 * mos-cli.md §2.4. */
const char *tool_tls_last_error(void);

#endif
