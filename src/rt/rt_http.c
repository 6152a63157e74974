/*
 * The device's HTTP server: which endpoints it has (the RPC channels of
 * moss/rpc_http.h, the files and /upload of moss/http_files.h, mounted on
 * one router), where it listens (http.listen_addr through --port-map),
 * TLS, and what it reports (spec http.md §1).
 */
#include <stdio.h>
#include <string.h>

#include "moss/conn.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/tls.h"
#include "rt_int.h"

static const char *TAG = "http";

/* The endpoints, each module mounting its own paths; the pieces borrow
 * the running configuration and the Digest state. */
static int mount(struct moss_rt *rt) {
  moss_http_router_init(&rt->router);
  int rc = MOSS_OK;
#if MOSS_ENABLE_RPC
  rt->rpc_http.rpc = rt->rpc;
  rt->rpc_http.cfg = &rt->running;
  rt->rpc_http.auth = rt->auth;
  rc = moss_rpc_http_mount(&rt->rpc_http, &rt->router);
#endif
  rt->files.fs = rt->fs;
  rt->files.cfg = &rt->running;
  rt->files.auth = rt->auth;
  if (rc == MOSS_OK)
    rc = moss_http_files_mount(&rt->files, &rt->router);
  return rc;
}

/* Tells opts.on_endpoint what the HTTP server is doing. */
static void report(struct moss_rt *rt) {
  if (rt->opts.on_endpoint == NULL)
    return;
  bool up = rt->http_state == MOSS_RT_SRV_RUNNING;
  struct moss_rt_endpoint ep = {
      "HTTP", rt->http_state,
      up || rt->http_state == MOSS_RT_SRV_FAILED ? rt->http_addr : "",
      rt->http_state == MOSS_RT_SRV_FAILED ? rt->http_error : "", rt->http_tls};
  rt->opts.on_endpoint(rt->opts.arg, &ep);
}

/* Records a start failure (the caller has logged the details). */
static int failed(struct moss_rt *rt, int rc) {
  rt->http_state = MOSS_RT_SRV_FAILED;
  report(rt);
  return rc;
}

int moss_rt_http_start(struct moss_rt *rt) {
  const struct moss_cfg *c = &rt->running;
  rt->http_addr[0] = '\0';
  rt->http_error[0] = '\0';
  rt->http_state = MOSS_RT_SRV_DISABLED;
  rt->http_tls = c->http.ssl_cert != NULL && *c->http.ssl_cert != '\0';
  const char *la = c->http.listen_addr;
  snprintf(rt->http_listen, sizeof(rt->http_listen), "%s",
           la != NULL && c->http.enable ? la : "");
  if (!c->http.enable || la == NULL || *la == '\0') {
    if (c->http.enable)
      MOSS_LOG_W(TAG, "HTTP Server disabled, listening address is empty");
    report(rt);
    return MOSS_OK;
  }
  const char *shown = la[0] == ':' ? la + 1 : la;
  bool mapped = false;
  char host[64];
  if (moss_conn_map_addr(rt->opts.port_map, la, host, sizeof(host), &mapped) !=
      MOSS_OK) {
    MOSS_LOG_E(TAG, "Error binding to [%s]: invalid address", shown);
    uint32_t ip;
    uint16_t port;
    if (moss_conn_parse_addr(la, &ip, &port) != MOSS_OK)
      snprintf(rt->http_error, sizeof(rt->http_error),
               "http.listen_addr %s: invalid address", la);
    else
      snprintf(rt->http_error, sizeof(rt->http_error),
               "--port-map %s: invalid map", rt->opts.port_map);
    return failed(rt, MOSS_ERR_INVAL);
  }
  snprintf(rt->http_addr, sizeof(rt->http_addr), "%s", host);
  int rc = mount(rt);
  if (rc != MOSS_OK) {
    MOSS_LOG_E(TAG, "Error binding to [%s]: %s", shown, moss_strerror(rc));
    snprintf(rt->http_error, sizeof(rt->http_error), "endpoints: %s",
             moss_strerror(rc));
    return failed(rt, rc);
  }
  struct moss_http_server_cfg sc;
  memset(&sc, 0, sizeof(sc));
  sc.listen_addr = host;
  sc.handler = moss_http_router_handle;
  sc.on_conn_close = moss_http_router_conn_close;
  sc.arg = &rt->router;
  struct moss_tls_ctx *tctx = NULL;
  if (rt->http_tls) {
    if (moss_rt_tls_setup(rt, &tctx, rt->http_error, sizeof(rt->http_error)) !=
        MOSS_OK) {
      MOSS_LOG_E(TAG, "Error binding to [%s]: TLS setup failed", shown);
      return failed(rt, MOSS_ERR_INVAL);
    }
    sc.listen = moss_tls_listen;
    sc.listen_arg = tctx;
  }
  char why[128] = "";
  rc = moss_http_server_start(rt->ev, &sc, &rt->http, why, sizeof(why));
  /* The listener holds its own reference. */
  moss_tls_ctx_unref(tctx);
  if (rc != MOSS_OK) {
    MOSS_LOG_E(TAG, "Error binding to [%s]: %s", shown, why);
    const char *dport = strrchr(shown, ':') ? strrchr(shown, ':') + 1 : shown;
    MOSS_LOG_E(TAG,
               "cannot listen on %s: %s (use --port-map %s=<free port>"
               " or --set http.listen_addr=<addr>)",
               host, why, dport);
    snprintf(rt->http_error, sizeof(rt->http_error), "listen on %s: %s", host,
             why);
    return failed(rt, rc);
  }
  /* Report the real port (an ephemeral :0 is resolved here). */
  char *colon = strrchr(host, ':');
  if (colon != NULL)
    snprintf(colon + 1, sizeof(host) - (size_t)(colon + 1 - host), "%u",
             (unsigned)moss_http_server_port(rt->http));
  snprintf(rt->http_addr, sizeof(rt->http_addr), "%s", host);
  rt->http_state = MOSS_RT_SRV_RUNNING;
  if (mapped)
    MOSS_LOG_I("net", "device port %s is served on host port %s",
               strrchr(shown, ':') ? strrchr(shown, ':') + 1 : shown,
               colon ? colon + 1 : host);
  MOSS_LOG_I(TAG, "HTTP server started on [%s]%s", shown,
             rt->http_tls ? " (SSL)" : "");
  if (rt->http_tls && c->http.ssl_ca_cert != NULL &&
      *c->http.ssl_ca_cert != '\0' && strcmp(c->http.ssl_ca_cert, "*") != 0)
    MOSS_LOG_I(TAG, "HTTP: client certificates required, CA file %s",
               c->http.ssl_ca_cert);
  report(rt);
  return MOSS_OK;
}

void moss_rt_http_stop(struct moss_rt *rt) {
  moss_http_server_stop(rt->http);
  rt->http = NULL;
}
