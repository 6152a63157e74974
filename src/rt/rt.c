/*
 * The runtime: the composition root.  It builds the device from the board
 * and the configuration (the configuration trees, the Digest state, the
 * RPC core with its authorizer, services and UART channel, the HTTP
 * server) and reboots it.  No protocol lives here: each piece gets what
 * it needs as a small struct (moss/rpc_svc.h, moss/rpc_authz.h,
 * moss/rpc_http.h, moss/http_files.h).  See moss/rt.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/conn.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/port.h"
#include "rt_int.h"

static const char *TAG = "mossd";

/* ---- configuration files on the device filesystem ------------------------ */

static const char *fs_name(const char *name) {
  while (*name == '/')
    name++;
  return name;
}

static int cfs_read(void *ctx, const char *name, char *buf, size_t cap) {
  size_t len = 0;
  int rc = moss_fs_read_file(ctx, fs_name(name), buf, cap, &len);
  return rc == MOSS_OK ? (int)len : rc;
}

static int cfs_write(void *ctx, const char *name, const void *data,
                     size_t len) {
  return moss_fs_write_file(ctx, fs_name(name), data, len);
}

static int cfs_remove(void *ctx, const char *name) {
  return moss_fs_remove(ctx, fs_name(name));
}

static bool cfs_exists(void *ctx, const char *name) {
  struct moss_fs_stat st;
  return moss_fs_stat(ctx, fs_name(name), &st) == MOSS_OK;
}

static int cfs_rename(void *ctx, const char *src, const char *dst) {
  return moss_fs_rename(ctx, fs_name(src), fs_name(dst));
}

/* ---- --set overrides ----------------------------------------------------- */

int moss_rt_apply_overrides(struct moss_rt *rt) {
  int rc = moss_cfg_copy(&rt->running, &rt->persist);
  if (rc != MOSS_OK)
    return rc;
  for (size_t i = 0; i < rt->opts.nsets; i++) {
    char why[192];
    rc = moss_cfg_set_text(&rt->running, rt->opts.sets[i], why, sizeof(why));
    if (rc != MOSS_OK) {
      MOSS_LOG_E(TAG, "--set %s", why);
      return rc;
    }
  }
  return MOSS_OK;
}

#if MOSS_ENABLE_RPC
/* ---- UART channel
 * ---------------------------------------------------------------- */

static int uart_write(void *arg, const void *data, size_t len) {
  struct moss_rt *rt = arg;
  /* The line overruns rather than refusing (moss/board.h), so only a
   * reply larger than the whole send buffer fails. */
  return moss_conn_send(rt->board->uart, data, len);
}

static long uart_data(struct moss_conn *c, const uint8_t *d, size_t n) {
  struct moss_rt *rt = moss_conn_user(c);
  moss_rpc_uart_input(rt->uart, d, n);
  return (long)n;
}

static const struct moss_conn_handlers uart_handlers = {.on_data = uart_data};

#endif /* MOSS_ENABLE_RPC */

/* ---- reboot -------------------------------------------------------------- */

static void reboot_fire(struct moss_ev_timer *t, void *arg) {
  (void)t;
  struct moss_rt *rt = arg;
  rt->reboot_timer = NULL;
  rt->reboot_due = true;
  MOSS_LOG_I(TAG, "rebooting");
  moss_ev_stop(rt->ev);
}

void moss_rt_schedule_reboot(struct moss_rt *rt, uint32_t delay_ms) {
  if (rt->reboot_timer != NULL)
    moss_ev_timer_cancel(rt->reboot_timer);
  rt->reboot_at = moss_ev_now(rt->ev) + delay_ms;
  rt->reboot_timer = moss_ev_timer_start(rt->ev, delay_ms, 0, reboot_fire, rt);
  if (rt->reboot_timer == NULL)
    reboot_fire(NULL, rt);
}

#if MOSS_ENABLE_RPC
/* ---- what the services borrow -------------------------------------------- */

static void reboot_schedule(void *arg, uint32_t delay_ms) {
  moss_rt_schedule_reboot(arg, delay_ms);
}

static void reboot_cancel(void *arg) {
  struct moss_rt *rt = arg;
  moss_ev_timer_cancel(rt->reboot_timer);
  rt->reboot_timer = NULL;
}

static bool reboot_pending(void *arg, uint64_t *left_ms) {
  struct moss_rt *rt = arg;
  if (rt->reboot_timer == NULL)
    return false;
  uint64_t now = moss_ev_now(rt->ev);
  *left_ms = rt->reboot_at > now ? rt->reboot_at - now : 0;
  return true;
}

static const char *srv_state(enum moss_rt_srv_state st) {
  switch (st) {
    case MOSS_RT_SRV_RUNNING:
      return "running";
    case MOSS_RT_SRV_FAILED:
      return "failed";
    default:
      return "disabled";
  }
}

static void servers(void *arg, struct moss_rpc_svc_servers *out) {
  struct moss_rt *rt = arg;
  const char *err = "";
  enum moss_rt_srv_state st = moss_rt_http_state(rt, &err);
  out->http.state = srv_state(st);
  out->http.listen_addr = rt->http_listen;
  out->http.addr = st != MOSS_RT_SRV_DISABLED ? rt->http_addr : "";
  out->http.error = err;
  out->http.tls = rt->http_tls;
  out->uart_state =
      srv_state(rt->uart != NULL ? MOSS_RT_SRV_RUNNING : MOSS_RT_SRV_DISABLED);
}

static int rebuild(void *arg) {
  return moss_rt_apply_overrides(arg);
}

/* The RPC core, its authorizer and the services, as the configuration
 * says (Sys.* only with rpc.service_sys_enable). */
static int rpc_build(struct moss_rt *rt) {
  int ret = MOSS_ERR_NOMEM;
  const struct moss_cfg *c = &rt->running;
  struct moss_rpc_cfg rc;
  memset(&rc, 0, sizeof(rc));
  rc.device_id = c->device.id;
  rc.max_frame_size = (size_t)c->rpc.max_frame_size;
  rt->rpc = moss_rpc_new(&rc);
  if (rt->rpc == NULL)
    goto out;
  rt->reboot_ops = (struct moss_rpc_reboot){reboot_schedule, reboot_cancel,
                                            reboot_pending, rt};
  struct moss_rpc_authz_cfg az = {c, rt->fs, rt->auth, &rt->reboot_ops};
  ret = moss_rpc_authorizer_new(rt->rpc, &az, &rt->authz);
  if (ret != MOSS_OK)
    goto out;
  if (c->rpc.service_sys_enable) {
    rt->sys = (struct moss_rpc_svc_sys){c,
                                        rt->fs,
                                        rt->board->mac,
                                        rt->board->app,
                                        rt->board->arch,
                                        rt->board->ram_size,
                                        rt->start_ms,
                                        servers,
                                        rt,
                                        &rt->reboot_ops};
    ret = moss_rpc_svc_sys_register(rt->rpc, &rt->sys);
    if (ret != MOSS_OK)
      goto out;
  }
  rt->config = (struct moss_rpc_svc_config){&rt->persist, c,  &rt->env,
                                            rebuild,      rt, &rt->reboot_ops};
  ret = moss_rpc_svc_config_register(rt->rpc, &rt->config);
  if (ret != MOSS_OK)
    goto out;
  ret = moss_rpc_svc_fs_register(rt->rpc, rt->fs);
out:
  return ret; /* the caller's moss_rt_stop() frees what was built */
}
#endif /* MOSS_ENABLE_RPC */

/* ---- lifecycle ----------------------------------------------------------- */

/* The out-of-the-box device answers management calls from anyone who
 * can reach its port: say so at every start, where the user looks
 * (docs/security.md).  Loopback-only servers and a password file
 * (rpc.auth_domain + rpc.auth_file, as the authorizer reads them) keep
 * it quiet. */
static void warn_open_rpc(struct moss_rt *rt) {
#if MOSS_ENABLE_RPC
  const struct moss_cfg *c = &rt->running;
  uint32_t ip = 0;
  uint16_t port;
  if (rt->rpc == NULL || rt->http_state != MOSS_RT_SRV_RUNNING)
    return;
  if (!c->rpc.http_enable && !c->rpc.ws.enable)
    return;
  if (c->rpc.auth_domain != NULL && *c->rpc.auth_domain != '\0' &&
      c->rpc.auth_file != NULL && *c->rpc.auth_file != '\0')
    return;
  if (moss_conn_parse_addr(rt->http_addr, &ip, &port) == MOSS_OK &&
      (ip >> 24) == 127)
    return;
  MOSS_LOG_W(TAG,
             "WARNING: RPC is served on %s without authentication: "
             "anyone on the network can manage this device; see "
             "docs/security.md",
             rt->http_addr);
#else
  (void)rt;
#endif
}

/* The filesystem of the board's partition (esp32.md §5.3 step 7). */
static int mount_fs(struct moss_rt *rt) {
  const struct moss_board_fs *bf = &rt->board->fs;
  int rc = moss_fs_mount(&rt->fs, bf->flash);
  if (rc != MOSS_OK) {
    MOSS_LOG_E(TAG,
               "cannot mount %s at 0x%x: %s (reflash with "
               "mos flash esp32, or start from an empty state directory)",
               bf->label, (unsigned)bf->offset, moss_strerror(rc));
    return rc;
  }
  struct moss_fs_info fi;
  if (moss_fs_info(rt->fs, &fi) == MOSS_OK)
    MOSS_LOG_I(TAG, "mounted %s at 0x%x: %u files, %u of %u bytes free",
               bf->label, (unsigned)bf->offset, (unsigned)fi.files,
               (unsigned)fi.free, (unsigned)fi.total);
  return MOSS_OK;
}

int moss_rt_start(struct moss_rt **out, struct moss_ev *ev,
                  const struct moss_board *b, const struct moss_rt_opts *o) {
  int ret = MOSS_ERR_NOMEM;
  *out = NULL;
  moss_json_init();
  struct moss_rt *rt = moss_calloc(MOSS_SUB_APP, 1, sizeof(*rt));
  if (rt == NULL)
    return MOSS_ERR_NOMEM;
  rt->ev = ev;
  rt->board = b;
  if (o != NULL)
    rt->opts = *o;
  rt->start_ms = moss_port_time_ms();
  moss_cfg_init(&rt->persist);
  moss_cfg_init(&rt->running);
  ret = mount_fs(rt);
  if (ret != MOSS_OK)
    goto fail;
  rt->cfs.ctx = rt->fs;
  rt->cfs.read = cfs_read;
  rt->cfs.write = cfs_write;
  rt->cfs.remove = cfs_remove;
  rt->cfs.exists = cfs_exists;
  rt->cfs.rename = cfs_rename;
  rt->env.fs = &rt->cfs;
  rt->env.mac = rt->board->mac;
  rt->env.validate = moss_rt_validate;
  rt->env.validate_arg = rt;

  ret = moss_cfg_load_boot(&rt->persist, &rt->env);
  if (ret != MOSS_OK)
    goto fail;
  ret = moss_rt_apply_overrides(rt);
  if (ret != MOSS_OK)
    goto fail;
  moss_log_set_level((enum moss_log_level)rt->running.debug.level);

  /* Nonces and the failure throttle serve http.auth_* as well. */
  ret = moss_http_auth_new(rt->fs, rt->running.rpc.auth_nonce_ttl, &rt->auth);
  if (ret != MOSS_OK)
    goto fail;
#if MOSS_ENABLE_RPC
  if (rt->running.rpc.enable) {
    ret = rpc_build(rt);
    if (ret != MOSS_OK)
      goto fail;
    if (b->uart != NULL && rt->running.rpc.uart.uart_no >= 0 &&
        rt->running.rpc.uart.enable) {
      ret = MOSS_ERR_NOMEM;
      rt->uart = moss_rpc_uart_new(rt->rpc, uart_write, rt);
      if (rt->uart == NULL)
        goto fail;
      moss_conn_set_user(b->uart, rt);
      moss_conn_set_handlers(b->uart, &uart_handlers);
      moss_conn_resume(b->uart);
    }
  }
#endif
  moss_rt_http_start(rt); /* failures are logged; the device runs on */
  warn_open_rpc(rt);
  *out = rt;
  return MOSS_OK;
fail:
  moss_rt_stop(rt);
  return ret;
}

void moss_rt_stop(struct moss_rt *rt) {
  if (rt == NULL)
    return;
  moss_rt_http_stop(rt);
#if MOSS_ENABLE_RPC
  if (rt->uart != NULL) {
    /* Bytes that arrive during a reboot wait for the next runtime. */
    moss_conn_pause(rt->board->uart);
    moss_conn_set_handlers(rt->board->uart, NULL);
    moss_conn_set_user(rt->board->uart, NULL);
  }
  moss_rpc_uart_free(rt->uart);
  moss_rpc_free(rt->rpc);
  moss_rpc_authorizer_free(rt->authz);
#endif
  moss_http_auth_free(rt->auth);
  moss_ev_timer_cancel(rt->reboot_timer);
  moss_cfg_free(&rt->running);
  moss_cfg_free(&rt->persist);
  moss_fs_unmount(rt->fs);
  moss_free(rt);
}

bool moss_rt_reboot_pending(const struct moss_rt *rt) {
  return rt->reboot_due;
}

const char *moss_rt_http_addr(const struct moss_rt *rt) {
  return rt->http_state == MOSS_RT_SRV_RUNNING ? rt->http_addr : "";
}

enum moss_rt_srv_state moss_rt_http_state(const struct moss_rt *rt,
                                          const char **error) {
  if (error != NULL)
    *error = rt->http_state == MOSS_RT_SRV_FAILED ? rt->http_error : "";
  return rt->http_state;
}
