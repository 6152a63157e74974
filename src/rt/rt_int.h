/* Private state of the runtime (src/rt/). */
#ifndef MOSS_RT_INT_H
#define MOSS_RT_INT_H

#include "moss/cfg.h"
#include "moss/http_server.h"
#include "moss/rpc.h"
#include "moss/rpc_uart.h"
#include "moss/rt.h"

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
  char http_addr[64];
  struct moss_ev_timer *reboot_timer;
  uint64_t reboot_at;
  bool reboot_due;
};

/* rt_svc.c: Sys.*, Config.*, FS.* */
int moss_rt_svc_register(struct moss_rt *rt);
/* Schedule a reboot delay_ms from now. */
void moss_rt_schedule_reboot(struct moss_rt *rt, uint32_t delay_ms);
/* rt_http.c: the HTTP request handler and RPC channels over HTTP/WS. */
int moss_rt_http_start(struct moss_rt *rt);
void moss_rt_http_stop(struct moss_rt *rt);
/* rt.c: rebuild running from persist + overrides. */
int moss_rt_apply_overrides(struct moss_rt *rt);

#endif
