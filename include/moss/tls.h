/*
 * moss/tls.h - TLS 1.2/1.3 (mbedTLS 3.6) as a layer over the conn API,
 * with credentials read from the device's files (or a secure element
 * slot) and trust anchors read on demand from a CA file (http.md §4).
 *
 * Pieces
 *   moss_tls_init()         once per process: routes mbedTLS's heap through
 *                           the counting allocator (MOSS_SUB_TLS), starts
 *                           PSA crypto and the DRBG.  Idempotent.
 *   moss_tls_ctx_from_creds()
 *                           THE way configuration becomes a TLS context,
 *                           for servers and clients alike: certificate
 *                           file, key file or "ATCA:<n>", CA file.
 *   moss_tls_creds_check()  the same inputs through the same code, for
 *                           Config.Set's validation (config.md §5.3).
 *   struct moss_tls_ca      a CA file on a filesystem, never held in RAM:
 *                           a small index (subject hash -> offset) built on
 *                           first use; a lookup reads, parses and returns
 *                           only the certificates whose subject matches.
 *   struct moss_tls_ctx     shared configuration of one role (server or
 *                           client): own certificate chain and key, CA
 *                           store, verification mode.  Reference counted:
 *                           every listener and connection holds a
 *                           reference, so the creator may drop its own
 *                           (moss_tls_ctx_unref) as soon as they exist.
 *   moss_tls_listen()       a TLS listener: a TCP listener whose accepted
 *                           connections are announced (on_accept) only
 *                           after their handshake succeeded.
 *   moss_tls_connect()      an outgoing TLS connection; on_connect after
 *                           the handshake (and verification) succeeded.
 * Connections made here behave exactly like TCP ones (moss/conn.h): the
 * HTTP server, WebSocket and RPC code cannot tell the difference.
 *
 * No mbedTLS type appears here.  The helpers that take mbedTLS objects
 * (CA lookup, verification texts) are private to src/tls/ and to the
 * host tool (src/tls/tls_mbedtls.h).
 *
 * Security behaviour
 *   - TLS 1.2 and 1.3 only; suites and groups of http.md §4.1 (ECDHE
 *     only, P-256 first); renegotiation, compression and tickets off.
 *   - Server with a CA store: a client certificate is required and
 *     verified (mutual TLS); without one: no client certificate asked.
 *   - Client with a CA store: the server chain and its name are
 *     verified; without one: WARN "TLS: server certificate of <host> is
 *     not verified (no CA configured)".
 *   - Every failed verification logs one ERROR line
 *     "TLS: <peer> certificate verification failed: '<DN>' (depth <d>):
 *     <reason>" (http.md §4.6); the peer gets the matching alert.
 *   - A handshake that makes no progress for handshake_timeout_ms is
 *     dropped and its memory freed.
 *
 * Memory (counted under MOSS_SUB_TLS; docs/design/tls.md has figures)
 *   Record buffers exist only while a record is in flight, the input
 *   one sized to that record (up to 16 KB from a peer; moss sends
 *   records of at most 4 KB).  An idle TLS 1.2 connection is parked: its
 *   state kept as a ~200-byte blob, no mbedTLS context; an idle TLS 1.3
 *   connection keeps its context (~1 KB) without buffers.  The peer's
 *   certificate chain is freed after verification.  moss_tls_stats()
 *   reports what is in use (parked: connections holding only a blob).
 *
 * Single-threaded (one event loop), like the rest of the runtime.
 */
#ifndef MOSS_TLS_H
#define MOSS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/conn.h"
#include "moss/ev.h"

/* A handshake that makes no progress for this long is aborted. */
#define MOSS_TLS_DEFAULT_HANDSHAKE_MS 10000u
/* Longest line of a CA file (http.md §4.7); longer lines inside a
 * certificate skip that certificate. */
#define MOSS_TLS_CA_LINE_MAX 1024u
/* Largest DER certificate accepted from a CA file. */
#define MOSS_TLS_CA_DER_MAX 4096u
/* Longest chain verified (http.md §4.6 "chain longer than 8"). */
#define MOSS_TLS_MAX_CHAIN 8

/* Installs the allocator hooks, PSA crypto and the DRBG (first call
 * only).  MOSS_ERR_CRYPTO if the entropy source or PSA fails. */
int moss_tls_init(void);
/* Undo moss_tls_init() (tests, leak checks).  No TLS object may be
 * alive. */
void moss_tls_deinit(void);

/* The process-wide DRBG in mbedTLS's f_rng shape (p unused); 0 or an
 * mbedTLS error.  Needs moss_tls_init(). */
int moss_tls_rng(void *p, unsigned char *out, size_t len);

/* ---- file access -------------------------------------------------------- */

/* How credentials and CA stores read files: the device's filesystem,
 * never host stdio.  open: handle for name (borrowed for the call) or an
 * error (MOSS_ERR_NOENT ...); read: bytes read, 0 at the end, <0 error;
 * seek: absolute offset; close: NULL-safe. */
struct moss_tls_file_ops {
  int (*open)(void *arg, const char *name, void **fh);
  int (*read)(void *fh, void *buf, size_t len);
  int (*seek)(void *fh, uint32_t off);
  uint32_t (*size)(void *fh);
  void (*close)(void *fh);
};
/* Files of a mounted moss filesystem (arg: struct moss_fs *).  A leading
 * '/' is ignored: the filesystem is flat and "/ca.pem" is "ca.pem". */
extern const struct moss_tls_file_ops moss_tls_fs_ops;

/* ---- on-demand CA store ----------------------------------------------------
 */

struct moss_tls_ca;

/* A store over file `name` read through ops/arg (both must outlive the
 * store; name is copied).  Only checks that the file opens.
 * MOSS_ERR_NOENT etc. from ops->open, MOSS_ERR_NOMEM. */
int moss_tls_ca_new(const struct moss_tls_file_ops *ops, void *arg,
                    const char *name, struct moss_tls_ca **out);
void moss_tls_ca_free(struct moss_tls_ca *ca);
const char *moss_tls_ca_name(const struct moss_tls_ca *ca);
/* The lookup of certificates by subject returns mbedTLS objects: it is
 * in src/tls/tls_mbedtls.h. */
/* Heap held by the store while idle (the index). */
size_t moss_tls_ca_idle_bytes(const struct moss_tls_ca *ca);
/* Certificates in the index (builds it if needed); <0 on error. */
int moss_tls_ca_count(struct moss_tls_ca *ca);

/* ---- configuration
 * ------------------------------------------------------------ */

struct moss_tls_ctx;

enum moss_tls_role { MOSS_TLS_SERVER = 0, MOSS_TLS_CLIENT = 1 };

/* Caller-owned, copied by moss_tls_ctx_new. */
struct moss_tls_ctx_opts {
  enum moss_tls_role role;
  /* 0x0303 = TLS 1.2, 0x0304 = TLS 1.3; 0 = both. */
  uint16_t min_version, max_version;
  uint32_t handshake_timeout_ms; /* 0: MOSS_TLS_DEFAULT_HANDSHAKE_MS */
};

/* MOSS_ERR_NOMEM, MOSS_ERR_CRYPTO (moss_tls_init failed). */
int moss_tls_ctx_new(const struct moss_tls_ctx_opts *o,
                     struct moss_tls_ctx **out);
void moss_tls_ctx_ref(struct moss_tls_ctx *ctx);
/* Drop a reference; the last one frees.  NULL-safe. */
void moss_tls_ctx_unref(struct moss_tls_ctx *ctx);

/* Own certificate chain (PEM, leaf first) and its private key (PEM:
 * PKCS#1, SEC1 or PKCS#8; key == NULL: the key is read from the
 * certificate buffer).  Buffers are borrowed for the call.  On failure
 * *bad_key tells whether the key (true) or the certificate (false) is at
 * fault and why gets the reason ("encrypted private keys are not
 * supported", "no certificate found", "key does not match the
 * certificate", ...).  MOSS_ERR_PARSE, MOSS_ERR_NOMEM, MOSS_ERR_NOTSUP. */
int moss_tls_ctx_use_cert(struct moss_tls_ctx *ctx, const void *cert,
                          size_t cert_len, const void *key, size_t key_len,
                          bool *bad_key, char *why, size_t whylen);
/* Trust anchors for the peer (taken over: freed with ctx).  Server:
 * client certificates become required. */
void moss_tls_ctx_use_ca(struct moss_tls_ctx *ctx, struct moss_tls_ca *ca);

/* ---- credentials: configuration -> context ----------------------------- */

/* Largest certificate or key file read (MOSS_ERR_TOOBIG above).  CA
 * files have no such cap: they are never read whole (§4.7). */
#define MOSS_TLS_CREDS_FILE_MAX (16u * 1024u)
/* Secure element slots usable as "ATCA:<n>" keys: 0 .. this - 1. */
#define MOSS_TLS_ATCA_SLOTS 16

/* The input a failure is about (the setting to name in messages). */
enum moss_tls_creds_item {
  MOSS_TLS_CREDS_NONE = 0,
  MOSS_TLS_CREDS_CERT, /* *.ssl_cert */
  MOSS_TLS_CREDS_KEY,  /* *.ssl_key */
  MOSS_TLS_CREDS_CA,   /* *.ssl_ca_cert */
};

/* One user's TLS settings (http.md §4.2: http.ssl_*, mqtt.ssl_*,
 * rpc.ws.ssl_*), as configured.  Caller-owned; the strings are borrowed
 * for the call (the context keeps copies of what it needs). */
struct moss_tls_creds_cfg {
  struct moss_tls_ctx_opts opts; /* role, versions, handshake timeout */
  /* Own certificate chain file (PEM, leaf first).  NULL or "": none (a
   * client without a certificate; a server needs one). */
  const char *cert;
  /* Private key: a file name, "ATCA:<n>" (secure element slot n), or
   * NULL/"": the key is in the certificate file. */
  const char *key;
  /* Trust anchors file, read on demand.  NULL, "" or "*": the peer is
   * not verified (server: no client certificate asked; client: WARN per
   * connection). */
  const char *ca;
  /* Client: the name sent as SNI and verified against the server's
   * certificate when moss_tls_connect() gets none; NULL: the host part
   * of the address connected to.  Ignored for servers. */
  const char *server_name;
};

/* What the device offers every TLS user: its files and its secure
 * element.  Caller-owned; fops/farg must outlive the contexts made with
 * them (their CA stores read files later). */
struct moss_tls_creds_env {
  const struct moss_tls_file_ops *fops;
  void *farg;
  /* A secure element can hold keys (board has one, sys.atca.enable and
   * i2c.enable on).  False: every "ATCA:<n>" key is refused. */
  bool se_present;
  /* sys.atca.ecdh_slots_mask: slots kept for ECDH, refused as keys. */
  uint32_t ecdh_slots_mask;
};

/* Builds the context for c: reads and parses the certificate chain and
 * the key (or checks the "ATCA:<n>" rules), pairs them, opens the CA
 * file (only checked to open, http.md §4.7), and stores server_name.
 * Key material read from files is wiped from RAM once parsed.
 *
 * On success *out holds one reference (moss_tls_ctx_unref).  On failure
 * *out is NULL, *bad names the input at fault and why gets one line that
 * names it and says why (http.md §1.2, §4.3):
 *   "<file>: No such file or directory"     (or moss_strerror())
 *   "<file>: no certificate found"
 *   "<file>: encrypted private keys are not supported"
 *   "<file>: no private key found" / "...: unsupported key type"
 *   "<key>: key does not match certificate <cert>"
 *   "ATCA:<n>: invalid slot"
 *   "ATCA:<n> cannot be used for private key, it is configured as ECDH
 *    slot."
 *   "ATCA:<n>: secure element not available"
 *   "ATCA:<n>: secure element keys are not supported yet"
 *   "no certificate configured" (a server, or a client with a key)
 * Returns MOSS_ERR_NOENT / MOSS_ERR_TOOBIG / MOSS_ERR_IO (reading),
 * MOSS_ERR_PARSE, MOSS_ERR_NOTSUP (encrypted key; ATCA key without a
 * usable secure element), MOSS_ERR_INVAL (slot rules, missing
 * certificate), MOSS_ERR_NOMEM, MOSS_ERR_CRYPTO. */
int moss_tls_ctx_from_creds(const struct moss_tls_creds_cfg *c,
                            const struct moss_tls_creds_env *env,
                            struct moss_tls_ctx **out,
                            enum moss_tls_creds_item *bad, char *why,
                            size_t whylen);

/* Config.Set's check of one input of c (config.md §5.3), through the
 * same reading and parsing code as moss_tls_ctx_from_creds:
 *   CERT  the file has a certificate chain that parses;
 *   KEY   "ATCA:<n>": slot rules and a secure element present; a file:
 *         an unencrypted private key that parses and, when c->cert is
 *         set, matches that certificate;
 *   CA    "*" or empty, or the file opens and holds at least one
 *         certificate that parses (streamed: any size).
 * Nothing is kept.  why: as above, except that a file that cannot be
 * read is "<file>: cannot open: <reason>" (config.md §5.3's wording).
 * MOSS_OK or the errors of moss_tls_ctx_from_creds. */
int moss_tls_creds_check(const struct moss_tls_creds_cfg *c,
                         const struct moss_tls_creds_env *env,
                         enum moss_tls_creds_item item, char *why,
                         size_t whylen);

/* ---- connections
 * ------------------------------------------------------------- */

/* Listener with the moss_http_listen_fn signature (arg: the ctx, which
 * the listener references).  Same errors as moss_conn_listen;
 * MOSS_ERR_INVAL if ctx is not a server context with a certificate. */
int moss_tls_listen(void *ctx, struct moss_ev *ev, const char *addr,
                    const struct moss_conn_opts *o,
                    const struct moss_conn_handlers *h, void *user,
                    struct moss_conn **out, char *why, size_t whylen);

/* Connect to addr ("ip:port") and run the handshake, sending SNI and
 * verifying against server_name (copied; NULL: the context's
 * server_name from moss_tls_ctx_from_creds, else the address's host).
 * Outcome as moss_conn_connect: on_connect after the handshake, or
 * on_error (MOSS_ERR_AUTH: verification failed, MOSS_ERR_PROTO: the
 * handshake failed, MOSS_ERR_TIMEOUT, MOSS_ERR_IO) + on_close. */
int moss_tls_connect(struct moss_tls_ctx *ctx, struct moss_ev *ev,
                     const char *addr, const char *server_name,
                     const struct moss_conn_opts *o,
                     const struct moss_conn_handlers *h, void *user,
                     struct moss_conn **out);

/* The negotiated version of an established TLS connection ("TLSv1.2",
 * "TLSv1.3") or "" (not TLS, or still handshaking). */
const char *moss_tls_conn_version(struct moss_conn *c);

struct moss_tls_stats {
  uint32_t conns;       /* TLS connections alive (incl. handshaking) */
  uint32_t handshaking; /* of which still in the handshake */
  uint32_t parked;      /* idle connections holding no mbedTLS context */
  uint64_t handshakes;  /* completed since start */
  uint64_t failures;    /* failed handshakes since start */
};
void moss_tls_stats(struct moss_tls_stats *st);

#endif
