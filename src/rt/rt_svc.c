/*
 * The device's RPC services: Sys.GetInfo, Sys.Reboot, Config.Get/Set/Save,
 * FS.List/ListExt/Get/Put/Remove/Rename (spec rpc.md §4).
 */
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/base64.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/port.h"
#include "rt_int.h"

#if MOSS_ENABLE_RPC
static const char *TAG = "svc";

/* ---- Sys ------------------------------------------------------------------ */

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

/* "servers": what each server is doing, so a client need not guess from
 * a refused connection (the reason of a failure is in "error"). */
static void add_servers(struct moss_rt *rt, cJSON *r) {
  cJSON *srv = cJSON_AddObjectToObject(r, "servers");
  cJSON *h = cJSON_AddObjectToObject(srv, "http");
  const char *err = "";
  enum moss_rt_srv_state st = moss_rt_http_state(rt, &err);
  cJSON_AddStringToObject(h, "state", srv_state(st));
  cJSON_AddStringToObject(h, "listen_addr", rt->http_listen);
  cJSON_AddStringToObject(h, "addr", st != MOSS_RT_SRV_DISABLED
                                         ? rt->http_addr : "");
  cJSON_AddBoolToObject(h, "tls", rt->http_tls);
  cJSON_AddStringToObject(h, "error", err);
  cJSON *u = cJSON_AddObjectToObject(srv, "uart");
  cJSON_AddStringToObject(u, "state", srv_state(rt->uart != NULL
                                                    ? MOSS_RT_SRV_RUNNING
                                                    : MOSS_RT_SRV_DISABLED));
}

static void sys_get_info(struct moss_rpc_req *req, const cJSON *params,
                         void *ud) {
  (void) params;
  struct moss_rt *rt = ud;
  struct moss_alloc_stats st;
  moss_alloc_get_stats(&st);
  struct moss_fs_info fi;
  memset(&fi, 0, sizeof(fi));
  moss_fs_info(rt->board.fs, &fi);
  const uint8_t *m = rt->board.mac;
  char mac[13];
  snprintf(mac, sizeof(mac), "%02X%02X%02X%02X%02X%02X", m[0], m[1], m[2],
           m[3], m[4], m[5]);
  const struct moss_app_desc *app = rt->board.app;
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "id", rt->running.device.id
                                       ? rt->running.device.id : "");
  cJSON_AddStringToObject(r, "app", app ? app->name : "moss");
  cJSON_AddStringToObject(r, "fw_version", app ? app->version : "");
  cJSON_AddStringToObject(r, "fw_id", app ? app->build_id : "");
  cJSON_AddStringToObject(r, "fw_sha256", app ? app->sha256 : "");
  cJSON_AddStringToObject(r, "mg_version", app ? app->version : "");
  cJSON_AddStringToObject(r, "mg_id", app ? app->build_id : "");
  cJSON_AddStringToObject(r, "mac", mac);
  cJSON_AddStringToObject(r, "arch", rt->board.arch ? rt->board.arch : "");
  cJSON_AddNumberToObject(
      r, "uptime", (double) ((moss_port_time_ms() - rt->start_ms) / 1000));
  cJSON_AddStringToObject(r, "public_key", rt->running.device.public_key
                                               ? rt->running.device.public_key
                                               : "");
  size_t budget = st.budget ? st.budget : rt->board.ram_size;
  cJSON_AddNumberToObject(r, "ram_size", (double) budget);
  cJSON_AddNumberToObject(
      r, "ram_free", (double) (budget > st.in_use ? budget - st.in_use : 0));
  cJSON_AddNumberToObject(r, "ram_min_free", (double) st.min_free);
  cJSON_AddNumberToObject(r, "fs_size", (double) fi.total);
  cJSON_AddNumberToObject(r, "fs_free", (double) fi.free);
  cJSON *w = cJSON_AddObjectToObject(r, "wifi");
  bool sta = rt->running.wifi.sta.enable;
  cJSON_AddStringToObject(w, "sta_ip", "");
  cJSON_AddStringToObject(w, "ap_ip",
                          rt->running.wifi.ap.enable ? "192.168.4.1" : "");
  cJSON_AddStringToObject(w, "status", sta ? "connecting" : "disconnected");
  cJSON_AddStringToObject(w, "ssid", sta && rt->running.wifi.sta.ssid
                                         ? rt->running.wifi.sta.ssid
                                         : "");
  add_servers(rt, r);
  cJSON *mem = cJSON_AddObjectToObject(r, "mem");
  for (int i = 0; i < MOSS_SUB_COUNT; i++) {
    cJSON_AddNumberToObject(mem, moss_alloc_subsys_name((enum moss_subsys) i),
                            (double) st.by_sub[i]);
  }
  moss_rpc_send_response(req, r);
}

static void sys_reboot(struct moss_rpc_req *req, const cJSON *params,
                       void *ud) {
  struct moss_rt *rt = ud;
  const cJSON *d = cJSON_GetObjectItem(params, "delay_ms");
  const cJSON *abort_j = cJSON_GetObjectItem(params, "abort");
  double delay = cJSON_IsNumber(d) ? d->valuedouble : 100;
  if (delay < 0 || delay > 86400000.0) {
    moss_rpc_send_error(req, 400, "invalid delay value");
    return;
  }
  if (cJSON_IsTrue(abort_j)) {
    moss_ev_timer_cancel(rt->reboot_timer);
    rt->reboot_timer = NULL;
    moss_rpc_send_response(req, NULL);
    return;
  }
  moss_rpc_send_response(req, NULL);
  moss_rt_schedule_reboot(rt, (uint32_t) delay);
}

/* ---- Config ------------------------------------------------------------------ */

static void reply_cfg(struct moss_rpc_req *req, int rc, cJSON *res,
                      const struct moss_cfg_status *st) {
  if (rc == MOSS_OK) {
    moss_rpc_send_response(req, res);
  } else {
    cJSON_Delete(res);
    moss_rpc_send_error(req, st->code ? st->code : 500,
                        st->msg[0] ? st->msg : moss_strerror(rc));
  }
}

static void config_get(struct moss_rpc_req *req, const cJSON *params,
                       void *ud) {
  struct moss_rt *rt = ud;
  cJSON *res = NULL;
  struct moss_cfg_status st;
  memset(&st, 0, sizeof(st));
  int rc = moss_cfg_rpc_get(&rt->running, &rt->env, params, &res, &st);
  reply_cfg(req, rc, res, &st);
}

static void config_set(struct moss_rpc_req *req, const cJSON *params,
                       void *ud) {
  struct moss_rt *rt = ud;
  cJSON *res = NULL;
  struct moss_cfg_status st;
  memset(&st, 0, sizeof(st));
  bool reboot = false;
  /* Changes go to the persistent tree (what Config.Save writes); the
   * running tree is rebuilt from it plus the run-only --set overrides. */
  int rc = moss_cfg_rpc_set(&rt->persist, &rt->env, params, &res, &reboot,
                            &st);
  if (rc == MOSS_OK && moss_rt_apply_overrides(rt) != MOSS_OK)
    MOSS_LOG_E(TAG, "cannot rebuild the running configuration");
  reply_cfg(req, rc, res, &st);
  if (rc == MOSS_OK && reboot) moss_rt_schedule_reboot(rt, 500);
}

static void config_save(struct moss_rpc_req *req, const cJSON *params,
                        void *ud) {
  struct moss_rt *rt = ud;
  cJSON *res = NULL;
  struct moss_cfg_status st;
  memset(&st, 0, sizeof(st));
  bool reboot = false;
  int rc = moss_cfg_rpc_save(&rt->persist, &rt->env, params, &res, &reboot,
                             &st);
  reply_cfg(req, rc, res, &st);
  if (rc == MOSS_OK && reboot) moss_rt_schedule_reboot(rt, 500);
}

/* ---- FS -------------------------------------------------------------------------- */

/* Device file names: a leading '/' is dropped; empty names, "..", NUL
 * and backslashes are refused. */
static const char *fs_arg(const cJSON *params, const char *key) {
  const cJSON *j = cJSON_GetObjectItem(params, key);
  if (!cJSON_IsString(j) || j->valuestring[0] == '\0') return NULL;
  const char *n = j->valuestring;
  while (*n == '/') n++;
  return n;
}

static bool bad_name(const char *n) {
  if (*n == '\0' || strlen(n) > MOSS_FS_NAME_MAX) return true;
  if (strchr(n, '\\') != NULL) return true;
  /* ".." as a whole path segment */
  for (const char *p = n; (p = strstr(p, "..")) != NULL; p += 2) {
    bool start = p == n || p[-1] == '/';
    bool end = p[2] == '\0' || p[2] == '/';
    if (start && end) return true;
  }
  return false;
}

struct list_ctx {
  cJSON *arr;
  bool ext;
  const char *prefix;
};

static int list_one(void *arg, const struct moss_fs_stat *st) {
  struct list_ctx *l = arg;
  if (l->prefix[0] != '\0' && strncmp(st->name, l->prefix,
                                      strlen(l->prefix)) != 0)
    return 0;
  const char *name = st->name + strlen(l->prefix);
  if (l->ext) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "size", (double) st->size);
    cJSON_AddItemToArray(l->arr, o);
  } else {
    cJSON_AddItemToArray(l->arr, cJSON_CreateString(name));
  }
  return 0;
}

static void fs_list_common(struct moss_rpc_req *req, const cJSON *params,
                           struct moss_rt *rt, bool ext) {
  /* Flat namespace: "/" (or nothing) lists everything; "dir" lists the
   * names under "dir/". */
  char prefix[MOSS_FS_NAME_MAX + 2] = "";
  const char *p = fs_arg(params, "path");
  if (p != NULL && *p != '\0') {
    snprintf(prefix, sizeof(prefix), "%s", p);
    size_t n = strlen(prefix);
    if (n > 0 && prefix[n - 1] != '/' && n + 1 < sizeof(prefix)) {
      prefix[n] = '/';
      prefix[n + 1] = '\0';
    }
  }
  struct list_ctx l = {cJSON_CreateArray(), ext, prefix};
  int rc = moss_fs_list(rt->board.fs, list_one, &l);
  if (rc != MOSS_OK) {
    cJSON_Delete(l.arr);
    moss_rpc_send_errorf(req, 500, "list failed: %s", moss_strerror(rc));
    return;
  }
  moss_rpc_send_response(req, l.arr);
}

static void fs_list(struct moss_rpc_req *req, const cJSON *params, void *ud) {
  fs_list_common(req, params, ud, false);
}

static void fs_list_ext(struct moss_rpc_req *req, const cJSON *params,
                        void *ud) {
  fs_list_common(req, params, ud, true);
}

/* Largest FS.Get chunk: its base64 must fit a reply frame. */
#define FS_GET_MAX 4096

static void fs_get(struct moss_rpc_req *req, const cJSON *params, void *ud) {
  struct moss_rt *rt = ud;
  const char *name = fs_arg(params, "filename");
  if (name == NULL) {
    moss_rpc_send_error(req, 400, "filename is required");
    return;
  }
  const cJSON *jo = cJSON_GetObjectItem(params, "offset");
  const cJSON *jl = cJSON_GetObjectItem(params, "len");
  double off = cJSON_IsNumber(jo) ? jo->valuedouble : 0;
  double len = cJSON_IsNumber(jl) ? jl->valuedouble : -1;
  if (off < 0) {
    moss_rpc_send_error(req, 400, "illegal offset");
    return;
  }
  struct moss_fs_file *f = NULL;
  if (bad_name(name) ||
      moss_fs_open(rt->board.fs, name, MOSS_FS_O_RDONLY, &f) != MOSS_OK) {
    moss_rpc_send_errorf(req, 400, "failed to open file \"%s\"", name);
    return;
  }
  uint32_t size = moss_fs_size(f);
  uint32_t o = off > size ? size : (uint32_t) off;
  uint32_t n = size - o;
  if (len >= 0 && len < n) n = (uint32_t) len;
  if (n > FS_GET_MAX) n = FS_GET_MAX;
  uint8_t *buf = moss_alloc(MOSS_SUB_APP, n ? n : 1);
  char *b64 = moss_alloc(MOSS_SUB_APP, MOSS_BASE64_ENC_LEN(n));
  if (buf == NULL || b64 == NULL) {
    moss_rpc_send_error(req, 500, "out of memory");
    goto out;
  }
  if (moss_fs_seek(f, (int32_t) o, MOSS_FS_SEEK_SET) < 0) {
    moss_rpc_send_error(req, 500, "fseek");
    goto out;
  }
  int got = n ? moss_fs_read(f, buf, n) : 0;
  if (got < 0 || (uint32_t) got != n) {
    moss_rpc_send_error(req, 500, "fread");
    goto out;
  }
  size_t bl;
  moss_base64_encode(b64, MOSS_BASE64_ENC_LEN(n), &bl, buf, n);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "data", b64);
  cJSON_AddNumberToObject(r, "left", (double) (size - o - n));
  moss_rpc_send_response(req, r);
out:
  moss_free(buf);
  moss_free(b64);
  moss_fs_close(f);
}

static void fs_put(struct moss_rpc_req *req, const cJSON *params, void *ud) {
  struct moss_rt *rt = ud;
  const char *name = fs_arg(params, "filename");
  if (name == NULL) {
    moss_rpc_send_error(req, 400, "filename is required");
    return;
  }
  if (bad_name(name)) {
    moss_rpc_send_error(req, 400, "invalid file name");
    return;
  }
  const cJSON *jd = cJSON_GetObjectItem(params, "data");
  const cJSON *jo = cJSON_GetObjectItem(params, "offset");
  bool append = cJSON_IsTrue(cJSON_GetObjectItem(params, "append"));
  const char *b64 = cJSON_IsString(jd) ? jd->valuestring : "";
  size_t bl = strlen(b64);
  uint8_t *data = moss_alloc(MOSS_SUB_APP, bl / 4 * 3 + 3);
  size_t n = 0;
  if (data == NULL) {
    moss_rpc_send_error(req, 500, "out of memory");
    return;
  }
  if (moss_base64_decode(data, bl / 4 * 3 + 3, &n, b64, bl) != MOSS_OK) {
    moss_free(data);
    moss_rpc_send_error(req, 400, "invalid base64 data");
    return;
  }
  /* Opening rule (rpc.md §4 notes): offset absent/negative -> append if
   * append else create/truncate; 0 -> create/truncate; > 0 -> update the
   * existing file at offset. */
  double off = cJSON_IsNumber(jo) ? jo->valuedouble : -1;
  int flags;
  if (off > 0) flags = MOSS_FS_O_RDWR;
  else if (off < 0 && append) flags = MOSS_FS_O_RDWR | MOSS_FS_O_CREAT;
  else flags = MOSS_FS_O_WRONLY | MOSS_FS_O_CREAT | MOSS_FS_O_TRUNC;
  struct moss_fs_file *f = NULL;
  int rc = moss_fs_open(rt->board.fs, name, flags, &f);
  if (rc != MOSS_OK) {
    moss_free(data);
    moss_rpc_send_errorf(req, 400, "failed to open file \"%s\"", name);
    return;
  }
  int32_t pos = off > 0 ? moss_fs_seek(f, (int32_t) off, MOSS_FS_SEEK_SET)
                        : (off < 0 && append)
                              ? moss_fs_seek(f, 0, MOSS_FS_SEEK_END)
                              : 0;
  if (pos < 0) {
    moss_fs_discard(f);
    moss_free(data);
    moss_rpc_send_errorf(req, 400, "failed to seek to %.0f", off);
    return;
  }
  rc = n ? moss_fs_write(f, data, n) : 0;
  moss_free(data);
  if (rc >= 0) rc = moss_fs_close(f);
  else moss_fs_discard(f);
  if (rc < 0) {
    MOSS_LOG_E(TAG, "FS.Put %s: %s", name, moss_strerror(rc));
    moss_rpc_send_errorf(req, 500, "failed to write data: %s",
                         moss_strerror(rc));
    return;
  }
  moss_rpc_send_response(req, NULL);
}

static void fs_remove(struct moss_rpc_req *req, const cJSON *params,
                      void *ud) {
  struct moss_rt *rt = ud;
  const char *name = fs_arg(params, "filename");
  if (name == NULL) {
    moss_rpc_send_error(req, 400, "filename is required");
    return;
  }
  if (bad_name(name) || moss_fs_remove(rt->board.fs, name) != MOSS_OK) {
    moss_rpc_send_error(req, 500, "remove failed");
    return;
  }
  moss_rpc_send_response(req, NULL);
}

static void fs_rename(struct moss_rpc_req *req, const cJSON *params,
                      void *ud) {
  struct moss_rt *rt = ud;
  const char *src = fs_arg(params, "src"), *dst = fs_arg(params, "dst");
  if (src == NULL || dst == NULL) {
    moss_rpc_send_error(req, 400, "src and dst are required");
    return;
  }
  if (bad_name(src) || bad_name(dst) ||
      moss_fs_rename(rt->board.fs, src, dst) != MOSS_OK) {
    moss_rpc_send_error(req, 500, "rename failed");
    return;
  }
  moss_rpc_send_response(req, NULL);
}

int moss_rt_svc_register(struct moss_rt *rt) {
  static const struct {
    const char *name;
    moss_rpc_handler_fn *fn;
    const char *fmt;
    bool sys;
  } tab[] = {
      {"Sys.GetInfo", sys_get_info, "", true},
      {"Sys.Reboot", sys_reboot, "{abort: %B, delay_ms: %d}", true},
      {"Config.Get", config_get, "{key: %Q, level: %d}", false},
      {"Config.Set", config_set,
       "{key: %Q, config: %T, value: %T, level: %d, save: %B, "
       "try_once: %B, reboot: %B}", false},
      {"Config.Save", config_save, "{try_once: %B, reboot: %B}", false},
      {"FS.List", fs_list, "{path: %Q}", false},
      {"FS.ListExt", fs_list_ext, "{path: %Q}", false},
      {"FS.Get", fs_get, "{filename: %Q, offset: %ld, len: %ld}", false},
      {"FS.Put", fs_put,
       "{filename: %Q, offset: %ld, data: %V, append: %B}", false},
      {"FS.Remove", fs_remove, "{filename: %Q}", false},
      {"FS.Rename", fs_rename, "{src: %Q, dst: %Q}", false},
  };
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
    if (tab[i].sys && !rt->running.rpc.service_sys_enable) continue;
    int rc = moss_rpc_add_handler(rt->rpc, tab[i].name, tab[i].fn,
                                  tab[i].fmt, rt);
    if (rc != MOSS_OK) return rc;
  }
  return MOSS_OK;
}

#endif /* MOSS_ENABLE_RPC */
