/*
 * Credentials: configuration -> TLS context (http.md §4.2, §4.3) and the
 * Config.Set check of the same inputs (config.md §5.3).
 *
 * This file is the only place where a certificate or key file becomes
 * mbedTLS objects and the only parser of "ATCA:<n>".  Servers and clients
 * take the same path; the check runs the same steps on stack objects and
 * keeps nothing, so whatever it accepts the next setup accepts too (the
 * files permitting: they are re-read at every setup).
 *
 * Files are read through struct moss_tls_file_ops (the device's
 * filesystem), whole, capped at MOSS_TLS_CREDS_FILE_MAX, into heap
 * counted under MOSS_SUB_TLS.  Every such buffer is wiped before it is
 * freed: a certificate file may carry the key too.  CA files are never
 * read whole (tls_ca.c).
 *
 * Messages: every failure names its input, "<name>: <reason>", except the
 * ECDH-slot sentence of http.md §4.3 which names the slot itself.  The
 * caller adds the setting ("http.ssl_key ...") or its own prefix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "tls_int.h"

/* ---- reading files ------------------------------------------------------- */

static bool is_set(const char *s) {
  return s != NULL && *s != '\0';
}

/* Text of a read failure, as the filesystem RPCs word it. */
static const char *io_text(int rc) {
  return rc == MOSS_ERR_NOENT ? "No such file or directory" : moss_strerror(rc);
}

/* Whole file `name` into a fresh NUL-terminated buffer (*len excludes
 * the NUL).  Free it with moss_free_secret. */
static int read_file(const struct moss_tls_creds_env *env, const char *name,
                     char **out, size_t *len) {
  int ret = MOSS_ERR_INTERNAL;
  void *fh = NULL;
  char *b = NULL;
  size_t got = 0;
  *out = NULL;
  *len = 0;
  ret = env->fops->open(env->farg, name, &fh);
  if (ret != MOSS_OK) {
    fh = NULL;
    goto out;
  }
  uint32_t size = env->fops->size(fh);
  if (size > MOSS_TLS_CREDS_FILE_MAX) {
    ret = MOSS_ERR_TOOBIG;
    goto out;
  }
  b = moss_alloc(MOSS_SUB_TLS, (size_t)size + 1);
  if (b == NULL) {
    ret = MOSS_ERR_NOMEM;
    goto out;
  }
  while (got < size) {
    int r = env->fops->read(fh, b + got, size - got);
    if (r < 0) {
      ret = r;
      goto out;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  if (got != size) {
    ret = MOSS_ERR_CORRUPT; /* shorter than it said */
    goto out;
  }
  b[got] = '\0';
  *out = b;
  *len = got;
  b = NULL;
  ret = MOSS_OK;
out:
  env->fops->close(fh);
  if (b != NULL)
    moss_free_secret(b);
  return ret;
}

/* ---- parsing ------------------------------------------------------------- */

/* PEM parsers want a NUL-terminated buffer whose length counts the NUL:
 * pem[0..n) below always is one. */

static void key_reason(int r, char *why, size_t whylen) {
  switch (r) {
    case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
    case MBEDTLS_ERR_PK_PASSWORD_MISMATCH:
    case MBEDTLS_ERR_PEM_PASSWORD_REQUIRED:
      snprintf(why, whylen, "encrypted private keys are not supported");
      return;
    case MBEDTLS_ERR_PK_KEY_INVALID_FORMAT:
    case MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT:
      snprintf(why, whylen, "no private key found");
      return;
    case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
    case MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE:
      snprintf(why, whylen, "unsupported key type");
      return;
    default:
      moss_tls_strerror(r, why, whylen);
  }
}

/* The certificate chain of pem into crt (which must be empty).  A block
 * that does not parse fails the whole chain: a server must not start
 * with half of it. */
static int parse_chain(mbedtls_x509_crt *crt, const char *pem, size_t n,
                       char *why, size_t whylen) {
  int r = mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, n);
  if (r == 0 && crt->raw.p != NULL)
    return MOSS_OK;
  if (r == MBEDTLS_ERR_X509_ALLOC_FAILED) {
    snprintf(why, whylen, "out of memory");
    return MOSS_ERR_NOMEM;
  }
  if (r == 0 || strstr(pem, "-----BEGIN CERTIFICATE") == NULL)
    snprintf(why, whylen, "no certificate found");
  else
    moss_tls_strerror(r, why, whylen);
  return MOSS_ERR_PARSE;
}

/* The private key of pem into pk (which must be empty).  Encrypted keys
 * are refused before mbedTLS asks for a password (http.md §4.1). */
static int parse_key(mbedtls_pk_context *pk, const char *pem, size_t n,
                     char *why, size_t whylen) {
  if (strstr(pem, "ENCRYPTED") != NULL) {
    snprintf(why, whylen, "encrypted private keys are not supported");
    return MOSS_ERR_NOTSUP;
  }
  int r = mbedtls_pk_parse_key(pk, (const unsigned char *)pem, n, NULL, 0,
                               moss_tls_rng, NULL);
  if (r == 0)
    return MOSS_OK;
  key_reason(r, why, whylen);
  return r == MBEDTLS_ERR_PK_ALLOC_FAILED ? MOSS_ERR_NOMEM : MOSS_ERR_PARSE;
}

static bool pair_ok(mbedtls_x509_crt *crt, mbedtls_pk_context *pk) {
  return mbedtls_pk_check_pair(&crt->pk, pk, moss_tls_rng, NULL) == 0;
}

/* A caller's buffer as one the parsers take. */
static char *pem_copy(const void *p, size_t n, size_t *outn) {
  const char *s = p;
  bool has_nul = n > 0 && s[n - 1] == '\0';
  char *b = moss_alloc(MOSS_SUB_TLS, n + (has_nul ? 0 : 1));
  if (b == NULL)
    return NULL;
  memcpy(b, p, n);
  if (!has_nul)
    b[n++] = '\0';
  *outn = n;
  return b;
}

/* Leave ctx as it was: no half-loaded chain or key. */
static void own_reset(struct moss_tls_ctx *ctx) {
  mbedtls_x509_crt_free(&ctx->own);
  mbedtls_x509_crt_init(&ctx->own);
  mbedtls_pk_free(&ctx->key);
  mbedtls_pk_init(&ctx->key);
}

int moss_tls_ctx_use_cert(struct moss_tls_ctx *ctx, const void *cert,
                          size_t cert_len, const void *key, size_t key_len,
                          bool *bad_key, char *why, size_t whylen) {
  int ret = MOSS_ERR_INTERNAL;
  size_t cn = 0, kn = 0;
  char *cb = NULL, *kb = NULL;
  *bad_key = false;
  if (why != NULL && whylen > 0)
    why[0] = '\0';
  cb = pem_copy(cert, cert_len, &cn);
  if (cb == NULL) {
    ret = MOSS_ERR_NOMEM;
    goto out;
  }
  ret = parse_chain(&ctx->own, cb, cn, why, whylen);
  if (ret != MOSS_OK)
    goto out;
  *bad_key = true;
  kb = key != NULL ? pem_copy(key, key_len, &kn) : cb;
  kn = key != NULL ? kn : cn;
  if (kb == NULL) {
    ret = MOSS_ERR_NOMEM;
    goto out;
  }
  ret = parse_key(&ctx->key, kb, kn, why, whylen);
  if (ret != MOSS_OK)
    goto out;
  if (!pair_ok(&ctx->own, &ctx->key)) {
    snprintf(why, whylen, "key does not match the certificate");
    ret = MOSS_ERR_PARSE;
    goto out;
  }
  int r = mbedtls_ssl_conf_own_cert(&ctx->conf, &ctx->own, &ctx->key);
  if (r != 0) {
    moss_tls_strerror(r, why, whylen);
    ret = MOSS_ERR_PARSE;
    goto out;
  }
  ctx->has_cert = true;
  ret = MOSS_OK;
out:
  if (kb != NULL && kb != cb)
    moss_free_secret(kb);
  if (cb != NULL)
    moss_free_secret(cb);
  if (ret != MOSS_OK)
    own_reset(ctx);
  return ret;
}

/* ---- ATCA:<n> (http.md §4.3) --------------------------------------------- */

static bool is_atca(const char *key) {
  return strncmp(key, "ATCA:", 5) == 0;
}

/* The slot an "ATCA:<n>" key names, under the rules in the order their
 * texts take precedence: a slot number 0..15, not an ECDH slot, a secure
 * element present.  The number is read as strtol base 0 reads it. */
static int atca_slot(const char *key, const struct moss_tls_creds_env *env,
                     int *slot, char *why, size_t whylen) {
  char *end;
  long s = strtol(key + 5, &end, 0);
  if (key[5] == '\0' || *end != '\0' || s < 0 || s >= MOSS_TLS_ATCA_SLOTS) {
    snprintf(why, whylen, "%s: invalid slot", key);
    return MOSS_ERR_INVAL;
  }
  if ((env->ecdh_slots_mask >> s) & 1u) {
    snprintf(why, whylen,
             "ATCA:%ld cannot be used for private key, it is configured "
             "as ECDH slot.",
             s);
    return MOSS_ERR_INVAL;
  }
  if (!env->se_present) {
    snprintf(why, whylen, "%s: secure element not available", key);
    return MOSS_ERR_NOTSUP;
  }
  *slot = (int)s;
  return MOSS_OK;
}

/* ---- the shared steps ---------------------------------------------------- */

/* One run of the steps: the inputs, where failures go, and whether the
 * texts are the check's (config.md §5.3) or the setup's (http.md §1.2). */
struct run {
  const struct moss_tls_creds_cfg *c;
  const struct moss_tls_creds_env *env;
  bool check;
  enum moss_tls_creds_item bad;
  char *why;
  size_t whylen;
};

static int fail(struct run *r, enum moss_tls_creds_item item, int rc,
                const char *name, const char *reason) {
  r->bad = item;
  snprintf(r->why, r->whylen, "%s: %s", name, reason);
  return rc;
}

static int fail_io(struct run *r, enum moss_tls_creds_item item, int rc,
                   const char *name) {
  r->bad = item;
  snprintf(r->why, r->whylen, "%s: %s%s", name, r->check ? "cannot open: " : "",
           io_text(rc));
  return rc;
}

/* Reads and parses the certificate chain file into crt. */
static int load_chain(struct run *r, mbedtls_x509_crt *crt, char **pem,
                      size_t *len) {
  const char *f = r->c->cert;
  int rc = read_file(r->env, f, pem, len);
  if (rc != MOSS_OK)
    return fail_io(r, MOSS_TLS_CREDS_CERT, rc, f);
  char t[160];
  rc = parse_chain(crt, *pem, *len + 1, t, sizeof(t));
  return rc == MOSS_OK ? MOSS_OK : fail(r, MOSS_TLS_CREDS_CERT, rc, f, t);
}

/* Parses the key of pem (the key file, or the certificate file when no
 * key file is set: that file is then the one at fault). */
static int load_key(struct run *r, mbedtls_pk_context *pk, const char *pem,
                    size_t len) {
  bool own_file = is_set(r->c->key);
  const char *f = own_file ? r->c->key : r->c->cert;
  char t[160];
  int rc = parse_key(pk, pem, len + 1, t, sizeof(t));
  if (rc == MOSS_OK)
    return MOSS_OK;
  return fail(r, own_file ? MOSS_TLS_CREDS_KEY : MOSS_TLS_CREDS_CERT, rc, f, t);
}

static int check_pair(struct run *r, mbedtls_x509_crt *crt,
                      mbedtls_pk_context *pk) {
  if (pair_ok(crt, pk))
    return MOSS_OK;
  char t[160];
  if (is_set(r->c->key)) {
    snprintf(t, sizeof(t), "key does not match certificate %s", r->c->cert);
    return fail(r, MOSS_TLS_CREDS_KEY, MOSS_ERR_PARSE, r->c->key, t);
  }
  return fail(r, MOSS_TLS_CREDS_CERT, MOSS_ERR_PARSE, r->c->cert,
              "key does not match the certificate");
}

/* The key rules of "ATCA:<n>".  Setup also needs the chip to do the
 * signing, which this build cannot yet (src/se/ will plug in here). */
static int use_atca(struct run *r) {
  int slot;
  int rc = atca_slot(r->c->key, r->env, &slot, r->why, r->whylen);
  if (rc != MOSS_OK) {
    r->bad = MOSS_TLS_CREDS_KEY;
    return rc;
  }
  if (r->check)
    return MOSS_OK;
  return fail(r, MOSS_TLS_CREDS_KEY, MOSS_ERR_NOTSUP, r->c->key,
              "secure element keys are not supported yet");
}

static bool ca_set(const char *ca) {
  return is_set(ca) && strcmp(ca, "*") != 0;
}

/* ---- configuration -> context -------------------------------------------- */

/* Certificate and key into ctx: certificate file first (a missing one
 * is the first thing to say), then the key, then the pairing. */
static int own_creds(struct run *r, struct moss_tls_ctx *ctx) {
  int ret = MOSS_ERR_INTERNAL;
  const struct moss_tls_creds_cfg *c = r->c;
  char *cert = NULL, *key = NULL;
  size_t cl = 0, kl = 0;
  ret = read_file(r->env, c->cert, &cert, &cl);
  if (ret != MOSS_OK) {
    fail_io(r, MOSS_TLS_CREDS_CERT, ret, c->cert);
    goto out;
  }
  if (is_set(c->key) && is_atca(c->key)) {
    ret = use_atca(r);
    goto out;
  }
  if (is_set(c->key)) {
    ret = read_file(r->env, c->key, &key, &kl);
    if (ret != MOSS_OK) {
      fail_io(r, MOSS_TLS_CREDS_KEY, ret, c->key);
      goto out;
    }
  }
  char t[160];
  ret = parse_chain(&ctx->own, cert, cl + 1, t, sizeof(t));
  if (ret != MOSS_OK) {
    fail(r, MOSS_TLS_CREDS_CERT, ret, c->cert, t);
    goto out;
  }
  ret = key != NULL ? load_key(r, &ctx->key, key, kl)
                    : load_key(r, &ctx->key, cert, cl);
  if (ret != MOSS_OK)
    goto out;
  ret = check_pair(r, &ctx->own, &ctx->key);
  if (ret != MOSS_OK)
    goto out;
  int e = mbedtls_ssl_conf_own_cert(&ctx->conf, &ctx->own, &ctx->key);
  if (e != 0) {
    moss_tls_strerror(e, t, sizeof(t));
    ret = fail(r, MOSS_TLS_CREDS_CERT, MOSS_ERR_CRYPTO, c->cert, t);
    goto out;
  }
  ctx->has_cert = true;
  ret = MOSS_OK;
out:
  if (cert != NULL)
    moss_free_secret(cert);
  if (key != NULL)
    moss_free_secret(key);
  if (ret != MOSS_OK)
    own_reset(ctx);
  return ret;
}

int moss_tls_ctx_from_creds(const struct moss_tls_creds_cfg *c,
                            const struct moss_tls_creds_env *env,
                            struct moss_tls_ctx **out,
                            enum moss_tls_creds_item *bad, char *why,
                            size_t whylen) {
  int ret = MOSS_ERR_INTERNAL;
  struct run r = {c, env, false, MOSS_TLS_CREDS_NONE, why, whylen};
  struct moss_tls_ctx *ctx = NULL;
  struct moss_tls_ca *ca = NULL;
  *out = NULL;
  why[0] = '\0';
  ret = moss_tls_ctx_new(&c->opts, &ctx);
  if (ret != MOSS_OK) {
    snprintf(why, whylen, "TLS setup: %s", moss_strerror(ret));
    goto out;
  }
  bool server = c->opts.role == MOSS_TLS_SERVER;
  if (!is_set(c->cert) && (server || is_set(c->key))) {
    r.bad = server ? MOSS_TLS_CREDS_CERT : MOSS_TLS_CREDS_KEY;
    snprintf(why, whylen, "no certificate configured");
    ret = MOSS_ERR_INVAL;
    goto out;
  }
  if (is_set(c->cert)) {
    ret = own_creds(&r, ctx);
    if (ret != MOSS_OK)
      goto out;
  }
  if (ca_set(c->ca)) {
    ret = moss_tls_ca_new(env->fops, env->farg, c->ca, &ca);
    if (ret != MOSS_OK) {
      fail_io(&r, MOSS_TLS_CREDS_CA, ret, c->ca);
      goto out;
    }
    moss_tls_ctx_use_ca(ctx, ca);
  }
  if (!server && c->server_name != NULL) {
    size_t n = strlen(c->server_name);
    ctx->server_name = moss_alloc(MOSS_SUB_TLS, n + 1);
    if (ctx->server_name == NULL) {
      snprintf(why, whylen, "TLS setup: %s", moss_strerror(MOSS_ERR_NOMEM));
      ret = MOSS_ERR_NOMEM;
      goto out;
    }
    memcpy(ctx->server_name, c->server_name, n + 1);
  }
  *out = ctx;
  ctx = NULL;
  ret = MOSS_OK;
out:
  moss_tls_ctx_unref(ctx);
  if (bad != NULL)
    *bad = r.bad;
  return ret;
}

/* ---- Config.Set's check -------------------------------------------------- */

static int check_cert(struct run *r) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  char *pem = NULL;
  size_t len = 0;
  int ret = load_chain(r, &crt, &pem, &len);
  if (pem != NULL)
    moss_free_secret(pem);
  mbedtls_x509_crt_free(&crt);
  return ret;
}

/* The key alone first (it is what the request sets), then against the
 * certificate it will be used with. */
static int check_key(struct run *r) {
  int ret = MOSS_ERR_INTERNAL;
  const struct moss_tls_creds_cfg *c = r->c;
  mbedtls_pk_context pk;
  mbedtls_x509_crt crt;
  char *key = NULL, *cert = NULL;
  size_t kl = 0, cl = 0;
  mbedtls_pk_init(&pk);
  mbedtls_x509_crt_init(&crt);
  if (is_atca(c->key)) {
    ret = use_atca(r);
    goto out;
  }
  ret = read_file(r->env, c->key, &key, &kl);
  if (ret != MOSS_OK) {
    fail_io(r, MOSS_TLS_CREDS_KEY, ret, c->key);
    goto out;
  }
  ret = load_key(r, &pk, key, kl);
  if (ret != MOSS_OK || !is_set(c->cert))
    goto out;
  ret = load_chain(r, &crt, &cert, &cl);
  if (ret != MOSS_OK)
    goto out;
  ret = check_pair(r, &crt, &pk);
out:
  if (key != NULL)
    moss_free_secret(key);
  if (cert != NULL)
    moss_free_secret(cert);
  mbedtls_x509_crt_free(&crt);
  mbedtls_pk_free(&pk);
  return ret;
}

/* The store setup uses (opens the file), then one streaming pass for a
 * certificate that parses: a bundle of any size, never whole in RAM. */
static int check_ca(struct run *r) {
  const char *f = r->c->ca;
  struct moss_tls_ca *ca = NULL;
  int ret = moss_tls_ca_new(r->env->fops, r->env->farg, f, &ca);
  if (ret != MOSS_OK)
    return fail_io(r, MOSS_TLS_CREDS_CA, ret, f);
  int n = moss_tlsi_ca_has_cert(ca);
  moss_tls_ca_free(ca);
  if (n < 0)
    return fail_io(r, MOSS_TLS_CREDS_CA, n, f);
  if (n == 0)
    return fail(r, MOSS_TLS_CREDS_CA, MOSS_ERR_PARSE, f,
                "no certificate found");
  return MOSS_OK;
}

int moss_tls_creds_check(const struct moss_tls_creds_cfg *c,
                         const struct moss_tls_creds_env *env,
                         enum moss_tls_creds_item item, char *why,
                         size_t whylen) {
  struct run r = {c, env, true, MOSS_TLS_CREDS_NONE, why, whylen};
  why[0] = '\0';
  /* Key parsing draws on the DRBG (blinding). */
  if (moss_tls_init() != MOSS_OK) {
    snprintf(why, whylen, "crypto library unavailable");
    return MOSS_ERR_CRYPTO;
  }
  switch (item) {
    case MOSS_TLS_CREDS_CERT:
      return is_set(c->cert) ? check_cert(&r) : MOSS_OK;
    case MOSS_TLS_CREDS_KEY:
      return is_set(c->key) ? check_key(&r) : MOSS_OK;
    case MOSS_TLS_CREDS_CA:
      return ca_set(c->ca) ? check_ca(&r) : MOSS_OK;
    default:
      return MOSS_ERR_INVAL;
  }
}
