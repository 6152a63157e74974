/* What the HTTP and WebSocket channel glue (rpc_http.c, rpc_ws.c)
 * share. */
#ifndef MOSS_RPC_HTTP_INT_H
#define MOSS_RPC_HTTP_INT_H

#include "moss/rpc_http.h"

/* Response headers of every RPC answer over HTTP. */
#define MOSS_RPC_HTTP_CORS             \
  "Content-Type: application/json\r\n" \
  "Access-Control-Allow-Origin: *\r\n" \
  "Access-Control-Allow-Headers: *\r\n"

/* The rpc.auth_* realm of the running configuration. */
struct moss_http_auth_realm moss_rpc_http_realm(const struct moss_cfg *c);
/* ops->get_info: the connection's peer address. */
void moss_rpc_http_ch_info(struct moss_rpc_channel *ch, char *buf, size_t n);
/* ops->close: unlink, then close the connection. */
void moss_rpc_http_ch_close(struct moss_rpc_channel *ch);
/* Upgrades hc to a WebSocket RPC channel (rpc_ws.c); answers the failure
 * itself (401 from the Authorization check, the handshake's 400/426). */
void moss_rpc_ws_upgrade(const struct moss_rpc_http *h,
                         struct moss_http_conn *hc,
                         const struct moss_http_req *req);

#endif
