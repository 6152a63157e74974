/*
 * tls_mbedtls.h - moss's TLS helpers that take or return mbedTLS objects.
 *
 * Private: only src/tls/ and the programs that use mbedTLS themselves
 * (the host tool's TLS client, the TLS unit tests, benchmarks and
 * fuzzers) include it, through -Isrc/tls (mk/tls.part.mk).  The public
 * header moss/tls.h exposes no mbedTLS type; code above tls/ turns
 * configuration into a context with moss_tls_ctx_from_creds().
 *
 * The texts made here are the ones of http.md §4.6, so the device and
 * mos word a failed verification the same way.
 */
#ifndef MOSS_TLS_MBEDTLS_H
#define MOSS_TLS_MBEDTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mbedTLS's headers test undefined macros with #if (-Wundef). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wundef"
#include "mbedtls/x509_crt.h"
#pragma GCC diagnostic pop

#include "moss/tls.h"

/* Certificates of the CA file whose subject equals the DER Name
 * subj[0..n), as a newly allocated mbedTLS chain in *out (NULL if none;
 * free each with mbedtls_x509_crt_free + mbedtls_free, as mbedTLS does
 * for its CA callback).  The index is (re)built when the file changed.
 * Returns the number found (>= 0) or an error (the file cannot be
 * opened or read: logged as ERROR). */
int moss_tls_ca_lookup(struct moss_tls_ca *ca, const uint8_t *subj, size_t n,
                       mbedtls_x509_crt **out);

/* The reason text of http.md §4.6 for certificate crt that failed with
 * mbedTLS flags (MBEDTLS_X509_BADCERT_*).  host: the expected name
 * (client side) or NULL; ca_name: the trust file's name; issuer: a
 * certificate of the trust file whose subject is crt's issuer (NULL:
 * none found); client_cert: crt is a client certificate (for the
 * extended key usage text).  Always NUL-terminates buf. */
void moss_tls_verify_reason(const mbedtls_x509_crt *crt, uint32_t flags,
                            const char *host, const char *ca_name,
                            const mbedtls_x509_crt *issuer, bool client_cert,
                            char *buf, size_t n);
/* RFC 4514-style subject of crt ("CN=howdy, O=MyCompany, ..."). */
void moss_tls_subject(const mbedtls_x509_crt *crt, char *buf, size_t n);
/* Short text for an mbedTLS error code ("unknown_ca alert", ...). */
void moss_tls_strerror(int mbedtls_err, char *buf, size_t n);

#endif
