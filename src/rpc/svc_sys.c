/*
 * Sys.GetInfo and Sys.Reboot (spec rpc.md §4).  See moss/rpc_svc.h.
 */
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/port.h"
#include "moss/priv/rpc_json.h"
#include "moss/rpc_svc.h"

/* "servers": what each server is doing, so a client need not guess from
 * a refused connection (the reason of a failure is in "error"). */
static void add_servers(const struct moss_rpc_svc_sys *s, cJSON *r) {
  struct moss_rpc_svc_servers sv;
  memset(&sv, 0, sizeof(sv));
  s->servers(s->servers_arg, &sv);
  cJSON *srv = cJSON_AddObjectToObject(r, "servers");
  cJSON *h = cJSON_AddObjectToObject(srv, "http");
  cJSON_AddStringToObject(h, "state", sv.http.state);
  cJSON_AddStringToObject(h, "listen_addr", sv.http.listen_addr);
  cJSON_AddStringToObject(h, "addr", sv.http.addr);
  cJSON_AddBoolToObject(h, "tls", sv.http.tls);
  cJSON_AddStringToObject(h, "error", sv.http.error);
  cJSON *u = cJSON_AddObjectToObject(srv, "uart");
  cJSON_AddStringToObject(u, "state", sv.uart_state);
}

static const char *or_empty(const char *s) {
  return s != NULL ? s : "";
}

static void sys_get_info(struct moss_rpc_req *req, const cJSON *params,
                         void *ud) {
  (void)params;
  const struct moss_rpc_svc_sys *s = ud;
  const struct moss_cfg *c = s->cfg;
  struct moss_alloc_stats st;
  moss_alloc_get_stats(&st);
  struct moss_fs_info fi;
  memset(&fi, 0, sizeof(fi));
  moss_fs_info(s->fs, &fi);
  const uint8_t *m = s->mac;
  char mac[13];
  snprintf(mac, sizeof(mac), "%02X%02X%02X%02X%02X%02X", m[0], m[1], m[2], m[3],
           m[4], m[5]);
  const struct moss_app_desc *app = s->app;
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "id", or_empty(c->device.id));
  cJSON_AddStringToObject(r, "app", app ? app->name : "moss");
  cJSON_AddStringToObject(r, "fw_version", app ? app->version : "");
  cJSON_AddStringToObject(r, "fw_id", app ? app->build_id : "");
  cJSON_AddStringToObject(r, "fw_sha256", app ? app->sha256 : "");
  cJSON_AddStringToObject(r, "mg_version", app ? app->version : "");
  cJSON_AddStringToObject(r, "mg_id", app ? app->build_id : "");
  cJSON_AddStringToObject(r, "mac", mac);
  cJSON_AddStringToObject(r, "arch", or_empty(s->arch));
  cJSON_AddNumberToObject(r, "uptime",
                          (double)((moss_port_time_ms() - s->start_ms) / 1000));
  cJSON_AddStringToObject(r, "public_key", or_empty(c->device.public_key));
  size_t budget = st.budget ? st.budget : s->ram_size;
  cJSON_AddNumberToObject(r, "ram_size", (double)budget);
  cJSON_AddNumberToObject(
      r, "ram_free", (double)(budget > st.in_use ? budget - st.in_use : 0));
  cJSON_AddNumberToObject(r, "ram_min_free", (double)st.min_free);
  cJSON_AddNumberToObject(r, "fs_size", (double)fi.total);
  cJSON_AddNumberToObject(r, "fs_free", (double)fi.free);
  cJSON *w = cJSON_AddObjectToObject(r, "wifi");
  bool sta = c->wifi.sta.enable;
  cJSON_AddStringToObject(w, "sta_ip", "");
  cJSON_AddStringToObject(w, "ap_ip", c->wifi.ap.enable ? "192.168.4.1" : "");
  cJSON_AddStringToObject(w, "status", sta ? "connecting" : "disconnected");
  cJSON_AddStringToObject(w, "ssid", sta ? or_empty(c->wifi.sta.ssid) : "");
  add_servers(s, r);
  cJSON *mem = cJSON_AddObjectToObject(r, "mem");
  for (int i = 0; i < MOSS_SUB_COUNT; i++) {
    cJSON_AddNumberToObject(mem, moss_alloc_subsys_name((enum moss_subsys)i),
                            (double)st.by_sub[i]);
  }
  moss_rpc_send_response(req, r);
}

static void sys_reboot(struct moss_rpc_req *req, const cJSON *params,
                       void *ud) {
  const struct moss_rpc_svc_sys *s = ud;
  const cJSON *d = cJSON_GetObjectItem(params, "delay_ms");
  const cJSON *abort_j = cJSON_GetObjectItem(params, "abort");
  double delay = cJSON_IsNumber(d) ? d->valuedouble : 100;
  if (delay < 0 || delay > 86400000.0) {
    moss_rpc_send_error(req, 400, "invalid delay value");
    return;
  }
  if (cJSON_IsTrue(abort_j)) {
    s->reboot->cancel(s->reboot->arg);
    moss_rpc_send_response(req, NULL);
    return;
  }
  moss_rpc_send_response(req, NULL);
  s->reboot->schedule(s->reboot->arg, (uint32_t)delay);
}

int moss_rpc_svc_sys_register(struct moss_rpc *rpc,
                              const struct moss_rpc_svc_sys *s) {
  void *ud = (void *)s; /* handlers only read it */
  int ret = moss_rpc_add_handler(rpc, "Sys.GetInfo", sys_get_info, "", ud);
  if (ret == MOSS_OK)
    ret = moss_rpc_add_handler(rpc, "Sys.Reboot", sys_reboot,
                               "{abort: %B, delay_ms: %d}", ud);
  return ret;
}
