/* Unit tests of the path router (src/http/http_router.c). */
#include <string.h>

#include "harness.h"
#include "moss/err.h"
#include "moss/http_router.h"

void test_router(void);

static int calls[4];

static void h0(void *arg, struct moss_http_conn *hc,
               const struct moss_http_req *req, struct moss_str body) {
  (void)hc;
  (void)req;
  (void)body;
  calls[*(int *)arg]++;
}

static const char *which(const struct moss_http_router *r, const char *path) {
  const struct moss_http_route *rt =
      moss_http_router_match(r, moss_str_c(path));
  return rt != NULL ? rt->path : "(fallback)";
}

void test_router(void) {
  struct moss_http_router r;
  int ids[3] = {0, 1, 2};
  moss_http_router_init(&r);
  struct moss_http_route rpc = {"/rpc", true, h0, NULL, &ids[0]};
  struct moss_http_route up = {"/upload", false, h0, NULL, &ids[1]};
  struct moss_http_route files = {"/", true, h0, NULL, &ids[2]};
  MT_CHECK_EQ(moss_http_router_add(&r, &rpc), MOSS_OK);
  MT_CHECK_EQ(moss_http_router_add(&r, &up), MOSS_OK);
  moss_http_router_set_fallback(&r, &files);
  MT_CHECK_STR(which(&r, "/rpc"), "/rpc");
  MT_CHECK_STR(which(&r, "/rpc/"), "/rpc");
  MT_CHECK_STR(which(&r, "/rpc/Sys.GetInfo"), "/rpc");
  MT_CHECK_STR(which(&r, "/rpcx"), "(fallback)");
  MT_CHECK_STR(which(&r, "/RPC"), "(fallback)"); /* paths are exact */
  MT_CHECK_STR(which(&r, "/upload"), "/upload");
  MT_CHECK_STR(which(&r, "/upload/x"), "(fallback)"); /* not a subtree */
  MT_CHECK_STR(which(&r, "/index.html"), "(fallback)");
  MT_CHECK_STR(which(&r, "/"), "(fallback)");
  MT_CHECK_STR(which(&r, ""), "(fallback)");

  /* The first match wins, in the order added. */
  struct moss_http_route sub = {"/rpc/x", false, h0, NULL, &ids[1]};
  MT_CHECK_EQ(moss_http_router_add(&r, &sub), MOSS_OK);
  MT_CHECK(moss_http_router_match(&r, moss_str_c("/rpc/x"))->arg == &ids[0]);

  /* Dispatch goes to the route's handler with its arg. */
  struct moss_http_req req;
  memset(&req, 0, sizeof(req));
  memset(calls, 0, sizeof(calls));
  req.path = moss_str_c("/upload");
  moss_http_router_handle(&r, NULL, &req, MOSS_STR_NULL);
  req.path = moss_str_c("/a.txt");
  moss_http_router_handle(&r, NULL, &req, MOSS_STR_NULL);
  req.path = moss_str_c("/rpc/RPC.List");
  moss_http_router_handle(&r, NULL, &req, MOSS_STR_NULL);
  MT_CHECK(calls[0] == 1 && calls[1] == 1 && calls[2] == 1);

  /* Limits and bad routes. */
  struct moss_http_route nohandler = {"/x", false, NULL, NULL, NULL};
  MT_CHECK_EQ(moss_http_router_add(&r, &nohandler), MOSS_ERR_INVAL);
  struct moss_http_route nopath = {NULL, false, h0, NULL, NULL};
  MT_CHECK_EQ(moss_http_router_add(&r, &nopath), MOSS_ERR_INVAL);
  while (r.n < MOSS_HTTP_ROUTER_MAX)
    MT_CHECK_EQ(moss_http_router_add(&r, &up), MOSS_OK);
  MT_CHECK_EQ(moss_http_router_add(&r, &up), MOSS_ERR_NOSPC);
}
