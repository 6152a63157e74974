/* Private to src/tls/: the shared context and the pieces that link the
 * connection layer, the CA store and the context. */
#ifndef MOSS_TLS_INT_H
#define MOSS_TLS_INT_H

/* mbedTLS's ssl.h tests an undefined macro with #if (-Wundef). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wundef"
#include "mbedtls/asn1.h"
#include "mbedtls/base64.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/oid.h"
#include "mbedtls/pem.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"
#pragma GCC diagnostic pop

#include "moss/tls.h"
#include "tls_mbedtls.h"

struct tls_conn;

struct moss_tls_ctx {
  mbedtls_ssl_config conf;
  mbedtls_x509_crt own; /* own chain, leaf first */
  mbedtls_pk_context key;
  struct moss_tls_ca *ca; /* NULL: the peer is not verified */
  char *server_name;      /* client: default name to verify, or NULL */
  struct tls_conn *cur;   /* connection inside an mbedTLS call */
  uint32_t hs_ms;
  int refs;
  enum moss_tls_role role;
  bool has_cert;
};

extern struct moss_tls_stats moss_tlsi_stats;

/* mbedtls_x509_crt_ca_cb_t over ctx->ca (p: the ctx). */
int moss_tlsi_ca_cb(void *p, const mbedtls_x509_crt *child,
                    mbedtls_x509_crt **candidates);
const char *moss_tlsi_alert_name(int alert);
/* Scans the CA file for a certificate that parses, quietly (no WARN per
 * bad block: Config.Set reports the outcome).  1: one found, 0: none,
 * <0: the file could not be read. */
int moss_tlsi_ca_has_cert(struct moss_tls_ca *ca);

#endif
