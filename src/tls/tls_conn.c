/*
 * TLS as a conn layer (lwIP altcp_tls model, moss/conn.h "layers").
 *
 * Each TLS connection is an outer conn (what the application holds)
 * over an inner TCP conn (ciphertext).  mbedTLS never touches a socket:
 * its BIO reads from the bytes the inner on_data is offering right now
 * and writes with moss_conn_send(inner).
 *
 * Phases: HS (handshake; the inner conn has an idle timeout of
 * handshake_timeout_ms, so a stalled peer is dropped and freed) -> OPEN
 * (announced: on_accept through the TLS listener, or on_connect) -> DONE
 * (close_notify sent or received).  A server connection that fails its
 * handshake never reaches the application.
 *
 * Memory (docs/design/tls.md "Memory"): mbedTLS is only entered between
 * enter() and leave().  enter() makes sure the context and its record
 * buffers exist; the outermost leave() of an established connection frees
 * the buffers if no record is in flight (moss patch 0001) and parks a TLS
 * 1.2 connection: its state saved as a ~200-byte blob and the whole
 * mbedTLS context freed (patch 0002).  The next enter() loads it again.
 *
 * Ownership: the outer conn owns the mbedTLS context and a reference to
 * the shared moss_tls_ctx; the inner conn's user pointer is the outer
 * conn until the outer is destroyed (then NULL, and the inner is
 * aborted).  A TLS listener keeps the list of its connections still
 * handshaking, so closing it aborts them.
 */
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/util.h"
#include "tls_int.h"

static const char *TAG = "tls";

/* Room for record headers, IVs and tags on top of the plaintext caps. */
#define TX_SLACK 1024u
/* One full TLS record (16 KB + header and expansion) must fit below. */
#define INNER_CAP (16384u + 2048u)

enum { PH_HS, PH_OPEN, PH_DONE };

struct tls_conn {
  struct moss_conn *self;
  struct moss_conn *inner;
  struct moss_tls_ctx *ctx;
  mbedtls_ssl_context *ssl;
  struct moss_conn *listener; /* server, until announced */
  struct tls_conn *lnext, *lprev;
  const uint8_t *in; /* ciphertext offered by the inner on_data */
  size_t in_len, in_used;
  char *vmsg;    /* first verification failure, "'<DN>' (depth d): why" */
  char *host;    /* client: the expected server name */
  uint8_t *park; /* parked TLS 1.2 state (ssl == NULL), a secret */
  uint16_t park_len;
  /* Cached at the end of the handshake: send_space and the version are
   * answered while parked. */
  uint16_t rec_max, rec_exp;
  const char *version;
  uint8_t depth; /* nesting of enter()/leave() */
  uint8_t phase;
};

struct tls_listener {
  struct moss_conn *self;
  struct moss_conn *inner;
  struct moss_tls_ctx *ctx;
  struct tls_conn *hs; /* connections still handshaking */
};

static const struct moss_conn_ops conn_ops, listener_ops;
static const struct moss_conn_handlers inner_handlers, inner_listen_handlers;

static struct tls_conn *ST(struct moss_conn *c) {
  return moss_conn_layer_state(c);
}

static void peer_of(const struct tls_conn *st, char *buf, size_t n) {
  if (st->inner == NULL || moss_conn_peer(st->inner, buf, n) != MOSS_OK)
    moss_str_copy(buf, n, moss_str_c(st->host ? st->host : "-"));
}

static void leave_hs(struct tls_conn *st, uint8_t phase) {
  if (st->phase == PH_HS && moss_tlsi_stats.handshaking > 0)
    moss_tlsi_stats.handshaking--;
  st->phase = phase;
  if (st->listener != NULL) {
    struct tls_listener *ls = moss_conn_layer_state(st->listener);
    if (st->lprev != NULL)
      st->lprev->lnext = st->lnext;
    else
      ls->hs = st->lnext;
    if (st->lnext != NULL)
      st->lnext->lprev = st->lprev;
    st->lnext = st->lprev = NULL;
  }
  moss_free(st->vmsg);
  st->vmsg = NULL;
}

/* ---- mbedTLS glue
 * ---------------------------------------------------------------- */

static int bio_recv(void *p, unsigned char *buf, size_t len) {
  struct tls_conn *st = p;
  size_t avail = st->in != NULL ? st->in_len - st->in_used : 0;
  if (avail == 0)
    return MBEDTLS_ERR_SSL_WANT_READ;
  if (len > avail)
    len = avail;
  memcpy(buf, st->in + st->in_used, len);
  st->in_used += len;
  return (int)len;
}

static int bio_send(void *p, const unsigned char *buf, size_t len) {
  struct tls_conn *st = p;
  if (st->inner == NULL)
    return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
  int rc = moss_conn_send(st->inner, buf, len);
  if (rc == MOSS_OK)
    return (int)len;
  if (rc == MOSS_ERR_TOOBIG)
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int verify_cb(void *p, mbedtls_x509_crt *crt, int depth,
                     uint32_t *flags) {
  struct tls_conn *st = p;
  if (depth >= MOSS_TLS_MAX_CHAIN)
    *flags |= MBEDTLS_X509_BADCERT_OTHER;
  if (*flags == 0 || st->vmsg != NULL)
    return 0;
  /* The first (outermost) failing certificate is the one reported. */
  st->vmsg = moss_alloc(MOSS_SUB_TLS, 640);
  if (st->vmsg == NULL)
    return 0;
  mbedtls_x509_crt *issuer = NULL;
  if ((*flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) && st->ctx->ca != NULL)
    moss_tls_ca_lookup(st->ctx->ca, crt->issuer_raw.p, crt->issuer_raw.len,
                       &issuer);
  char subj[200], why[400];
  moss_tls_subject(crt, subj, sizeof(subj));
  moss_tls_verify_reason(
      crt, *flags, st->host, st->ctx->ca ? moss_tls_ca_name(st->ctx->ca) : NULL,
      issuer, st->ctx->role == MOSS_TLS_SERVER, why, sizeof(why));
  while (issuer != NULL) {
    mbedtls_x509_crt *n = issuer->next;
    issuer->next = NULL;
    mbedtls_x509_crt_free(issuer);
    mbedtls_free(issuer);
    issuer = n;
  }
  snprintf(st->vmsg, 640, "'%s' (depth %d): %s", subj, depth, why);
  return 0;
}

static int ssl_new(struct tls_conn *st) {
  st->ssl = moss_calloc(MOSS_SUB_TLS, 1, sizeof(*st->ssl));
  if (st->ssl == NULL)
    return MOSS_ERR_NOMEM;
  mbedtls_ssl_init(st->ssl);
  int r = mbedtls_ssl_setup(st->ssl, &st->ctx->conf);
  if (r == 0 && st->host != NULL)
    r = mbedtls_ssl_set_hostname(st->ssl, st->host);
  if (r != 0)
    return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? MOSS_ERR_NOMEM : MOSS_ERR_CRYPTO;
  mbedtls_ssl_set_bio(st->ssl, st, bio_send, bio_recv, NULL);
  mbedtls_ssl_set_verify(st->ssl, verify_cb, st);
  return MOSS_OK;
}

static void ssl_free(struct tls_conn *st) {
  if (st->park != NULL) {
    moss_zeroize(st->park, st->park_len);
    moss_free(st->park);
    st->park = NULL;
    if (moss_tlsi_stats.parked > 0)
      moss_tlsi_stats.parked--;
  }
  if (st->ssl == NULL)
    return;
  mbedtls_ssl_free(st->ssl);
  moss_free(st->ssl);
  st->ssl = NULL;
}

/* ---- memory while idle
 * ------------------------------------------------------------- */

/* Free the peer's certificate chain once the handshake verified it
 * (http.md §4.8): nothing reads it afterwards (no renegotiation), and it
 * would be the largest item of an idle connection. */
static void drop_peer_cert(mbedtls_ssl_context *ssl) {
  mbedtls_ssl_session *s = ssl->MBEDTLS_PRIVATE(session);
  if (s == NULL || s->MBEDTLS_PRIVATE(peer_cert) == NULL)
    return;
  mbedtls_x509_crt_free(s->MBEDTLS_PRIVATE(peer_cert));
  mbedtls_free(s->MBEDTLS_PRIVATE(peer_cert));
  s->MBEDTLS_PRIVATE(peer_cert) = NULL;
}

/* TLS 1.2 with an AEAD suite and nothing in flight: save the state and
 * free the context.  Anything else (TLS 1.3, CBC) stays a live context
 * without buffers. */
static void park(struct tls_conn *st) {
  size_t n = 0;
  if (mbedtls_ssl_get_version_number(st->ssl) != MBEDTLS_SSL_VERSION_TLS1_2 ||
      mbedtls_ssl_context_save(st->ssl, NULL, 0, &n) !=
          MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL ||
      n == 0 || n > UINT16_MAX)
    return;
  uint8_t *blob = moss_alloc(MOSS_SUB_TLS, n);
  if (blob == NULL)
    return; /* stays unparked; costs memory, not the connection */
  if (mbedtls_ssl_context_save(st->ssl, blob, n, &n) != 0) {
    moss_free_secret(blob);
    return;
  }
  ssl_free(st);
  st->park = blob;
  st->park_len = (uint16_t)n;
  moss_tlsi_stats.parked++;
}

/* Before any mbedTLS call: the context (loaded from the park blob if
 * needed) with its record buffers.  MOSS_ERR_NOMEM: the caller sheds the
 * connection. */
static int enter(struct tls_conn *st) {
  st->depth++;
  st->ctx->cur = st;
  if (st->ssl == NULL && st->park != NULL) {
    uint8_t *blob = st->park;
    size_t n = st->park_len;
    st->park = NULL;
    moss_tlsi_stats.parked--;
    int rc = ssl_new(st);
    if (rc == MOSS_OK && mbedtls_ssl_context_load(st->ssl, blob, n) != 0)
      rc = MOSS_ERR_CRYPTO; /* (the context was freed by mbedTLS) */
    moss_zeroize(blob, n);
    moss_free(blob);
    if (rc != MOSS_OK) {
      ssl_free(st);
      return rc;
    }
  }
  if (st->ssl == NULL)
    return MOSS_ERR_CLOSED;
  if (mbedtls_ssl_buffers_acquire(st->ssl) != 0)
    return MOSS_ERR_NOMEM;
  return MOSS_OK;
}

static void leave(struct tls_conn *st) {
  if (st->depth > 0 && --st->depth > 0)
    return;
  st->ctx->cur = NULL;
  if (st->phase != PH_OPEN || st->ssl == NULL)
    return;
  if (mbedtls_ssl_buffers_release(st->ssl) == 0)
    park(st);
}

/* ---- the state machine
 * ------------------------------------------------------------ */

/* End the connection with err: drop the inner conn, the application
 * (if it knows the connection) gets on_error + on_close. */
static void fail(struct tls_conn *st, int err) {
  leave_hs(st, PH_DONE);
  if (st->inner != NULL)
    moss_conn_abort(st->inner);
  moss_conn_layer_closed(st->self, err);
}

static void hs_failed(struct tls_conn *st, int r) {
  char peer[48], why[160];
  peer_of(st, peer, sizeof(peer));
  moss_tlsi_stats.failures++;
  int err = MOSS_ERR_PROTO;
  if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && st->vmsg != NULL) {
    MOSS_LOG_E(TAG, "TLS: %s certificate verification failed: %s", peer,
               st->vmsg);
    err = MOSS_ERR_AUTH;
  } else if (r == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE ||
             (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED &&
              st->ctx->role == MOSS_TLS_SERVER)) {
    MOSS_LOG_E(TAG, "TLS: %s sent no client certificate (required by %s)", peer,
               st->ctx->ca ? moss_tls_ca_name(st->ctx->ca) : "?");
    err = MOSS_ERR_AUTH;
  } else if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
    MOSS_LOG_W(TAG, "TLS: %s: shed during handshake: out of memory", peer);
    err = MOSS_ERR_NOMEM;
  } else {
    moss_tls_strerror(r, why, sizeof(why));
    MOSS_LOG_W(TAG, "TLS: %s handshake failed: %s", peer, why);
  }
  /* Close gracefully: the alert mbedTLS queued must reach the peer
   * (an abort with unread input would reset the connection and the
   * peer could lose it).  The linger timer bounds the wait. */
  leave_hs(st, PH_DONE);
  if (st->inner != NULL && err != MOSS_ERR_NOMEM)
    moss_conn_close(st->inner);
  else if (st->inner != NULL)
    moss_conn_abort(st->inner);
  moss_conn_layer_closed(st->self, err);
}

static void hs_done(struct tls_conn *st) {
  char peer[48];
  peer_of(st, peer, sizeof(peer));
  leave_hs(st, PH_OPEN);
  moss_tlsi_stats.handshakes++;
  if (st->inner != NULL)
    moss_conn_set_idle_timeout(st->inner, 0);
  drop_peer_cert(st->ssl);
  int e = mbedtls_ssl_get_record_expansion(st->ssl);
  int m = mbedtls_ssl_get_max_out_record_payload(st->ssl);
  st->rec_exp = e > 0 && e < 1024 ? (uint16_t)e : 64;
  st->rec_max = m > 0 && m <= 16384 ? (uint16_t)m : 1024;
  st->version = mbedtls_ssl_get_version(st->ssl);
  MOSS_LOG_D(TAG, "TLS: %s: %s %s", peer, mbedtls_ssl_get_version(st->ssl),
             mbedtls_ssl_get_ciphersuite(st->ssl));
  if (st->ctx->role == MOSS_TLS_SERVER) {
    struct moss_conn *l = st->listener;
    st->listener = NULL;
    if (l != NULL)
      moss_conn_layer_accepted(l, st->self);
    else
      fail(st, MOSS_ERR_CLOSED);
  } else {
    moss_conn_layer_connected(st->self);
  }
}

static void read_records(struct tls_conn *st) {
  uint8_t buf[2048];
  while (st->phase == PH_OPEN && !moss_conn_is_closing(st->self)) {
    int n = mbedtls_ssl_read(st->ssl, buf, sizeof(buf));
    if (n > 0) {
      moss_conn_layer_deliver(st->self, buf, (size_t)n);
      continue;
    }
    if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
      return;
    if (n == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
      continue;
    if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      st->phase = PH_DONE;
      if (st->inner != NULL)
        moss_conn_close(st->inner);
      moss_conn_layer_closed(st->self, MOSS_ERR_CLOSED);
      return;
    }
    char peer[48], why[160];
    peer_of(st, peer, sizeof(peer));
    moss_tls_strerror(n, why, sizeof(why));
    MOSS_LOG_W(TAG, "TLS: %s: %s", peer, why);
    fail(st,
         n == MBEDTLS_ERR_SSL_ALLOC_FAILED ? MOSS_ERR_NOMEM : MOSS_ERR_PROTO);
    return;
  }
}

static void drive(struct tls_conn *st) {
  int rc = enter(st);
  if (rc != MOSS_OK) {
    char peer[48];
    peer_of(st, peer, sizeof(peer));
    MOSS_LOG_W(TAG, "TLS: %s: shed: %s", peer, moss_strerror(rc));
    leave(st);
    fail(st, rc);
    return;
  }
  if (st->phase == PH_HS) {
    int r = mbedtls_ssl_handshake(st->ssl);
    if (r == 0)
      hs_done(st);
    else if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
      hs_failed(st, r);
  }
  if (st->phase == PH_OPEN)
    read_records(st);
  leave(st);
}

/* ---- inner connection handlers
 * ------------------------------------------------------ */

static void in_connect(struct moss_conn *ic) {
  struct moss_conn *c = moss_conn_user(ic);
  if (c == NULL)
    return;
  moss_conn_set_idle_timeout(ic, ST(c)->ctx->hs_ms);
  drive(ST(c));
}

static long in_data(struct moss_conn *ic, const uint8_t *d, size_t n) {
  struct moss_conn *c = moss_conn_user(ic);
  if (c == NULL)
    return (long)n;
  struct tls_conn *st = ST(c);
  if (st->phase == PH_DONE || moss_conn_is_closing(c))
    return (long)n;
  if (st->phase == PH_OPEN && moss_conn_is_paused(c))
    return 0; /* kept by the inner conn until resume */
  st->in = d;
  st->in_len = n;
  st->in_used = 0;
  drive(st);
  st->in = NULL;
  /* After a failure everything is dropped. */
  return st->phase == PH_DONE ? (long)n : (long)st->in_used;
}

static void in_sent(struct moss_conn *ic) {
  struct moss_conn *c = moss_conn_user(ic);
  if (c == NULL)
    return;
  struct tls_conn *st = ST(c);
  if (st->phase == PH_HS)
    drive(st);
  else if (st->phase == PH_OPEN)
    moss_conn_layer_sent(c);
}

static void in_close(struct moss_conn *ic, int reason) {
  struct moss_conn *c = moss_conn_user(ic);
  if (c == NULL)
    return;
  struct tls_conn *st = ST(c);
  char peer[48];
  peer_of(st, peer, sizeof(peer));
  st->inner = NULL;
  if (st->phase == PH_HS) {
    moss_tlsi_stats.failures++;
    if (reason == MOSS_ERR_TIMEOUT)
      MOSS_LOG_W(TAG, "TLS: %s handshake timed out", peer);
    else
      MOSS_LOG_D(TAG, "TLS: %s closed during the handshake", peer);
    if (reason == MOSS_OK || reason == MOSS_ERR_CLOSED)
      reason = MOSS_ERR_PROTO;
  }
  leave_hs(st, PH_DONE);
  moss_conn_layer_closed(c, reason);
}

static const struct moss_conn_handlers inner_handlers = {
    .on_connect = in_connect,
    .on_data = in_data,
    .on_sent = in_sent,
    .on_close = in_close,
};

/* ---- outer connection ops
 * ------------------------------------------------------------- */

static size_t c_send_space(const struct moss_conn *c) {
  const struct tls_conn *st = moss_conn_layer_cstate(c);
  if (st->phase != PH_OPEN || st->inner == NULL || st->rec_max == 0)
    return 0;
  size_t sp = moss_conn_send_space(st->inner);
  size_t exp = st->rec_exp, rec = st->rec_max;
  size_t full = sp / (rec + exp), rem = sp - full * (rec + exp);
  return full * rec + (rem > exp ? rem - exp : 0);
}

static int c_send(struct moss_conn *c, const void *data, size_t len) {
  struct tls_conn *st = ST(c);
  if (len > c_send_space(c))
    return MOSS_ERR_TOOBIG;
  const uint8_t *p = data;
  size_t off = 0;
  int rc = enter(st);
  if (rc != MOSS_OK) {
    MOSS_LOG_W(TAG, "TLS: send failed: %s", moss_strerror(rc));
    leave(st);
    fail(st, rc);
    return MOSS_ERR_CLOSED;
  }
  while (off < len) {
    int r = mbedtls_ssl_write(st->ssl, p + off, len - off);
    if (r <= 0) {
      char why[160];
      moss_tls_strerror(r, why, sizeof(why));
      MOSS_LOG_W(TAG, "TLS: send failed: %s", why);
      leave(st);
      fail(st,
           r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? MOSS_ERR_NOMEM : MOSS_ERR_IO);
      return MOSS_ERR_CLOSED;
    }
    off += (size_t)r;
  }
  leave(st);
  return MOSS_OK;
}

static size_t c_unsent(const struct moss_conn *c) {
  const struct tls_conn *st = moss_conn_layer_cstate(c);
  return st->inner != NULL ? moss_conn_unsent(st->inner) : 0;
}

static void c_read_enable(struct moss_conn *c, bool on) {
  struct tls_conn *st = ST(c);
  if (st->inner == NULL)
    return;
  if (on)
    moss_conn_resume(st->inner);
  else
    moss_conn_pause(st->inner);
}

static void c_close(struct moss_conn *c) {
  struct tls_conn *st = ST(c);
  if (st->phase == PH_OPEN) {
    if (enter(st) == MOSS_OK)
      mbedtls_ssl_close_notify(st->ssl);
    leave_hs(st, PH_DONE); /* nothing to park any more */
    leave(st);
  }
  leave_hs(st, PH_DONE);
  if (st->inner != NULL)
    moss_conn_close(st->inner);
  else
    moss_conn_layer_closed(c, MOSS_OK);
}

static void c_abort(struct moss_conn *c) {
  struct tls_conn *st = ST(c);
  leave_hs(st, PH_DONE);
  if (st->inner != NULL)
    moss_conn_abort(st->inner);
}

static void c_destroy(struct moss_conn *c) {
  struct tls_conn *st = ST(c);
  leave_hs(st, PH_DONE);
  if (st->inner != NULL) {
    /* A graceful close in progress (an alert or close_notify being
     * flushed) finishes on its own; anything else is cut. */
    moss_conn_set_user(st->inner, NULL);
    if (!moss_conn_is_closing(st->inner))
      moss_conn_abort(st->inner);
    st->inner = NULL;
  }
  ssl_free(st);
  moss_free(st->host);
  if (moss_tlsi_stats.conns > 0)
    moss_tlsi_stats.conns--;
  moss_tls_ctx_unref(st->ctx);
}

static int c_peer(const struct moss_conn *c, char *buf, size_t n) {
  const struct tls_conn *st = moss_conn_layer_cstate(c);
  if (st->inner != NULL)
    return moss_conn_peer(st->inner, buf, n);
  return moss_str_copy(buf, n, moss_str_c("-"));
}

static uint16_t c_local_port(const struct moss_conn *c) {
  const struct tls_conn *st = moss_conn_layer_cstate(c);
  return st->inner != NULL ? moss_conn_local_port(st->inner) : 0;
}

static const struct moss_conn_ops conn_ops = {
    .kind = "tls",
    .send = c_send,
    .send_space = c_send_space,
    .unsent = c_unsent,
    .read_enable = c_read_enable,
    .close = c_close,
    .abort = c_abort,
    .destroy = c_destroy,
    .peer = c_peer,
    .local_port = c_local_port,
};

static struct moss_conn *conn_new(struct moss_ev *ev, struct moss_tls_ctx *ctx,
                                  const struct moss_conn_opts *o,
                                  const struct moss_conn_handlers *h,
                                  void *user) {
  struct moss_conn *c =
      moss_conn_layer_new(ev, &conn_ops, sizeof(struct tls_conn), o, h, user);
  if (c == NULL)
    return NULL;
  struct tls_conn *st = ST(c);
  st->self = c;
  st->ctx = ctx;
  moss_tls_ctx_ref(ctx);
  st->phase = PH_HS;
  moss_tlsi_stats.conns++;
  moss_tlsi_stats.handshaking++;
  return c;
}

/* ---- listener
 * ------------------------------------------------------------------------ */

static void l_accept(struct moss_conn *il, struct moss_conn *ic) {
  struct moss_conn *l = moss_conn_user(il);
  char peer[48];
  if (moss_conn_peer(ic, peer, sizeof(peer)) != MOSS_OK)
    peer[0] = '\0';
  if (l == NULL) {
    moss_conn_abort(ic);
    return;
  }
  struct tls_listener *ls = moss_conn_layer_state(l);
  struct moss_conn *c = conn_new(moss_conn_ev(l), ls->ctx, NULL, NULL, NULL);
  if (c == NULL) {
    MOSS_LOG_W(TAG, "TLS: %s: shed: no memory for a TLS connection", peer);
    moss_conn_set_user(ic, NULL);
    moss_conn_abort(ic);
    return;
  }
  struct tls_conn *st = ST(c);
  st->inner = ic;
  moss_conn_set_handlers(ic, &inner_handlers);
  moss_conn_set_user(ic, c);
  st->listener = l;
  st->lnext = ls->hs;
  if (ls->hs != NULL)
    ls->hs->lprev = st;
  ls->hs = st;
  int rc = ssl_new(st);
  if (rc == MOSS_OK)
    rc = moss_conn_set_idle_timeout(ic, ls->ctx->hs_ms);
  if (rc != MOSS_OK) {
    MOSS_LOG_W(TAG, "TLS: %s: shed: %s", peer, moss_strerror(rc));
    fail(st, rc);
  }
}

static void l_inner_close(struct moss_conn *il, int reason) {
  struct moss_conn *l = moss_conn_user(il);
  if (l == NULL)
    return;
  struct tls_listener *ls = moss_conn_layer_state(l);
  ls->inner = NULL;
  moss_conn_layer_closed(l, reason);
}

static const struct moss_conn_handlers inner_listen_handlers = {
    .on_accept = l_accept,
    .on_close = l_inner_close,
};

static int l_send(struct moss_conn *c, const void *d, size_t n) {
  (void)c, (void)d, (void)n;
  return MOSS_ERR_CLOSED;
}
static size_t l_zero(const struct moss_conn *c) {
  (void)c;
  return 0;
}
static void l_read_enable(struct moss_conn *c, bool on) {
  (void)c, (void)on;
}

static void l_abort(struct moss_conn *l) {
  struct tls_listener *ls = moss_conn_layer_state(l);
  while (ls->hs != NULL) {
    struct tls_conn *st = ls->hs;
    leave_hs(st, PH_DONE); /* unlinks */
    st->listener = NULL;
    fail(st, MOSS_ERR_CLOSED);
  }
  if (ls->inner != NULL)
    moss_conn_abort(ls->inner);
}

static void l_close(struct moss_conn *l) {
  l_abort(l);
  moss_conn_layer_closed(l, MOSS_OK);
}

static void l_destroy(struct moss_conn *l) {
  struct tls_listener *ls = moss_conn_layer_state(l);
  l_abort(l);
  if (ls->inner != NULL)
    moss_conn_set_user(ls->inner, NULL);
  ls->inner = NULL;
  moss_tls_ctx_unref(ls->ctx);
}

static int l_peer(const struct moss_conn *c, char *buf, size_t n) {
  (void)c;
  return moss_str_copy(buf, n, moss_str_c("-"));
}

static uint16_t l_local_port(const struct moss_conn *c) {
  const struct tls_listener *ls = moss_conn_layer_cstate(c);
  return ls->inner != NULL ? moss_conn_local_port(ls->inner) : 0;
}

static const struct moss_conn_ops listener_ops = {
    .kind = "tls",
    .send = l_send,
    .send_space = l_zero,
    .unsent = l_zero,
    .read_enable = l_read_enable,
    .close = l_close,
    .abort = l_abort,
    .destroy = l_destroy,
    .peer = l_peer,
    .local_port = l_local_port,
};

static struct moss_conn_opts inner_opts(const struct moss_conn_opts *o) {
  struct moss_conn_opts io;
  memset(&io, 0, sizeof(io));
  if (o != NULL)
    io = *o;
  uint32_t tx = io.tx_cap ? io.tx_cap : MOSS_CONN_DEFAULT_TX_CAP;
  io.tx_cap = (tx > 16384u ? tx : 16384u) + TX_SLACK;
  io.rx_cap = INNER_CAP;
  /* Idle timeouts belong to the outer conn; the inner one only gets the
   * handshake timeout. */
  io.idle_timeout_ms = 0;
  return io;
}

int moss_tls_listen(void *arg, struct moss_ev *ev, const char *addr,
                    const struct moss_conn_opts *o,
                    const struct moss_conn_handlers *h, void *user,
                    struct moss_conn **out, char *why, size_t whylen) {
  struct moss_tls_ctx *ctx = arg;
  *out = NULL;
  if (ctx == NULL || ctx->role != MOSS_TLS_SERVER || !ctx->has_cert) {
    if (why != NULL)
      snprintf(why, whylen, "TLS setup failed");
    return MOSS_ERR_INVAL;
  }
  struct moss_conn *l = moss_conn_layer_new_listener(
      ev, &listener_ops, sizeof(struct tls_listener), o, h, user);
  if (l == NULL) {
    if (why != NULL)
      snprintf(why, whylen, "%s", moss_strerror(MOSS_ERR_NOMEM));
    return MOSS_ERR_NOMEM;
  }
  struct tls_listener *ls = moss_conn_layer_state(l);
  ls->self = l;
  ls->ctx = ctx;
  moss_tls_ctx_ref(ctx);
  struct moss_conn_opts io = inner_opts(o);
  int rc = moss_conn_listen(ev, addr, &io, &inner_listen_handlers, l,
                            &ls->inner, why, whylen);
  if (rc != MOSS_OK) {
    ls->inner = NULL;
    moss_conn_set_handlers(l, NULL);
    moss_conn_set_user(l, NULL);
    moss_conn_abort(l);
    return rc;
  }
  *out = l;
  return MOSS_OK;
}

int moss_tls_connect(struct moss_tls_ctx *ctx, struct moss_ev *ev,
                     const char *addr, const char *server_name,
                     const struct moss_conn_opts *o,
                     const struct moss_conn_handlers *h, void *user,
                     struct moss_conn **out) {
  *out = NULL;
  if (ctx->role != MOSS_TLS_CLIENT)
    return MOSS_ERR_INVAL;
  struct moss_conn *c = conn_new(ev, ctx, o, h, user);
  if (c == NULL)
    return MOSS_ERR_NOMEM;
  struct tls_conn *st = ST(c);
  /* The caller's name, else the one configured with the context, else
   * the host part of the address. */
  const char *name = server_name != NULL ? server_name : ctx->server_name;
  size_t nl = name != NULL ? strlen(name) : 0;
  if (name == NULL) {
    const char *colon = strrchr(addr, ':');
    name = addr;
    nl = colon != NULL ? (size_t)(colon - addr) : strlen(addr);
  }
  int rc = MOSS_ERR_NOMEM;
  st->host = moss_alloc(MOSS_SUB_TLS, nl + 1);
  if (st->host != NULL) {
    memcpy(st->host, name, nl);
    st->host[nl] = '\0';
    rc = ssl_new(st);
  }
  if (rc == MOSS_OK) {
    struct moss_conn_opts io = inner_opts(o);
    rc = moss_conn_connect(ev, addr, &io, &inner_handlers, c, &st->inner);
  }
  if (rc != MOSS_OK) {
    st->inner = NULL;
    moss_conn_set_handlers(c, NULL);
    moss_conn_abort(c);
    return rc;
  }
  if (ctx->ca == NULL)
    MOSS_LOG_W(TAG,
               "TLS: server certificate of %s is not verified (no CA "
               "configured)",
               st->host);
  *out = c;
  return MOSS_OK;
}

const char *moss_tls_conn_version(struct moss_conn *c) {
  if (strcmp(moss_conn_kind(c), "tls") != 0 || moss_conn_is_listener(c))
    return "";
  struct tls_conn *st = ST(c);
  if (st->phase != PH_OPEN || st->version == NULL)
    return "";
  return st->version;
}
