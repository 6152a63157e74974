/*
 * mos side of Digest authentication (spec rpc.md §5, §7; mos-cli.md §3):
 * credentials from --rpc-creds, the "auth" object answering an in-frame
 * 401, and the Authorization header answering an HTTP 401.  The hashing
 * and challenge parsing are the device's own code (moss/auth.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "moss/auth.h"
#include "moss/err.h"
#include "moss/util.h"
#include "tool.h"

/* --rpc-creds "user:pass" or "@file" (file holds user:pass). */
static int creds(char *user, size_t usz, char *pass, size_t psz, char *err,
                 size_t errsz) {
  const char *c = tool_str("rpc-creds");
  char buf[512];
  if (c == NULL || *c == '\0') {
    snprintf(err, errsz,
             "credentials required but none provided (use --rpc-creds)");
    return -1;
  }
  if (c[0] == '@') {
    FILE *f = fopen(c + 1, "r");
    if (f == NULL || fgets(buf, sizeof(buf), f) == NULL) {
      if (f)
        fclose(f);
      snprintf(err, errsz, "cannot read credentials file %s", c + 1);
      return -1;
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    c = buf;
  }
  const char *colon = strchr(c, ':');
  if (colon == NULL || (size_t)(colon - c) >= usz || strlen(colon + 1) >= psz) {
    moss_zeroize(buf, sizeof(buf));
    snprintf(err, errsz, "--rpc-creds must be user:pass or @file");
    return -1;
  }
  memcpy(user, c, (size_t)(colon - c));
  user[colon - c] = '\0';
  snprintf(pass, psz, "%s", colon + 1);
  moss_zeroize(buf, sizeof(buf));
  return 0;
}

static uint32_t cnonce_value(void) {
  uint32_t v = 0;
  if (getrandom(&v, sizeof(v), 0) != sizeof(v))
    v = (uint32_t)rand();
  return v % 0xfffffffeu + 1;
}

/* The answer to challenge ch with the --rpc-creds: user, a fresh cnonce
 * and the response for nc (frame auth: method NULL).  0 or -1 (err). */
static int answer(const struct moss_digest_challenge *ch, const char *nc,
                  const char *method, const char *uri, char *user, size_t usz,
                  char cn[16], char resp[MOSS_DIGEST_HEX_MAX], char *err,
                  size_t errsz) {
  char pass[256], ha1[MOSS_DIGEST_HEX_MAX];
  if (creds(user, usz, pass, sizeof(pass), err, errsz) != 0)
    return -1;
  snprintf(cn, 16, "%u", (unsigned)cnonce_value());
  struct moss_str parts[3] = {moss_str_c(user), moss_str_c(ch->realm),
                              moss_str_c(pass)};
  int rc = moss_digest_hash_hex(ch->algo, parts, 3, ha1);
  if (rc == MOSS_OK)
    rc = moss_digest_response(ch->algo, moss_str_c(ha1), moss_str_c(ch->nonce),
                              moss_str_c(nc), moss_str_c(cn),
                              method ? moss_str_c(method) : MOSS_STR_NULL,
                              uri ? moss_str_c(uri) : MOSS_STR_NULL, resp);
  moss_zeroize(pass, sizeof(pass));
  moss_zeroize(ha1, sizeof(ha1));
  if (rc != MOSS_OK) {
    snprintf(err, errsz, "cannot compute the Digest response");
    return -1;
  }
  return 0;
}

int tool_auth_frame(const char *message, cJSON *frame, char *err,
                    size_t errsz) {
  struct moss_digest_challenge ch;
  const char *why = NULL;
  int rc = moss_digest_parse_frame_challenge(moss_str_c(message), &ch, &why);
  if (rc == MOSS_ERR_NOENT)
    return 1; /* not a Digest challenge */
  if (rc != MOSS_OK) {
    snprintf(err, errsz, "invalid auth challenge: %s", why ? why : "?");
    return -1;
  }
  char user[128], resp[MOSS_DIGEST_HEX_MAX], cn[16];
  if (answer(&ch, "1", NULL, NULL, user, sizeof(user), cn, resp, err, errsz) !=
      0)
    return -1;
  cJSON_DeleteItemFromObject(frame, "auth");
  cJSON *a = cJSON_AddObjectToObject(frame, "auth");
  cJSON_AddStringToObject(a, "realm", ch.realm);
  cJSON_AddStringToObject(a, "username", user);
  /* The nonce goes back as it came: a JSON integer when it is one, as
   * its digit text (up to 2^53: a double printed by cJSON would lose
   * digits past 15). */
  bool digits =
      ch.nonce[0] != '\0' && strspn(ch.nonce, "0123456789") == strlen(ch.nonce);
  if (digits)
    cJSON_AddRawToObject(a, "nonce", ch.nonce);
  else
    cJSON_AddStringToObject(a, "nonce", ch.nonce);
  cJSON_AddRawToObject(a, "cnonce", cn);
  cJSON_AddStringToObject(a, "response", resp);
  cJSON_AddStringToObject(a, "algorithm", moss_digest_algo_name(ch.algo));
  return 0;
}

void tool_auth_failed(char *err, size_t errsz) {
  char user[128], pass[256], why[160];
  if (creds(user, sizeof(user), pass, sizeof(pass), why, sizeof(why)) != 0)
    snprintf(user, sizeof(user), "?");
  moss_zeroize(pass, sizeof(pass));
  snprintf(err, errsz, "authentication failed for user '%s'", user);
}

int tool_auth_header(const char *www_authenticate, const char *method,
                     const char *uri, char *out, size_t outsz, char *err,
                     size_t errsz) {
  struct moss_digest_challenge ch;
  const char *why = NULL;
  int rc = moss_digest_parse_challenge(moss_str_c(www_authenticate), &ch, &why);
  if (rc != MOSS_OK) {
    snprintf(err, errsz, "unsupported authentication challenge%s%s",
             why ? ": " : "", why ? why : "");
    return -1;
  }
  char user[128], resp[MOSS_DIGEST_HEX_MAX], cn[16];
  if (answer(&ch, "00000001", method, uri, user, sizeof(user), cn, resp, err,
             errsz) != 0)
    return -1;
  int n = snprintf(
      out, outsz,
      "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
      "uri=\"%s\", qop=auth, nc=00000001, cnonce=\"%s\", "
      "response=\"%s\", algorithm=%s%s%s%s",
      user, ch.realm, ch.nonce, uri, cn, resp, moss_digest_algo_name(ch.algo),
      ch.opaque[0] ? ", opaque=\"" : "", ch.opaque, ch.opaque[0] ? "\"" : "");
  if (n < 0 || (size_t)n >= outsz) {
    snprintf(err, errsz, "authorization header too long");
    return -1;
  }
  return 0;
}
