/* Private state of the runtime (src/rt/): the composition root that
 * builds the device from the board and the configuration. */
#ifndef MOSS_RT_INT_H
#define MOSS_RT_INT_H

#include "moss_config.h"
#include "moss/cfg.h"
#include "moss/http_auth.h"
#include "moss/http_files.h"
#include "moss/http_router.h"
#include "moss/http_server.h"
#include "moss/rpc.h"
#include "moss/rpc_authz.h"
#include "moss/rpc_http.h"
#include "moss/rpc_svc.h"
#include "moss/rpc_uart.h"
#include "moss/rt.h"
#include "moss/tls.h"

struct moss_rt {
  struct moss_ev *ev;
  const struct moss_board *board;
  struct moss_fs *fs; /* mounted from board->fs at start */
  struct moss_rt_opts opts;
  uint64_t start_ms;
  /* persist: layers + Config.Set changes (what Config.Save writes);
   * running: persist + --set overrides (what the device uses). */
  struct moss_cfg persist;
  struct moss_cfg running;
  struct moss_cfg_fs cfs;
  struct moss_cfg_env env;
  /* Digest state for every realm: nonces, failure throttle. */
  struct moss_http_auth *auth;
  /* RPC (NULL when rpc.enable is false); the structs below are what its
   * services and authorizer borrow, so they live here. */
  struct moss_rpc *rpc;
  struct moss_rpc_authorizer *authz;
  struct moss_rpc_reboot reboot_ops;
  struct moss_rpc_svc_sys sys;
  struct moss_rpc_svc_config config;
  struct moss_rpc_uart *uart; /* attached to board->uart while running */
  /* HTTP: the router and what is mounted on it. */
  struct moss_http_router router;
  struct moss_http_files files;
  struct moss_rpc_http rpc_http;
  struct moss_http_server *http;
  /* The HTTP server as Sys.GetInfo and the endpoint lines report it:
   * http_addr is the host address bound (RUNNING) or tried (FAILED). */
  enum moss_rt_srv_state http_state;
  bool http_tls;
  char http_addr[64];
  char http_listen[64]; /* http.listen_addr the server started with */
  char http_error[MOSS_RT_SRV_ERROR_MAX];
  struct moss_ev_timer *reboot_timer;
  uint64_t reboot_at;
  bool reboot_due;
};

/* rt_validate.c: Config.Set's check of security files (config.md
 * §5.3), a moss_cfg_validate_fn. */
bool moss_rt_validate(void *arg, const struct moss_cfg *cand, const char *path,
                      const char *value, char *reason, size_t n);
/* A secure element can hold keys under configuration c: the board has
 * one and sys.atca.enable (with i2c.enable) is on (http.md §4.3). */
bool moss_rt_se_available(const struct moss_rt *rt, const struct moss_cfg *c);

/* rt_validate.c: where TLS credentials under configuration c come from
 * (files on the device filesystem, the secure element), for
 * moss_tls_creds_* (moss/tls.h). */
void moss_rt_tls_env(const struct moss_rt *rt, const struct moss_cfg *c,
                     struct moss_tls_creds_env *env);

/* rt_tls.c: the HTTP server's TLS context from http.ssl_cert / ssl_key /
 * ssl_ca_cert.  Every failure is logged as http.md §1.2 says and
 * described in why (wn bytes; one line naming the setting and the file:
 * "http.ssl_key key.pem: <reason>").  *out: a reference the caller
 * drops with moss_tls_ctx_unref(). */
int moss_rt_tls_setup(struct moss_rt *rt, struct moss_tls_ctx **out, char *why,
                      size_t wn);

/* rt_http.c: mounts the HTTP endpoints and starts the server.  Records
 * the server's state and the reason of a failure (http_state,
 * http_error) and reports it to opts.on_endpoint; failures are logged
 * and the device runs on. */
int moss_rt_http_start(struct moss_rt *rt);
void moss_rt_http_stop(struct moss_rt *rt);

/* rt.c: rebuild running from persist + overrides. */
int moss_rt_apply_overrides(struct moss_rt *rt);
/* Schedule a reboot delay_ms from now. */
void moss_rt_schedule_reboot(struct moss_rt *rt, uint32_t delay_ms);

#endif
