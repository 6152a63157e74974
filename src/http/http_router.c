/*
 * Path routing for the device's HTTP server.  See moss/http_router.h.
 */
#include "moss/http_router.h"

#include <string.h>

#include "moss/err.h"

void moss_http_router_init(struct moss_http_router *r) {
  memset(r, 0, sizeof(*r));
}

int moss_http_router_add(struct moss_http_router *r,
                         const struct moss_http_route *route) {
  if (route->path == NULL || route->handler == NULL)
    return MOSS_ERR_INVAL;
  if (r->n >= MOSS_HTTP_ROUTER_MAX)
    return MOSS_ERR_NOSPC;
  r->routes[r->n++] = *route;
  return MOSS_OK;
}

void moss_http_router_set_fallback(struct moss_http_router *r,
                                   const struct moss_http_route *route) {
  r->fallback = *route;
}

const struct moss_http_route *moss_http_router_match(
    const struct moss_http_router *r, struct moss_str path) {
  for (size_t i = 0; i < r->n; i++) {
    const struct moss_http_route *rt = &r->routes[i];
    size_t n = strlen(rt->path);
    if (path.len < n || memcmp(path.buf, rt->path, n) != 0)
      continue;
    if (path.len == n)
      return rt;
    if (rt->subtree && path.buf[n] == '/')
      return rt;
  }
  return NULL;
}

void moss_http_router_handle(void *arg, struct moss_http_conn *hc,
                             const struct moss_http_req *req,
                             struct moss_str body) {
  const struct moss_http_router *r = arg;
  const struct moss_http_route *rt = moss_http_router_match(r, req->path);
  if (rt == NULL)
    rt = &r->fallback;
  if (rt->handler == NULL) {
    moss_http_reply_text(hc, 404, "Not Found");
    return;
  }
  rt->handler(rt->arg, hc, req, body);
}

void moss_http_router_conn_close(void *arg, struct moss_http_conn *hc) {
  const struct moss_http_router *r = arg;
  for (size_t i = 0; i < r->n; i++)
    if (r->routes[i].on_conn_close != NULL)
      r->routes[i].on_conn_close(r->routes[i].arg, hc);
  if (r->fallback.on_conn_close != NULL)
    r->fallback.on_conn_close(r->fallback.arg, hc);
}
