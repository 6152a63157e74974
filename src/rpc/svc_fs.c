/*
 * FS.List, FS.ListExt, FS.Get, FS.Put, FS.Remove, FS.Rename (spec rpc.md
 * §4) on the flat namespace of moss's filesystem.  See moss/rpc_svc.h.
 *
 * Each FS.Put is one commit: the device file has the old or the new
 * content of that call (`mos put` makes a multi-chunk upload atomic as a
 * whole by writing "<name>.part~" and renaming it over the target).
 */
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/base64.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/priv/rpc_json.h"
#include "moss/rpc_svc.h"

static const char *TAG = "svc";

/* Device file names: a leading '/' is dropped; empty names, "..", NUL
 * and backslashes are refused. */
static const char *fs_arg(const cJSON *params, const char *key) {
  const cJSON *j = cJSON_GetObjectItem(params, key);
  if (!cJSON_IsString(j) || j->valuestring[0] == '\0')
    return NULL;
  const char *n = j->valuestring;
  while (*n == '/')
    n++;
  return n;
}

static bool bad_name(const char *n) {
  if (*n == '\0' || strlen(n) > MOSS_FS_NAME_MAX)
    return true;
  if (strchr(n, '\\') != NULL)
    return true;
  /* ".." as a whole path segment */
  for (const char *p = n; (p = strstr(p, "..")) != NULL; p += 2) {
    bool start = p == n || p[-1] == '/';
    bool end = p[2] == '\0' || p[2] == '/';
    if (start && end)
      return true;
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
  if (l->prefix[0] != '\0' &&
      strncmp(st->name, l->prefix, strlen(l->prefix)) != 0)
    return 0;
  const char *name = st->name + strlen(l->prefix);
  if (l->ext) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "size", (double)st->size);
    cJSON_AddItemToArray(l->arr, o);
  } else {
    cJSON_AddItemToArray(l->arr, cJSON_CreateString(name));
  }
  return 0;
}

static void fs_list_common(struct moss_rpc_req *req, const cJSON *params,
                           struct moss_fs *fs, bool ext) {
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
  int rc = moss_fs_list(fs, list_one, &l);
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
  struct moss_fs *fs = ud;
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
      moss_fs_open(fs, name, MOSS_FS_O_RDONLY, &f) != MOSS_OK) {
    moss_rpc_send_errorf(req, 400, "failed to open file \"%s\"", name);
    return;
  }
  uint32_t size = moss_fs_size(f);
  uint32_t o = off > size ? size : (uint32_t)off;
  uint32_t n = size - o;
  if (len >= 0 && len < n)
    n = (uint32_t)len;
  if (n > FS_GET_MAX)
    n = FS_GET_MAX;
  uint8_t *buf = moss_alloc(MOSS_SUB_APP, n ? n : 1);
  char *b64 = moss_alloc(MOSS_SUB_APP, MOSS_BASE64_ENC_LEN(n));
  if (buf == NULL || b64 == NULL) {
    moss_rpc_send_error(req, 500, "out of memory");
    goto out;
  }
  if (moss_fs_seek(f, (int32_t)o, MOSS_FS_SEEK_SET) < 0) {
    moss_rpc_send_error(req, 500, "fseek");
    goto out;
  }
  int got = n ? moss_fs_read(f, buf, n) : 0;
  if (got < 0 || (uint32_t)got != n) {
    moss_rpc_send_error(req, 500, "fread");
    goto out;
  }
  size_t bl;
  moss_base64_encode(b64, MOSS_BASE64_ENC_LEN(n), &bl, buf, n);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "data", b64);
  cJSON_AddNumberToObject(r, "left", (double)(size - o - n));
  moss_rpc_send_response(req, r);
out:
  moss_free(buf);
  moss_free(b64);
  moss_fs_close(f);
}

static void fs_put(struct moss_rpc_req *req, const cJSON *params, void *ud) {
  struct moss_fs *fs = ud;
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
  if (off > 0)
    flags = MOSS_FS_O_RDWR;
  else if (off < 0 && append)
    flags = MOSS_FS_O_RDWR | MOSS_FS_O_CREAT;
  else
    flags = MOSS_FS_O_WRONLY | MOSS_FS_O_CREAT | MOSS_FS_O_TRUNC;
  struct moss_fs_file *f = NULL;
  int rc = moss_fs_open(fs, name, flags, &f);
  if (rc != MOSS_OK) {
    moss_free(data);
    moss_rpc_send_errorf(req, 400, "failed to open file \"%s\"", name);
    return;
  }
  int32_t pos = off > 0 ? moss_fs_seek(f, (int32_t)off, MOSS_FS_SEEK_SET)
                : (off < 0 && append) ? moss_fs_seek(f, 0, MOSS_FS_SEEK_END)
                                      : 0;
  if (pos < 0) {
    moss_fs_discard(f);
    moss_free(data);
    moss_rpc_send_errorf(req, 400, "failed to seek to %.0f", off);
    return;
  }
  rc = n ? moss_fs_write(f, data, n) : 0;
  moss_free(data);
  if (rc >= 0)
    rc = moss_fs_close(f);
  else
    moss_fs_discard(f);
  if (rc < 0) {
    MOSS_LOG_E(TAG, "FS.Put %s: %s", name, moss_strerror(rc));
    moss_rpc_send_errorf(req, 500, "failed to write data: %s",
                         moss_strerror(rc));
    return;
  }
  moss_rpc_send_response(req, NULL);
}

static void fs_remove(struct moss_rpc_req *req, const cJSON *params, void *ud) {
  struct moss_fs *fs = ud;
  const char *name = fs_arg(params, "filename");
  if (name == NULL) {
    moss_rpc_send_error(req, 400, "filename is required");
    return;
  }
  if (bad_name(name) || moss_fs_remove(fs, name) != MOSS_OK) {
    moss_rpc_send_error(req, 500, "remove failed");
    return;
  }
  moss_rpc_send_response(req, NULL);
}

static void fs_rename(struct moss_rpc_req *req, const cJSON *params, void *ud) {
  struct moss_fs *fs = ud;
  const char *src = fs_arg(params, "src"), *dst = fs_arg(params, "dst");
  if (src == NULL || dst == NULL) {
    moss_rpc_send_error(req, 400, "src and dst are required");
    return;
  }
  if (bad_name(src) || bad_name(dst) ||
      moss_fs_rename(fs, src, dst) != MOSS_OK) {
    moss_rpc_send_error(req, 500, "rename failed");
    return;
  }
  moss_rpc_send_response(req, NULL);
}

int moss_rpc_svc_fs_register(struct moss_rpc *rpc, struct moss_fs *fs) {
  static const struct {
    const char *name;
    moss_rpc_handler_fn *fn;
    const char *fmt;
  } tab[] = {
      {"FS.List", fs_list, "{path: %Q}"},
      {"FS.ListExt", fs_list_ext, "{path: %Q}"},
      {"FS.Get", fs_get, "{filename: %Q, offset: %ld, len: %ld}"},
      {"FS.Put", fs_put, "{filename: %Q, offset: %ld, data: %V, append: %B}"},
      {"FS.Remove", fs_remove, "{filename: %Q}"},
      {"FS.Rename", fs_rename, "{src: %Q, dst: %Q}"},
  };
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
    int rc = moss_rpc_add_handler(rpc, tab[i].name, tab[i].fn, tab[i].fmt, fs);
    if (rc != MOSS_OK)
      return rc;
  }
  return MOSS_OK;
}
