/*
 * TLS configuration: process-wide mbedTLS setup (allocator, PSA, DRBG),
 * the shared per-role context (suites, groups, CA store), and the texts
 * of verification failures (http.md §4.6).  Certificates and keys enter
 * the context in tls_creds.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "tls_int.h"

/* ---- process-wide state ----------------------------------------------------
 */

static bool inited;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
struct moss_tls_stats moss_tlsi_stats;

int moss_tls_init(void) {
  if (inited)
    return MOSS_OK;
  mbedtls_platform_set_calloc_free(moss_alloc_mbedtls_calloc,
                                   moss_alloc_mbedtls_free);
  if (psa_crypto_init() != PSA_SUCCESS)
    return MOSS_ERR_CRYPTO;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  static const char pers[] = "moss-tls";
  if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                            (const unsigned char *)pers,
                            sizeof(pers) - 1) != 0) {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_psa_crypto_free();
    return MOSS_ERR_CRYPTO;
  }
  inited = true;
  return MOSS_OK;
}

void moss_tls_deinit(void) {
  if (!inited)
    return;
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  mbedtls_psa_crypto_free();
  inited = false;
}

int moss_tls_rng(void *p, unsigned char *out, size_t len) {
  (void)p;
  return mbedtls_ctr_drbg_random(&drbg, out, len);
}

void moss_tls_stats(struct moss_tls_stats *st) {
  *st = moss_tlsi_stats;
}

/* ---- suites and groups (http.md §4.1)
 * ---------------------------------------- */

static const int suites[] = {
    /* TLS 1.3 */
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256, MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
    /* TLS 1.2: AEAD first, CBC for old clients */
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, 0};

/* P-256 first: the secure element does P-256 ECDH when present. */
static const uint16_t groups[] = {
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE};

/* ---- the shared context
 * -------------------------------------------------------- */

int moss_tls_ctx_new(const struct moss_tls_ctx_opts *o,
                     struct moss_tls_ctx **out) {
  *out = NULL;
  if (moss_tls_init() != MOSS_OK)
    return MOSS_ERR_CRYPTO;
  struct moss_tls_ctx *ctx = moss_calloc(MOSS_SUB_TLS, 1, sizeof(*ctx));
  if (ctx == NULL)
    return MOSS_ERR_NOMEM;
  ctx->refs = 1;
  ctx->role = o->role;
  ctx->hs_ms = o->handshake_timeout_ms ? o->handshake_timeout_ms
                                       : MOSS_TLS_DEFAULT_HANDSHAKE_MS;
  mbedtls_ssl_config_init(&ctx->conf);
  mbedtls_x509_crt_init(&ctx->own);
  mbedtls_pk_init(&ctx->key);
  int r = mbedtls_ssl_config_defaults(
      &ctx->conf,
      o->role == MOSS_TLS_SERVER ? MBEDTLS_SSL_IS_SERVER
                                 : MBEDTLS_SSL_IS_CLIENT,
      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (r != 0) {
    moss_tls_ctx_unref(ctx);
    return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? MOSS_ERR_NOMEM : MOSS_ERR_CRYPTO;
  }
  mbedtls_ssl_conf_rng(&ctx->conf, moss_tls_rng, NULL);
  mbedtls_ssl_conf_min_tls_version(
      &ctx->conf, o->min_version ? (mbedtls_ssl_protocol_version)o->min_version
                                 : MBEDTLS_SSL_VERSION_TLS1_2);
  mbedtls_ssl_conf_max_tls_version(
      &ctx->conf, o->max_version ? (mbedtls_ssl_protocol_version)o->max_version
                                 : MBEDTLS_SSL_VERSION_TLS1_3);
  mbedtls_ssl_conf_ciphersuites(&ctx->conf, suites);
  mbedtls_ssl_conf_groups(&ctx->conf, groups);
  /* No CA: nobody is verified (server: no CertificateRequest; client:
   * warned per connection).  moss_tls_ctx_use_ca() switches it on. */
  mbedtls_ssl_conf_authmode(&ctx->conf, MBEDTLS_SSL_VERIFY_NONE);
  *out = ctx;
  return MOSS_OK;
}

void moss_tls_ctx_ref(struct moss_tls_ctx *ctx) {
  ctx->refs++;
}

void moss_tls_ctx_unref(struct moss_tls_ctx *ctx) {
  if (ctx == NULL || --ctx->refs > 0)
    return;
  mbedtls_ssl_config_free(&ctx->conf);
  mbedtls_x509_crt_free(&ctx->own);
  mbedtls_pk_free(&ctx->key);
  moss_tls_ca_free(ctx->ca);
  moss_free(ctx->server_name);
  moss_free(ctx);
}

void moss_tls_ctx_use_ca(struct moss_tls_ctx *ctx, struct moss_tls_ca *ca) {
  moss_tls_ca_free(ctx->ca);
  ctx->ca = ca;
  if (ca == NULL) {
    mbedtls_ssl_conf_authmode(&ctx->conf, MBEDTLS_SSL_VERIFY_NONE);
    return;
  }
  mbedtls_ssl_conf_ca_cb(&ctx->conf, moss_tlsi_ca_cb, ctx);
  mbedtls_ssl_conf_authmode(&ctx->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
}

/* ---- texts
 * ------------------------------------------------------------------------ */

void moss_tls_subject(const mbedtls_x509_crt *crt, char *buf, size_t n) {
  /* RFC 4514 order is the reverse of the DER sequence. */
  const mbedtls_x509_name *items[16];
  size_t k = 0;
  for (const mbedtls_x509_name *nm = &crt->subject; nm != NULL && k < 16;
       nm = nm->next)
    if (nm->oid.p != NULL)
      items[k++] = nm;
  size_t o = 0;
  buf[0] = '\0';
  while (k-- > 0 && o + 1 < n) {
    const char *sn = NULL;
    if (mbedtls_oid_get_attr_short_name(&items[k]->oid, &sn) != 0)
      sn = "?";
    int w = snprintf(buf + o, n - o, "%s%s=", o ? ", " : "", sn);
    if (w < 0 || (size_t)w >= n - o)
      break;
    o += (size_t)w;
    for (size_t i = 0; i < items[k]->val.len && o + 2 < n; i++) {
      unsigned char ch = items[k]->val.p[i];
      if (ch == ',' || ch == '+' || ch == '\\' || ch == '"' || ch == ';')
        buf[o++] = '\\';
      buf[o++] = (ch < 32 || ch == 127) ? '?' : (char)ch;
    }
    buf[o] = '\0';
  }
}

static void dn_of_name(const mbedtls_x509_name *name, char *buf, size_t n) {
  /* Reuse moss_tls_subject through a stack certificate view. */
  mbedtls_x509_crt tmp;
  memset(&tmp, 0, sizeof(tmp));
  tmp.subject = *name;
  moss_tls_subject(&tmp, buf, n);
}

static size_t add(char *buf, size_t n, size_t o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t add(char *buf, size_t n, size_t o, const char *fmt, ...) {
  if (o >= n)
    return o;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(buf + o, n - o, fmt, ap);
  va_end(ap);
  if (w < 0)
    return o;
  return o + (size_t)w >= n ? n - 1 : o + (size_t)w;
}

static size_t sep(char *buf, size_t n, size_t o) {
  return o > 0 ? add(buf, n, o, "; ") : o;
}

/* "DNS:a, IP:1.2.3.4" or "none". */
static size_t san_list(const mbedtls_x509_crt *crt, char *buf, size_t n,
                       size_t o) {
  bool any = false;
  for (const mbedtls_x509_sequence *s = &crt->subject_alt_names;
       s != NULL && s->buf.p != NULL; s = s->next) {
    unsigned tag = s->buf.tag & 0x1f;
    if (tag == 2) {
      o = add(buf, n, o, "%sDNS:%.*s", any ? ", " : "", (int)s->buf.len,
              (const char *)s->buf.p);
      any = true;
    } else if (tag == 7 && s->buf.len == 4) {
      o = add(buf, n, o, "%sIP:%u.%u.%u.%u", any ? ", " : "", s->buf.p[0],
              s->buf.p[1], s->buf.p[2], s->buf.p[3]);
      any = true;
    }
  }
  return any ? o : add(buf, n, o, "none");
}

static size_t cn_of(const mbedtls_x509_crt *crt, char *buf, size_t n,
                    size_t o) {
  for (const mbedtls_x509_name *nm = &crt->subject; nm != NULL; nm = nm->next)
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &nm->oid) == 0)
      return add(buf, n, o, "%.*s", (int)nm->val.len, (const char *)nm->val.p);
  return o;
}

static size_t time_of(const mbedtls_x509_time *t, char *buf, size_t n,
                      size_t o) {
  return add(buf, n, o, "%04d-%02d-%02d %02d:%02d:%02d UTC", t->year, t->mon,
             t->day, t->hour, t->min, t->sec);
}

void moss_tls_verify_reason(const mbedtls_x509_crt *crt, uint32_t flags,
                            const char *host, const char *ca_name,
                            const mbedtls_x509_crt *issuer, bool client_cert,
                            char *buf, size_t n) {
  size_t o = 0;
  char dn[256];
  buf[0] = '\0';
  if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
    dn_of_name(&crt->issuer, dn, sizeof(dn));
    if (issuer == NULL)
      o = add(buf, n, o, "issuer '%s' not found in %s", dn,
              ca_name ? ca_name : "the CA file");
    else if (!issuer->MBEDTLS_PRIVATE(ca_istrue))
      o = add(buf, n, o, "issuer '%s' is not a CA certificate", dn);
    else
      o = add(buf, n, o, "signature does not verify with issuer '%s'", dn);
  }
  if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
    o = add(buf, n, sep(buf, n, o), "certificate expired on ");
    o = time_of(&crt->valid_to, buf, n, o);
  }
  if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
    o = add(buf, n, sep(buf, n, o), "certificate not valid before ");
    o = time_of(&crt->valid_from, buf, n, o);
  }
  if (flags & MBEDTLS_X509_BADCERT_KEY_USAGE)
    o = add(
        buf, n, sep(buf, n, o), "key usage does not allow %s",
        crt->MBEDTLS_PRIVATE(ca_istrue) ? "keyCertSign" : "digitalSignature");
  if (flags &
      (MBEDTLS_X509_BADCERT_EXT_KEY_USAGE | MBEDTLS_X509_BADCERT_NS_CERT_TYPE))
    o = add(buf, n, sep(buf, n, o), "extended key usage does not allow %s",
            client_cert ? "clientAuth" : "serverAuth");
  if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
    o = add(buf, n, sep(buf, n, o),
            "name '%s' does not match certificate (CN '", host ? host : "");
    o = cn_of(crt, buf, n, o);
    o = add(buf, n, o, "', SAN ");
    o = san_list(crt, buf, n, o);
    o = add(buf, n, o, ")");
  }
  if (flags & (MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_BAD_PK |
               MBEDTLS_X509_BADCERT_BAD_MD))
    o = add(buf, n, sep(buf, n, o), "unsupported key: %s/%u",
            mbedtls_pk_get_name(&crt->pk),
            (unsigned)mbedtls_pk_get_bitlen(&crt->pk));
  if (flags & MBEDTLS_X509_BADCERT_OTHER)
    o = add(buf, n, sep(buf, n, o), "chain longer than %d certificates",
            MOSS_TLS_MAX_CHAIN);
  if (o == 0)
    add(buf, n, o, "verification flags 0x%x", (unsigned)flags);
}

static const char *alert_name(int a) {
  switch (a) {
    case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
      return "handshake_failure";
    case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
      return "bad_certificate";
    case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
      return "unsupported_certificate";
    case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
      return "certificate_revoked";
    case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
      return "certificate_expired";
    case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
      return "certificate_unknown";
    case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
      return "unknown_ca";
    case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
      return "access_denied";
    case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR:
      return "decode_error";
    case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR:
      return "decrypt_error";
    case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
      return "protocol_version";
    case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY:
      return "insufficient_security";
    case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR:
      return "internal_error";
    case MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED:
      return "certificate_required";
    case MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL:
      return "no_application_protocol";
    case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER:
      return "illegal_parameter";
    case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE:
      return "unexpected_message";
    default:
      return NULL;
  }
}

const char *moss_tlsi_alert_name(int a) {
  const char *s = alert_name(a);
  return s != NULL ? s : "unknown";
}

void moss_tls_strerror(int e, char *buf, size_t n) {
  switch (e) {
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
      snprintf(buf, n, "no client certificate");
      return;
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
      snprintf(buf, n, "unsupported protocol version");
      return;
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_UNEXPECTED_RECORD:
      snprintf(buf, n, "not a TLS record (garbage or plain HTTP)");
      return;
    case MBEDTLS_ERR_SSL_DECODE_ERROR:
      snprintf(buf, n, "malformed handshake message");
      return;
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
      snprintf(buf, n, "handshake failure");
      return;
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
      snprintf(buf, n, "out of memory");
      return;
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
      snprintf(buf, n, "certificate verification failed");
      return;
    default:
      break;
  }
  char t[120];
  mbedtls_strerror(e, t, sizeof(t));
  snprintf(buf, n, "%s (-0x%04x)", t, (unsigned)-e);
}
