/*
 * moss/http_router.h - which handler answers which path on the device's
 * HTTP server.
 *
 * The server (moss/http_server.h) hands every request to one handler; the
 * router is that handler.  Modules mount themselves on it (the RPC
 * endpoints on "/rpc", /upload, the file server as the fallback), so the
 * paths live with the code that serves them and whoever assembles the
 * device only says which modules it has.
 *
 * Matching: the first route, in the order added, whose path equals the
 * request's path (as in the request line: not decoded, no query), or,
 * for a subtree route, that path followed by '/' and anything; else the
 * fallback; without one, 404 "Not Found".
 *
 * Lifecycle: a caller-owned plain struct; moss_http_router_init(), then
 * _add/_set_fallback, then pass moss_http_router_handle and
 * moss_http_router_conn_close with the router as arg in struct
 * moss_http_server_cfg.  Route strings and args are borrowed and must
 * outlive the server.  No heap.
 */
#ifndef MOSS_HTTP_ROUTER_H
#define MOSS_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "moss/http_server.h"
#include "moss/util.h"

/* Routes one router holds. */
#define MOSS_HTTP_ROUTER_MAX 8u

struct moss_http_route {
  const char *path; /* "/rpc" */
  bool subtree;     /* also "/rpc/" and "/rpc/<anything>" */
  moss_http_handler_fn *handler;
  /* Told about every connection that goes away (NULL: not interested):
   * for handlers that answer asynchronously or keep per-connection state
   * in the connection's user pointer, which belongs to the one route
   * that set it. */
  moss_http_conn_close_fn *on_conn_close;
  void *arg;
};

struct moss_http_router {
  struct moss_http_route routes[MOSS_HTTP_ROUTER_MAX];
  size_t n;
  struct moss_http_route fallback; /* handler NULL: 404 Not Found */
};

/* No routes, no fallback.  Cannot fail. */
void moss_http_router_init(struct moss_http_router *r);
/* Copies route (not its strings).  MOSS_ERR_INVAL (no path or handler),
 * MOSS_ERR_NOSPC (MOSS_HTTP_ROUTER_MAX). */
int moss_http_router_add(struct moss_http_router *r,
                         const struct moss_http_route *route);
/* The handler for paths no route matches (path ignored). */
void moss_http_router_set_fallback(struct moss_http_router *r,
                                   const struct moss_http_route *route);
/* The route for path, or NULL (then the fallback answers).  Pure. */
const struct moss_http_route *moss_http_router_match(
    const struct moss_http_router *r, struct moss_str path);

/* A moss_http_handler_fn: arg is the router. */
void moss_http_router_handle(void *arg, struct moss_http_conn *hc,
                             const struct moss_http_req *req,
                             struct moss_str body);
/* A moss_http_conn_close_fn: calls every route's on_conn_close. */
void moss_http_router_conn_close(void *arg, struct moss_http_conn *hc);

#endif
