/*
 * Digest hashes, the response, the §5.4 checks and the challenge texts.
 *
 * The hash contexts of mbedTLS are used directly (not the generic md
 * layer), because mbedtls_md_setup() allocates and the check path must
 * not.  Everything that touches an HA1 or an expected response wipes it
 * before returning.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>

#include "auth_int.h"
#include "moss/err.h"

const char *moss_digest_algo_name(enum moss_digest_algo algo) {
  return algo == MOSS_DIGEST_SHA256 ? "SHA-256" : "MD5";
}

size_t moss_digest_hex_len(enum moss_digest_algo algo) {
  return algo == MOSS_DIGEST_SHA256 ? 64 : 32;
}

static void to_hex(const uint8_t *b, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = d[b[i] >> 4];
    out[2 * i + 1] = d[b[i] & 15];
  }
  out[2 * n] = '\0';
}

int moss_digest_hash_hex(enum moss_digest_algo algo,
                         const struct moss_str *parts, size_t n,
                         char out[MOSS_DIGEST_HEX_MAX]) {
  uint8_t h[32];
  int ret = MOSS_ERR_CRYPTO;
  out[0] = '\0';
  if (algo == MOSS_DIGEST_MD5) {
    mbedtls_md5_context c;
    mbedtls_md5_init(&c);
    if (mbedtls_md5_starts(&c) != 0)
      goto md5_out;
    for (size_t i = 0; i < n; i++) {
      if (i > 0 && mbedtls_md5_update(&c, (const uint8_t *)":", 1) != 0)
        goto md5_out;
      if (parts[i].len > 0 &&
          mbedtls_md5_update(&c, (const uint8_t *)parts[i].buf, parts[i].len) !=
              0)
        goto md5_out;
    }
    if (mbedtls_md5_finish(&c, h) != 0)
      goto md5_out;
    to_hex(h, 16, out);
    ret = MOSS_OK;
  md5_out:
    mbedtls_md5_free(&c);
  } else if (algo == MOSS_DIGEST_SHA256) {
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    if (mbedtls_sha256_starts(&c, 0) != 0)
      goto sha_out;
    for (size_t i = 0; i < n; i++) {
      if (i > 0 && mbedtls_sha256_update(&c, (const uint8_t *)":", 1) != 0)
        goto sha_out;
      if (parts[i].len > 0 &&
          mbedtls_sha256_update(&c, (const uint8_t *)parts[i].buf,
                                parts[i].len) != 0)
        goto sha_out;
    }
    if (mbedtls_sha256_finish(&c, h) != 0)
      goto sha_out;
    to_hex(h, 32, out);
    ret = MOSS_OK;
  sha_out:
    mbedtls_sha256_free(&c);
  } else {
    ret = MOSS_ERR_INVAL;
  }
  moss_zeroize(h, sizeof(h));
  return ret;
}

int moss_digest_response(enum moss_digest_algo algo, struct moss_str ha1,
                         struct moss_str nonce, struct moss_str nc,
                         struct moss_str cnonce, struct moss_str method,
                         struct moss_str uri, char out[MOSS_DIGEST_HEX_MAX]) {
  char ha2[MOSS_DIGEST_HEX_MAX];
  struct moss_str p2[2] = {method, uri};
  if (method.len == 0) {
    /* Frame auth has no request line; Mongoose OS hashes these fixed
     * words, so clients do too (§5.3). */
    p2[0] = moss_str_c("dummy_method");
    p2[1] = moss_str_c("dummy_uri");
  }
  int ret = moss_digest_hash_hex(algo, p2, 2, ha2);
  if (ret != MOSS_OK)
    return ret;
  struct moss_str p[6] = {
      ha1, nonce, nc, cnonce, moss_str_c("auth"), moss_str_c(ha2)};
  return moss_digest_hash_hex(algo, p, 6, out);
}

/* ---- checks -------------------------------------------------------------- */

bool moss_auth_is_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
          (c >= 'A' && c <= 'F')))
      return false;
  }
  return true;
}

enum moss_digest_status moss_digest_check(const struct moss_digest_creds *c,
                                          const char *realm,
                                          enum moss_digest_algo algo,
                                          struct moss_str target) {
  if (c->username[0] == '\0' || c->realm[0] == '\0' || c->nonce[0] == '\0' ||
      c->cnonce[0] == '\0' || c->response[0] == '\0' || c->nc[0] == '\0' ||
      c->nc_value == 0)
    return MOSS_DIGEST_MALFORMED;
  if (c->http && c->uri[0] == '\0')
    return MOSS_DIGEST_MALFORMED;
  size_t rl = strlen(c->response);
  if (rl != moss_digest_hex_len(algo) || !moss_auth_is_hex(c->response, rl))
    /* A response of the other algorithm's length is an algo mismatch in
     * disguise only if the client also named that algorithm, which the
     * next check catches; report the named one first. */
    return c->algo_ok && c->algo != algo ? MOSS_DIGEST_ALGO_MISMATCH
                                         : MOSS_DIGEST_MALFORMED;
  if (!c->algo_ok || c->algo != algo)
    return MOSS_DIGEST_ALGO_MISMATCH;
  if (realm == NULL || strcmp(c->realm, realm) != 0)
    return MOSS_DIGEST_REALM_MISMATCH;
  if (c->http && !moss_str_eq_c(target, c->uri))
    return MOSS_DIGEST_URI_MISMATCH;
  return MOSS_DIGEST_OK;
}

static int hex_nibble(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Lower-case copy of hex text of length n (already checked to be hex).
 * Case folding is done on the client's own bytes, never on the secret. */
static void hex_lower(const char *s, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    int v = hex_nibble(s[i]);
    out[i] = "0123456789abcdef"[v < 0 ? 0 : v];
  }
  out[n] = '\0';
}

enum moss_digest_status moss_digest_verify(const struct moss_digest_creds *c,
                                           const char *ha1,
                                           struct moss_nonce_table *t,
                                           uint64_t now_ms,
                                           struct moss_str method) {
  char expect[MOSS_DIGEST_HEX_MAX], got[MOSS_DIGEST_HEX_MAX];
  /* Stands in for an unknown user's HA1 so the same hashes run. */
  static const char dummy[] =
      "0000000000000000000000000000000000000000000000000000000000000000";
  size_t hl = moss_digest_hex_len(c->algo);
  bool known = ha1 != NULL && strlen(ha1) == hl;
  struct moss_str h1 = known ? moss_str_n(ha1, hl) : moss_str_n(dummy, hl);
  enum moss_digest_status st = MOSS_DIGEST_BAD_RESPONSE;
  bool match = false;

  size_t rl = strlen(c->response);
  memset(got, 0, sizeof(got));
  if (rl == hl)
    hex_lower(c->response, rl, got);
  if (moss_digest_response(c->algo, h1, moss_str_c(c->nonce), moss_str_c(c->nc),
                           moss_str_c(c->cnonce),
                           c->http ? method : MOSS_STR_NULL, moss_str_c(c->uri),
                           expect) == MOSS_OK) {
    /* Always the full hash length, whatever the client sent: the time
     * depends on the algorithm only. */
    bool eq = moss_ct_eq(expect, got, hl);
    match = eq && rl == hl && known;
  }

  enum moss_nonce_state ns =
      moss_nonce_check(t, c->nonce_value, c->nc_value, now_ms);
  if (ns != MOSS_NONCE_VALID) {
    st = match ? MOSS_DIGEST_NONCE_STALE : MOSS_DIGEST_NONCE_BAD;
  } else if (match) {
    /* Recorded before the method runs: the same frame cannot pass again,
     * on this channel or another. */
    moss_nonce_accept(t, c->nonce_value, c->nc_value, now_ms);
    st = MOSS_DIGEST_OK;
  }
  moss_zeroize(expect, sizeof(expect));
  moss_zeroize(got, sizeof(got));
  return st;
}

/* ---- challenges ---------------------------------------------------------- */

/* Appends to a fixed buffer; remembers overflow instead of failing at
 * every call site. */
void moss_auth_out_init(struct moss_auth_out *o, char *buf, size_t size) {
  o->buf = buf;
  o->size = size;
  o->len = 0;
  o->over = size == 0;
  if (size > 0)
    buf[0] = '\0';
}

void moss_auth_out_mem(struct moss_auth_out *o, const char *s, size_t n) {
  if (o->over)
    return;
  if (n >= o->size - o->len) {
    o->over = true;
    return;
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
  o->buf[o->len] = '\0';
}

void moss_auth_out_str(struct moss_auth_out *o, const char *s) {
  moss_auth_out_mem(o, s, strlen(s));
}

void moss_auth_out_u64(struct moss_auth_out *o, uint64_t v, bool hex) {
  char t[24];
  snprintf(t, sizeof(t), hex ? "%" PRIx64 : "%" PRIu64, v);
  moss_auth_out_str(o, t);
}

int moss_auth_out_end(struct moss_auth_out *o) {
  if (o->over) {
    if (o->size > 0)
      o->buf[0] = '\0';
    return MOSS_ERR_TOOBIG;
  }
  return (int)o->len;
}

int moss_digest_challenge_json(char *buf, size_t size, uint64_t nonce,
                               const char *realm, enum moss_digest_algo algo) {
  struct moss_auth_out o;
  moss_auth_out_init(&o, buf, size);
  if (realm == NULL)
    return MOSS_ERR_INVAL;
  moss_auth_out_str(&o, "{\"auth_type\": \"digest\", \"nonce\": ");
  moss_auth_out_u64(&o, nonce, false);
  moss_auth_out_str(&o, ", \"nc\": 1, \"realm\": \"");
  for (const unsigned char *p = (const unsigned char *)realm; *p; p++) {
    if (*p == '"' || *p == '\\') {
      char e[2] = {'\\', (char)*p};
      moss_auth_out_mem(&o, e, 2);
    } else if (*p < 0x20) {
      char e[8];
      snprintf(e, sizeof(e), "\\u%04x", *p);
      moss_auth_out_str(&o, e);
    } else {
      moss_auth_out_mem(&o, (const char *)p, 1);
    }
  }
  moss_auth_out_str(&o, "\", \"algorithm\": \"");
  moss_auth_out_str(&o, moss_digest_algo_name(algo));
  moss_auth_out_str(&o, "\"}");
  return moss_auth_out_end(&o);
}

int moss_digest_challenge_header(char *buf, size_t size, uint64_t nonce,
                                 const char *realm, enum moss_digest_algo algo,
                                 bool stale) {
  struct moss_auth_out o;
  moss_auth_out_init(&o, buf, size);
  if (realm == NULL)
    return MOSS_ERR_INVAL;
  moss_auth_out_str(&o, "Digest realm=\"");
  for (const char *p = realm; *p; p++) {
    /* Header injection: a realm is configuration, but CR/LF must never
     * reach a header line. */
    if (*p == '\r' || *p == '\n') {
      if (size > 0)
        buf[0] = '\0';
      return MOSS_ERR_INVAL;
    }
    if (*p == '"' || *p == '\\')
      moss_auth_out_mem(&o, "\\", 1);
    moss_auth_out_mem(&o, p, 1);
  }
  moss_auth_out_str(&o, "\", qop=\"auth\", nonce=\"");
  moss_auth_out_u64(&o, nonce, true);
  moss_auth_out_str(&o, "\", algorithm=");
  moss_auth_out_str(&o, moss_digest_algo_name(algo));
  if (stale)
    moss_auth_out_str(&o, ", stale=true");
  return moss_auth_out_end(&o);
}
