/*
 * mbedTLS 3.6 configuration for moss.
 *
 * Chosen for an embedded-class device: TLS 1.2 and 1.3 only, ECDHE-ECDSA
 * and ECDHE-RSA key exchanges, P-256 first, no DTLS, no renegotiation, and
 * MBEDTLS_PLATFORM_MEMORY so every allocation mbedTLS makes goes through
 * moss's counting allocator (moss_alloc_mbedtls_calloc/free, installed by
 * moss_tls_platform_init()).
 */
#ifndef MOSS_MBEDTLS_CONFIG_H
#define MOSS_MBEDTLS_CONFIG_H

/* Platform */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_DEPRECATED_REMOVED

/* Entropy and DRBG */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HMAC_DRBG_C

/* Symmetric crypto and hashes */
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CIPHER_MODE_CBC
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HKDF_C

/* Public key */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_PK_PARSE_EC_EXTENDED
#define MBEDTLS_PK_PARSE_EC_COMPRESSED
#define MBEDTLS_GENPRIME

/* Error texts for log lines and mos messages */
#define MBEDTLS_ERROR_C

/* Encodings */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C

/* X.509 */
#define MBEDTLS_X509_USE_C
/* RSA-PSS signatures: TLS 1.3 with RSA certificates needs them. */
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CRL_PARSE_C
#define MBEDTLS_X509_CSR_PARSE_C
#define MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK

/* PSA (needed by TLS 1.3) */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_USE_PSA_CRYPTO
/* Volatile keys live in a static slot table: each TLS connection holds
 * two (record keys) plus one during the handshake. */
#define MBEDTLS_PSA_KEY_SLOT_COUNT 160

/* TLS */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
/* Required by TLS 1.3 in 3.6; moss frees the chain itself after the
 * handshake (http.md §4.8). */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED

/* Memory per connection (docs/design/tls.md "Memory").
 * Incoming records stay up to 16 KB (peers send full-size records), but
 * the input buffer is sized to each record as it arrives and both
 * buffers are freed while the connection is idle: moss patch 0001
 * (patches/mbedtls/), built on VARIABLE_BUFFER_LENGTH's size fields. */
#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH
#define MBEDTLS_SSL_MOSS_LAZY_BUFFERS
/* Outgoing records of at most 4 KB: any size is valid TLS, and the output
 * buffer (allocated whole while a flight or a write is in progress) is
 * what the handshake peak is made of.  Own certificate chain: <= ~4 KB. */
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096
/* Idle TLS 1.2 connections are parked as a ~200-byte blob and the
 * mbedTLS context freed: moss patch 0002 lets context serialization take
 * stream TLS. */
#define MBEDTLS_SSL_CONTEXT_SERIALIZATION
#define MBEDTLS_SSL_MOSS_PARK

#endif
