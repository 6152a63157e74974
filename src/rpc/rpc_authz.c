/*
 * The RPC authorizer: Digest in frames, ACLs, UART recovery, 418 before
 * a reboot (spec rpc.md §5-6, config.md §5.4).  See moss/rpc_authz.h.
 * The decisions are moss/auth.h's; Digest verification and its state are
 * moss/http_auth.h's; this file reads the ACL and puts the answers
 * together.
 */
#include "moss/rpc_authz.h"

#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/priv/auth_json.h"
#include "moss/priv/rpc_json.h"

static const char *TAG = "auth";

/* A method name as 403 messages and recovery log lines show it. */
#define METHOD_TEXT_MAX 64u

struct moss_rpc_authorizer {
  struct moss_rpc_authz_cfg cfg;
  struct moss_acl acl; /* the ACL of the request in progress */
};

static const char *fs_name(const char *n) {
  while (*n == '/')
    n++;
  return n;
}

static struct moss_http_auth_realm realm(const struct moss_rpc_authorizer *a) {
  const struct moss_cfg *c = a->cfg.cfg;
  struct moss_http_auth_realm r = {
      c->rpc.auth_domain, c->rpc.auth_file,
      c->rpc.auth_algo ? MOSS_DIGEST_SHA256 : MOSS_DIGEST_MD5};
  return r;
}

static bool auth_configured(const struct moss_rpc_authorizer *a) {
  struct moss_http_auth_realm r = realm(a);
  return moss_http_auth_configured(&r);
}

/* Loads the ACL configured now into a->acl.  *have = an ACL is
 * configured; *name = what messages call it (the file, or "rpc.acl"),
 * valid while the running configuration is.  Returns 0, or 500 with msg
 * set. */
static int load_acl(struct moss_rpc_authorizer *a, bool *have,
                    const char **name_out, char *msg, size_t msz) {
  const struct moss_cfg *c = a->cfg.cfg;
  const char *where = NULL;
  enum moss_acl_source src =
      moss_acl_source(c->rpc.acl, c->rpc.acl_file, &where);
  *have = false;
  *name_out = src == MOSS_ACL_SRC_INLINE ? "rpc.acl" : where;
  if (src == MOSS_ACL_SRC_NONE)
    return 0;
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
    int rc = text ? moss_fs_read_file(a->cfg.fs, fs_name(where), text,
                                      MOSS_ACL_TEXT_MAX, &len)
                  : MOSS_ERR_NOMEM;
    if (rc != MOSS_OK) {
      MOSS_LOG_E(TAG, "%s: cannot read ACL file: %s", where, moss_strerror(rc));
      snprintf(msg, msz, "cannot read ACL file %s", where);
      moss_free(text);
      return 500;
    }
  }
  struct moss_auth_file_error e;
  int rc = moss_acl_parse(&a->acl, text ? text : where, len, &e, NULL, NULL);
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

/* Peer key for the failure throttle: the address without the port, or
 * the channel type when the channel has no address (UART). */
static void peer_key(struct moss_rpc_channel *ch, char *buf, size_t n) {
  buf[0] = '\0';
  if (ch != NULL)
    moss_rpc_channel_info(ch, buf, n);
  char *colon = strrchr(buf, ':');
  if (colon != NULL)
    *colon = '\0';
  if (buf[0] == '\0')
    snprintf(buf, n, "%s", ch ? moss_rpc_channel_type(ch) : "?");
}

/* A 401 with a fresh challenge; its wire form is the channel's business
 * (moss/rpc.h). */
static void challenge(struct moss_rpc_authorizer *a, struct moss_rpc_authz *out,
                      bool stale) {
  uint64_t nonce;
  out->code = 401;
  if (moss_http_auth_nonce(a->cfg.auth, &nonce) != MOSS_OK) {
    out->code = 500;
    snprintf(out->message, sizeof(out->message), "cannot issue a nonce");
    return;
  }
  out->has_challenge = true;
  out->challenge.realm = a->cfg.cfg->rpc.auth_domain;
  out->challenge.nonce = nonce;
  out->challenge.algo = realm(a).algo;
  out->challenge.stale = stale;
}

/* Checks frame->auth (Digest in the frame, rpc.md §5.4) against the
 * password file.  true: out->user is the verified user.  false: out->code
 * and out->message say why (400, 401 with a new challenge, 429, 500). */
static bool login(struct moss_rpc_authorizer *a, struct moss_rpc_req *req,
                  const struct moss_rpc_frame *frame,
                  struct moss_rpc_authz *out) {
  char peer[MOSS_AUTH_THROTTLE_PEER_MAX];
  peer_key(moss_rpc_req_channel(req), peer, sizeof(peer));
  uint32_t wait = moss_http_auth_backoff(a->cfg.auth, peer);
  struct moss_digest_creds *c = moss_alloc(MOSS_SUB_RPC, sizeof(*c));
  const char *why = NULL;
  if (c == NULL) {
    out->code = 500;
    snprintf(out->message, sizeof(out->message), "out of memory");
    return false;
  }
  if (wait > 0) {
    /* Refused before the password is even looked at. */
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
  struct moss_http_auth_realm r = realm(a);
  bool stale = false;
  switch (moss_http_auth_verify(a->cfg.auth, &r, c, MOSS_STR_NULL,
                                MOSS_STR_NULL, peer, &stale, out->message,
                                sizeof(out->message))) {
    case MOSS_HTTP_AUTH_OK:
      snprintf(out->user, sizeof(out->user), "%s", c->username);
      break;
    case MOSS_HTTP_AUTH_MALFORMED:
      out->code = 400;
      snprintf(out->message, sizeof(out->message), "bad request");
      break;
    case MOSS_HTTP_AUTH_FAILED:
      challenge(a, out, stale);
      break;
    case MOSS_HTTP_AUTH_FILE_ERROR:
      out->code = 500;
      break;
    case MOSS_HTTP_AUTH_NOMEM:
      out->code = 500;
      snprintf(out->message, sizeof(out->message), "out of memory");
      break;
  }
out:
  moss_zeroize(c, sizeof(*c));
  moss_free(c);
  return out->code == 0;
}

/* The 403 text: the fixed "unauthorized" of rpc.md §6.4, then which ACL
 * entry refused the call, so the one to fix is named:
 *   unauthorized: Sys.Reboot: denied by rpc_acl.json entry 4:
 *   {"method":"*","acl":"-*"}                            (one line) */
static void deny_message(const struct moss_rpc_authorizer *a, char *msg,
                         size_t n, const char *method, const char *acl_name,
                         int idx, const char *user) {
  if (idx < 0) {
    snprintf(msg, n, "unauthorized: %s: no entry of %s matches (denied)",
             method, acl_name);
    return;
  }
  char u[MOSS_RPC_USER_MAX];
  moss_rpc_log_sanitize(u, sizeof(u), moss_str_c(user), sizeof(u));
  int k = snprintf(
      msg, n, "unauthorized: %s: %s%s%sdenied by %s entry %d: ", method,
      u[0] ? "user '" : "", u, u[0] ? "' " : "", acl_name, idx + 1);
  /* The entry gets what is left, cut with "...}" if it must be. */
  if (k > 0 && (size_t)k < n)
    moss_acl_entry_format(msg + k, n - (size_t)k, &a->acl.e[idx]);
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
  if (strcmp(moss_rpc_req_ch_type(req), "UART") != 0)
    return false;
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(recovery_methods); i++)
    if (strcmp(method, recovery_methods[i]) == 0)
      return true;
  return false;
}

/* The ACL refused a recovery call on the UART (out holds the refusal).
 * With a password file the caller must log in first (a 401 challenge
 * until the frame carries valid credentials); then the call runs and a
 * WARN says the ACL was overridden and what it had said. */
static void recover(struct moss_rpc_authorizer *a, struct moss_rpc_req *req,
                    const struct moss_rpc_frame *frame, const char *method,
                    struct moss_rpc_authz *out) {
  char said[MOSS_RPC_AUTHZ_MSG_MAX + 8];
  snprintf(said, sizeof(said), "%d %s", out->code, out->message);
  if (auth_configured(a) && out->user[0] == '\0') {
    out->code = 0;
    out->message[0] = '\0';
    if (frame->auth == NULL) {
      challenge(a, out, false);
      return;
    }
    if (!login(a, req, frame, out))
      return;
  }
  char u[MOSS_RPC_USER_MAX];
  moss_rpc_log_sanitize(u, sizeof(u), moss_str_c(out->user), sizeof(u));
  MOSS_LOG_W(TAG,
             "ACL overridden on the UART for recovery: '%s' %s%s%s; the ACL "
             "said: %s",
             method, u[0] ? "by user '" : "without login (no rpc.auth_file)", u,
             u[0] ? "'" : "", said);
  out->code = 0;
  out->message[0] = '\0';
  snprintf(out->acl, sizeof(out->acl), "<UART recovery>");
}

/* The ACL's answer for req (rpc.md §6.4), into out.  Returns true when
 * the ACL itself refused the call (403, or 500 for a user list without a
 * password file), the refusals a recovery call may override; a failed
 * login or a challenge is not one. */
static bool acl_verdict(struct moss_rpc_authorizer *a, struct moss_rpc_req *req,
                        const struct moss_rpc_frame *frame, const char *name,
                        const struct moss_acl *acl, const char *acl_name,
                        struct moss_rpc_authz *out) {
  bool authc = auth_configured(a);
  struct moss_str method = moss_str_c(moss_rpc_req_method(req));
  struct moss_str ch_type = moss_str_c(moss_rpc_req_ch_type(req));
  const char *user = moss_rpc_req_user(req);
  struct moss_str acl_text;
  enum moss_acl_verdict v =
      moss_acl_decide(acl, authc, method, ch_type, moss_str_c(user), &acl_text);
  moss_str_copy(out->acl, sizeof(out->acl), acl_text);
  snprintf(out->user, sizeof(out->user), "%s", user);
  if (v == MOSS_ACL_NEED_USER && frame->auth != NULL) {
    if (!login(a, req, frame, out))
      return false;
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
      deny_message(a, out->message, sizeof(out->message), name, acl_name,
                   moss_acl_match(acl, method, ch_type), out->user);
      return true;
    case MOSS_ACL_NOT_CONFIGURED:
      out->code = 500;
      snprintf(out->message, sizeof(out->message), "%s",
               MOSS_ACL_MSG_NOT_CONFIGURED);
      return true;
    case MOSS_ACL_NEED_USER:
      challenge(a, out, false);
      return false;
  }
  return false;
}

static int authorize(void *arg, struct moss_rpc_req *req,
                     const struct moss_rpc_frame *frame,
                     struct moss_rpc_authz *out) {
  struct moss_rpc_authorizer *a = arg;
  /* Requests in the last 100 ms before a reboot (config.md §5.4). */
  const struct moss_rpc_reboot *rb = a->cfg.reboot;
  uint64_t left = 0;
  if (rb != NULL && rb->pending(rb->arg, &left) && left <= 100) {
    snprintf(out->acl, sizeof(out->acl), "*");
    out->code = 418;
    snprintf(out->message, sizeof(out->message), "shutting down in %u ms",
             (unsigned)left);
    return MOSS_OK;
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
  int code =
      load_acl(a, &have_acl, &acl_name, out->message, sizeof(out->message));
  if (code != 0) {
    /* A broken ACL refuses everything: a recovery call may override. */
    out->code = code;
    snprintf(out->acl, sizeof(out->acl), "<invalid>");
    refused = true;
  } else {
    refused = acl_verdict(a, req, frame, name, have_acl ? &a->acl : NULL,
                          acl_name, out);
  }
  if (refused && recovery_call(req, name))
    recover(a, req, frame, name, out);
  return MOSS_OK;
}

int moss_rpc_authorizer_new(struct moss_rpc *rpc,
                            const struct moss_rpc_authz_cfg *cfg,
                            struct moss_rpc_authorizer **out) {
  struct moss_rpc_authorizer *a = moss_calloc(MOSS_SUB_RPC, 1, sizeof(*a));
  *out = a;
  if (a == NULL)
    return MOSS_ERR_NOMEM;
  a->cfg = *cfg;
  moss_rpc_set_authorizer(rpc, authorize, a);
  return MOSS_OK;
}

void moss_rpc_authorizer_free(struct moss_rpc_authorizer *a) {
  if (a == NULL)
    return;
  moss_zeroize(a, sizeof(*a));
  moss_free(a);
}
