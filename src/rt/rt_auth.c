/*
 * Authentication and authorisation of the runtime (spec rpc.md §5-6,
 * http.md §2): the RPC authorizer (Digest in frames, ACLs), Digest over
 * HTTP for /rpc, the WebSocket upgrade and the file server.  The decisions
 * are moss/auth.h's; this file reads the files, keeps the nonce table and
 * the failure throttle, and talks to peers.
 */
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/auth.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/port.h"
#include "rt_int.h"

static const char *TAG = "auth";

/* A method name as 403 messages and recovery log lines show it. */
#define METHOD_TEXT_MAX 64u

struct moss_rt_auth {
  struct moss_nonce_table nonces; /* one table for every channel, realm */
  struct moss_auth_throttle fails;
  struct moss_acl acl;
};

int moss_rt_auth_init(struct moss_rt *rt) {
  rt->auth = moss_calloc(MOSS_SUB_RPC, 1, sizeof(*rt->auth));
  if (rt->auth == NULL) return MOSS_ERR_NOMEM;
  moss_nonce_init(&rt->auth->nonces, NULL, NULL);
  moss_nonce_set_ttl(&rt->auth->nonces, rt->running.rpc.auth_nonce_ttl);
  moss_auth_throttle_init(&rt->auth->fails);
  return MOSS_OK;
}

void moss_rt_auth_free(struct moss_rt *rt) {
  if (rt->auth == NULL) return;
  moss_zeroize(rt->auth, sizeof(*rt->auth));
  moss_free(rt->auth);
  rt->auth = NULL;
}

static bool set(const char *s) {
  return s != NULL && *s != '\0';
}

static const char *fs_name(const char *n) {
  while (*n == '/') n++;
  return n;
}

/* Looks (user, realm) up in the password file, streaming it through the
 * scanner.  Returns 0 (s holds the HA1 or none), or 500 with msg set. */
static int password_lookup(struct moss_rt *rt, const char *file, int algo,
                           const struct moss_digest_creds *c,
                           struct moss_htdigest_scan *s, char *msg,
                           size_t msz) {
  moss_htdigest_scan_init(s, algo ? MOSS_DIGEST_SHA256 : MOSS_DIGEST_MD5,
                          c->username, c->realm);
  struct moss_fs_file *f = NULL;
  int rc = moss_fs_open(rt->board.fs, fs_name(file), MOSS_FS_O_RDONLY, &f);
  if (rc != MOSS_OK) {
    MOSS_LOG_E(TAG, "%s: cannot open password file: %s", file,
               moss_strerror(rc));
    snprintf(msg, msz, "failed to open password file %s", file);
    return 500;
  }
  char chunk[256];
  int n;
  while ((n = moss_fs_read(f, chunk, sizeof(chunk))) > 0)
    if (moss_htdigest_scan_feed(s, chunk, (size_t) n) != MOSS_OK) break;
  moss_zeroize(chunk, sizeof(chunk));
  moss_fs_close(f);
  if (n < 0) {
    snprintf(msg, msz, "failed to open password file %s", file);
    return 500;
  }
  if (moss_htdigest_scan_finish(s) != MOSS_OK) {
    char line[256];
    moss_htdigest_error_format(line, sizeof(line), file,
                               moss_htdigest_scan_error(s), MOSS_AUTH_MSG_LOG);
    MOSS_LOG_E(TAG, "%s", line);
    moss_htdigest_error_format(msg, msz, file, moss_htdigest_scan_error(s),
                               MOSS_AUTH_MSG_REPLY);
    return 500;
  }
  return 0;
}

#if MOSS_ENABLE_RPC
/* Loads the ACL configured now into rt->auth->acl.  *have = an ACL is
 * configured; *name = what messages call it (the file, or "rpc.acl"),
 * valid while the running configuration is.  Returns 0, or 500 with msg
 * set. */
static int load_acl(struct moss_rt *rt, bool *have, const char **name_out,
                    char *msg, size_t msz) {
  const char *where = NULL;
  enum moss_acl_source src =
      moss_acl_source(rt->running.rpc.acl, rt->running.rpc.acl_file, &where);
  *have = false;
  *name_out = src == MOSS_ACL_SRC_INLINE ? "rpc.acl" : where;
  if (src == MOSS_ACL_SRC_NONE) return 0;
  if (src == MOSS_ACL_SRC_CONFLICT) {
    MOSS_LOG_E(TAG, "Both rpc.acl and rpc.acl_file are set");
    snprintf(msg, msz, "invalid ACL: both rpc.acl and rpc.acl_file are set");
    return 500;
  }
  const char *name = src == MOSS_ACL_SRC_INLINE ? "rpc.acl" : where;
  char *text = NULL;
  size_t len = 0;
  if (src == MOSS_ACL_SRC_INLINE) {
    len = strlen(where);
  } else {
    text = moss_alloc(MOSS_SUB_RPC, MOSS_ACL_TEXT_MAX);
    int rc = text ? moss_fs_read_file(rt->board.fs, fs_name(where), text,
                                      MOSS_ACL_TEXT_MAX, &len)
                  : MOSS_ERR_NOMEM;
    if (rc != MOSS_OK) {
      MOSS_LOG_E(TAG, "%s: cannot read ACL file: %s", where,
                 moss_strerror(rc));
      snprintf(msg, msz, "cannot read ACL file %s", where);
      moss_free(text);
      return 500;
    }
  }
  struct moss_auth_file_error e;
  int rc = moss_acl_parse(&rt->auth->acl, text ? text : where, len, &e, NULL,
                          NULL);
  moss_free(text);
  if (rc != MOSS_OK) {
    char line[256];
    moss_acl_error_format(line, sizeof(line), name, &e, MOSS_AUTH_MSG_LOG);
    MOSS_LOG_E(TAG, "%s", line);
    moss_acl_error_format(msg, msz, name, &e, MOSS_AUTH_MSG_REPLY);
    return 500;
  }
  *have = true;
  return 0;
}

#endif /* MOSS_ENABLE_RPC */

#if MOSS_ENABLE_RPC
static bool auth_configured(const struct moss_rt *rt) {
  return set(rt->running.rpc.auth_domain) && set(rt->running.rpc.auth_file);
}

static enum moss_digest_algo rpc_algo(const struct moss_rt *rt) {
  return rt->running.rpc.auth_algo ? MOSS_DIGEST_SHA256 : MOSS_DIGEST_MD5;
}

/* Peer key for the failure throttle: the address without the port. */
static void peer_key(struct moss_rpc_channel *ch, char *buf, size_t n) {
  buf[0] = '\0';
  if (ch != NULL) moss_rpc_channel_info(ch, buf, n);
  char *colon = strrchr(buf, ':');
  if (colon != NULL) *colon = '\0';
  if (buf[0] == '\0') snprintf(buf, n, "%s",
                               ch ? moss_rpc_channel_type(ch) : "?");
}

/* A challenge for the channel: in-frame JSON, or (HTTP channel) the
 * WWW-Authenticate value, which the HTTP glue turns into a real 401. */
static void challenge(struct moss_rt *rt, struct moss_rpc_req *req,
                      struct moss_rpc_authz *out, bool stale) {
  uint64_t nonce;
  out->code = 401;
  if (moss_nonce_issue(&rt->auth->nonces, moss_port_time_ms(), &nonce) !=
      MOSS_OK) {
    out->code = 500;
    snprintf(out->message, sizeof(out->message), "cannot issue a nonce");
    return;
  }
  if (strcmp(moss_rpc_req_ch_type(req), "HTTP") == 0) {
    moss_digest_challenge_header(out->message, sizeof(out->message), nonce,
                                 rt->running.rpc.auth_domain, rpc_algo(rt),
                                 stale);
  } else {
    moss_digest_challenge_json(out->message, sizeof(out->message), nonce,
                               rt->running.rpc.auth_domain, rpc_algo(rt));
  }
}

#endif /* MOSS_ENABLE_RPC */

/* Records a failed login; logs when the peer starts being slowed down and
 * then at every power of two, so a flood cannot flood the log. */
static void note_failure(struct moss_rt *rt, const char *peer, uint64_t now) {
  uint32_t count = 0;
  moss_auth_throttle_fail(&rt->auth->fails, peer, now, &count);
  if (count >= MOSS_AUTH_THROTTLE_FREE &&
      (count == MOSS_AUTH_THROTTLE_FREE || (count & (count - 1)) == 0))
    MOSS_LOG_W(TAG, "%u failed logins from %s: slowing down", count, peer);
}

static void log_status(enum moss_digest_status st, const char *user) {
  switch (st) {
    case MOSS_DIGEST_ALGO_MISMATCH:
      MOSS_LOG_E(TAG, "Auth algo mismatch");
      break;
    case MOSS_DIGEST_REALM_MISMATCH:
      MOSS_LOG_W(TAG, "Got auth request with different realm");
      break;
    case MOSS_DIGEST_NONCE_STALE:
    case MOSS_DIGEST_NONCE_BAD:
      MOSS_LOG_D(TAG, "stale or reused nonce");
      break;
    case MOSS_DIGEST_BAD_RESPONSE: {
      /* Printable ASCII only: a peer cannot forge log lines. */
      char u[MOSS_DIGEST_USER_MAX];
      size_t k = 0;
      for (; user[k] != '\0' && k + 1 < sizeof(u); k++)
        u[k] = user[k] >= 0x20 && user[k] < 0x7f ? user[k] : '?';
      u[k] = '\0';
      MOSS_LOG_W(TAG, "Invalid digest auth for user %s", u);
      break;
    }
    default:
      break;
  }
}

#if MOSS_ENABLE_RPC
/* Verifies credentials against the rpc password file.  Returns the
 * status; on a file problem *code500 = 500 and msg is set. */
static enum moss_digest_status verify(struct moss_rt *rt,
                                      const struct moss_digest_creds *c,
                                      struct moss_str method, int *code500,
                                      char *msg, size_t msz) {
  struct moss_htdigest_scan *s = moss_alloc(MOSS_SUB_RPC, sizeof(*s));
  *code500 = 0;
  if (s == NULL) {
    *code500 = 500;
    snprintf(msg, msz, "out of memory");
    return MOSS_DIGEST_BAD_RESPONSE;
  }
  enum moss_digest_status st = MOSS_DIGEST_BAD_RESPONSE;
  if (password_lookup(rt, rt->running.rpc.auth_file, rt->running.rpc.auth_algo,
                      c, s, msg, msz) != 0) {
    *code500 = 500;
  } else {
    st = moss_digest_verify(c, moss_htdigest_scan_ha1(s), &rt->auth->nonces,
                            moss_port_time_ms(), method);
  }
  moss_htdigest_scan_wipe(s);
  moss_free(s);
  return st;
}

/* Checks frame->auth (Digest in the frame, rpc.md §5.4) against the
 * password file.  true: out->user is the verified user.  false: out->code
 * and out->message say why (400, 401 with a new challenge, 429, 500). */
static bool login(struct moss_rt *rt, struct moss_rpc_req *req,
                  const struct moss_rpc_frame *frame,
                  struct moss_rpc_authz *out) {
  struct moss_rpc_channel *ch = moss_rpc_req_channel(req);
  char peer[MOSS_AUTH_THROTTLE_PEER_MAX];
  peer_key(ch, peer, sizeof(peer));
  uint64_t now = moss_port_time_ms();
  uint32_t wait = moss_auth_throttle_wait(&rt->auth->fails, peer, now);
  struct moss_digest_creds *c = moss_alloc(MOSS_SUB_RPC, sizeof(*c));
  const char *why = NULL;
  if (c == NULL) {
    out->code = 500;
    snprintf(out->message, sizeof(out->message), "out of memory");
    return false;
  }
  if (wait > 0) {
    /* A peer that keeps failing is refused before its password is even
     * looked at, so guessing cannot go faster than the throttle. */
    MOSS_LOG_D(TAG, "login attempt from %s during its back-off", peer);
    out->code = 429;
    snprintf(out->message, sizeof(out->message),
             "too many failed logins, retry in %u ms", wait);
    goto out;
  }
  if (moss_digest_creds_from_json(frame->auth, c, &why) != MOSS_OK) {
    MOSS_LOG_W(TAG, "bad auth object: %s", why ? why : "?");
    out->code = 400;
    snprintf(out->message, sizeof(out->message), "bad request");
    goto out;
  }
  enum moss_digest_status st = moss_digest_check(
      c, rt->running.rpc.auth_domain, rpc_algo(rt), MOSS_STR_NULL);
  if (st != MOSS_DIGEST_OK) {
    log_status(st, c->username);
    out->code = 400;
    snprintf(out->message, sizeof(out->message), "bad request");
    goto out;
  }
  int c500;
  st = verify(rt, c, MOSS_STR_NULL, &c500, out->message,
              sizeof(out->message));
  if (c500) {
    out->code = c500;
    goto out;
  }
  if (st != MOSS_DIGEST_OK) {
    log_status(st, c->username);
    note_failure(rt, peer, now);
    challenge(rt, req, out, st == MOSS_DIGEST_NONCE_STALE);
    goto out;
  }
  moss_auth_throttle_success(&rt->auth->fails, peer);
  snprintf(out->user, sizeof(out->user), "%s", c->username);
out:
  moss_zeroize(c, sizeof(*c));
  moss_free(c);
  return out->code == 0;
}

/* The 403 text: the fixed "unauthorized" of rpc.md §6.4, then which ACL
 * entry refused the call, so the one to fix is named:
 *   unauthorized: Sys.Reboot: denied by rpc_acl.json entry 4:
 *   {"method":"*","acl":"-*"}                            (one line) */
static void deny_message(struct moss_rt *rt, char *msg, size_t n,
                         const char *method, const char *acl_name, int idx,
                         const char *user) {
  if (idx < 0) {
    snprintf(msg, n, "unauthorized: %s: no entry of %s matches (denied)",
             method, acl_name);
    return;
  }
  char u[MOSS_RPC_USER_MAX];
  moss_rpc_log_sanitize(u, sizeof(u), moss_str_c(user), sizeof(u));
  int k = snprintf(msg, n, "unauthorized: %s: %s%s%sdenied by %s entry %d: ",
                   method, u[0] ? "user '" : "", u, u[0] ? "' " : "",
                   acl_name, idx + 1);
  /* The entry gets what is left, cut with "...}" if it must be. */
  if (k > 0 && (size_t) k < n)
    moss_acl_entry_format(msg + k, n - (size_t) k, &rt->auth->acl.e[idx]);
}

/* Methods the UART may always call, whatever the ACL says: enough to read
 * and repair the configuration and its files, and to reboot
 * (docs/security.md "Locked out? Recovery").  Someone at the UART has the
 * device in hand; with a password file they must still log in. */
static const char *const recovery_methods[] = {
    "Config.Get", "Config.Set", "Config.Save", "Sys.Reboot", "Sys.GetInfo",
    "FS.Put",     "FS.Get",     "FS.Remove",   "FS.List",
};

static bool recovery_call(struct moss_rpc_req *req, const char *method) {
  if (strcmp(moss_rpc_req_ch_type(req), "UART") != 0) return false;
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(recovery_methods); i++)
    if (strcmp(method, recovery_methods[i]) == 0) return true;
  return false;
}

/* The ACL refused a recovery call on the UART (out holds the refusal).
 * With a password file the caller must log in first (a 401 challenge
 * until the frame carries valid credentials); then the call runs and a
 * WARN says the ACL was overridden and what it had said. */
static void recover(struct moss_rt *rt, struct moss_rpc_req *req,
                    const struct moss_rpc_frame *frame, const char *method,
                    struct moss_rpc_authz *out) {
  char said[MOSS_RPC_AUTHZ_MSG_MAX + 8];
  snprintf(said, sizeof(said), "%d %s", out->code, out->message);
  if (auth_configured(rt) && out->user[0] == '\0') {
    out->code = 0;
    out->message[0] = '\0';
    if (frame->auth == NULL) {
      challenge(rt, req, out, false);
      return;
    }
    if (!login(rt, req, frame, out)) return;
  }
  char u[MOSS_RPC_USER_MAX];
  moss_rpc_log_sanitize(u, sizeof(u), moss_str_c(out->user), sizeof(u));
  MOSS_LOG_W(TAG,
             "ACL overridden on the UART for recovery: '%s' %s%s%s; the ACL "
             "said: %s",
             method, u[0] ? "by user '" : "without login (no rpc.auth_file)",
             u, u[0] ? "'" : "", said);
  out->code = 0;
  out->message[0] = '\0';
  snprintf(out->acl, sizeof(out->acl), "<UART recovery>");
}

/* The ACL's answer for req (rpc.md §6.4), into out.  Returns true when
 * the ACL itself refused the call (403, or 500 for a user list without a
 * password file), the refusals a recovery call may override; a failed
 * login or a challenge is not one. */
static bool acl_verdict(struct moss_rt *rt, struct moss_rpc_req *req,
                        const struct moss_rpc_frame *frame, const char *name,
                        const struct moss_acl *acl, const char *acl_name,
                        struct moss_rpc_authz *out) {
  bool authc = auth_configured(rt);
  struct moss_str method = moss_str_c(moss_rpc_req_method(req));
  struct moss_str ch_type = moss_str_c(moss_rpc_req_ch_type(req));
  const char *user = moss_rpc_req_user(req);
  struct moss_str acl_text;
  enum moss_acl_verdict v = moss_acl_decide(acl, authc, method, ch_type,
                                            moss_str_c(user), &acl_text);
  moss_str_copy(out->acl, sizeof(out->acl), acl_text);
  snprintf(out->user, sizeof(out->user), "%s", user);
  if (v == MOSS_ACL_NEED_USER && frame->auth != NULL) {
    if (!login(rt, req, frame, out)) return false;
    v = moss_acl_decide(acl, authc, method, ch_type, moss_str_c(out->user),
                        &acl_text);
    moss_str_copy(out->acl, sizeof(out->acl), acl_text);
  }
  switch (v) {
    case MOSS_ACL_ALLOW:
      return false;
    case MOSS_ACL_DENY:
      /* Only an ACL denies (without one the answer is ALLOW or a login):
       * name its entry. */
      out->code = 403;
      deny_message(rt, out->message, sizeof(out->message), name, acl_name,
                   moss_acl_match(acl, method, ch_type), out->user);
      return true;
    case MOSS_ACL_NOT_CONFIGURED:
      out->code = 500;
      snprintf(out->message, sizeof(out->message), "%s",
               MOSS_ACL_MSG_NOT_CONFIGURED);
      return true;
    case MOSS_ACL_NEED_USER:
      challenge(rt, req, out, false);
      return false;
  }
  return false;
}

int moss_rt_authorize(void *arg, struct moss_rpc_req *req,
                      const struct moss_rpc_frame *frame,
                      struct moss_rpc_authz *out) {
  struct moss_rt *rt = arg;
  /* Requests in the last 100 ms before a reboot (config.md §5.4). */
  if (rt->reboot_timer != NULL) {
    uint64_t now = moss_ev_now(rt->ev);
    if (rt->reboot_at <= now + 100) {
      snprintf(out->acl, sizeof(out->acl), "*");
      out->code = 418;
      snprintf(out->message, sizeof(out->message), "shutting down in %u ms",
               (unsigned) (rt->reboot_at > now ? rt->reboot_at - now : 0));
      return MOSS_OK;
    }
  }
  /* The registered spelling (the request's may differ in case), or, for
   * a glob handler, the request's as a log line may show it. */
  char name[METHOD_TEXT_MAX];
  const char *reg = NULL;
  if (moss_rpc_lookup(moss_rpc_req_rpc(req), moss_rpc_req_method(req), &reg,
                      NULL) == MOSS_OK &&
      strpbrk(reg, "*?|,$") == NULL)
    snprintf(name, sizeof(name), "%s", reg);
  else
    moss_rpc_log_sanitize(name, sizeof(name),
                          moss_str_c(moss_rpc_req_method(req)), sizeof(name));
  bool have_acl = false, refused;
  const char *acl_name = "";
  int code = load_acl(rt, &have_acl, &acl_name, out->message,
                      sizeof(out->message));
  if (code != 0) {
    /* A broken ACL refuses everything: a recovery call may override. */
    out->code = code;
    snprintf(out->acl, sizeof(out->acl), "<invalid>");
    refused = true;
  } else {
    refused = acl_verdict(rt, req, frame, name,
                          have_acl ? &rt->auth->acl : NULL, acl_name, out);
  }
  if (refused && recovery_call(req, name)) recover(rt, req, frame, name, out);
  return MOSS_OK;
}

#endif /* MOSS_ENABLE_RPC */

/* ---- HTTP ------------------------------------------------------------------- */

int moss_rt_http_digest(struct moss_rt *rt, struct moss_http_conn *hc,
                        const struct moss_http_req *req, bool rpc,
                        bool required, char *user, size_t usz) {
  const char *realm = rpc ? rt->running.rpc.auth_domain
                          : rt->running.http.auth_domain;
  const char *file = rpc ? rt->running.rpc.auth_file
                         : rt->running.http.auth_file;
  int algo_i = rpc ? rt->running.rpc.auth_algo : rt->running.http.auth_algo;
  enum moss_digest_algo algo = algo_i ? MOSS_DIGEST_SHA256 : MOSS_DIGEST_MD5;
  user[0] = '\0';
  if (!set(realm) || !set(file)) return 0; /* not configured */
  const struct moss_str *h = moss_http_get_header(req, "Authorization");
  struct moss_digest_creds *c = NULL;
  char msg[MOSS_RPC_AUTHZ_MSG_MAX] = "";
  int status = 0;
  bool stale = false;
  char peer[MOSS_AUTH_THROTTLE_PEER_MAX] = "";
  moss_http_conn_peer(hc, peer, sizeof(peer));
  char *colon = strrchr(peer, ':');
  if (colon != NULL) *colon = '\0';
  uint64_t now = moss_port_time_ms();
  if (h == NULL) {
    if (!required) return 0;
    status = 401;
    goto reply;
  }
  if (moss_auth_throttle_wait(&rt->auth->fails, peer, now) > 0) {
    /* Refused before the password is looked at (see the authorizer). */
    MOSS_LOG_D(TAG, "login attempt from %s during its back-off", peer);
    status = 429;
    goto reply;
  }
  c = moss_alloc(MOSS_SUB_HTTP, sizeof(*c));
  if (c == NULL) {
    status = 503;
    goto reply;
  }
  const char *why = NULL;
  int rc = moss_digest_parse_authorization(*h, c, &why);
  if (rc == MOSS_ERR_NOENT) { /* Basic or other: no Digest credentials */
    status = required ? 401 : 0;
    goto reply;
  }
  if (rc != MOSS_OK) {
    MOSS_LOG_W(TAG, "bad Authorization header: %s", why ? why : "?");
    status = 400;
    goto reply;
  }
  enum moss_digest_status st = moss_digest_check(c, realm, algo, req->target);
  if (st != MOSS_DIGEST_OK) {
    log_status(st, c->username);
    status = 400;
    goto reply;
  }
  struct moss_htdigest_scan *s = moss_alloc(MOSS_SUB_HTTP, sizeof(*s));
  if (s == NULL) {
    status = 503;
    goto reply;
  }
  if (password_lookup(rt, file, algo_i, c, s, msg, sizeof(msg)) != 0) {
    status = 500;
  } else {
    st = moss_digest_verify(c, moss_htdigest_scan_ha1(s), &rt->auth->nonces,
                            now, req->method);
    if (st == MOSS_DIGEST_OK) {
      moss_auth_throttle_success(&rt->auth->fails, peer);
      snprintf(user, usz, "%s", c->username);
    } else {
      log_status(st, c->username);
      note_failure(rt, peer, now);
      status = 401;
      stale = st == MOSS_DIGEST_NONCE_STALE;
    }
  }
  moss_htdigest_scan_wipe(s);
  moss_free(s);
reply:
  if (c != NULL) {
    moss_zeroize(c, sizeof(*c));
    moss_free(c);
  }
  if (status == 0) return 0;
  if (status == 401) {
    uint64_t nonce;
    char hdr[MOSS_RPC_AUTHZ_MSG_MAX + 32];
    char val[MOSS_RPC_AUTHZ_MSG_MAX];
    if (moss_nonce_issue(&rt->auth->nonces, now, &nonce) != MOSS_OK ||
        moss_digest_challenge_header(val, sizeof(val), nonce, realm, algo,
                                     stale) < 0) {
      moss_http_reply(hc, 500, NULL, NULL, 0, true);
      return 500;
    }
    snprintf(hdr, sizeof(hdr), "WWW-Authenticate: %s\r\n", val);
    moss_http_reply(hc, 401, hdr, NULL, 0, true);
    return 401;
  }
  if (status == 500) {
    char body[MOSS_RPC_AUTHZ_MSG_MAX + 2];
    int n = snprintf(body, sizeof(body), "%s\r\n", msg);
    moss_http_reply(hc, 500, "Content-Type: text/plain\r\n", body,
                    (size_t) n, true);
    return 500;
  }
  moss_http_reply(hc, status, NULL, NULL, 0, true);
  return status;
}
