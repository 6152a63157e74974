/*
 * Baseline for bench_tls: the same measurements on a STOCK mbedTLS 3.6.6
 * (the moss tree built with mbedTLS's own default config, every moss
 * option off; mk/mbedtls.mk $(LIBMBEDTLS_STOCK)), in its own program
 * because both libraries use the same symbol names.
 *
 *   tls_stock_server CERT.pem KEY.pem
 *
 * For TLS 1.2 and 1.3, with the server in this process and stock clients
 * in a child: heap per idle server connection, heap peak of one server
 * handshake, server handshakes per second.  Heap is counted like moss's
 * allocator: requested bytes + 8 per block.  Output, one line each:
 *   <metric> <version> <value>      e.g. "idle 1.2 36474"
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "psa/crypto.h"

#define NIDLE 8
#define NRATE 40

static size_t in_use, peak;

static void *cnt_calloc(size_t n, size_t sz) {
  size_t len = n * sz;
  if (sz != 0 && len / sz != n)
    return NULL;
  unsigned char *p = calloc(1, len + 16);
  if (p == NULL)
    return NULL;
  memcpy(p, &len, sizeof(len));
  in_use += len + 8;
  if (in_use > peak)
    peak = in_use;
  return p + 16;
}
static void cnt_free(void *q) {
  if (q == NULL)
    return;
  unsigned char *p = (unsigned char *)q - 16;
  size_t len;
  memcpy(&len, p, sizeof(len));
  in_use -= len + 8;
  free(p);
}

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;

static int tcp_listen(uint16_t *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof(a);
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(s, 64) != 0 || getsockname(s, (struct sockaddr *)&a, &al) != 0)
    return -1;
  *port = ntohs(a.sin_port);
  return s;
}

static int tcp_connect(uint16_t port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0)
    return -1;
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return s;
}

static void conf_common(mbedtls_ssl_config *c, int ep, uint16_t ver) {
  mbedtls_ssl_config_init(c);
  mbedtls_ssl_config_defaults(c, ep, MBEDTLS_SSL_TRANSPORT_STREAM,
                              MBEDTLS_SSL_PRESET_DEFAULT);
  mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &drbg);
  mbedtls_ssl_conf_min_tls_version(c, (mbedtls_ssl_protocol_version)ver);
  mbedtls_ssl_conf_max_tls_version(c, (mbedtls_ssl_protocol_version)ver);
}

/* Child: NIDLE + 1 connections kept open, then NRATE closed after their
 * handshake; waits to be killed. */
static void clients(uint16_t port, uint16_t ver) {
  mbedtls_ssl_config cc;
  conf_common(&cc, MBEDTLS_SSL_IS_CLIENT, ver);
  mbedtls_ssl_conf_authmode(&cc, MBEDTLS_SSL_VERIFY_NONE);
  static mbedtls_ssl_context kept[NIDLE + 1];
  for (int i = 0; i < NIDLE + 1 + NRATE; i++) {
    mbedtls_ssl_context tmp, *ssl = i <= NIDLE ? &kept[i] : &tmp;
    int fd = tcp_connect(port);
    if (fd < 0)
      _exit(1);
    mbedtls_ssl_init(ssl);
    mbedtls_ssl_setup(ssl, &cc);
    mbedtls_net_context *nc = malloc(sizeof(*nc));
    nc->fd = fd;
    mbedtls_ssl_set_bio(ssl, nc, mbedtls_net_send, mbedtls_net_recv, NULL);
    int r;
    while ((r = mbedtls_ssl_handshake(ssl)) == MBEDTLS_ERR_SSL_WANT_READ ||
           r == MBEDTLS_ERR_SSL_WANT_WRITE)
      ;
    if (i > NIDLE) {
      mbedtls_ssl_close_notify(ssl);
      mbedtls_ssl_free(ssl);
      close(fd);
      free(nc);
    }
  }
  for (;;)
    pause();
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int serve_one(mbedtls_ssl_config *sc, int ls, mbedtls_ssl_context *ssl,
                     mbedtls_net_context *nc) {
  nc->fd = accept(ls, NULL, NULL);
  if (nc->fd < 0)
    return -1;
  mbedtls_ssl_init(ssl);
  if (mbedtls_ssl_setup(ssl, sc) != 0)
    return -1;
  mbedtls_ssl_set_bio(ssl, nc, mbedtls_net_send, mbedtls_net_recv, NULL);
  int r;
  while ((r = mbedtls_ssl_handshake(ssl)) == MBEDTLS_ERR_SSL_WANT_READ ||
         r == MBEDTLS_ERR_SSL_WANT_WRITE)
    ;
  return r;
}

static void measure(const char *crt_file, const char *key_file, uint16_t ver,
                    const char *name) {
  mbedtls_x509_crt crt;
  mbedtls_pk_context key;
  mbedtls_ssl_config sc;
  mbedtls_x509_crt_init(&crt);
  mbedtls_pk_init(&key);
  if (mbedtls_x509_crt_parse_file(&crt, crt_file) != 0 ||
      mbedtls_pk_parse_keyfile(&key, key_file, NULL, mbedtls_ctr_drbg_random,
                               &drbg) != 0) {
    printf("error %s cannot load %s / %s\n", name, crt_file, key_file);
    return;
  }
  conf_common(&sc, MBEDTLS_SSL_IS_SERVER, ver);
  mbedtls_ssl_conf_own_cert(&sc, &crt, &key);
  uint16_t port = 0;
  int ls = tcp_listen(&port);
  if (ls < 0) {
    printf("error %s cannot listen\n", name);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(ls);
    clients(port, ver);
  }
  static mbedtls_ssl_context ssl[NIDLE + 1];
  static mbedtls_net_context nc[NIDLE + 1];
  /* One handshake: its peak above what was in use before. */
  size_t base = in_use;
  peak = in_use;
  int r = serve_one(&sc, ls, &ssl[0], &nc[0]);
  printf("peak %s %zu\n", name, peak - base);
  /* Idle connections. */
  base = in_use;
  for (int i = 1; i <= NIDLE && r == 0; i++)
    r = serve_one(&sc, ls, &ssl[i], &nc[i]);
  printf("idle %s %zu\n", name, (in_use - base) / NIDLE);
  /* Handshakes per second (client and server on one machine). */
  double t0 = now_s();
  for (int i = 0; i < NRATE && r == 0; i++) {
    mbedtls_ssl_context s;
    mbedtls_net_context n;
    r = serve_one(&sc, ls, &s, &n);
    mbedtls_ssl_free(&s);
    close(n.fd);
  }
  printf("rate %s %.0f\n", name, NRATE / (now_s() - t0));
  if (r != 0)
    printf("error %s handshake -0x%04x\n", name, (unsigned)-r);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  for (int i = 0; i <= NIDLE; i++) {
    mbedtls_ssl_free(&ssl[i]);
    close(nc[i].fd);
  }
  close(ls);
  mbedtls_ssl_config_free(&sc);
  mbedtls_x509_crt_free(&crt);
  mbedtls_pk_free(&key);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: tls_stock_server CERT.pem KEY.pem\n");
    return 2;
  }
  mbedtls_platform_set_calloc_free(cnt_calloc, cnt_free);
  if (psa_crypto_init() != PSA_SUCCESS)
    return 1;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0))
    return 1;
  setvbuf(stdout, NULL, _IONBF, 0);
  measure(argv[1], argv[2], MBEDTLS_SSL_VERSION_TLS1_2, "1.2");
  measure(argv[1], argv[2], MBEDTLS_SSL_VERSION_TLS1_3, "1.3");
  return 0;
}
