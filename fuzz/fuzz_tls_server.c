/*
 * libFuzzer target: arbitrary bytes from a client, fed to the server side
 * of moss's TLS (the shared server configuration of src/tls/ over
 * mbedTLS with moss's patches: records sized as they arrive, buffers
 * released and re-acquired between records, docs/design/tls.md).
 *
 * Input: byte 0 picks how the stream is cut (bits 0-5: chunk length,
 * 0 = all at once) and the configuration (bit 6: client certificates
 * required); the rest is what the client sends.  The handshake runs until
 * the input is used up or it fails; if it completes, records are read and
 * the buffers released and acquired again after each one.  Whatever
 * happens, the connection's heap must return to what it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/tls.h"
#include "tls_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/unit/tls/bench_srv.{crt,key}: ECDSA P-256, signed by a test CA. */
static const char crt[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBqTCCAVCgAwIBAgIBAjAKBggqhkjOPQQDAjAzMQswCQYDVQQGEwJJRTESMBAG\n"
    "A1UECgwJbW9zcyB0ZXN0MRAwDgYDVQQDDAdUZXN0IENBMCAXDTI2MTEyNDIxNTcx\n"
    "MFoYDzIxMjYxMDMxMjE1NzEwWjAoMRIwEAYDVQQKDAltb3NzIHRlc3QxEjAQBgNV\n"
    "BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPJJC0gsfQ4s\n"
    "nWjLSK3xdKfpNDYwkZR+smXQgGg7elOadZWfbE8ZPRIevZznHRLCxKEwGrmhyOoD\n"
    "odtEUxiVyW+jXjBcMBoGA1UdEQQTMBGHBH8AAAGCCWxvY2FsaG9zdDAdBgNVHQ4E\n"
    "FgQU+CzNf5wFoLBT8/2kpge86pWK5SAwHwYDVR0jBBgwFoAUX7KXKj9PbHQD+2MV\n"
    "PA9wIRZmHvYwCgYIKoZIzj0EAwIDRwAwRAIgEOodg8/hnimHbSrvSoR/KCXEKuRy\n"
    "2MrwjzewoUE/KNYCIAL10U3kqKroXOX3/kk3LO32kfYxC1q1D5K7PieNToFs\n"
    "-----END CERTIFICATE-----\n";
static const char key[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIKDUQffJ8REP9lYipPjx5DqLu89WELicCi/NevHrJta9oAoGCCqGSM49\n"
    "AwEHoUQDQgAE8kkLSCx9DiydaMtIrfF0p+k0NjCRlH6yZdCAaDt6U5p1lZ9sTxk9\n"
    "Eh69nOcdEsLEoTAauaHI6gOh20RTGJXJbw==\n"
    "-----END EC PRIVATE KEY-----\n";

struct feed {
  const uint8_t *p;
  size_t n, chunk;
};

static int bio_recv(void *arg, unsigned char *buf, size_t len) {
  struct feed *f = arg;
  if (f->n == 0)
    return MBEDTLS_ERR_SSL_WANT_READ;
  if (f->chunk != 0 && len > f->chunk)
    len = f->chunk;
  if (len > f->n)
    len = f->n;
  memcpy(buf, f->p, len);
  f->p += len;
  f->n -= len;
  return (int)len;
}

static int bio_send(void *arg, const unsigned char *buf, size_t len) {
  (void)arg, (void)buf;
  return (int)len;
}

static struct moss_tls_ctx *ctx[2];

static void check(int cond) {
  if (!cond)
    abort();
}

static void init(void) {
  moss_log_set_level(MOSS_LL_NONE);
  check(moss_tls_init() == MOSS_OK);
  for (int i = 0; i < 2; i++) {
    struct moss_tls_ctx_opts o = {MOSS_TLS_SERVER, 0, 0, 0};
    bool bad;
    char why[96];
    check(moss_tls_ctx_new(&o, &ctx[i]) == MOSS_OK);
    check(moss_tls_ctx_use_cert(ctx[i], crt, strlen(crt), key, strlen(key),
                                &bad, why, sizeof(why)) == MOSS_OK);
  }
  /* Mutual TLS: any client certificate is parsed and verified (against
   * the server's own chain, which no client has). */
  mbedtls_ssl_conf_authmode(&ctx[1]->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&ctx[1]->conf, &ctx[1]->own, NULL);
}

static bool would_block(int r) {
  return r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (ctx[0] == NULL)
    init();
  if (size < 1)
    return 0;
  struct feed f = {data + 1, size - 1, data[0] & 0x3f};
  struct moss_alloc_stats a, b;
  moss_alloc_get_stats(&a);
  mbedtls_ssl_context ssl;
  mbedtls_ssl_init(&ssl);
  if (mbedtls_ssl_setup(&ssl, &ctx[(data[0] >> 6) & 1]->conf) != 0)
    goto out;
  mbedtls_ssl_set_bio(&ssl, &f, bio_send, bio_recv, NULL);
  int r;
  do
    r = mbedtls_ssl_handshake(&ssl);
  while (would_block(r) && f.n > 0);
  if (r != 0)
    goto out;
  uint8_t buf[512];
  for (;;) {
    r = mbedtls_ssl_read(&ssl, buf, sizeof(buf));
    if (r > 0)
      continue;
    if (!would_block(r) || f.n == 0)
      break;
    /* Between records, as the layer does while a connection idles. */
    if (mbedtls_ssl_buffers_release(&ssl) == 0)
      check(mbedtls_ssl_buffers_acquire(&ssl) == 0);
  }
out:
  mbedtls_ssl_free(&ssl);
  moss_alloc_get_stats(&b);
  check(a.by_sub[MOSS_SUB_TLS] == b.by_sub[MOSS_SUB_TLS]);
  return 0;
}
