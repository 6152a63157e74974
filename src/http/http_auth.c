/*
 * Digest authentication on the device's side: nonce table, failure
 * throttle, password files on the filesystem, and the HTTP Authorization
 * check (spec rpc.md §5, http.md §2).  See moss/http_auth.h.  The
 * decisions are moss/auth.h's; this file reads the files, keeps the clock
 * and the state, and talks to peers.
 */
#include "moss/http_auth.h"

#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/port.h"

static const char *TAG = "auth";

/* Reply texts and a challenge header fit here (as the RPC authorizer's
 * message buffer, MOSS_RPC_AUTHZ_MSG_MAX). */
#define MSG_MAX 256u

struct moss_http_auth {
  struct moss_nonce_table nonces; /* one table for every channel, realm */
  struct moss_auth_throttle fails;
  struct moss_fs *fs;
};

int moss_http_auth_new(struct moss_fs *fs, int nonce_ttl_s,
                       struct moss_http_auth **out) {
  struct moss_http_auth *a = moss_calloc(MOSS_SUB_HTTP, 1, sizeof(*a));
  *out = a;
  if (a == NULL)
    return MOSS_ERR_NOMEM;
  moss_nonce_init(&a->nonces, NULL, NULL);
  moss_nonce_set_ttl(&a->nonces, nonce_ttl_s);
  moss_auth_throttle_init(&a->fails);
  a->fs = fs;
  return MOSS_OK;
}

void moss_http_auth_free(struct moss_http_auth *a) {
  if (a == NULL)
    return;
  moss_zeroize(a, sizeof(*a));
  moss_free(a);
}

static bool set(const char *s) {
  return s != NULL && *s != '\0';
}

bool moss_http_auth_configured(const struct moss_http_auth_realm *r) {
  return set(r->domain) && set(r->file);
}

static const char *fs_name(const char *n) {
  while (*n == '/')
    n++;
  return n;
}

/* Looks (user, realm) up in the password file, streaming it through the
 * scanner.  Returns 0 (s holds the HA1 or none), or 500 with msg set. */
static int password_lookup(struct moss_http_auth *a, const char *file,
                           enum moss_digest_algo algo,
                           const struct moss_digest_creds *c,
                           struct moss_htdigest_scan *s, char *msg,
                           size_t msz) {
  moss_htdigest_scan_init(s, algo, c->username, c->realm);
  struct moss_fs_file *f = NULL;
  int rc = moss_fs_open(a->fs, fs_name(file), MOSS_FS_O_RDONLY, &f);
  if (rc != MOSS_OK) {
    MOSS_LOG_E(TAG, "%s: cannot open password file: %s", file,
               moss_strerror(rc));
    snprintf(msg, msz, "failed to open password file %s", file);
    return 500;
  }
  char chunk[256];
  int n;
  while ((n = moss_fs_read(f, chunk, sizeof(chunk))) > 0)
    if (moss_htdigest_scan_feed(s, chunk, (size_t)n) != MOSS_OK)
      break;
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

/* Records a failed login; logs when the peer starts being slowed down and
 * then at every power of two, so a flood cannot flood the log. */
static void note_failure(struct moss_http_auth *a, const char *peer,
                         uint64_t now) {
  uint32_t count = 0;
  moss_auth_throttle_fail(&a->fails, peer, now, &count);
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
      moss_log_sanitize(u, sizeof(u), user, strlen(user));
      MOSS_LOG_W(TAG, "Invalid digest auth for user %s", u);
      break;
    }
    default:
      break;
  }
}

uint32_t moss_http_auth_backoff(struct moss_http_auth *a, const char *peer) {
  uint32_t wait = moss_auth_throttle_wait(&a->fails, peer, moss_port_time_ms());
  if (wait > 0)
    MOSS_LOG_D(TAG, "login attempt from %s during its back-off", peer);
  return wait;
}

int moss_http_auth_nonce(struct moss_http_auth *a, uint64_t *nonce) {
  return moss_nonce_issue(&a->nonces, moss_port_time_ms(), nonce);
}

enum moss_http_auth_verdict moss_http_auth_verify(
    struct moss_http_auth *a, const struct moss_http_auth_realm *r,
    const struct moss_digest_creds *c, struct moss_str target,
    struct moss_str method, const char *peer, bool *stale, char *msg,
    size_t msz) {
  enum moss_http_auth_verdict v = MOSS_HTTP_AUTH_MALFORMED;
  struct moss_htdigest_scan *s = NULL;
  if (stale != NULL)
    *stale = false;
  if (msz > 0)
    msg[0] = '\0';
  enum moss_digest_status st = moss_digest_check(c, r->domain, r->algo, target);
  if (st != MOSS_DIGEST_OK) {
    log_status(st, c->username);
    goto out;
  }
  v = MOSS_HTTP_AUTH_NOMEM;
  s = moss_alloc(MOSS_SUB_HTTP, sizeof(*s));
  if (s == NULL)
    goto out;
  v = MOSS_HTTP_AUTH_FILE_ERROR;
  if (password_lookup(a, r->file, r->algo, c, s, msg, msz) != 0)
    goto out;
  uint64_t now = moss_port_time_ms();
  st =
      moss_digest_verify(c, moss_htdigest_scan_ha1(s), &a->nonces, now, method);
  if (st == MOSS_DIGEST_OK) {
    moss_auth_throttle_success(&a->fails, peer);
    v = MOSS_HTTP_AUTH_OK;
    goto out;
  }
  log_status(st, c->username);
  note_failure(a, peer, now);
  if (stale != NULL)
    *stale = st == MOSS_DIGEST_NONCE_STALE;
  v = MOSS_HTTP_AUTH_FAILED;
out:
  if (s != NULL) {
    moss_htdigest_scan_wipe(s);
    moss_free(s);
  }
  return v;
}

/* ---- the HTTP front end -------------------------------------------------- */

/* The answer for status (0: none, go on).  Returns status. */
static int answer(struct moss_http_auth *a,
                  const struct moss_http_auth_realm *r,
                  struct moss_http_conn *hc, int status, bool stale,
                  const char *msg) {
  if (status == 401) {
    uint64_t nonce;
    char hdr[MSG_MAX + 32];
    char val[MSG_MAX];
    if (moss_http_auth_nonce(a, &nonce) != MOSS_OK ||
        moss_digest_challenge_header(val, sizeof(val), nonce, r->domain,
                                     r->algo, stale) < 0) {
      moss_http_reply(hc, 500, NULL, NULL, 0, true);
      return 500;
    }
    snprintf(hdr, sizeof(hdr), "WWW-Authenticate: %s\r\n", val);
    moss_http_reply(hc, 401, hdr, NULL, 0, true);
    return 401;
  }
  if (status == 500) {
    char body[MSG_MAX + 2];
    int n = snprintf(body, sizeof(body), "%s\r\n", msg);
    moss_http_reply(hc, 500, "Content-Type: text/plain\r\n", body, (size_t)n,
                    true);
    return 500;
  }
  if (status != 0)
    moss_http_reply(hc, status, NULL, NULL, 0, true);
  return status;
}

int moss_http_auth_check(struct moss_http_auth *a,
                         const struct moss_http_auth_realm *r,
                         struct moss_http_conn *hc,
                         const struct moss_http_req *req, bool required,
                         char *user, size_t usz) {
  user[0] = '\0';
  if (!moss_http_auth_configured(r))
    return 0;
  const struct moss_str *h = moss_http_get_header(req, "Authorization");
  struct moss_digest_creds *c = NULL;
  char msg[MSG_MAX] = "";
  int status = 0;
  bool stale = false;
  char peer[MOSS_AUTH_THROTTLE_PEER_MAX] = "";
  moss_http_conn_peer(hc, peer, sizeof(peer));
  char *colon = strrchr(peer, ':');
  if (colon != NULL)
    *colon = '\0';
  if (h == NULL) {
    status = required ? 401 : 0;
    goto out;
  }
  if (moss_http_auth_backoff(a, peer) > 0) {
    status = 429;
    goto out;
  }
  c = moss_alloc(MOSS_SUB_HTTP, sizeof(*c));
  if (c == NULL) {
    status = 503;
    goto out;
  }
  const char *why = NULL;
  int rc = moss_digest_parse_authorization(*h, c, &why);
  if (rc == MOSS_ERR_NOENT) { /* Basic or other: no Digest credentials */
    status = required ? 401 : 0;
    goto out;
  }
  if (rc != MOSS_OK) {
    MOSS_LOG_W(TAG, "bad Authorization header: %s", why ? why : "?");
    status = 400;
    goto out;
  }
  static const int statuses[] = {
      [MOSS_HTTP_AUTH_OK] = 0,       [MOSS_HTTP_AUTH_MALFORMED] = 400,
      [MOSS_HTTP_AUTH_FAILED] = 401, [MOSS_HTTP_AUTH_FILE_ERROR] = 500,
      [MOSS_HTTP_AUTH_NOMEM] = 503,
  };
  enum moss_http_auth_verdict v = moss_http_auth_verify(
      a, r, c, req->target, req->method, peer, &stale, msg, sizeof(msg));
  status = statuses[v];
  if (v == MOSS_HTTP_AUTH_OK)
    snprintf(user, usz, "%s", c->username);
out:
  if (c != NULL) {
    moss_zeroize(c, sizeof(*c));
    moss_free(c);
  }
  return answer(a, r, hc, status, stale, msg);
}
