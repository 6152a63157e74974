/*
 * The "HTTP" RPC channel: POST /rpc (a whole frame) and REST
 * /rpc/<Method> (spec rpc.md §2.2, §5.5), and the /rpc route that also
 * leads to the WebSocket channel (rpc_ws.c).  See moss/rpc_http.h.
 *
 * An HTTP channel lives for one request: its reply ends it.  Which of
 * HTTP or REST a channel is follows from its ops table: REST has
 * send_result, so the core hands it the result or the error alone and no
 * frame is parsed back here.  Both have send_challenge: an authorizer's
 * 401 becomes a real HTTP 401.
 */
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "rpc_http_int.h"

struct moss_http_auth_realm moss_rpc_http_realm(const struct moss_cfg *c) {
  struct moss_http_auth_realm r = {
      c->rpc.auth_domain, c->rpc.auth_file,
      c->rpc.auth_algo ? MOSS_DIGEST_SHA256 : MOSS_DIGEST_MD5};
  return r;
}

/* body + CRLF (as Mongoose OS sends it), 200 or status, CORS headers. */
static void reply_json(struct moss_http_conn *hc, int status,
                       struct moss_str body) {
  char *b = moss_alloc(MOSS_SUB_HTTP, body.len + 2);
  if (b == NULL) {
    moss_http_close(hc);
    return;
  }
  memcpy(b, body.buf, body.len);
  memcpy(b + body.len, "\r\n", 2);
  moss_http_reply(hc, status, MOSS_RPC_HTTP_CORS, b, body.len + 2, false);
  moss_free(b);
}

/* The one reply is out: the channel ends, the connection stays. */
static void done(struct moss_rpc_channel *ch, struct moss_http_conn *hc) {
  moss_rpc_channel_closed(ch);
  moss_http_conn_set_user(hc, NULL);
}

static int http_send_frame(struct moss_rpc_channel *ch, struct moss_str frame) {
  struct moss_http_conn *hc = moss_rpc_channel_ctx(ch);
  reply_json(hc, 200, frame);
  done(ch, hc);
  return MOSS_OK;
}

/* REST: the result alone, or the error object with a mapped status. */
static int rest_send_result(struct moss_rpc_channel *ch, bool is_error,
                            int code, struct moss_str json) {
  struct moss_http_conn *hc = moss_rpc_channel_ctx(ch);
  int status = 200;
  if (is_error && code != 0)
    status = code == 403 || code == 404 || code == 401 ? code : 500;
  reply_json(hc, status, json);
  done(ch, hc);
  return MOSS_OK;
}

static int http_send_challenge(struct moss_rpc_channel *ch,
                               const struct moss_rpc_challenge *c) {
  struct moss_http_conn *hc = moss_rpc_channel_ctx(ch);
  char val[MOSS_RPC_AUTHZ_MSG_MAX];
  char hdr[MOSS_RPC_AUTHZ_MSG_MAX + 32];
  if (moss_digest_challenge_header(val, sizeof(val), c->nonce, c->realm,
                                   c->algo, c->stale) < 0) {
    moss_http_reply(hc, 500, NULL, NULL, 0, true);
  } else {
    snprintf(hdr, sizeof(hdr), "WWW-Authenticate: %s\r\n", val);
    moss_http_reply(hc, 401, hdr, NULL, 0, true);
  }
  done(ch, hc);
  return MOSS_OK;
}

static const char *ch_type_http(struct moss_rpc_channel *ch) {
  (void)ch;
  return "HTTP";
}

void moss_rpc_http_ch_info(struct moss_rpc_channel *ch, char *buf, size_t n) {
  if (moss_http_conn_peer(moss_rpc_channel_ctx(ch), buf, n) != MOSS_OK)
    buf[0] = '\0';
}

static bool ch_not_persistent(struct moss_rpc_channel *ch) {
  (void)ch;
  return false;
}

void moss_rpc_http_ch_close(struct moss_rpc_channel *ch) {
  struct moss_http_conn *hc = moss_rpc_channel_ctx(ch);
  moss_rpc_channel_closed(ch);
  moss_http_conn_set_user(hc, NULL);
  moss_http_close(hc);
}

static const struct moss_rpc_channel_ops http_ch_ops = {
    .send_frame = http_send_frame,
    .get_type = ch_type_http,
    .get_info = moss_rpc_http_ch_info,
    .is_persistent = ch_not_persistent,
    .close = moss_rpc_http_ch_close,
    .send_challenge = http_send_challenge,
};

static const struct moss_rpc_channel_ops rest_ch_ops = {
    .send_frame = http_send_frame, /* unused: send_result takes over */
    .get_type = ch_type_http,
    .get_info = moss_rpc_http_ch_info,
    .is_persistent = ch_not_persistent,
    .close = moss_rpc_http_ch_close,
    .send_challenge = http_send_challenge,
    .send_result = rest_send_result,
};

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
                     (int)kl, dk, (int)vl, vl ? dv : "null");
    if (n < 0 || (size_t)n >= cap - k)
      return MOSS_ERR_TOOBIG;
    k += (size_t)n;
    first = false;
  }
  if (k + 2 > cap)
    return MOSS_ERR_TOOBIG;
  out[k++] = '}';
  out[k] = '\0';
  *olen = k;
  return MOSS_OK;
}

/* Answers a request no reply frame will come for, dropping its channel
 * unless the channel went already (its user link is cleared then). */
static void refused(struct moss_http_conn *hc, struct moss_rpc_channel *ch,
                    int rc) {
  if (moss_http_conn_user(hc) != NULL) {
    moss_http_conn_set_user(hc, NULL);
    moss_rpc_channel_closed(ch);
  }
  if (rc == MOSS_ERR_TOOBIG) {
    moss_http_reply(hc, 413, MOSS_RPC_HTTP_CORS, MOSS_RPC_BODY_TOO_BIG "\r\n",
                    sizeof(MOSS_RPC_BODY_TOO_BIG "\r\n") - 1, false);
  } else if (rc != MOSS_OK) {
    moss_http_reply(hc, 400, MOSS_RPC_HTTP_CORS,
                    MOSS_RPC_BODY_INVALID_FRAME "\r\n",
                    sizeof(MOSS_RPC_BODY_INVALID_FRAME "\r\n") - 1, false);
  } else {
    moss_http_reply(hc, 200, MOSS_RPC_HTTP_CORS, NULL, 0, false);
  }
}

/* One request on /rpc (rest empty) or /rpc/<rest>. */
static void handle(const struct moss_rpc_http *h, struct moss_http_conn *hc,
                   const struct moss_http_req *req, struct moss_str body,
                   struct moss_str rest) {
  const struct moss_cfg *c = h->cfg;
  bool is_get = moss_str_eq_c(req->method, "GET");
  if (moss_str_eq_c(req->method, "OPTIONS")) {
    moss_http_reply(hc, 200, MOSS_RPC_HTTP_CORS, NULL, 0, false);
    return;
  }
  if (h->rpc == NULL) {
    moss_http_reply_text(hc, 404, "Not Found");
    return;
  }
  if (rest.len == 0 && req->upgrade_websocket) {
    if (!c->rpc.ws.enable)
      moss_http_reply_text(hc, 503, "WS is disabled");
    return; /* else the caller upgrades */
  }
  if (!c->rpc.http_enable) {
    moss_http_reply_text(hc, 404, "Not Found");
    return;
  }
  if (!is_get && !moss_str_eq_c(req->method, "POST")) {
    moss_http_reply_text(hc, 405, "Method Not Allowed");
    return;
  }
  /* Digest over HTTP (rpc.md §5.5): a valid Authorization binds the user
   * to this request's channel; an invalid one is answered here.  An empty
   * POST /rpc without one gets the challenge (see moss/rpc_http.h). */
  char user[MOSS_RPC_USER_MAX];
  bool probe = rest.len == 0 && body.len == 0 && !is_get;
  struct moss_http_auth_realm r = moss_rpc_http_realm(c);
  if (moss_http_auth_check(h->auth, &r, hc, req, probe, user, sizeof(user)) !=
      0)
    return;
  bool is_rest = rest.len > 0;
  struct moss_rpc_channel *ch =
      moss_rpc_channel_open(h->rpc, is_rest ? &rest_ch_ops : &http_ch_ops, hc);
  if (ch != NULL && moss_rpc_channel_set_user(ch, user) != MOSS_OK) {
    /* Never run the call as nobody when the Authorization said who. */
    moss_rpc_channel_closed(ch);
    ch = NULL;
  }
  if (ch == NULL) {
    moss_http_reply_text(hc, 503, "Service Unavailable");
    return;
  }
  moss_http_conn_set_user(hc, ch);
  bool will_reply = false;
  int rc = MOSS_ERR_PARSE;
  if (is_rest) {
    char qp[2048];
    struct moss_str params = body;
    size_t ql;
    if (is_get && body.len == 0 && req->query.len > 0) {
      if (query_params(req->query, qp, sizeof(qp), &ql) != MOSS_OK) {
        refused(hc, ch, MOSS_ERR_PARSE);
        return;
      }
      params = moss_str_n(qp, ql);
    }
    rc = moss_rpc_channel_recv_call(ch, rest, params, &will_reply);
  } else if (body.len > 0) {
    rc = moss_rpc_channel_recv(ch, body, &will_reply);
  }
  if (rc == MOSS_OK && will_reply)
    return; /* replied, or will */
  refused(hc, ch, rc);
}

/* The /rpc route: "/rpc", "/rpc/" (+ Upgrade: WebSocket) and
 * "/rpc/<Method>". */
static void route(void *arg, struct moss_http_conn *hc,
                  const struct moss_http_req *req, struct moss_str body) {
  const struct moss_rpc_http *h = arg;
  const size_t base = sizeof(MOSS_RPC_HTTP_PATH); /* "/rpc/" */
  struct moss_str path = req->path;
  if (path.len > base) {
    handle(h, hc, req, body, moss_str_n(path.buf + base, path.len - base));
    return;
  }
  handle(h, hc, req, body, MOSS_STR_NULL);
  if (req->upgrade_websocket && h->rpc != NULL && h->cfg->rpc.ws.enable)
    moss_rpc_ws_upgrade(h, hc, req);
}

static void on_conn_close(void *arg, struct moss_http_conn *hc) {
  (void)arg;
  struct moss_rpc_channel *ch = moss_http_conn_user(hc);
  if (ch == NULL)
    return;
  moss_http_conn_set_user(hc, NULL);
  moss_rpc_channel_closed(ch); /* pending replies are dropped */
}

int moss_rpc_http_mount(struct moss_rpc_http *h, struct moss_http_router *r) {
  struct moss_http_route rt = {MOSS_RPC_HTTP_PATH, true, route, on_conn_close,
                               h};
  return moss_http_router_add(r, &rt);
}
