/*
 * mos over TLS (mos-cli.md §2.4): wss://, https://, or --cert-file.
 *
 * A host tool talks to one device at a time, so there is one TLS session
 * (bound to one descriptor).  tool_write_all()/tool_read_some() route
 * through it when the descriptor is the TLS one, so the WebSocket and
 * HTTP clients run unchanged.  Verification failures are worded like the
 * device's (http.md §4.6) through moss_tls_verify_reason().
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* the received alert's description */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wundef"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#pragma GCC diagnostic pop

#include "moss/alloc.h"
#include "moss/tls.h"
#include "tls_mbedtls.h" /* verification texts shared with the device */
#include "tool.h"
#include "tool_net.h"

static struct {
  int fd; /* -1: no session */
  bool ready;
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  mbedtls_x509_crt ca, own;
  mbedtls_pk_context key;
  char host[256], hostport[300];
  char vmsg[720];
  unsigned char early[512]; /* plaintext read while probing for an alert */
  size_t early_len;
  long long deadline;
} T = {.fd = -1};

static char last_err[800];

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *tool_tls_last_error(void) {
  return last_err;
}

bool tool_tls_wanted(const char *port) {
  return strncmp(port, "wss://", 6) == 0 || strncmp(port, "https://", 8) == 0 ||
         strncmp(port, "mqtts://", 8) == 0 || *tool_str("cert-file") != '\0';
}

bool tool_tls_active(int fd) {
  return fd >= 0 && fd == T.fd;
}

static int rng(void *p, unsigned char *out, size_t n) {
  (void)p;
  return moss_tls_rng(NULL, out, n);
}

static int bio_send(void *p, const unsigned char *b, size_t n) {
  (void)p;
  /* MSG_NOSIGNAL: a device that closed after an alert must not kill mos
   * with SIGPIPE; the alert is read and reported instead. */
  ssize_t w = send(T.fd, b, n, MSG_NOSIGNAL);
  if (w >= 0)
    return (int)w;
  if (errno == EAGAIN || errno == EINTR)
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_recv(void *p, unsigned char *b, size_t n) {
  (void)p;
  ssize_t r = read(T.fd, b, n);
  if (r >= 0)
    return (int)r;
  if (errno == EAGAIN || errno == EINTR)
    return MBEDTLS_ERR_SSL_WANT_READ;
  return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* Wait for the descriptor as mbedTLS asked; false on timeout. */
static bool wait_io(int r, long long deadline) {
  long long left = deadline - now_ms();
  if (left <= 0)
    return false;
  struct pollfd pfd = {T.fd, r == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN,
                       0};
  poll(&pfd, 1, (int)(left > 100 ? 100 : left));
  return true;
}

static int read_file(const char *path, mbedtls_x509_crt *crt,
                     mbedtls_pk_context *pk, char *err, size_t errsz) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errsz, "%s: %s", path, strerror(errno));
    return -1;
  }
  size_t cap = 1 << 20, n = 0;
  unsigned char *b = malloc(cap + 1);
  if (b != NULL)
    n = fread(b, 1, cap, f);
  fclose(f);
  if (b == NULL) {
    snprintf(err, errsz, "out of memory");
    return -1;
  }
  b[n] = '\0';
  int r = crt != NULL ? mbedtls_x509_crt_parse(crt, b, n + 1)
                      : mbedtls_pk_parse_key(pk, b, n + 1, NULL, 0, rng, NULL);
  memset(b, 0, n);
  free(b);
  if (r != 0) {
    char why[160];
    moss_tls_strerror(r, why, sizeof(why));
    if (pk != NULL && (r == MBEDTLS_ERR_PK_PASSWORD_REQUIRED ||
                       r == MBEDTLS_ERR_PK_PASSWORD_MISMATCH))
      snprintf(why, sizeof(why), "encrypted private keys are not supported");
    snprintf(err, errsz, "%s: %s", path, why);
    return -1;
  }
  return 0;
}

/* The name to suggest for --tls-server-name: the certificate's first DNS
 * name, else its CN; none when it has a SAN without DNS names (mbedTLS
 * checks only the SAN when there is one). */
static bool cert_name(const mbedtls_x509_crt *crt, char *out, size_t sz) {
  for (const mbedtls_x509_sequence *s = &crt->subject_alt_names;
       s != NULL && s->buf.p != NULL; s = s->next) {
    if ((s->buf.tag & 0x1f) == MBEDTLS_X509_SAN_DNS_NAME) {
      snprintf(out, sz, "%.*s", (int)s->buf.len, (const char *)s->buf.p);
      return out[0] != '\0';
    }
  }
  if (crt->subject_alt_names.buf.p != NULL)
    return false;
  for (const mbedtls_x509_name *nm = &crt->subject; nm != NULL; nm = nm->next)
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &nm->oid) == 0) {
      snprintf(out, sz, "%.*s", (int)nm->val.len, (const char *)nm->val.p);
      return out[0] != '\0';
    }
  return false;
}

static int verify_cb(void *p, mbedtls_x509_crt *crt, int depth,
                     uint32_t *flags) {
  (void)p;
  if (*flags == 0 || T.vmsg[0] != '\0')
    return 0;
  const mbedtls_x509_crt *issuer = NULL;
  for (const mbedtls_x509_crt *c = &T.ca; c != NULL && c->raw.p != NULL;
       c = c->next)
    if (c->subject_raw.len == crt->issuer_raw.len &&
        memcmp(c->subject_raw.p, crt->issuer_raw.p, c->subject_raw.len) == 0)
      issuer = c;
  char subj[200], why[420];
  moss_tls_subject(crt, subj, sizeof(subj));
  moss_tls_verify_reason(crt, *flags, T.host, tool_str("ca-cert-file"), issuer,
                         false, why, sizeof(why));
  int n = snprintf(T.vmsg, sizeof(T.vmsg), "certificate '%s' (depth %d): %s",
                   subj, depth, why);
  /* The usual cause: the device is reached by an address (or a name)
   * that its certificate does not carry; name the one it does. */
  char name[128];
  if (depth == 0 && (*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) && n > 0 &&
      (size_t)n < sizeof(T.vmsg) && cert_name(crt, name, sizeof(name)))
    snprintf(T.vmsg + n, sizeof(T.vmsg) - (size_t)n,
             "; if this is the device, use --tls-server-name %s", name);
  return 0;
}

static void describe(int r, char *err, size_t errsz) {
  if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && T.vmsg[0] != '\0') {
    snprintf(err, errsz, "TLS handshake with %s failed: %s", T.hostport,
             T.vmsg);
  } else if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
    int a = T.ssl.in_msg != NULL ? T.ssl.in_msg[1] : 0;
    char an[40];
    snprintf(an, sizeof(an), "%d", a);
    static const struct {
      int a;
      const char *n;
    } names[] = {{40, "handshake_failure"},
                 {42, "bad_certificate"},
                 {43, "unsupported_certificate"},
                 {44, "certificate_revoked"},
                 {45, "certificate_expired"},
                 {46, "certificate_unknown"},
                 {48, "unknown_ca"},
                 {49, "access_denied"},
                 {116, "certificate_required"},
                 {70, "protocol_version"},
                 {71, "insufficient_security"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
      if (names[i].a == a)
        snprintf(an, sizeof(an), "%s", names[i].n);
    bool cert = (a >= 42 && a <= 46) || a == 48 || a == 116 ||
                (a == 40 && *tool_str("cert-file") != '\0');
    if (cert)
      snprintf(err, errsz,
               "TLS handshake with %s failed: the device rejected the client "
               "certificate (alert: %s)",
               T.hostport, an);
    else
      snprintf(err, errsz, "TLS handshake with %s failed: alert: %s",
               T.hostport, an);
  } else if (r == MBEDTLS_ERR_SSL_INVALID_MAC &&
             *tool_str("cert-file") != '\0' &&
             T.ssl.tls_version == MBEDTLS_SSL_VERSION_TLS1_3) {
    /* TLS 1.3: the device checks our certificate after we finished, and
     * its alert comes under keys we already left behind. */
    snprintf(err, errsz,
             "TLS handshake with %s failed: the device rejected the client "
             "certificate (alert: unreadable)",
             T.hostport);
  } else {
    char why[200];
    moss_tls_strerror(r, why, sizeof(why));
    snprintf(err, errsz, "TLS handshake with %s failed: %s", T.hostport, why);
  }
}

int tool_tls_start(int fd, const char *host, const char *port,
                   long long deadline, char *err, size_t errsz) {
  const char *certf = tool_str("cert-file"), *keyf = tool_str("key-file");
  const char *caf = tool_str("ca-cert-file"),
             *sni = tool_str("tls-server-name");
  last_err[0] = '\0';
  if (*certf != '\0' && *keyf == '\0') {
    snprintf(err, errsz, "Please specify --key-file");
    return -1;
  }
  if (moss_tls_init() != 0) {
    snprintf(err, errsz, "TLS: cannot initialise the crypto library");
    return -1;
  }
  tool_tls_close(T.fd);
  T.fd = fd;
  T.vmsg[0] = '\0';
  snprintf(T.host, sizeof(T.host), "%s", *sni ? sni : host);
  snprintf(T.hostport, sizeof(T.hostport), "%s:%s", host, port);
  mbedtls_ssl_config_init(&T.conf);
  mbedtls_ssl_init(&T.ssl);
  mbedtls_x509_crt_init(&T.ca);
  mbedtls_x509_crt_init(&T.own);
  mbedtls_pk_init(&T.key);
  T.ready = true;
  if (mbedtls_ssl_config_defaults(&T.conf, MBEDTLS_SSL_IS_CLIENT,
                                  MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0)
    goto fail_setup;
  mbedtls_ssl_conf_rng(&T.conf, rng, NULL);
  mbedtls_ssl_conf_min_tls_version(&T.conf, MBEDTLS_SSL_VERSION_TLS1_2);
  if (*caf != '\0') {
    if (read_file(caf, &T.ca, NULL, err, errsz) != 0)
      return -1;
    mbedtls_ssl_conf_ca_chain(&T.conf, &T.ca, NULL);
    mbedtls_ssl_conf_authmode(&T.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  } else {
    /* As Mongoose OS mos (the seed's mutual-TLS example relies on it),
     * but said out loud. */
    fprintf(stderr,
            "Warning: device certificate is not verified (use "
            "--ca-cert-file)\n");
    mbedtls_ssl_conf_authmode(&T.conf, MBEDTLS_SSL_VERIFY_NONE);
  }
  if (*certf != '\0') {
    if (read_file(certf, &T.own, NULL, err, errsz) != 0 ||
        read_file(keyf, NULL, &T.key, err, errsz) != 0)
      return -1;
    if (mbedtls_ssl_conf_own_cert(&T.conf, &T.own, &T.key) != 0)
      goto fail_setup;
  }
  if (mbedtls_ssl_setup(&T.ssl, &T.conf) != 0 ||
      mbedtls_ssl_set_hostname(&T.ssl, T.host) != 0)
    goto fail_setup;
  mbedtls_ssl_set_bio(&T.ssl, NULL, bio_send, bio_recv, NULL);
  mbedtls_ssl_set_verify(&T.ssl, verify_cb, NULL);
  for (;;) {
    int r = mbedtls_ssl_handshake(&T.ssl);
    if (r == 0)
      break;
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
      if (!wait_io(r, deadline)) {
        snprintf(err, errsz, "TLS handshake with %s timed out", T.hostport);
        return -1;
      }
      continue;
    }
    describe(r, err, errsz);
    return -1;
  }
  /* TLS 1.3 with a client certificate: the device judges it after our
   * Finished.  Give its verdict a moment to arrive, so that a rejection
   * is reported as such rather than as a broken pipe later. */
  T.early_len = 0;
  if (*certf != '\0' && T.ssl.tls_version == MBEDTLS_SSL_VERSION_TLS1_3) {
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, 300) == 1) {
      int r = mbedtls_ssl_read(&T.ssl, T.early, sizeof(T.early));
      if (r > 0) {
        T.early_len = (size_t)r;
      } else if (r != MBEDTLS_ERR_SSL_WANT_READ &&
                 r != MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
        describe(r, err, errsz);
        return -1;
      }
    }
  }
  return 0;
fail_setup:
  snprintf(err, errsz, "TLS: setup failed");
  return -1;
}

int tool_tls_write_all(int fd, const void *buf, size_t len,
                       long long deadline) {
  (void)fd;
  const unsigned char *p = buf;
  while (len > 0) {
    int r = mbedtls_ssl_write(&T.ssl, p, len);
    if (r > 0) {
      p += r;
      len -= (size_t)r;
      continue;
    }
    if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
      /* The device may have said why (TLS 1.3 rejects a client
       * certificate after the client finished): read its alert. */
      unsigned char tmp[64];
      int a = mbedtls_ssl_read(&T.ssl, tmp, sizeof(tmp));
      describe(a == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE ||
                       a == MBEDTLS_ERR_SSL_INVALID_MAC
                   ? a
                   : r,
               last_err, sizeof(last_err));
      return -1;
    }
    if (!wait_io(r, deadline))
      return -2;
  }
  return 0;
}

int tool_tls_read_some(int fd, struct moss_buf *b, long long deadline) {
  (void)fd;
  if (T.early_len > 0) {
    size_t n = T.early_len;
    T.early_len = 0;
    return moss_buf_append(b, T.early, n) == 0 ? 0 : -1;
  }
  for (;;) {
    unsigned char tmp[4096];
    int r = mbedtls_ssl_read(&T.ssl, tmp, sizeof(tmp));
    if (r > 0)
      return moss_buf_append(b, tmp, (size_t)r) == 0 ? 0 : -1;
    if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
      return -1;
    if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
      continue;
    if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
      /* TLS 1.3: a rejected client certificate shows up here. */
      describe(r, last_err, sizeof(last_err));
      return -1;
    }
    if (!wait_io(r, deadline))
      return -2;
  }
}

void tool_tls_close(int fd) {
  if (!T.ready || fd != T.fd)
    return;
  mbedtls_ssl_close_notify(&T.ssl);
  mbedtls_ssl_free(&T.ssl);
  mbedtls_ssl_config_free(&T.conf);
  mbedtls_x509_crt_free(&T.ca);
  mbedtls_x509_crt_free(&T.own);
  mbedtls_pk_free(&T.key);
  T.ready = false;
  T.fd = -1;
}
