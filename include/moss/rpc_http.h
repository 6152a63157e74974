/*
 * moss/rpc_http.h - RPC over the device's HTTP server: the "HTTP"
 * channel (POST /rpc, REST /rpc/<Method>) and the "WS_in" channel
 * (WebSocket on /rpc) (spec rpc.md §2.2-2.3, §5.5).
 *
 * Endpoints, mounted on a router as "/rpc" and everything under it:
 *   OPTIONS /rpc...             CORS preflight, 200
 *   /rpc, /rpc/ + Upgrade       a WebSocket channel for the connection's
 *                               life (503 "WS is disabled" without
 *                               rpc.ws.enable)
 *   POST /rpc                   one frame; the reply frame + CRLF, or 400 /
 *                               413 with MOSS_RPC_BODY_INVALID_FRAME /
 *                               MOSS_RPC_BODY_TOO_BIG, or 200 with no body
 *                               for a notification
 *   GET|POST /rpc/<Method>      REST: params from the body, or for a GET
 *                               without one, the query (a=1&b="x": values
 *                               raw); the result alone, or the error
 *                               object with status 401/403/404 (same
 *                               code) or 500
 * 404 when RPC is off (no rpc) or rpc.http_enable is false (WebSocket
 * needs only rpc.ws.enable), 405 for other methods.
 *
 * Authentication: with rpc.auth_* set, a valid Digest Authorization
 * binds its user to the channel (the authorizer then sees it); an invalid
 * one is answered before dispatch (moss_http_auth_check); an empty POST
 * /rpc without one gets the 401 challenge, so `curl --digest` (which
 * probes with an empty body) works.  A 401 from the authorizer reaches
 * the client as a real HTTP 401 with WWW-Authenticate (the channel's
 * send_challenge op), never as a header inside a JSON string.
 *
 * Ownership: the glue holds no memory of its own.  An HTTP connection's
 * user pointer is its RPC channel (of the request in progress, or of the
 * whole WebSocket), and the channel's ctx is the connection; whichever
 * goes first unlinks the other (the route's on_conn_close closes the
 * channel; a channel closed or answered first clears the user pointer).
 */
#ifndef MOSS_RPC_HTTP_H
#define MOSS_RPC_HTTP_H

#include "moss/cfg.h"
#include "moss/http_auth.h"
#include "moss/http_router.h"
#include "moss/rpc.h"

/* The path the endpoints are mounted on. */
#define MOSS_RPC_HTTP_PATH "/rpc"

/* A caller-owned plain struct; members are borrowed and must outlive the
 * server it is mounted on. */
struct moss_rpc_http {
  struct moss_rpc *rpc; /* NULL: RPC is off (404, CORS preflight still 200) */
  /* The running configuration, read per request: rpc.http_enable,
   * rpc.ws.enable, rpc.auth_domain / auth_file / auth_algo. */
  const struct moss_cfg *cfg;
  struct moss_http_auth *auth;
};

/* Mounts "/rpc" (and its subtree) on r.  MOSS_ERR_NOSPC. */
int moss_rpc_http_mount(struct moss_rpc_http *h, struct moss_http_router *r);

#endif
