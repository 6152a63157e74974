/*
 * The device's HTTP endpoints: RPC over HTTP (POST /rpc, /rpc/<Method>)
 * and WebSocket (/rpc), and file serving from the device filesystem
 * (spec http.md §2-3, rpc.md §2.2-2.3).
 */
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/conn.h"
#include "moss/err.h"
#include "moss/glob.h"
#include "moss/log.h"
#include "moss/multipart.h"
#include "moss/tls.h"
#include "moss/ws_frame.h"
#include "rt_int.h"

static const char *TAG = "http";

#if MOSS_ENABLE_RPC
#define CORS_HEADERS                      \
  "Content-Type: application/json\r\n"    \
  "Access-Control-Allow-Origin: *\r\n"    \
  "Access-Control-Allow-Headers: *\r\n"

/* The glue holds no memory of its own: an HTTP connection's user pointer
 * is its RPC channel (of the request in progress, or of the whole
 * WebSocket connection), NULL when none, and the channel's ctx is the
 * connection.  Whichever side goes first unlinks the other, so neither
 * pointer dangles: on_conn_close closes the channel, and a channel closed
 * or done first clears the connection's user.  Which of HTTP, REST
 * (/rpc/<Method>: the result only) or WebSocket a channel is follows from
 * its ops table. */

/* ---- RPC over HTTP ------------------------------------------------------------ */

/* An authorizer 401 on the HTTP channel carries the WWW-Authenticate
 * value as its message (rt_auth.c): it becomes a real HTTP 401
 * (rpc.md §5.5).  Returns true when it did. */
static bool http_401(struct moss_http_conn *hc, struct moss_str frame) {
  cJSON *j = cJSON_ParseWithLength(frame.buf, frame.len);
  cJSON *err = cJSON_GetObjectItem(j, "error");
  const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(err, "message"));
  bool is401 = cJSON_GetNumberValue(cJSON_GetObjectItem(err, "code")) == 401 &&
               m != NULL && strncmp(m, "Digest ", 7) == 0;
  if (is401) {
    char hdr[MOSS_RPC_AUTHZ_MSG_MAX + 32];
    snprintf(hdr, sizeof(hdr), "WWW-Authenticate: %s\r\n", m);
    moss_http_reply(hc, 401, hdr, NULL, 0, true);
  }
  cJSON_Delete(j);
  return is401;
}

static void http_ch_reply(struct moss_http_conn *hc, bool rest,
                          struct moss_str frame) {
  if (http_401(hc, frame)) return;
  if (!rest) {
    /* Whole reply frame, followed by CRLF as Mongoose OS sends it. */
    char *body = moss_alloc(MOSS_SUB_HTTP, frame.len + 2);
    if (body == NULL) {
      moss_http_close(hc);
      return;
    }
    memcpy(body, frame.buf, frame.len);
    memcpy(body + frame.len, "\r\n", 2);
    moss_http_reply(hc, 200, CORS_HEADERS, body, frame.len + 2, false);
    moss_free(body);
    return;
  }
  /* REST: the result alone, or the error object with a mapped status. */
  cJSON *j = cJSON_ParseWithLength(frame.buf, frame.len);
  cJSON *err = cJSON_GetObjectItem(j, "error");
  cJSON *res = cJSON_GetObjectItem(j, "result");
  int status = 200;
  const cJSON *out = res;
  if (err != NULL) {
    int code = (int) cJSON_GetNumberValue(cJSON_GetObjectItem(err, "code"));
    status = code == 403 || code == 404 || code == 401 ? code : 500;
    if (code == 0) status = 200;
    out = err;
  }
  char *s = out != NULL ? cJSON_PrintUnformatted(out) : NULL;
  const char *body = s != NULL ? s : "null";
  size_t bl = strlen(body);
  char *b = moss_alloc(MOSS_SUB_HTTP, bl + 2);
  if (b != NULL) {
    memcpy(b, body, bl);
    memcpy(b + bl, "\r\n", 2);
    moss_http_reply(hc, status, CORS_HEADERS, b, bl + 2, false);
  } else {
    moss_http_close(hc);
  }
  moss_free(b);
  cJSON_free(s);
  cJSON_Delete(j);
}

static int ws_send_frame(struct moss_rpc_channel *ch, struct moss_str frame) {
  return moss_http_ws_send(moss_rpc_channel_ctx(ch), MOSS_WS_OP_TEXT,
                           frame.buf, frame.len);
}

/* An HTTP channel lives for one request: its reply ends it. */
static int http_send(struct moss_rpc_channel *ch, struct moss_str frame,
                     bool rest) {
  struct moss_http_conn *hc = moss_rpc_channel_ctx(ch);
  http_ch_reply(hc, rest, frame);
  moss_rpc_channel_closed(ch);
  moss_http_conn_set_user(hc, NULL);
  return MOSS_OK;
}

static int http_send_frame(struct moss_rpc_channel *ch,
                           struct moss_str frame) {
  return http_send(ch, frame, false);
}

static int rest_send_frame(struct moss_rpc_channel *ch,
                           struct moss_str frame) {
  return http_send(ch, frame, true);
}

static const char *ch_type_http(struct moss_rpc_channel *ch) {
  (void) ch;
  return "HTTP";
}

static const char *ch_type_ws(struct moss_rpc_channel *ch) {
  (void) ch;
  return "WS_in";
}

static void ch_info(struct moss_rpc_channel *ch, char *buf, size_t n) {
  if (moss_http_conn_peer(moss_rpc_channel_ctx(ch), buf, n) != MOSS_OK)
    buf[0] = '\0';
}

static bool ch_not_persistent(struct moss_rpc_channel *ch) {
  (void) ch;
  return false;
}

static void ch_close(struct moss_rpc_channel *ch) {
  struct moss_http_conn *hc = moss_rpc_channel_ctx(ch);
  moss_rpc_channel_closed(ch);
  moss_http_conn_set_user(hc, NULL);
  moss_http_close(hc);
}

static const struct moss_rpc_channel_ops http_ch_ops = {
    .send_frame = http_send_frame,
    .get_type = ch_type_http,
    .get_info = ch_info,
    .is_persistent = ch_not_persistent,
    .close = ch_close,
};

static const struct moss_rpc_channel_ops rest_ch_ops = {
    .send_frame = rest_send_frame,
    .get_type = ch_type_http,
    .get_info = ch_info,
    .is_persistent = ch_not_persistent,
    .close = ch_close,
};

static const struct moss_rpc_channel_ops ws_ch_ops = {
    .send_frame = ws_send_frame,
    .get_type = ch_type_ws,
    .get_info = ch_info,
    .close = ch_close,
};

#endif /* MOSS_ENABLE_RPC */

static void reply_text(struct moss_http_conn *hc, int status,
                       const char *text) {
  char body[256];
  int n = snprintf(body, sizeof(body), "%s\r\n", text);
  moss_http_reply(hc, status, "Content-Type: text/plain\r\n", body,
                  (size_t) n, false);
}

#if MOSS_ENABLE_RPC
/* GET /rpc/<Method>?a=1&b="x" -> {"a":1,"b":"x"} (values raw). */
static int query_params(struct moss_str q, char *out, size_t cap,
                        size_t *olen) {
  size_t k = 0;
  struct moss_str key, val;
  out[k++] = '{';
  bool first = true;
  while (moss_http_query_next(&q, &key, &val)) {
    char dk[128], dv[1024];
    size_t kl, vl;
    if (moss_http_url_decode(dk, sizeof(dk), key, true, &kl) != MOSS_OK ||
        moss_http_url_decode(dv, sizeof(dv), val, true, &vl) != MOSS_OK)
      return MOSS_ERR_PARSE;
    int n = snprintf(out + k, cap - k, "%s\"%.*s\":%.*s", first ? "" : ",",
                     (int) kl, dk, (int) vl, vl ? dv : "null");
    if (n < 0 || (size_t) n >= cap - k) return MOSS_ERR_TOOBIG;
    k += (size_t) n;
    first = false;
  }
  if (k + 2 > cap) return MOSS_ERR_TOOBIG;
  out[k++] = '}';
  out[k] = '\0';
  *olen = k;
  return MOSS_OK;
}

static void handle_rpc(struct moss_rt *rt, struct moss_http_conn *hc,
                       const struct moss_http_req *req, struct moss_str body,
                       struct moss_str rest) {
  bool is_get = moss_str_eq_c(req->method, "GET");
  if (moss_str_eq_c(req->method, "OPTIONS")) {
    moss_http_reply(hc, 200, CORS_HEADERS, NULL, 0, false);
    return;
  }
  if (rt->rpc == NULL) {
    reply_text(hc, 404, "Not Found");
    return;
  }
  if (rest.len == 0 && req->upgrade_websocket) {
    if (!rt->running.rpc.ws.enable) {
      reply_text(hc, 503, "WS is disabled");
      return;
    }
    return; /* the caller upgrades */
  }
  if (!rt->running.rpc.http_enable) {
    reply_text(hc, 404, "Not Found");
    return;
  }
  if (!is_get && !moss_str_eq_c(req->method, "POST")) {
    reply_text(hc, 405, "Method Not Allowed");
    return;
  }
  /* Digest over HTTP (rpc.md §5.5): a valid Authorization binds the user
   * to this request's channel; an invalid one is answered here.  An empty
   * POST /rpc without one gets the challenge, so `curl --digest` (which
   * probes with an empty body) works. */
  char user[MOSS_RPC_USER_MAX];
  bool probe = rest.len == 0 && body.len == 0 && !is_get;
  if (moss_rt_http_digest(rt, hc, req, true, probe, user, sizeof(user)) != 0)
    return;
  bool is_rest = rest.len > 0;
  struct moss_rpc_channel *ch = moss_rpc_channel_open(
      rt->rpc, is_rest ? &rest_ch_ops : &http_ch_ops, hc);
  if (ch != NULL && moss_rpc_channel_set_user(ch, user) != MOSS_OK) {
    /* Never run the call as nobody when the Authorization said who. */
    moss_rpc_channel_closed(ch);
    ch = NULL;
  }
  if (ch == NULL) {
    reply_text(hc, 503, "Service Unavailable");
    return;
  }
  moss_http_conn_set_user(hc, ch);
  bool will_reply = false;
  int rc;
  if (is_rest) {
    char qp[2048];
    struct moss_str params = body;
    if (is_get && body.len == 0 && req->query.len > 0) {
      size_t ql;
      if (query_params(req->query, qp, sizeof(qp), &ql) != MOSS_OK) {
        rc = MOSS_ERR_PARSE;
        goto refused;
      }
      params = moss_str_n(qp, ql);
    }
    rc = moss_rpc_channel_recv_call(ch, rest, params, &will_reply);
  } else {
    if (body.len == 0) {
      rc = MOSS_ERR_PARSE;
      goto refused;
    }
    rc = moss_rpc_channel_recv(ch, body, &will_reply);
  }
  if (rc == MOSS_OK && will_reply) return; /* replied, or will */
refused:
  /* No reply frame will come: answer here and drop the channel, unless
   * it already went (its user link is cleared then). */
  if (moss_http_conn_user(hc) != NULL) {
    moss_http_conn_set_user(hc, NULL);
    moss_rpc_channel_closed(ch);
  }
  if (rc == MOSS_ERR_TOOBIG) {
    moss_http_reply(hc, 413, CORS_HEADERS, MOSS_RPC_BODY_TOO_BIG "\r\n",
                    sizeof(MOSS_RPC_BODY_TOO_BIG "\r\n") - 1, false);
  } else if (rc != MOSS_OK) {
    moss_http_reply(hc, 400, CORS_HEADERS, MOSS_RPC_BODY_INVALID_FRAME "\r\n",
                    sizeof(MOSS_RPC_BODY_INVALID_FRAME "\r\n") - 1, false);
  } else {
    moss_http_reply(hc, 200, CORS_HEADERS, NULL, 0, false); /* notification */
  }
}

/* ---- RPC over WebSocket --------------------------------------------------- */

static void ws_message(struct moss_http_conn *hc, int opcode,
                       const uint8_t *data, size_t len) {
  (void) opcode;
  struct moss_rpc_channel *ch = moss_http_conn_user(hc);
  if (ch == NULL) return;
  bool will_reply;
  moss_rpc_channel_recv(ch, moss_str_n((const char *) data, len),
                        &will_reply);
}

static void ws_closed(struct moss_http_conn *hc) {
  (void) hc; /* on_conn_close does the work for every connection */
}

static const struct moss_http_ws_handlers ws_handlers = {ws_message,
                                                         ws_closed};

static void upgrade_ws(struct moss_rt *rt, struct moss_http_conn *hc,
                       const struct moss_http_req *req) {
  /* A valid Authorization on the upgrade binds the user to the whole
   * connection; a present but invalid one fails the upgrade with the 401
   * (rpc.md §2.3); none lets frames authenticate themselves. */
  char user[MOSS_RPC_USER_MAX];
  if (moss_rt_http_digest(rt, hc, req, true, false, user, sizeof(user)) != 0)
    return;
  if (moss_http_ws_upgrade(hc, req, &ws_handlers) != MOSS_OK) return;
  struct moss_rpc_channel *ch = moss_rpc_channel_open(rt->rpc, &ws_ch_ops, hc);
  if (ch != NULL && moss_rpc_channel_set_user(ch, user) != MOSS_OK) {
    moss_rpc_channel_closed(ch); /* not as nobody: see handle_rpc */
    ch = NULL;
  }
  if (ch == NULL) {
    moss_http_close(hc);
    return;
  }
  moss_http_conn_set_user(hc, ch);
}

static void on_conn_close(void *arg, struct moss_http_conn *hc) {
  (void) arg;
  struct moss_rpc_channel *ch = moss_http_conn_user(hc);
  if (ch == NULL) return;
  moss_http_conn_set_user(hc, NULL);
  moss_rpc_channel_closed(ch); /* pending replies are dropped */
}

#endif /* MOSS_ENABLE_RPC */

/* ---- files ---------------------------------------------------------------------- */

static bool is_protected(struct moss_rt *rt, const char *name) {
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  size_t bl = strlen(base);
  if (strncmp(base, "conf", 4) == 0 &&
      ((bl > 5 && strcmp(base + bl - 5, ".json") == 0) ||
       (bl > 9 && strcmp(base + bl - 9, ".json.try") == 0)))
    return true;
  if (bl >= 4 && strcmp(base + bl - 4, ".key") == 0) return true;
  const char *files[] = {rt->running.rpc.auth_file, rt->running.http.auth_file,
                         rt->running.rpc.acl_file, rt->running.http.ssl_key,
                         rt->running.mqtt.ssl_key, rt->running.rpc.ws.ssl_key};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    const char *f = files[i];
    if (f == NULL) continue;
    while (*f == '/') f++;
    if (*f != '\0' && strcmp(f, name) == 0) return true;
  }
  /* rpc.acl may name its file as "@file". */
  const char *acl = rt->running.rpc.acl;
  if (acl != NULL && acl[0] == '@') {
    acl++;
    while (*acl == '/') acl++;
    if (strcmp(acl, name) == 0) return true;
  }
  return false;
}

static const char *content_type(const char *name) {
  static const struct {
    const char *ext, *type;
  } t[] = {{".html", "text/html"}, {".htm", "text/html"},
           {".css", "text/css"}, {".js", "application/javascript"},
           {".json", "application/json"}, {".txt", "text/plain"},
           {".pem", "text/plain"}, {".crt", "text/plain"},
           {".png", "image/png"}, {".jpg", "image/jpeg"},
           {".jpeg", "image/jpeg"}, {".svg", "image/svg+xml"},
           {".ico", "image/x-icon"}, {".gz", "application/gzip"}};
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof(t) / sizeof(t[0]); i++)
    if (strcasecmp(dot, t[i].ext) == 0) return t[i].type;
  return "application/octet-stream";
}

static long file_read(void *ctx, uint8_t *buf, size_t cap) {
  return moss_fs_read(ctx, buf, cap);
}

static void file_done(void *ctx) {
  moss_fs_close(ctx);
}

static void serve_file(struct moss_rt *rt, struct moss_http_conn *hc,
                       const struct moss_http_req *req) {
  const char *root = rt->running.http.document_root;
  if (root == NULL || *root == '\0') {
    reply_text(hc, 404, "Not Found");
    return;
  }
  char user[MOSS_RPC_USER_MAX];
  if (moss_rt_http_digest(rt, hc, req, false, true, user, sizeof(user)) != 0)
    return;
  if (!moss_str_eq_c(req->method, "GET") &&
      !moss_str_eq_c(req->method, "HEAD")) {
    reply_text(hc, 405, "Method Not Allowed");
    return;
  }
  char path[MOSS_FS_NAME_MAX * 2 + 8];
  size_t pl;
  if (moss_http_path_decode(path, sizeof(path), req->path, &pl) != MOSS_OK) {
    reply_text(hc, pl > 0 && pl >= sizeof(path) - 1 ? 404 : 400,
               pl >= sizeof(path) - 1 ? "Not Found" : "Bad Request");
    return;
  }
  /* document_root "/" is the filesystem root; "/www" serves "www/...". */
  char name[sizeof(path) + MOSS_FS_NAME_MAX + 8];
  while (*root == '/') root++;
  const char *p = path;
  while (*p == '/') p++;
  snprintf(name, sizeof(name), "%s%s%s", root, *root ? "/" : "", p);
  struct moss_fs_stat st;
  size_t nl = strlen(name);
  if (nl == 0 || name[nl - 1] == '/') {
    /* A directory: try the index files. */
    const char *idx = rt->running.http.index_files;
    if (idx == NULL || *idx == '\0') idx = "index.html,index.htm";
    bool found = false;
    while (*idx && !found) {
      size_t il = strcspn(idx, ",");
      snprintf(name + nl, sizeof(name) - nl, "%.*s", (int) il, idx);
      found = moss_fs_stat(rt->board.fs, name, &st) == MOSS_OK;
      idx += il;
      if (*idx == ',') idx++;
    }
    if (!found) {
      reply_text(hc, 404, "Not Found");
      return;
    }
  }
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  const char *hidden = rt->running.http.hidden_files;
  if ((hidden != NULL && *hidden &&
       moss_glob_match(moss_str_c(hidden), moss_str_c(base))) ||
      is_protected(rt, name)) {
    reply_text(hc, 404, "Not Found");
    return;
  }
  struct moss_fs_file *f = NULL;
  if (strlen(name) > MOSS_FS_NAME_MAX ||
      moss_fs_open(rt->board.fs, name, MOSS_FS_O_RDONLY, &f) != MOSS_OK) {
    reply_text(hc, 404, "Not Found");
    return;
  }
  char extra[512];
  const char *xh = rt->running.http.extra_headers;
  snprintf(extra, sizeof(extra), "Content-Type: %s\r\n%s%s",
           content_type(name), xh ? xh : "",
           xh && *xh && xh[strlen(xh) - 1] != '\n' ? "\r\n" : "");
  moss_http_reply_stream(hc, 200, extra, moss_fs_size(f), file_read,
                         file_done, f);
}

/* ---- /upload (http.md §5) ---------------------------------------------------- */

/* upload_acl: comma list of [+|-]glob over the file name, first match
 * decides, no match denies.  *bare_star: the deciding entry was a plain
 * "*" (which must not open protected files, http.md §5). */
static bool upload_allowed(const char *acl, const char *name,
                           bool *bare_star) {
  *bare_star = false;
  if (acl == NULL) return false;
  const char *p = acl;
  while (*p != '\0') {
    size_t n = strcspn(p, ",");
    struct moss_str e = moss_str_n(p, n);
    while (e.len > 0 && *e.buf == ' ') e.buf++, e.len--;
    while (e.len > 0 && e.buf[e.len - 1] == ' ') e.len--;
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
    if (*p == ',') p++;
  }
  return false;
}

static void upload(struct moss_rt *rt, struct moss_http_conn *hc,
                   const struct moss_http_req *req, struct moss_str body) {
  char user[MOSS_RPC_USER_MAX];
  if (moss_rt_http_digest(rt, hc, req, false, true, user, sizeof(user)) != 0)
    return;
  if (!moss_str_eq_c(req->method, "POST")) {
    reply_text(hc, 405, "Method Not Allowed");
    return;
  }
  const struct moss_str *ct = moss_http_get_header(req, "Content-Type");
  struct moss_str boundary;
  if (ct == NULL || moss_multipart_boundary(*ct, &boundary) != MOSS_OK) {
    reply_text(hc, 400, "Bad Request");
    return;
  }
  /* Check every part before writing any, so a refused name changes
   * nothing. */
  for (int pass = 0; pass < 2; pass++) {
    size_t pos = 0;
    struct moss_multipart_part part;
    int rc;
    while ((rc = moss_multipart_next(body, boundary, &pos, &part)) > 0) {
      if (part.filename.len == 0) continue;
      char name[MOSS_FS_NAME_MAX + 1];
      char body_msg[MOSS_FS_NAME_MAX + 96];
      bool bad = moss_str_copy(name, sizeof(name), part.filename) != MOSS_OK ||
                 memchr(part.filename.buf, '\0', part.filename.len) != NULL ||
                 strchr(name, '/') != NULL || strchr(name, '\\') != NULL ||
                 strstr(name, "..") != NULL;
      bool bare = false;
      if (!bad) {
        bad = !upload_allowed(rt->running.http.upload_acl, name, &bare) ||
              (bare && is_protected(rt, name));
      }
      if (bad) {
        char shown[MOSS_FS_NAME_MAX + 1];
        size_t k = 0;
        for (; k < part.filename.len && k + 1 < sizeof(shown); k++) {
          char c = part.filename.buf[k];
          shown[k] = c >= 0x20 && c < 0x7f ? c : '?';
        }
        shown[k] = '\0';
        MOSS_LOG_W(TAG, "upload of %s refused", shown);
        int n = snprintf(body_msg, sizeof(body_msg),
                         "Not allowed to upload %s\r\n", shown);
        moss_http_reply(hc, 403, "Content-Type: text/plain\r\n", body_msg,
                        (size_t) n, true);
        return;
      }
      if (pass == 0) continue;
      rc = moss_fs_write_file(rt->board.fs, name, part.data.buf,
                              part.data.len);
      if (rc == MOSS_ERR_NOSPC) {
        int n = snprintf(body_msg, sizeof(body_msg),
                         "Failed to write to %s: no space left; wrote 0\r\n",
                         name);
        moss_http_reply(hc, 413, "Content-Type: text/plain\r\n", body_msg,
                        (size_t) n, true);
        return;
      }
      if (rc != MOSS_OK) {
        int n = snprintf(body_msg, sizeof(body_msg),
                         "Failed to open %s: %s\r\n", name,
                         moss_strerror(rc));
        moss_http_reply(hc, 500, "Content-Type: text/plain\r\n", body_msg,
                        (size_t) n, true);
        return;
      }
      MOSS_LOG_I(TAG, "uploaded %s (%zu bytes)", name, part.data.len);
    }
    if (rc < 0) {
      reply_text(hc, 400, "Bad Request");
      return;
    }
  }
  moss_http_reply(hc, 200, "Content-Type: text/plain\r\n", "Ok.\r\n", 5,
                  true);
}

/* ---- routing ---------------------------------------------------------------------- */

static void handler(void *arg, struct moss_http_conn *hc,
                    const struct moss_http_req *req, struct moss_str body) {
  struct moss_rt *rt = arg;
  struct moss_str path = req->path;
#if MOSS_ENABLE_RPC
  if (moss_str_eq_c(path, "/rpc") || moss_str_eq_c(path, "/rpc/")) {
    handle_rpc(rt, hc, req, body, MOSS_STR_NULL);
    if (req->upgrade_websocket && rt->rpc != NULL &&
        rt->running.rpc.ws.enable)
      upgrade_ws(rt, hc, req);
    return;
  }
  if (path.len > 5 && memcmp(path.buf, "/rpc/", 5) == 0) {
    handle_rpc(rt, hc, req, body, moss_str_n(path.buf + 5, path.len - 5));
    return;
  }
#else
  (void) body;
  (void) path;
#endif
  if (moss_str_eq_c(req->path, "/upload")) {
    upload(rt, hc, req, body);
    return;
  }
  serve_file(rt, hc, req);
}

/* ---- TLS (http.md §1.2, §4) ------------------------------------------------ */

/* Largest certificate or key file read for the server. */
#define TLS_FILE_MAX (16u * 1024u)

static const char *fs_why(int rc) {
  return rc == MOSS_ERR_NOENT ? "No such file or directory" : moss_strerror(rc);
}

/* Whole file into a NUL-terminated heap buffer (MOSS_SUB_TLS). */
static int read_pem(struct moss_rt *rt, const char *name, char **out,
                    size_t *len) {
  struct moss_fs_stat st;
  *out = NULL;
  int rc = moss_fs_stat(rt->board.fs, name, &st);
  if (rc != MOSS_OK) return rc;
  if (st.size > TLS_FILE_MAX) return MOSS_ERR_TOOBIG;
  char *b = moss_alloc(MOSS_SUB_TLS, st.size + 1);
  if (b == NULL) return MOSS_ERR_NOMEM;
  rc = moss_fs_read_file(rt->board.fs, name, b, st.size, len);
  if (rc != MOSS_OK) {
    moss_free_secret(b);
    return rc;
  }
  b[*len] = '\0';
  *out = b;
  return MOSS_OK;
}

/* Server context from http.ssl_cert / ssl_key / ssl_ca_cert.  Every
 * failure is logged as http.md §1.2 says and described in why (one line
 * naming the setting and the file: "http.ssl_key key.pem: <reason>"). */
static int tls_setup(struct moss_rt *rt, struct moss_tls_ctx **out,
                     char *why, size_t wn) {
  const struct moss_cfg *c = &rt->running;
  const char *certf = c->http.ssl_cert, *keyf = c->http.ssl_key;
  const char *caf = c->http.ssl_ca_cert;
  char *cert = NULL, *key = NULL;
  size_t cl = 0, kl = 0;
  struct moss_tls_ctx *ctx = NULL;
  struct moss_tls_ca *ca = NULL;
  *out = NULL;
  struct moss_tls_ctx_opts o;
  memset(&o, 0, sizeof(o));
  o.role = MOSS_TLS_SERVER;
  int rc = moss_tls_ctx_new(&o, &ctx);
  if (rc != MOSS_OK) {
    MOSS_LOG_E(TAG, "HTTP: cannot set up TLS: %s", moss_strerror(rc));
    snprintf(why, wn, "TLS setup: %s", moss_strerror(rc));
    goto out;
  }
  rc = read_pem(rt, certf, &cert, &cl);
  if (rc != MOSS_OK) {
    MOSS_LOG_E(TAG, "HTTP: cannot use certificate %s: %s", certf, fs_why(rc));
    snprintf(why, wn, "http.ssl_cert %s: %s", certf, fs_why(rc));
    goto out;
  }
  if (keyf != NULL && *keyf != '\0') {
    if (strncmp(keyf, "ATCA:", 5) == 0) {
      /* No ATCA key path in the TLS layer yet: with a chip this would
       * still fail, and says so. */
      const char *r = moss_rt_se_available(rt, c)
                          ? "secure element keys are not supported yet"
                          : "secure element not available";
      MOSS_LOG_E(TAG, "HTTP: cannot use key %s: %s: %s", keyf, keyf, r);
      snprintf(why, wn, "http.ssl_key %s: %s", keyf, r);
      rc = MOSS_ERR_NOTSUP;
      goto out;
    }
    rc = read_pem(rt, keyf, &key, &kl);
    if (rc != MOSS_OK) {
      MOSS_LOG_E(TAG, "HTTP: cannot use key %s: %s", keyf, fs_why(rc));
      snprintf(why, wn, "http.ssl_key %s: %s", keyf, fs_why(rc));
      goto out;
    }
  }
  bool bad_key = false;
  char r[160];
  rc = moss_tls_ctx_use_cert(ctx, cert, cl, key, kl, &bad_key, r, sizeof(r));
  if (rc != MOSS_OK) {
    /* A key read from the certificate file is that file's problem. */
    bool in_key = bad_key && key != NULL;
    const char *f = in_key ? keyf : certf;
    if (bad_key)
      MOSS_LOG_E(TAG, "HTTP: cannot use key %s: %s", f, r);
    else
      MOSS_LOG_E(TAG, "HTTP: cannot use certificate %s: %s", f, r);
    snprintf(why, wn, "%s %s: %s", in_key ? "http.ssl_key" : "http.ssl_cert",
             f, r);
    goto out;
  }
  if (caf != NULL && *caf != '\0' && strcmp(caf, "*") != 0) {
    rc = moss_tls_ca_new(&moss_tls_fs_ops, rt->board.fs, caf, &ca);
    if (rc != MOSS_OK) {
      MOSS_LOG_E(TAG, "HTTP: cannot open CA file %s: %s", caf, fs_why(rc));
      snprintf(why, wn, "http.ssl_ca_cert %s: %s", caf, fs_why(rc));
      goto out;
    }
    moss_tls_ctx_use_ca(ctx, ca);
  }
  *out = ctx;
  ctx = NULL;
out:
  if (cert != NULL) moss_free_secret(cert);
  if (key != NULL) moss_free_secret(key);
  moss_tls_ctx_unref(ctx);
  return rc;
}

/* Tells opts.on_endpoint what the HTTP server is doing. */
static void report(struct moss_rt *rt) {
  if (rt->opts.on_endpoint == NULL) return;
  bool up = rt->http_state == MOSS_RT_SRV_RUNNING;
  struct moss_rt_endpoint ep = {
      "HTTP", rt->http_state,
      up || rt->http_state == MOSS_RT_SRV_FAILED ? rt->http_addr : "",
      rt->http_state == MOSS_RT_SRV_FAILED ? rt->http_error : "",
      rt->http_tls};
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
  if (moss_rt_map_addr(rt->opts.port_map, la, host, sizeof(host), &mapped) !=
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
  struct moss_http_server_cfg sc;
  memset(&sc, 0, sizeof(sc));
  sc.listen_addr = host;
  sc.handler = handler;
#if MOSS_ENABLE_RPC
  sc.on_conn_close = on_conn_close;
#endif
  sc.arg = rt;
  struct moss_tls_ctx *tctx = NULL;
  if (rt->http_tls) {
    if (tls_setup(rt, &tctx, rt->http_error, sizeof(rt->http_error)) !=
        MOSS_OK) {
      MOSS_LOG_E(TAG, "Error binding to [%s]: TLS setup failed", shown);
      return failed(rt, MOSS_ERR_INVAL);
    }
    sc.listen = moss_tls_listen;
    sc.listen_arg = tctx;
  }
  char why[128] = "";
  int rc = moss_http_server_start(rt->ev, &sc, &rt->http, why, sizeof(why));
  /* The listener holds its own reference. */
  moss_tls_ctx_unref(tctx);
  if (rc != MOSS_OK) {
    MOSS_LOG_E(TAG, "Error binding to [%s]: %s", shown, why);
    const char *dport = strrchr(shown, ':') ? strrchr(shown, ':') + 1 : shown;
    MOSS_LOG_E(TAG, "cannot listen on %s: %s (use --port-map %s=<free port>"
               " or --set http.listen_addr=<addr>)", host, why, dport);
    snprintf(rt->http_error, sizeof(rt->http_error), "listen on %s: %s", host,
             why);
    return failed(rt, rc);
  }
  /* Report the real port (an ephemeral :0 is resolved here). */
  char *colon = strrchr(host, ':');
  if (colon != NULL)
    snprintf(colon + 1, sizeof(host) - (size_t) (colon + 1 - host), "%u",
             (unsigned) moss_http_server_port(rt->http));
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
