/*
 * Config.Set validation of security files (spec config.md §5.3): a
 * request naming a broken ACL, password file, certificate or key is
 * refused before it is applied, so it cannot lock the device out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "moss/alloc.h"
#include "moss/auth.h"
#include "moss/err.h"
#include "moss/tls.h"
#include "rt_int.h"

/* Files checked here are small; certificate chains stay well below. */
#define VALIDATE_FILE_MAX (16u * 1024u)

static const char *fs_name(const char *n) {
  while (*n == '/') n++;
  return n;
}

/* Reads name into a fresh NUL-terminated buffer (moss_free it). */
static char *read_all(struct moss_rt *rt, const char *name, size_t *len,
                      char *reason, size_t n) {
  char *buf = moss_alloc(MOSS_SUB_APP, VALIDATE_FILE_MAX + 1);
  if (buf == NULL) {
    snprintf(reason, n, "%s: out of memory", name);
    return NULL;
  }
  int rc = moss_fs_read_file(rt->board.fs, fs_name(name), buf,
                             VALIDATE_FILE_MAX, len);
  if (rc != MOSS_OK) {
    snprintf(reason, n, "%s: cannot open: %s", name,
             rc == MOSS_ERR_NOENT ? "No such file or directory"
                                  : moss_strerror(rc));
    moss_free_secret(buf);
    return NULL;
  }
  buf[*len] = '\0';
  return buf;
}

static bool check_acl(struct moss_rt *rt, const struct moss_cfg *cand,
                      char *reason, size_t n) {
  const char *where = NULL;
  enum moss_acl_source src =
      moss_acl_source(cand->rpc.acl, cand->rpc.acl_file, &where);
  if (src == MOSS_ACL_SRC_NONE) return true;
  if (src == MOSS_ACL_SRC_CONFLICT) {
    snprintf(reason, n, "both rpc.acl and rpc.acl_file are set");
    return false;
  }
  bool file = src == MOSS_ACL_SRC_FILE;
  const char *name = file ? where : "rpc.acl";
  size_t len = file ? 0 : strlen(where);
  char *text = file ? read_all(rt, where, &len, reason, n) : NULL;
  if (file && text == NULL) return false;
  struct moss_acl *acl = moss_alloc(MOSS_SUB_APP, sizeof(*acl));
  struct moss_auth_file_error e;
  bool ok = acl != NULL &&
            moss_acl_parse(acl, text ? text : where, len, &e, NULL, NULL) ==
                MOSS_OK;
  if (!ok && acl != NULL)
    moss_acl_error_format(reason, n, name, &e, MOSS_AUTH_MSG_CONFIG);
  moss_free(acl);
  moss_free(text);
  return ok;
}

static bool check_htdigest(struct moss_rt *rt, const char *file, int algo,
                           char *reason, size_t n) {
  size_t len;
  char *text = read_all(rt, file, &len, reason, n);
  if (text == NULL) return false;
  struct moss_auth_file_error e;
  char ha1[MOSS_DIGEST_HEX_MAX];
  int rc = moss_htdigest_lookup(text, len,
                                algo ? MOSS_DIGEST_SHA256 : MOSS_DIGEST_MD5,
                                NULL, NULL, ha1, &e);
  moss_free_secret(text);
  if (rc != MOSS_OK) {
    moss_htdigest_error_format(reason, n, file, &e, MOSS_AUTH_MSG_CONFIG);
    return false;
  }
  return true;
}

static bool parse_certs(struct moss_rt *rt, const char *file,
                        mbedtls_x509_crt *crt, char *reason, size_t n) {
  size_t len;
  char *text = read_all(rt, file, &len, reason, n);
  if (text == NULL) return false;
  int rc = mbedtls_x509_crt_parse(crt, (const unsigned char *) text, len + 1);
  moss_free(text);
  if (rc < 0 || crt->raw.len == 0) {
    snprintf(reason, n, "%s: no certificate found", file);
    return false;
  }
  return true;
}

static bool check_key(struct moss_rt *rt, const struct moss_cfg *cand,
                      const char *key, char *reason, size_t n) {
  if (strncmp(key, "ATCA:", 5) == 0) {
    char *end;
    long slot = strtol(key + 5, &end, 0);
    if (key[5] == '\0' || *end != '\0' || slot < 0 || slot > 15) {
      snprintf(reason, n, "%s: invalid slot", key);
      return false;
    }
    if ((cand->sys.atca.ecdh_slots_mask >> slot) & 1) {
      snprintf(reason, n,
               "ATCA:%ld cannot be used for private key, it is configured "
               "as ECDH slot.", slot);
      return false;
    }
    /* Accepting it would only move the failure to the next boot, where
     * the server could not start (http.md §4.3). */
    if (!moss_rt_se_available(rt, cand)) {
      snprintf(reason, n, "%s: secure element not available", key);
      return false;
    }
    return true;
  }
  size_t len;
  char *text = read_all(rt, key, &len, reason, n);
  if (text == NULL) return false;
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  int rc = mbedtls_pk_parse_key(&pk, (const unsigned char *) text, len + 1,
                                NULL, 0, moss_tls_rng, NULL);
  moss_free_secret(text);
  bool ok = rc == 0;
  if (!ok) snprintf(reason, n, "%s: not an unencrypted private key", key);
  const char *cert = cand->http.ssl_cert;
  if (ok && cert != NULL && *cert != '\0') {
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    ok = parse_certs(rt, cert, &crt, reason, n);
    if (ok && mbedtls_pk_check_pair(&crt.pk, &pk, moss_tls_rng, NULL) != 0) {
      snprintf(reason, n, "%s: key does not match certificate %s", key, cert);
      ok = false;
    }
    mbedtls_x509_crt_free(&crt);
  }
  mbedtls_pk_free(&pk);
  return ok;
}

bool moss_rt_se_available(const struct moss_rt *rt,
                          const struct moss_cfg *c) {
  return rt->board.has_se && c->sys.atca.enable && c->i2c.enable;
}

bool moss_rt_validate(void *arg, const struct moss_cfg *cand,
                      const char *path, const char *value, char *reason,
                      size_t n) {
  struct moss_rt *rt = arg;
  if (moss_tls_init() != MOSS_OK && strncmp(path, "http.ssl", 8) == 0) {
    snprintf(reason, n, "crypto library unavailable");
    return false;
  }
  if (strcmp(path, "rpc.acl") == 0 || strcmp(path, "rpc.acl_file") == 0)
    return check_acl(rt, cand, reason, n);
  /* The algorithm the file will be used with: the request's when it sets
   * one, else the running value (which may come from a --set). */
  if (strcmp(path, "rpc.auth_file") == 0) {
    int algo = cand->rpc.auth_algo != rt->persist.rpc.auth_algo
                   ? cand->rpc.auth_algo
                   : rt->running.rpc.auth_algo;
    return check_htdigest(rt, value, algo, reason, n);
  }
  if (strcmp(path, "http.auth_file") == 0) {
    int algo = cand->http.auth_algo != rt->persist.http.auth_algo
                   ? cand->http.auth_algo
                   : rt->running.http.auth_algo;
    return check_htdigest(rt, value, algo, reason, n);
  }
  if (strcmp(path, "http.ssl_cert") == 0 ||
      (strcmp(path, "http.ssl_ca_cert") == 0 && strcmp(value, "*") != 0)) {
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    bool ok = parse_certs(rt, value, &crt, reason, n);
    mbedtls_x509_crt_free(&crt);
    return ok;
  }
  if (strcmp(path, "http.ssl_key") == 0)
    return check_key(rt, cand, value, reason, n);
  return true; /* other keys with the flag: nothing to check here */
}
