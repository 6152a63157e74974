/* Private state of the runtime (src/rt/). */
#ifndef MOSS_RT_INT_H
#define MOSS_RT_INT_H

#include "moss_config.h"
#include "moss/cfg.h"
#include "moss/http_server.h"
#include "moss/rpc.h"
#include "moss/rpc_uart.h"
#include "moss/rt.h"

struct moss_rt_auth;

struct moss_rt {
  struct moss_ev *ev;
  struct moss_rt_board board;
  struct moss_rt_opts opts;
  uint64_t start_ms;
  /* persist: layers + Config.Set changes (what Config.Save writes);
   * running: persist + --set overrides (what the device uses). */
  struct moss_cfg persist;
  struct moss_cfg running;
  struct moss_cfg_fs cfs;
  struct moss_cfg_env env;
  struct moss_rpc *rpc;
  struct moss_rpc_uart *uart;
  struct moss_ev_io *uart_io;
  struct moss_http_server *http;
  /* The HTTP server as Sys.GetInfo and the endpoint lines report it:
   * http_addr is the host address bound (RUNNING) or tried (FAILED). */
  enum moss_rt_srv_state http_state;
  bool http_tls;
  char http_addr[64];
  char http_listen[64]; /* http.listen_addr the server started with */
  char http_error[MOSS_RT_SRV_ERROR_MAX];
  struct moss_rt_auth *auth; /* nonce table, throttle, parsed ACL */
  struct moss_ev_timer *reboot_timer;
  uint64_t reboot_at;
  bool reboot_due;
};

/* rt_auth.c: the RPC authorizer (Digest in frames, ACL, 418 before a
 * reboot) and Digest over HTTP. */
int moss_rt_auth_init(struct moss_rt *rt);
void moss_rt_auth_free(struct moss_rt *rt);
int moss_rt_authorize(void *arg, struct moss_rpc_req *req,
                      const struct moss_rpc_frame *frame,
                      struct moss_rpc_authz *out);
/* Checks the request's Authorization against the rpc (rpc = true) or
 * http realm.  Returns 0 to go on (user = the verified user, or "" when
 * there was no header and !required, or auth is not configured), or the
 * HTTP status it has already replied with (401 challenge, 400, 429,
 * 500). */
int moss_rt_http_digest(struct moss_rt *rt, struct moss_http_conn *hc,
                        const struct moss_http_req *req, bool rpc,
                        bool required, char *user, size_t usz);

/* rt_validate.c: Config.Set's check of security files (config.md
 * §5.3), a moss_cfg_validate_fn. */
bool moss_rt_validate(void *arg, const struct moss_cfg *cand,
                      const char *path, const char *value, char *reason,
                      size_t n);
/* A secure element can hold keys under configuration c: the board has
 * one and sys.atca.enable (with i2c.enable) is on (http.md §4.3). */
bool moss_rt_se_available(const struct moss_rt *rt,
                          const struct moss_cfg *c);

/* rt_svc.c: Sys.*, Config.*, FS.* */
int moss_rt_svc_register(struct moss_rt *rt);
/* Schedule a reboot delay_ms from now. */
void moss_rt_schedule_reboot(struct moss_rt *rt, uint32_t delay_ms);
/* rt_http.c: the HTTP request handler and RPC channels over HTTP/WS.
 * moss_rt_http_start records the server's state and the reason of a
 * failure (http_state, http_error) and reports it to opts.on_endpoint. */
int moss_rt_http_start(struct moss_rt *rt);
void moss_rt_http_stop(struct moss_rt *rt);
/* rt.c: rebuild running from persist + overrides. */
int moss_rt_apply_overrides(struct moss_rt *rt);

#endif
