/*
 * File serving and /upload over the device filesystem (spec http.md
 * §3-5).  See moss/http_files.h.
 */
#include "moss/http_files.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "moss/err.h"
#include "moss/glob.h"
#include "moss/log.h"
#include "moss/multipart.h"

static const char *TAG = "http";

static struct moss_http_auth_realm realm(const struct moss_cfg *c) {
  struct moss_http_auth_realm r = {
      c->http.auth_domain, c->http.auth_file,
      c->http.auth_algo ? MOSS_DIGEST_SHA256 : MOSS_DIGEST_MD5};
  return r;
}

/* Names no request may read or (with a bare "*" ACL) write: the
 * configuration layers, keys, and the files secret settings name. */
static bool is_protected(const struct moss_cfg *c, const char *name) {
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  size_t bl = strlen(base);
  if (strncmp(base, "conf", 4) == 0 &&
      ((bl > 5 && strcmp(base + bl - 5, ".json") == 0) ||
       (bl > 9 && strcmp(base + bl - 9, ".json.try") == 0)))
    return true;
  if (bl >= 4 && strcmp(base + bl - 4, ".key") == 0)
    return true;
  const char *files[] = {c->rpc.auth_file, c->http.auth_file,
                         c->rpc.acl_file,  c->http.ssl_key,
                         c->mqtt.ssl_key,  c->rpc.ws.ssl_key};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    const char *f = files[i];
    if (f == NULL)
      continue;
    while (*f == '/')
      f++;
    if (*f != '\0' && strcmp(f, name) == 0)
      return true;
  }
  /* rpc.acl may name its file as "@file". */
  const char *acl = c->rpc.acl;
  if (acl != NULL && acl[0] == '@') {
    acl++;
    while (*acl == '/')
      acl++;
    if (strcmp(acl, name) == 0)
      return true;
  }
  return false;
}

static const char *content_type(const char *name) {
  static const struct {
    const char *ext, *type;
  } t[] = {{".html", "text/html"},        {".htm", "text/html"},
           {".css", "text/css"},          {".js", "application/javascript"},
           {".json", "application/json"}, {".txt", "text/plain"},
           {".pem", "text/plain"},        {".crt", "text/plain"},
           {".png", "image/png"},         {".jpg", "image/jpeg"},
           {".jpeg", "image/jpeg"},       {".svg", "image/svg+xml"},
           {".ico", "image/x-icon"},      {".gz", "application/gzip"}};
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof(t) / sizeof(t[0]); i++)
    if (strcasecmp(dot, t[i].ext) == 0)
      return t[i].type;
  return "application/octet-stream";
}

static long file_read(void *ctx, uint8_t *buf, size_t cap) {
  return moss_fs_read(ctx, buf, cap);
}

static void file_done(void *ctx) {
  moss_fs_close(ctx);
}

void moss_http_files_serve(void *arg, struct moss_http_conn *hc,
                           const struct moss_http_req *req,
                           struct moss_str body) {
  (void)body;
  const struct moss_http_files *fl = arg;
  const struct moss_cfg *c = fl->cfg;
  const char *root = c->http.document_root;
  if (root == NULL || *root == '\0') {
    moss_http_reply_text(hc, 404, "Not Found");
    return;
  }
  char user[MOSS_DIGEST_USER_MAX];
  struct moss_http_auth_realm r = realm(c);
  if (moss_http_auth_check(fl->auth, &r, hc, req, true, user, sizeof(user)) !=
      0)
    return;
  if (!moss_str_eq_c(req->method, "GET") &&
      !moss_str_eq_c(req->method, "HEAD")) {
    moss_http_reply_text(hc, 405, "Method Not Allowed");
    return;
  }
  char path[MOSS_FS_NAME_MAX * 2 + 8];
  size_t pl;
  if (moss_http_path_decode(path, sizeof(path), req->path, &pl) != MOSS_OK) {
    moss_http_reply_text(hc, pl > 0 && pl >= sizeof(path) - 1 ? 404 : 400,
                         pl >= sizeof(path) - 1 ? "Not Found" : "Bad Request");
    return;
  }
  /* document_root "/" is the filesystem root; "/www" serves "www/...". */
  char name[sizeof(path) + MOSS_FS_NAME_MAX + 8];
  while (*root == '/')
    root++;
  const char *p = path;
  while (*p == '/')
    p++;
  snprintf(name, sizeof(name), "%s%s%s", root, *root ? "/" : "", p);
  struct moss_fs_stat st;
  size_t nl = strlen(name);
  if (nl == 0 || name[nl - 1] == '/') {
    /* A directory: try the index files. */
    const char *idx = c->http.index_files;
    if (idx == NULL || *idx == '\0')
      idx = "index.html,index.htm";
    bool found = false;
    while (*idx && !found) {
      size_t il = strcspn(idx, ",");
      snprintf(name + nl, sizeof(name) - nl, "%.*s", (int)il, idx);
      found = moss_fs_stat(fl->fs, name, &st) == MOSS_OK;
      idx += il;
      if (*idx == ',')
        idx++;
    }
    if (!found) {
      moss_http_reply_text(hc, 404, "Not Found");
      return;
    }
  }
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  const char *hidden = c->http.hidden_files;
  if ((hidden != NULL && *hidden &&
       moss_glob_match(moss_str_c(hidden), moss_str_c(base))) ||
      is_protected(c, name)) {
    moss_http_reply_text(hc, 404, "Not Found");
    return;
  }
  struct moss_fs_file *f = NULL;
  if (strlen(name) > MOSS_FS_NAME_MAX ||
      moss_fs_open(fl->fs, name, MOSS_FS_O_RDONLY, &f) != MOSS_OK) {
    moss_http_reply_text(hc, 404, "Not Found");
    return;
  }
  char extra[512];
  const char *xh = c->http.extra_headers;
  snprintf(extra, sizeof(extra), "Content-Type: %s\r\n%s%s", content_type(name),
           xh ? xh : "", xh && *xh && xh[strlen(xh) - 1] != '\n' ? "\r\n" : "");
  moss_http_reply_stream(hc, 200, extra, moss_fs_size(f), file_read, file_done,
                         f);
}

/* ---- /upload (http.md §5) ----------------------------------------------- */

/* upload_acl: comma list of [+|-]glob over the file name, first match
 * decides, no match denies.  *bare_star: the deciding entry was a plain
 * "*" (which must not open protected files, http.md §5). */
static bool upload_allowed(const char *acl, const char *name, bool *bare_star) {
  *bare_star = false;
  if (acl == NULL)
    return false;
  const char *p = acl;
  while (*p != '\0') {
    size_t n = strcspn(p, ",");
    struct moss_str e = moss_str_n(p, n);
    while (e.len > 0 && *e.buf == ' ')
      e.buf++, e.len--;
    while (e.len > 0 && e.buf[e.len - 1] == ' ')
      e.len--;
    bool allow = true;
    if (e.len > 0 && (*e.buf == '+' || *e.buf == '-')) {
      allow = *e.buf == '+';
      e.buf++;
      e.len--;
    }
    if (moss_glob_match1(e, moss_str_c(name))) {
      *bare_star = allow && e.len == 1 && e.buf[0] == '*';
      return allow;
    }
    p += n;
    if (*p == ',')
      p++;
  }
  return false;
}

/* A refused part: 403 naming it (printable ASCII only, as in the log). */
static void refuse(struct moss_http_conn *hc, struct moss_str filename) {
  char shown[MOSS_FS_NAME_MAX + 1];
  char msg[MOSS_FS_NAME_MAX + 96];
  moss_log_sanitize(shown, sizeof(shown), filename.buf, filename.len);
  MOSS_LOG_W(TAG, "upload of %s refused", shown);
  int n = snprintf(msg, sizeof(msg), "Not allowed to upload %s\r\n", shown);
  moss_http_reply(hc, 403, "Content-Type: text/plain\r\n", msg, (size_t)n,
                  true);
}

void moss_http_files_upload(void *arg, struct moss_http_conn *hc,
                            const struct moss_http_req *req,
                            struct moss_str body) {
  const struct moss_http_files *fl = arg;
  const struct moss_cfg *c = fl->cfg;
  char user[MOSS_DIGEST_USER_MAX];
  struct moss_http_auth_realm r = realm(c);
  if (moss_http_auth_check(fl->auth, &r, hc, req, true, user, sizeof(user)) !=
      0)
    return;
  if (!moss_str_eq_c(req->method, "POST")) {
    moss_http_reply_text(hc, 405, "Method Not Allowed");
    return;
  }
  const struct moss_str *ct = moss_http_get_header(req, "Content-Type");
  struct moss_str boundary;
  if (ct == NULL || moss_multipart_boundary(*ct, &boundary) != MOSS_OK) {
    moss_http_reply_text(hc, 400, "Bad Request");
    return;
  }
  /* Check every part before writing any, so a refused name changes
   * nothing. */
  for (int pass = 0; pass < 2; pass++) {
    size_t pos = 0;
    struct moss_multipart_part part;
    int rc;
    while ((rc = moss_multipart_next(body, boundary, &pos, &part)) > 0) {
      if (part.filename.len == 0)
        continue;
      char name[MOSS_FS_NAME_MAX + 1];
      char msg[MOSS_FS_NAME_MAX + 96];
      bool bad = moss_str_copy(name, sizeof(name), part.filename) != MOSS_OK ||
                 memchr(part.filename.buf, '\0', part.filename.len) != NULL ||
                 strchr(name, '/') != NULL || strchr(name, '\\') != NULL ||
                 strstr(name, "..") != NULL;
      bool bare = false;
      if (!bad) {
        bad = !upload_allowed(c->http.upload_acl, name, &bare) ||
              (bare && is_protected(c, name));
      }
      if (bad) {
        refuse(hc, part.filename);
        return;
      }
      if (pass == 0)
        continue;
      rc = moss_fs_write_file(fl->fs, name, part.data.buf, part.data.len);
      if (rc == MOSS_ERR_NOSPC) {
        int n =
            snprintf(msg, sizeof(msg),
                     "Failed to write to %s: no space left; wrote 0\r\n", name);
        moss_http_reply(hc, 413, "Content-Type: text/plain\r\n", msg, (size_t)n,
                        true);
        return;
      }
      if (rc != MOSS_OK) {
        int n = snprintf(msg, sizeof(msg), "Failed to open %s: %s\r\n", name,
                         moss_strerror(rc));
        moss_http_reply(hc, 500, "Content-Type: text/plain\r\n", msg, (size_t)n,
                        true);
        return;
      }
      MOSS_LOG_I(TAG, "uploaded %s (%zu bytes)", name, part.data.len);
    }
    if (rc < 0) {
      moss_http_reply_text(hc, 400, "Bad Request");
      return;
    }
  }
  moss_http_reply(hc, 200, "Content-Type: text/plain\r\n", "Ok.\r\n", 5, true);
}

int moss_http_files_mount(struct moss_http_files *f,
                          struct moss_http_router *r) {
  struct moss_http_route up = {MOSS_HTTP_UPLOAD_PATH, false,
                               moss_http_files_upload, NULL, f};
  struct moss_http_route files = {"/", true, moss_http_files_serve, NULL, f};
  moss_http_router_set_fallback(r, &files);
  return moss_http_router_add(r, &up);
}
