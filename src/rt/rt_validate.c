/*
 * Config.Set validation of security files (spec config.md §5.3): a
 * request naming a broken ACL, password file, certificate or key is
 * refused before it is applied, so it cannot lock the device out.
 * Certificates, keys and CA files are checked by tls/ with the code that
 * will load them at the next start (moss_tls_creds_check).
 */
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/auth.h"
#include "moss/err.h"
#include "moss/tls.h"
#include "rt_int.h"

/* Files checked here are small; certificate chains stay well below. */
#define VALIDATE_FILE_MAX (16u * 1024u)

static const char *fs_name(const char *n) {
  while (*n == '/')
    n++;
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
  int rc =
      moss_fs_read_file(rt->fs, fs_name(name), buf, VALIDATE_FILE_MAX, len);
  if (rc != MOSS_OK) {
    snprintf(
        reason, n, "%s: cannot open: %s", name,
        rc == MOSS_ERR_NOENT ? "No such file or directory" : moss_strerror(rc));
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
  if (src == MOSS_ACL_SRC_NONE)
    return true;
  if (src == MOSS_ACL_SRC_CONFLICT) {
    snprintf(reason, n, "both rpc.acl and rpc.acl_file are set");
    return false;
  }
  bool file = src == MOSS_ACL_SRC_FILE;
  const char *name = file ? where : "rpc.acl";
  size_t len = file ? 0 : strlen(where);
  char *text = file ? read_all(rt, where, &len, reason, n) : NULL;
  if (file && text == NULL)
    return false;
  struct moss_acl *acl = moss_alloc(MOSS_SUB_APP, sizeof(*acl));
  struct moss_auth_file_error e;
  bool ok = acl != NULL && moss_acl_parse(acl, text ? text : where, len, &e,
                                          NULL, NULL) == MOSS_OK;
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
  if (text == NULL)
    return false;
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

bool moss_rt_se_available(const struct moss_rt *rt, const struct moss_cfg *c) {
  return rt->board->se != NULL && c->sys.atca.enable && c->i2c.enable;
}

void moss_rt_tls_env(const struct moss_rt *rt, const struct moss_cfg *c,
                     struct moss_tls_creds_env *env) {
  memset(env, 0, sizeof(*env));
  env->fops = &moss_tls_fs_ops;
  env->farg = rt->fs;
  env->se_present = moss_rt_se_available(rt, c);
  env->ecdh_slots_mask = (uint32_t)c->sys.atca.ecdh_slots_mask;
}

/* http.ssl_cert / ssl_key / ssl_ca_cert of cand, one checked: the key
 * against the certificate of the same request, or else the current one
 * (cand holds both). */
static bool check_tls(struct moss_rt *rt, const struct moss_cfg *cand,
                      enum moss_tls_creds_item item, char *reason, size_t n) {
  struct moss_tls_creds_env env;
  moss_rt_tls_env(rt, cand, &env);
  struct moss_tls_creds_cfg c;
  memset(&c, 0, sizeof(c));
  c.opts.role = MOSS_TLS_SERVER;
  c.cert = cand->http.ssl_cert;
  c.key = cand->http.ssl_key;
  c.ca = cand->http.ssl_ca_cert;
  return moss_tls_creds_check(&c, &env, item, reason, n) == MOSS_OK;
}

bool moss_rt_validate(void *arg, const struct moss_cfg *cand, const char *path,
                      const char *value, char *reason, size_t n) {
  struct moss_rt *rt = arg;
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
  if (strcmp(path, "http.ssl_cert") == 0)
    return check_tls(rt, cand, MOSS_TLS_CREDS_CERT, reason, n);
  if (strcmp(path, "http.ssl_key") == 0)
    return check_tls(rt, cand, MOSS_TLS_CREDS_KEY, reason, n);
  if (strcmp(path, "http.ssl_ca_cert") == 0)
    return check_tls(rt, cand, MOSS_TLS_CREDS_CA, reason, n);
  return true; /* other keys with the flag: nothing to check here */
}
