/*
 * moss/http_auth.h - Digest authentication on the device's side (spec
 * rpc.md §5, http.md §2): what moss/auth.h decides, with the state, the
 * files and the answers around it.
 *
 * One struct moss_http_auth serves every realm (rpc.auth_*, http.auth_*)
 * and every channel: it holds the nonce table (a nonce issued on one
 * channel may be answered on another) and the per-peer failure throttle
 * (failures on /rpc, on files and in RPC frames count together), and it
 * reads password files from the device filesystem, streaming them through
 * the htdigest scanner so a file is never held in RAM.
 *
 * Two front ends share one verifier:
 *   - moss_http_auth_check(): an HTTP request's Authorization header
 *     (files, /upload, POST /rpc, /rpc/<Method>, the WebSocket upgrade);
 *     it answers 401/400/429/500/503 itself;
 *   - moss_http_auth_backoff() + moss_http_auth_verify(): credentials the
 *     caller parsed from elsewhere (the RPC authorizer, from a frame's
 *     "auth"); the caller answers.
 *
 * Log lines (tag "auth"): the ones enum moss_digest_status names, "bad
 * Authorization header: <why>", "<n> failed logins from <peer>: slowing
 * down" (at the first delayed failure and each power of two), "login
 * attempt from <peer> during its back-off" (DEBUG), and the password
 * file's errors (rpc.md §5.7).  Peer text in them is sanitised.
 *
 * Lifecycle: moss_http_auth_new() at runtime start, moss_http_auth_free()
 * at stop (wipes the table).  Library-owned (MOSS_SUB_HTTP, ~2.6 KB).
 * The filesystem is borrowed and must outlive it.  Single-threaded.
 */
#ifndef MOSS_HTTP_AUTH_H
#define MOSS_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/auth.h"
#include "moss/fs.h"
#include "moss/http_server.h"

struct moss_http_auth; /* opaque */

/* One realm's settings: rpc.auth_domain / rpc.auth_file / rpc.auth_algo
 * or the http.* ones.  Pointers borrowed for the call; the realm is
 * configured when domain and file are both non-empty. */
struct moss_http_auth_realm {
  const char *domain;
  const char *file; /* htdigest file on the device filesystem */
  enum moss_digest_algo algo;
};

/* nonce_ttl_s: rpc.auth_nonce_ttl (clamped, moss_nonce_set_ttl).
 * MOSS_ERR_NOMEM. */
int moss_http_auth_new(struct moss_fs *fs, int nonce_ttl_s,
                       struct moss_http_auth **out);
/* Wipes and frees.  NULL-safe. */
void moss_http_auth_free(struct moss_http_auth *a);

bool moss_http_auth_configured(const struct moss_http_auth_realm *r);

/* Checks req's Authorization against realm r.  Returns 0 to go on: user
 * (usz bytes) is the verified user, or "" when r is not configured, or
 * when there was no Digest header and !required.  Otherwise the HTTP
 * status it has already answered with, Connection: close: 401 with
 * "WWW-Authenticate: <moss_digest_challenge_header()>" (stale=true when
 * only the nonce was wrong), 400 (malformed, wrong realm/algorithm/uri),
 * 429 (the peer is in its back-off), 500 (password file: its error as
 * the text/plain body), 503 (out of memory). */
int moss_http_auth_check(struct moss_http_auth *a,
                         const struct moss_http_auth_realm *r,
                         struct moss_http_conn *hc,
                         const struct moss_http_req *req, bool required,
                         char *user, size_t usz);

/* ---- credentials parsed by the caller ------------------------------------ */

/* Milliseconds left of the back-off peer earned with its last failure
 * (0: go on).  While > 0, refuse without looking at the credentials, so
 * guessing cannot outrun the throttle.  peer: an address without port,
 * or a channel name ("UART"). */
uint32_t moss_http_auth_backoff(struct moss_http_auth *a, const char *peer);

enum moss_http_auth_verdict {
  MOSS_HTTP_AUTH_OK = 0,     /* verified; the peer's failures forgotten */
  MOSS_HTTP_AUTH_MALFORMED,  /* 400: moss_digest_check() refused (logged) */
  MOSS_HTTP_AUTH_FAILED,     /* 401 with a new challenge: wrong user,
                              * password or nonce (logged, counted) */
  MOSS_HTTP_AUTH_FILE_ERROR, /* 500: the password file is unreadable or
                              * invalid (logged; msg: the reply text) */
  MOSS_HTTP_AUTH_NOMEM,
};

/* Checks c (moss_digest_check() against r and target, then the password
 * file and the nonce table; method as moss_digest_verify() takes it) for
 * peer.  *stale (may be NULL): FAILED only because of the nonce.  msg
 * (msz bytes, NUL-terminated) gets the FILE_ERROR text, else "". */
enum moss_http_auth_verdict moss_http_auth_verify(
    struct moss_http_auth *a, const struct moss_http_auth_realm *r,
    const struct moss_digest_creds *c, struct moss_str target,
    struct moss_str method, const char *peer, bool *stale, char *msg,
    size_t msz);

/* A fresh nonce for a challenge (moss_nonce_issue()).  MOSS_ERR_CRYPTO
 * when the random source fails. */
int moss_http_auth_nonce(struct moss_http_auth *a, uint64_t *nonce);

#endif
