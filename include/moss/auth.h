/*
 * moss/auth.h - Digest authentication and RPC ACLs (spec rpc.md §5, §6;
 * http.md §2).  Pure code: no file or socket I/O, no logging, no heap in
 * any check path.  Its users read files, keep the clock and talk to
 * peers (moss/http_auth.h: nonces, throttle, password files, HTTP
 * Authorization; moss/rpc_authz.h: the RPC authorizer); this module
 * decides.
 *
 * Parts:
 *   1. Hashes (MD5 / SHA-256 as lower-case hex) and the Digest response.
 *   2. Credentials: the in-frame "auth" object (§5.2) and the HTTP
 *      "Authorization: Digest ..." header (§5.5) parse into one
 *      struct moss_digest_creds; moss_digest_check() applies the §5.4
 *      checks 1-3 (400 cases), moss_digest_verify() checks 5-6 against
 *      the nonce table and the HA1 of the password file.
 *   3. The nonce table (§5.6): CSPRNG nonces, TTL, one use per (nonce,
 *      nc) with nc strictly increasing.  Time is passed in (ms of a
 *      monotonic clock), so tests drive a fake clock.
 *   4. Challenge texts: the JSON string of an in-frame 401 (§5.1) and the
 *      WWW-Authenticate header value (§5.5); the client side (mos):
 *      parsing those challenges and computing the answer.
 *   5. The htdigest password file (§5.7): a streaming scanner the
 *      runtime feeds in chunks as it reads the file, so the file is never
 *      held in RAM; the whole file is validated (fail closed).
 *   6. A per-peer failure counter the runtime uses to slow down and log
 *      repeated failures.
 *   7. ACLs (§6): the ACL source choice (rpc.acl / rpc.acl_file), a
 *      heap-free parser with exact line:column errors (§6.5) into a
 *      caller-owned struct moss_acl, and the decision table of §6.4.
 *
 * ---- How the device uses it (src/rpc/rpc_authz.c, src/http/http_auth.c) -
 *
 * Process-wide state (struct moss_http_auth), kept across requests:
 *   struct moss_nonce_table nonces;  moss_nonce_init(&nonces, NULL, NULL);
 *   struct moss_auth_throttle fails; moss_auth_throttle_init(&fails);
 * Per request (rpc.acl*, rpc.auth_* are re-read every time, §2.6):
 *   1. moss_acl_source(rpc.acl, rpc.acl_file, &name): CONFLICT -> 500
 *      "invalid ACL: both rpc.acl and rpc.acl_file are set"; FILE -> read
 *      the file (<= MOSS_ACL_TEXT_MAX bytes; unreadable -> 500 "cannot
 *      read ACL file <f>"); moss_acl_parse() into a struct moss_acl (about
 *      4 KiB: keep one in the runtime, not on a small stack).  Parse
 *      error -> moss_acl_error_format() MSG_LOG / MSG_REPLY, 500.
 *   2. auth_configured = rpc.auth_domain and rpc.auth_file non-empty.
 *      user = moss_rpc_req_user(req) (set by the HTTP/WS glue) or "".
 *      v = moss_acl_decide(acl or NULL, auth_configured, method,
 *      ch_type, user, &acl_text); copy acl_text into out->acl.
 *   3. ALLOW -> run; DENY -> 403 "unauthorized"; NOT_CONFIGURED -> 500
 *      MOSS_ACL_MSG_NOT_CONFIGURED; NEED_USER -> step 4.
 *   4. No frame->auth -> 401 challenge: moss_nonce_issue(), handed to
 *      the RPC core as a struct moss_rpc_challenge (it writes
 *      moss_digest_challenge_json() into the error frame, or lets an HTTP
 *      channel answer with moss_digest_challenge_header()).  Otherwise
 *      moss_digest_creds_from_json(frame->auth, &c, &why)
 *      (moss/priv/auth_json.h; error -> 400 "bad request"),
 *      moss_digest_check(&c, realm, algo,
 *      MOSS_STR_NULL, MOSS_STR_NULL) (non-OK -> 400 "bad request" with
 *      the log line named in enum moss_digest_status).
 *   5. Password file: moss_htdigest_scan_init(&s, algo, c.username,
 *      c.realm); feed it the file in chunks; moss_htdigest_scan_finish().
 *      Unreadable -> 500 "failed to open password file <f>"; parse error
 *      -> moss_htdigest_error_format() MSG_LOG / MSG_REPLY, 500.
 *   6. st = moss_digest_verify(&c, moss_htdigest_scan_ha1(&s), &nonces,
 *      now_ms, MOSS_STR_NULL); moss_htdigest_scan_wipe(&s).  OK ->
 *      moss_auth_throttle_success(); user = c.username; decide again
 *      (step 2) with that user: ALLOW / DENY(403).  Anything else -> log
 *      per the enum, moss_auth_throttle_fail(peer) (its delay says how
 *      long to hold the reply), new 401 challenge as in step 4.
 *
 * HTTP /rpc (channel "HTTP") and the WebSocket upgrade of /rpc: the glue
 * (moss_http_auth_check) runs the same steps with the request's
 * Authorization header:
 * moss_digest_parse_authorization() (MOSS_ERR_NOENT = not a Digest header:
 * treat as absent; MOSS_ERR_PARSE -> HTTP 400), moss_digest_check() with
 * the HTTP method and request-target (uri must equal it), steps 5-6 with
 * the method for HA2.  OK -> moss_rpc_channel_set_user(ch, c.username)
 * and the frame is dispatched (the authorizer then sees the channel
 * user).  NONCE_STALE -> 401 with moss_digest_challenge_header(...,
 * stale=true); other failures -> 401 without stale.  A request needing
 * a user with no header gets the 401 too (with auth configured, so
 * `curl --digest` works).  On the WS upgrade a present but invalid
 * header fails the upgrade with the 401; an absent one lets it proceed
 * unauthenticated.  http.auth_* (files, /upload) uses the same calls with
 * the http realm and the same nonce table.
 *
 * Ownership: every struct here is a caller-owned plain struct; pointers
 * passed in are borrowed for the call unless a function says otherwise.
 * Single-threaded like the rest of the runtime.
 */
#ifndef MOSS_AUTH_H
#define MOSS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/util.h"

/* ---- 1. Hashes ----------------------------------------------------------- */

/* Values are those of rpc.auth_algo / http.auth_algo. */
enum moss_digest_algo {
  MOSS_DIGEST_MD5 = 0,
  MOSS_DIGEST_SHA256 = 1,
};

/* Hex digest buffer: 64 digits (SHA-256) + NUL. */
#define MOSS_DIGEST_HEX_MAX 65u

/* "MD5" / "SHA-256" (static). */
const char *moss_digest_algo_name(enum moss_digest_algo algo);
/* 32 or 64: hex digits of one hash. */
size_t moss_digest_hex_len(enum moss_digest_algo algo);

/* out = H(parts[0] ":" parts[1] ":" ... parts[n-1]) as lower-case hex,
 * NUL-terminated.  MOSS_ERR_INVAL (bad algo), MOSS_ERR_CRYPTO. */
int moss_digest_hash_hex(enum moss_digest_algo algo,
                         const struct moss_str *parts, size_t n,
                         char out[MOSS_DIGEST_HEX_MAX]);

/* The Digest response (§5.3, §5.5):
 *   HA2 = H(method ":" uri), or H("dummy_method:dummy_uri") when method
 *         is empty (frame auth; uri is then ignored)
 *   response = H(ha1 ":" nonce ":" nc ":" cnonce ":auth:" HA2)
 * All strings are the texts that enter the hash.  Errors as above. */
int moss_digest_response(enum moss_digest_algo algo, struct moss_str ha1,
                         struct moss_str nonce, struct moss_str nc,
                         struct moss_str cnonce, struct moss_str method,
                         struct moss_str uri, char out[MOSS_DIGEST_HEX_MAX]);

/* ---- 2. Credentials ------------------------------------------------------ */

/* Field buffers of struct moss_digest_creds (NUL included).  Longer
 * fields are malformed (400): our own nonces are at most 16 digits. */
#define MOSS_DIGEST_USER_MAX 64u /* = MOSS_RPC_USER_MAX */
#define MOSS_DIGEST_REALM_MAX 128u
#define MOSS_DIGEST_NONCE_MAX 32u
#define MOSS_DIGEST_CNONCE_MAX 128u
#define MOSS_DIGEST_NC_MAX 24u
#define MOSS_DIGEST_URI_MAX 512u

/* Credentials from a frame's "auth" or an Authorization header.  Every
 * string is a NUL-terminated copy (unescaped), "" when absent. */
struct moss_digest_creds {
  bool http; /* from an HTTP header: HA2 uses method and uri */
  /* algorithm as named; MD5 when absent.  algo_ok is false when the
   * client named anything other than MD5 / SHA-256 (e.g. MD5-sess). */
  enum moss_digest_algo algo;
  bool algo_ok;
  char username[MOSS_DIGEST_USER_MAX];
  char realm[MOSS_DIGEST_REALM_MAX];
  char nonce[MOSS_DIGEST_NONCE_MAX]; /* text as it enters the hash */
  char cnonce[MOSS_DIGEST_CNONCE_MAX];
  char nc[MOSS_DIGEST_NC_MAX];        /* frame: decimal; HTTP: 8 hex */
  char uri[MOSS_DIGEST_URI_MAX];      /* HTTP only */
  char response[MOSS_DIGEST_HEX_MAX]; /* hex as sent (any case) */
  /* nonce_value: the nonce parsed as the table stores it (frame:
   * decimal, HTTP: hex); 0 when the text is no nonce of ours, which the
   * table never holds.  nc_value: the counter (>= 1). */
  uint64_t nonce_value;
  uint32_t nc_value;
};

/* The frame's "auth" object -> credentials: moss_digest_creds_from_json()
 * in moss/priv/auth_json.h (it takes a cJSON value). */

/* An Authorization header value ("Digest username=\"joe\", ...", without
 * the header name) -> c.  RFC 7616 / RFC 7235 syntax: auth-param = token
 * BWS "=" BWS (token / quoted-string), comma-separated with OWS; names
 * case-insensitive; a duplicate parameter is an error; unknown ones are
 * ignored.  Required: username, realm, nonce, uri, response, qop (must
 * be "auth"), nc (exactly 8 hex digits, not 0), cnonce; userhash=true and
 * username* are refused.  Returns MOSS_OK; MOSS_ERR_NOENT when the scheme
 * is not Digest (e.g. Basic: treat as no credentials); MOSS_ERR_PARSE
 * with *why (HTTP 400). */
int moss_digest_parse_authorization(struct moss_str value,
                                    struct moss_digest_creds *c,
                                    const char **why);

/* Outcome of the checks; the comment says what the runtime answers and
 * logs (rpc.md §5.4, §1.4). */
enum moss_digest_status {
  MOSS_DIGEST_OK = 0,
  /* 400 "bad request" (HTTP 400): a field missing/empty, response not hex
   * of the configured length. */
  MOSS_DIGEST_MALFORMED,
  /* 400, ERROR "Auth algo mismatch". */
  MOSS_DIGEST_ALGO_MISMATCH,
  /* 400, WARN "Got auth request with different realm". */
  MOSS_DIGEST_REALM_MISMATCH,
  /* HTTP 400: uri differs from the request-target. */
  MOSS_DIGEST_URI_MISMATCH,
  /* 401 with stale=true: the response is right but the nonce is unknown,
   * expired or its nc was already used; DEBUG "stale or reused nonce". */
  MOSS_DIGEST_NONCE_STALE,
  /* 401 (no stale): nonce unusable and the response wrong too; DEBUG
   * "stale or reused nonce". */
  MOSS_DIGEST_NONCE_BAD,
  /* 401: nonce fine, unknown user or wrong response; WARN "Invalid digest
   * auth for user <u>". */
  MOSS_DIGEST_BAD_RESPONSE,
};

/* §5.4 checks 1-3 against the configuration (realm, algo) and, for HTTP
 * credentials, the request: uri must equal target byte for byte.  For
 * frame credentials pass MOSS_STR_NULL as target.  Returns OK,
 * MALFORMED, ALGO_MISMATCH, REALM_MISMATCH or URI_MISMATCH. */
enum moss_digest_status moss_digest_check(const struct moss_digest_creds *c,
                                          const char *realm,
                                          enum moss_digest_algo algo,
                                          struct moss_str target);

struct moss_nonce_table;

/* §5.4 checks 5-6, after moss_digest_check() returned OK.  ha1 is the
 * hex HA1 of the password file line for (c->username, c->realm), NULL
 * when there is none: the response is then computed with a dummy HA1 so
 * the time taken does not reveal which users exist.  The response is
 * compared in constant time over its full length.  method is the HTTP
 * method for HTTP credentials (MOSS_STR_NULL for frames).  On OK the
 * nonce's highest nc becomes c->nc_value before returning, so the same
 * (nonce, nc) never passes twice on any channel.  A wrong response never
 * touches the table (a forger cannot burn a client's nonce).
 * MOSS_DIGEST_BAD_RESPONSE also on a hash failure (fail closed). */
enum moss_digest_status moss_digest_verify(const struct moss_digest_creds *c,
                                           const char *ha1,
                                           struct moss_nonce_table *t,
                                           uint64_t now_ms,
                                           struct moss_str method);

/* ---- 3. Nonce table ------------------------------------------------------ */

#define MOSS_NONCE_TABLE_SIZE 64u
#define MOSS_NONCE_TTL_DEFAULT_S 300u
#define MOSS_NONCE_TTL_MIN_S 1u
#define MOSS_NONCE_TTL_MAX_S 3600u
/* Nonces are in 1..2^53-1 so a JSON number carries them exactly. */
#define MOSS_NONCE_MAX ((UINT64_C(1) << 53) - 1)

/* Source of random bytes; returns MOSS_OK or an error. */
typedef int moss_nonce_random_fn(void *arg, void *buf, size_t n);

struct moss_nonce_entry {
  uint64_t value;     /* 0 = free slot */
  uint64_t issued_ms; /* monotonic clock at issue */
  uint32_t max_nc;    /* highest accepted nc, 0 = none yet */
};

/* Plain struct, about 1.5 KiB; one per process, shared by all channels
 * and both realms (rpc, http). */
struct moss_nonce_table {
  struct moss_nonce_entry e[MOSS_NONCE_TABLE_SIZE];
  uint32_t ttl_s;
  moss_nonce_random_fn *rnd;
  void *rnd_arg;
  uint32_t evictions; /* live nonces dropped because the table was full */
};

/* rnd NULL = moss_port_random (the OS CSPRNG).  TTL starts at
 * MOSS_NONCE_TTL_DEFAULT_S.  Cannot fail. */
void moss_nonce_init(struct moss_nonce_table *t, moss_nonce_random_fn *rnd,
                     void *rnd_arg);
/* rpc.auth_nonce_ttl; values outside 1..3600 are clamped.  Applies to
 * nonces already issued too.  Returns the TTL in force. */
uint32_t moss_nonce_set_ttl(struct moss_nonce_table *t, int ttl_s);
/* A fresh nonce (never 0, unique in the table) recorded with now_ms and
 * nc 0.  When the table is full, an expired entry or else the oldest is
 * replaced (evictions counts the latter).  MOSS_ERR_CRYPTO when the
 * random source fails (no nonce is issued). */
int moss_nonce_issue(struct moss_nonce_table *t, uint64_t now_ms,
                     uint64_t *nonce);

enum moss_nonce_state {
  MOSS_NONCE_VALID = 0,
  MOSS_NONCE_UNKNOWN, /* never issued, evicted, or 0 */
  MOSS_NONCE_EXPIRED, /* older than the TTL (the entry is then freed) */
  MOSS_NONCE_REPLAY,  /* nc <= the highest nc already accepted */
};
/* Would (nonce, nc) be accepted now?  Frees an expired entry. */
enum moss_nonce_state moss_nonce_check(struct moss_nonce_table *t,
                                       uint64_t nonce, uint32_t nc,
                                       uint64_t now_ms);
/* Check and, when VALID, record nc as the nonce's highest.  Returns the
 * state of moss_nonce_check. */
enum moss_nonce_state moss_nonce_accept(struct moss_nonce_table *t,
                                        uint64_t nonce, uint32_t nc,
                                        uint64_t now_ms);
/* Forget everything (reboot). */
void moss_nonce_clear(struct moss_nonce_table *t);

/* ---- 4. Challenges ------------------------------------------------------- */

/* In-frame 401 error.message (§5.1), e.g.
 *   {"auth_type": "digest", "nonce": 1611048949, "nc": 1,
 *    "realm": "myproduct", "algorithm": "MD5"}
 * (on one line; realm JSON-escaped).  Writes a NUL-terminated text of at
 * most size-1 bytes into buf and returns its length, or MOSS_ERR_TOOBIG
 * (buf then holds ""); MOSS_ERR_INVAL for realm NULL.  256 bytes hold it
 * for realms up to ~150 bytes (MOSS_RPC_AUTHZ_MSG_MAX). */
int moss_digest_challenge_json(char *buf, size_t size, uint64_t nonce,
                               const char *realm, enum moss_digest_algo algo);
/* WWW-Authenticate header value (§5.5):
 *   Digest realm="myproduct", qop="auth", nonce="5f3c1a2b", algorithm=MD5
 * with ", stale=true" appended when stale; the nonce in lower-case hex,
 * the realm as an RFC 7230 quoted-string.  Returns as above. */
int moss_digest_challenge_header(char *buf, size_t size, uint64_t nonce,
                                 const char *realm, enum moss_digest_algo algo,
                                 bool stale);

/* A challenge as a client (mos) sees it. */
struct moss_digest_challenge {
  enum moss_digest_algo algo; /* MD5 when absent */
  bool stale;
  char realm[MOSS_DIGEST_REALM_MAX];
  char nonce[MOSS_DIGEST_NONCE_MAX];   /* text to echo and hash */
  char opaque[MOSS_DIGEST_CNONCE_MAX]; /* "" when absent */
};
/* WWW-Authenticate value -> ch.  Requires scheme Digest, realm, nonce;
 * qop, when present, must list "auth"; algorithm MD5 or SHA-256.
 * MOSS_ERR_NOENT (not Digest), MOSS_ERR_NOTSUP (other algorithm or
 * qop), MOSS_ERR_PARSE (syntax, duplicates, missing fields; *why). */
int moss_digest_parse_challenge(struct moss_str value,
                                struct moss_digest_challenge *ch,
                                const char **why);
/* The decoded error.message of an in-frame 401 (§5.1) -> ch.  nonce is
 * a JSON integer (printed in decimal) or string.  MOSS_ERR_NOENT when
 * auth_type is not "digest" (not a Digest challenge), MOSS_ERR_NOTSUP
 * (algorithm), MOSS_ERR_PARSE (*why). */
int moss_digest_parse_frame_challenge(struct moss_str message,
                                      struct moss_digest_challenge *ch,
                                      const char **why);

/* ---- 5. htdigest password file ------------------------------------------- */

/* Longest line (bytes before '\n'); longer lines are errors. */
#define MOSS_HTDIGEST_LINE_MAX 1024u
#define MOSS_AUTH_ERR_WHAT_MAX 96u

/* A positioned error in a security file (1-based line and byte column). */
struct moss_auth_file_error {
  unsigned line, col;
  char what[MOSS_AUTH_ERR_WHAT_MAX]; /* e.g. "expected 32 hex digits ..." */
};

/* The three forms of an error text (rpc.md §5.7, §6.5; config.md §5.3):
 *   LOG     "<f>:<l>:<c>: <kind>: <what>"  (kind "invalid password
 *           file" / "ACL parse error"), the ERROR log line
 *   REPLY   "invalid password file <f>: line <l>: <what>" /
 *           "invalid ACL in <f> at line <l>, column <c>: <what>", the 500
 *   CONFIG  "<f>: line <l>: <what>" / "<f>:<l>:<c>: <what>", the reason
 *           of a refused Config.Set */
enum moss_auth_msg_form {
  MOSS_AUTH_MSG_LOG,
  MOSS_AUTH_MSG_REPLY,
  MOSS_AUTH_MSG_CONFIG,
};

/* Streaming lookup of (user, realm) over the file text, fed in chunks of
 * any size.  Plain struct (~1.4 KiB); the caller owns it and must call
 * moss_htdigest_scan_wipe() when done (it holds the HA1). */
struct moss_htdigest_scan {
  /* private */
  enum moss_digest_algo algo;
  char user[MOSS_DIGEST_USER_MAX];
  char realm[MOSS_DIGEST_REALM_MAX];
  bool want; /* user/realm given */
  char line[MOSS_HTDIGEST_LINE_MAX + 1];
  size_t len;      /* bytes of the current line in line[] */
  bool overlong;   /* current line exceeded the cap */
  unsigned lineno; /* current line, 1-based */
  bool found;
  char ha1[MOSS_DIGEST_HEX_MAX]; /* lower-cased */
  int err;                       /* sticky: MOSS_OK or MOSS_ERR_PARSE */
  struct moss_auth_file_error error;
};

/* user/realm NULL (or too long to exist) = validate only.  algo decides
 * the hash length (32 or 64 hex digits).  Cannot fail. */
void moss_htdigest_scan_init(struct moss_htdigest_scan *s,
                             enum moss_digest_algo algo, const char *user,
                             const char *realm);
/* The next n bytes of the file.  MOSS_OK or MOSS_ERR_PARSE (sticky; later
 * feeds do nothing).  chunk is not referenced after the call. */
int moss_htdigest_scan_feed(struct moss_htdigest_scan *s, const char *chunk,
                            size_t n);
/* End of file (a last line without '\n' counts).  MOSS_OK (the file is
 * valid; moss_htdigest_scan_ha1 tells whether the user was found) or
 * MOSS_ERR_PARSE with moss_htdigest_scan_error() set. */
int moss_htdigest_scan_finish(struct moss_htdigest_scan *s);
/* HA1 hex (lower case) of the first line matching user and realm, NULL
 * when none or the file is invalid.  Valid until wipe. */
const char *moss_htdigest_scan_ha1(const struct moss_htdigest_scan *s);
const struct moss_auth_file_error *moss_htdigest_scan_error(
    const struct moss_htdigest_scan *s);
/* Wipe everything (HA1, line buffer).  NULL-safe. */
void moss_htdigest_scan_wipe(struct moss_htdigest_scan *s);

/* One-shot: the whole text.  ha1 (MOSS_DIGEST_HEX_MAX) gets the HA1 or
 * "" when not found.  MOSS_OK, MOSS_ERR_PARSE (err filled, may be NULL). */
int moss_htdigest_lookup(const char *text, size_t len,
                         enum moss_digest_algo algo, const char *user,
                         const char *realm, char *ha1,
                         struct moss_auth_file_error *err);

/* Error texts: forms of enum moss_auth_msg_form with fname the file name
 * as configured.  Returns the length or MOSS_ERR_TOOBIG (truncated,
 * still NUL-terminated). */
int moss_htdigest_error_format(char *buf, size_t size, const char *fname,
                               const struct moss_auth_file_error *e,
                               enum moss_auth_msg_form form);

/* ---- 6. Failure throttle ------------------------------------------------- */

#define MOSS_AUTH_THROTTLE_SLOTS 16u
#define MOSS_AUTH_THROTTLE_PEER_MAX 48u
/* Failures allowed before any delay; delay doubles per further failure
 * from MOSS_AUTH_THROTTLE_BASE_MS up to MOSS_AUTH_THROTTLE_MAX_MS; a
 * peer quiet for MOSS_AUTH_THROTTLE_FORGET_MS is forgotten. */
#define MOSS_AUTH_THROTTLE_FREE 3u
#define MOSS_AUTH_THROTTLE_BASE_MS 250u
#define MOSS_AUTH_THROTTLE_MAX_MS 8000u
#define MOSS_AUTH_THROTTLE_FORGET_MS 600000u

struct moss_auth_throttle_slot {
  char peer[MOSS_AUTH_THROTTLE_PEER_MAX]; /* "" = free */
  uint32_t fails;
  uint64_t last_ms;
};
/* Data the runtime keeps per process: failures per peer (an address
 * without port, e.g. "127.0.0.1", or "UART").  Least recently failing
 * peer evicted when full. */
struct moss_auth_throttle {
  struct moss_auth_throttle_slot s[MOSS_AUTH_THROTTLE_SLOTS];
};

void moss_auth_throttle_init(struct moss_auth_throttle *t);
/* Record a failed authentication from peer (truncated to the slot size).
 * Returns how long the runtime should hold the reply (ms, 0 = none).
 * *count (may be NULL) gets the failures in a row, for a WARN such as
 * "5 failed logins from 10.0.0.7" (the runtime logs at every power of
 * two, so a flood cannot flood the log). */
uint32_t moss_auth_throttle_fail(struct moss_auth_throttle *t, const char *peer,
                                 uint64_t now_ms, uint32_t *count);
/* The delay a new failure would get now, without recording one. */
uint32_t moss_auth_throttle_delay(const struct moss_auth_throttle *t,
                                  const char *peer, uint64_t now_ms);
/* Time left (ms) of the back-off the peer's last failure earned: while it
 * is > 0 the runtime refuses the peer's logins without checking them. */
uint32_t moss_auth_throttle_wait(const struct moss_auth_throttle *t,
                                 const char *peer, uint64_t now_ms);
/* Successful login: forget the peer's failures. */
void moss_auth_throttle_success(struct moss_auth_throttle *t, const char *peer);

/* ---- 7. ACL -------------------------------------------------------------- */

#define MOSS_ACL_MAX_ENTRIES 32u
/* Bytes of decoded strings (method, ch_type, acl, NULs) of one ACL. */
#define MOSS_ACL_POOL_SIZE 2048u
/* Longest ACL text accepted (files and inline). */
#define MOSS_ACL_TEXT_MAX 8192u
/* JSON nesting allowed inside ignored values. */
#define MOSS_ACL_MAX_DEPTH 16u

/* The 500 message of the decision table row "user list, auth not
 * configured" (rpc.md §6.4). */
#define MOSS_ACL_MSG_NOT_CONFIGURED \
  "authentication is not configured (rpc.auth_file is empty)"

enum moss_acl_source {
  MOSS_ACL_SRC_NONE = 0, /* no ACL */
  MOSS_ACL_SRC_INLINE,   /* *where = the JSON text (rpc.acl) */
  MOSS_ACL_SRC_FILE,     /* *where = the file name */
  MOSS_ACL_SRC_CONFLICT, /* both keys set: 500 (§6.5) */
};
/* rpc.acl and rpc.acl_file (NULL = "") -> where the ACL comes from
 * (§6.1): "@name" in rpc.acl names a file.  *where points into the
 * arguments.  For INLINE the name used in messages is "rpc.acl". */
enum moss_acl_source moss_acl_source(const char *rpc_acl,
                                     const char *rpc_acl_file,
                                     const char **where);

/* One entry; strings are NUL-terminated views into the pool of the
 * struct moss_acl holding them; buf NULL = key absent. */
struct moss_acl_entry {
  struct moss_str method, ch_type, acl;
  unsigned line, col; /* of the entry's '{' */
};

/* A parsed ACL: caller-owned plain struct (~4 KiB), no heap.  Valid as
 * long as the struct; it does not reference the source text. */
struct moss_acl {
  size_t n;
  struct moss_acl_entry e[MOSS_ACL_MAX_ENTRIES];
  size_t pool_used;
  char pool[MOSS_ACL_POOL_SIZE];
};

/* Called for each unknown key of an entry (ignored with a WARN naming
 * file, line and key, §6.2).  key is NUL-terminated, possibly shortened,
 * borrowed for the call. */
typedef void moss_acl_warn_fn(void *arg, unsigned line, unsigned col,
                              const char *key);

/* Parse len bytes of ACL text (strict RFC 8259 JSON; need not be
 * NUL-terminated) into acl.  The root must be an array of objects, each
 * with a string "acl" and at least one of string "method" / "ch_type";
 * duplicate keys in an entry are errors.  On error (MOSS_ERR_PARSE, or
 * MOSS_ERR_TOOBIG past MOSS_ACL_TEXT_MAX / MOSS_ACL_MAX_ENTRIES / the
 * pool) err gets the position of the offending token and the text of
 * §6.5, e.g. 3:3 "expected ',' or ']' after array element, found '{'",
 * and acl is left empty (n = 0).  warn may be NULL. */
int moss_acl_parse(struct moss_acl *acl, const char *text, size_t len,
                   struct moss_auth_file_error *err, moss_acl_warn_fn *warn,
                   void *warn_arg);

/* Error texts: LOG "<f>:<l>:<c>: ACL parse error: <what>", REPLY
 * "invalid ACL in <f> at line <l>, column <c>: <what>", CONFIG
 * "<f>:<l>:<c>: <what>".  Returns the length or MOSS_ERR_TOOBIG. */
int moss_acl_error_format(char *buf, size_t size, const char *fname,
                          const struct moss_auth_file_error *e,
                          enum moss_auth_msg_form form);

/* Does an acl string (§6.3: comma list of [+|-]glob over the user, first
 * match decides, entries trimmed of spaces) allow user?  An empty user
 * matches nothing (deny). */
bool moss_acl_str_allows(struct moss_str acl, struct moss_str user);

enum moss_acl_verdict {
  MOSS_ACL_ALLOW = 0,      /* run the handler */
  MOSS_ACL_DENY,           /* 403 "unauthorized" */
  MOSS_ACL_NEED_USER,      /* 401: authenticate, then decide again */
  MOSS_ACL_NOT_CONFIGURED, /* 500 MOSS_ACL_MSG_NOT_CONFIGURED */
};

/* The decision table of rpc.md §6.4.  acl NULL = no ACL configured;
 * auth_configured = auth_domain and auth_file both set; user = the
 * authenticated user (len 0 = none).  The first entry whose method glob
 * (case-insensitive, whole name) and ch_type (exact) match decides; its
 * acl string "*" / "+*" allows without a user, "-*" denies everyone,
 * anything else is a user list that needs a user.  No match denies.
 * *acl_text (may be NULL) gets the text for the log line: the entry's
 * acl string (borrowed from acl), or the static "*" (no ACL, no auth),
 * "<any user>" (no ACL, auth configured), "<no match>". */
enum moss_acl_verdict moss_acl_decide(
    const struct moss_acl *acl, bool auth_configured, struct moss_str method,
    struct moss_str ch_type, struct moss_str user, struct moss_str *acl_text);

/* The entry that decides for (method, ch_type) by the rule above: the
 * index into acl->e of the first entry whose method glob and ch_type
 * match, or -1 when none does (or acl is NULL).  Entry i is "entry i+1"
 * to users (1-based, in file order). */
int moss_acl_match(const struct moss_acl *acl, struct moss_str method,
                   struct moss_str ch_type);

/* Largest useful buffer for moss_acl_entry_format() in a message. */
#define MOSS_ACL_ENTRY_TEXT_MAX 128u

/* One entry as a single line of compact JSON for messages, keys in the
 * order method, ch_type, acl, absent keys left out:
 * {"method":"*","acl":"-*"}.  Quotes and backslashes are escaped and
 * control bytes written as \u00XX, so the text is one line whatever the
 * file holds.  An entry longer than the buffer is cut at a character
 * boundary and ends in "...}" (then it is not valid JSON).  ACL entries
 * hold no secrets (user names at most).  Returns the length, or
 * MOSS_ERR_TOOBIG when size < 7. */
int moss_acl_entry_format(char *buf, size_t size,
                          const struct moss_acl_entry *e);

#endif
