/*
 * Digest: hashes against the spec's vectors, credential parsing (frame
 * "auth" object and Authorization header), the §5.4 checks, verification
 * with replay protection, challenge texts and their client-side parsing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "auth_test.h"
#include "moss/err.h"
#include "moss/json.h"

static enum moss_digest_algo algo_of(const char *s) {
  return strcmp(s, "SHA-256") == 0 ? MOSS_DIGEST_SHA256 : MOSS_DIGEST_MD5;
}

static void test_ha2_constants(void) {
  char out[MOSS_DIGEST_HEX_MAX];
  struct moss_str p = moss_str_c("dummy_method:dummy_uri");
  MT_CHECK_EQ(moss_digest_hash_hex(MOSS_DIGEST_MD5, &p, 1, out), MOSS_OK);
  MT_CHECK_STR(out, "2f7f442370c8966c848f4e2e2c3f7ae5");
  MT_CHECK_EQ(moss_digest_hash_hex(MOSS_DIGEST_SHA256, &p, 1, out), MOSS_OK);
  MT_CHECK_STR(out,
               "6370ec69915103833b5222b368555393"
               "393f098bfbfbb59f47e0590af135f062");
  struct moss_str parts[2] = {moss_str_c("POST"),
                              moss_str_c("/rpc/Sys.GetInfo")};
  MT_CHECK_EQ(moss_digest_hash_hex(MOSS_DIGEST_MD5, parts, 2, out), MOSS_OK);
  MT_CHECK_STR(out, "2082252679b41a56e31f9079c78334d1");
  MT_CHECK_EQ(moss_digest_hash_hex((enum moss_digest_algo)7, parts, 2, out),
              MOSS_ERR_INVAL);
  MT_CHECK_STR(moss_digest_algo_name(MOSS_DIGEST_SHA256), "SHA-256");
  MT_CHECK_EQ(moss_digest_hex_len(MOSS_DIGEST_MD5), 32);
}

static void test_ha1_vectors(void) {
  static char buf[4096];
  MT_REQUIRE(at_read_file(AUTH_VEC("ha1.txt"), buf, sizeof(buf)) > 0);
  char *cur = buf, *f[5];
  int rows = 0;
  while (at_next_row(&cur, '|', f, 5) == 5) {
    struct moss_str p[3] = {moss_str_c(f[1]), moss_str_c(f[2]),
                            moss_str_c(f[3])};
    char out[MOSS_DIGEST_HEX_MAX];
    MT_CHECK_EQ(moss_digest_hash_hex(algo_of(f[0]), p, 3, out), MOSS_OK);
    MT_CHECK_STR(out, f[4]);
    rows++;
  }
  MT_CHECK_EQ(rows, 4);
}

static void test_response_vectors(void) {
  static char buf[4096];
  MT_REQUIRE(at_read_file(AUTH_VEC("digest.txt"), buf, sizeof(buf)) > 0);
  char *cur = buf, *f[8];
  int rows = 0;
  while (at_next_row(&cur, '|', f, 8) == 8) {
    char out[MOSS_DIGEST_HEX_MAX];
    MT_CHECK_EQ(
        moss_digest_response(algo_of(f[0]), moss_str_c(f[1]), moss_str_c(f[2]),
                             moss_str_c(f[3]), moss_str_c(f[4]),
                             moss_str_c(f[5]), moss_str_c(f[6]), out),
        MOSS_OK);
    MT_CHECK_STR(out, f[7]);
    rows++;
  }
  MT_CHECK_EQ(rows, 6);
}

/* ---- frame "auth" -------------------------------------------------------- */

static const char *const good_auth =
    "{\"realm\":\"myproduct\",\"username\":\"joe\",\"nonce\":1611048949,"
    "\"cnonce\":313273957,\"response\":\"b9193c4f5ff465efb082205e377a459c\","
    "\"algorithm\":\"MD5\"}";

static int creds_json(const char *text, struct moss_digest_creds *c,
                      const char **why) {
  moss_json_init();
  cJSON *j = cJSON_Parse(text);
  int r = moss_digest_creds_from_json(j, c, why);
  cJSON_Delete(j);
  return r;
}

static void test_creds_json_ok(void) {
  struct moss_digest_creds c;
  const char *why = "x";
  MT_REQUIRE(creds_json(good_auth, &c, &why) == MOSS_OK);
  MT_CHECK(why == NULL);
  MT_CHECK(!c.http);
  MT_CHECK_STR(c.username, "joe");
  MT_CHECK_STR(c.realm, "myproduct");
  MT_CHECK_STR(c.nonce, "1611048949");
  MT_CHECK_STR(c.cnonce, "313273957");
  MT_CHECK_STR(c.nc, "1");
  MT_CHECK_EQ(c.nc_value, 1);
  MT_CHECK_EQ(c.nonce_value, 1611048949);
  MT_CHECK(c.algo_ok && c.algo == MOSS_DIGEST_MD5);
  MT_CHECK_EQ(
      moss_digest_check(&c, "myproduct", MOSS_DIGEST_MD5, MOSS_STR_NULL),
      MOSS_DIGEST_OK);

  /* Strings are used verbatim; nc as a number; algorithm absent = MD5. */
  MT_REQUIRE(creds_json("{\"realm\":\"r\",\"username\":\"u\",\"nonce\":\"00"
                        "42\",\"cnonce\":\"abc\",\"nc\":7,\"response\":\"AB\"}",
                        &c, &why) == MOSS_OK);
  MT_CHECK_STR(c.nonce, "0042");
  MT_CHECK_EQ(c.nonce_value, 42);
  MT_CHECK_STR(c.cnonce, "abc");
  MT_CHECK_STR(c.nc, "7");
  MT_CHECK_EQ(c.nc_value, 7);
  MT_CHECK(c.algo_ok && c.algo == MOSS_DIGEST_MD5);
  /* A nonce that is no number of ours parses but has no table value. */
  MT_REQUIRE(creds_json("{\"realm\":\"r\",\"username\":\"u\",\"nonce\":\"x1"
                        "\",\"cnonce\":1,\"response\":\"ab\","
                        "\"algorithm\":\"MD5-sess\"}",
                        &c, &why) == MOSS_OK);
  MT_CHECK_EQ(c.nonce_value, 0);
  MT_CHECK(!c.algo_ok);
}

static void test_creds_json_errors(void) {
  static const struct {
    const char *json, *why;
  } cases[] = {
      {"[]", "auth is not an object"},
      {"\"x\"", "auth is not an object"},
      {"{\"username\":\"u\",\"nonce\":1,\"cnonce\":1,\"response\":\"ab\"}",
       "missing realm"},
      {"{\"realm\":\"r\",\"nonce\":1,\"cnonce\":1,\"response\":\"ab\"}",
       "missing username"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"cnonce\":1,\"response\":\"ab\"}",
       "missing nonce"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1,\"response\":\"ab\"}",
       "missing cnonce"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1,\"cnonce\":1}",
       "missing response"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1,\"cnonce\":1,"
       "\"response\":\"\"}",
       "missing response"},
      {"{\"realm\":\"\",\"username\":\"u\",\"nonce\":1,\"cnonce\":1,"
       "\"response\":\"ab\"}",
       "missing realm"},
      {"{\"realm\":\"r\",\"username\":5,\"nonce\":1,\"cnonce\":1,"
       "\"response\":\"ab\"}",
       "bad username"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1,\"cnonce\":1,"
       "\"response\":\"xyz\"}",
       "response is not hex"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1.5,\"cnonce\":1,"
       "\"response\":\"ab\"}",
       "bad nonce"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":\"\",\"cnonce\":1,"
       "\"response\":\"ab\"}",
       "bad nonce"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1,\"cnonce\":true,"
       "\"response\":\"ab\"}",
       "bad cnonce"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1,\"cnonce\":1e300,"
       "\"response\":\"ab\"}",
       "bad cnonce"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1,\"cnonce\":1,"
       "\"nc\":0,\"response\":\"ab\"}",
       "bad nc"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1,\"cnonce\":1,"
       "\"nc\":\"1\",\"response\":\"ab\"}",
       "bad nc"},
      {"{\"realm\":\"r\",\"username\":\"u\",\"nonce\":1,\"cnonce\":1,"
       "\"algorithm\":1,\"response\":\"ab\"}",
       "bad algorithm"},
  };
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(cases); i++) {
    struct moss_digest_creds c;
    const char *why = NULL;
    MT_CHECK_EQ(creds_json(cases[i].json, &c, &why), MOSS_ERR_PARSE);
    MT_CHECK_STR(why, cases[i].why);
    MT_CHECK(c.username[0] == '\0' && c.response[0] == '\0');
  }
  struct moss_digest_creds c;
  MT_CHECK_EQ(moss_digest_creds_from_json(NULL, &c, NULL), MOSS_ERR_PARSE);
  /* A user name that does not fit is refused, not truncated. */
  char big[400];
  snprintf(big, sizeof(big),
           "{\"realm\":\"r\",\"username\":\"%0100d\",\"nonce\":1,"
           "\"cnonce\":1,\"response\":\"ab\"}",
           0);
  MT_CHECK_EQ(creds_json(big, &c, NULL), MOSS_ERR_PARSE);
}

static void test_check_statuses(void) {
  struct moss_digest_creds c;
  MT_REQUIRE(creds_json(good_auth, &c, NULL) == MOSS_OK);
  MT_CHECK_EQ(moss_digest_check(&c, "other", MOSS_DIGEST_MD5, MOSS_STR_NULL),
              MOSS_DIGEST_REALM_MISMATCH);
  /* Configured SHA-256, client MD5 with an MD5-length response. */
  MT_CHECK_EQ(
      moss_digest_check(&c, "myproduct", MOSS_DIGEST_SHA256, MOSS_STR_NULL),
      MOSS_DIGEST_ALGO_MISMATCH);
  struct moss_digest_creds d = c;
  d.response[31] = '\0'; /* 31 digits */
  MT_CHECK_EQ(
      moss_digest_check(&d, "myproduct", MOSS_DIGEST_MD5, MOSS_STR_NULL),
      MOSS_DIGEST_MALFORMED);
  d = c;
  d.algo_ok = false;
  MT_CHECK_EQ(
      moss_digest_check(&d, "myproduct", MOSS_DIGEST_MD5, MOSS_STR_NULL),
      MOSS_DIGEST_ALGO_MISMATCH);
  d = c;
  d.cnonce[0] = '\0';
  MT_CHECK_EQ(
      moss_digest_check(&d, "myproduct", MOSS_DIGEST_MD5, MOSS_STR_NULL),
      MOSS_DIGEST_MALFORMED);
}

/* ---- verification with the nonce table ----------------------------------- */

/* Deterministic "random" source: a counter spread over the bytes. */
static int fake_rng(void *arg, void *buf, size_t n) {
  uint64_t *ctr = arg;
  uint8_t *b = buf;
  (*ctr)++;
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)(*ctr * 131u + i * 7u);
  return MOSS_OK;
}

/* Frame credentials answering nonce with nc, as mos would build them. */
static void make_frame_creds(struct moss_digest_creds *c, const char *user,
                             const char *pass, uint64_t nonce, uint32_t nc,
                             enum moss_digest_algo algo) {
  char ha1[MOSS_DIGEST_HEX_MAX], json[512], resp[MOSS_DIGEST_HEX_MAX];
  char ntext[24], nctext[16];
  struct moss_str p[3] = {moss_str_c(user), moss_str_c("myproduct"),
                          moss_str_c(pass)};
  moss_digest_hash_hex(algo, p, 3, ha1);
  snprintf(ntext, sizeof(ntext), "%" PRIu64, nonce);
  snprintf(nctext, sizeof(nctext), "%" PRIu32, nc);
  moss_digest_response(algo, moss_str_c(ha1), moss_str_c(ntext),
                       moss_str_c(nctext), moss_str_c("99"), MOSS_STR_NULL,
                       MOSS_STR_NULL, resp);
  snprintf(json, sizeof(json),
           "{\"realm\":\"myproduct\",\"username\":\"%s\",\"nonce\":%s,"
           "\"cnonce\":99,\"nc\":%s,\"response\":\"%s\",\"algorithm\":\"%s\"}",
           user, ntext, nctext, resp, moss_digest_algo_name(algo));
  MT_CHECK_EQ(creds_json(json, c, NULL), MOSS_OK);
}

static const char joe_md5[] = "30ddc51638030c8748c70feadcf878d8";

static void test_verify_replay(void) {
  struct moss_nonce_table t;
  uint64_t ctr = 0, n;
  moss_nonce_init(&t, fake_rng, &ctr);
  MT_REQUIRE(moss_nonce_issue(&t, 1000, &n) == MOSS_OK);
  struct moss_digest_creds c;
  make_frame_creds(&c, "joe", "secret", n, 1, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(
      moss_digest_check(&c, "myproduct", MOSS_DIGEST_MD5, MOSS_STR_NULL),
      MOSS_DIGEST_OK);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 2000, MOSS_STR_NULL),
              MOSS_DIGEST_OK);
  /* The same frame again: replay. */
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 2100, MOSS_STR_NULL),
              MOSS_DIGEST_NONCE_STALE);
  /* nc increasing is accepted, each once. */
  make_frame_creds(&c, "joe", "secret", n, 2, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 2200, MOSS_STR_NULL),
              MOSS_DIGEST_OK);
  make_frame_creds(&c, "joe", "secret", n, 5, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 2300, MOSS_STR_NULL),
              MOSS_DIGEST_OK);
  /* Going back to a skipped, lower nc is refused. */
  make_frame_creds(&c, "joe", "secret", n, 4, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 2400, MOSS_STR_NULL),
              MOSS_DIGEST_NONCE_STALE);
  /* Expired: after the TTL the right answer gets a stale. */
  make_frame_creds(&c, "joe", "secret", n, 6, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 1000 + 300000, MOSS_STR_NULL),
              MOSS_DIGEST_NONCE_STALE);
  /* A nonce the device never issued (Mongoose OS's time-based ones). */
  make_frame_creds(&c, "joe", "secret", 1611048949, 1, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 2500, MOSS_STR_NULL),
              MOSS_DIGEST_NONCE_STALE);
}

static void test_verify_wrong(void) {
  struct moss_nonce_table t;
  uint64_t ctr = 0, n;
  moss_nonce_init(&t, fake_rng, &ctr);
  MT_REQUIRE(moss_nonce_issue(&t, 0, &n) == MOSS_OK);
  struct moss_digest_creds c;
  /* Wrong password: BAD_RESPONSE and the nonce stays usable. */
  make_frame_creds(&c, "joe", "wrong", n, 9, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 10, MOSS_STR_NULL),
              MOSS_DIGEST_BAD_RESPONSE);
  make_frame_creds(&c, "joe", "secret", n, 1, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 20, MOSS_STR_NULL),
              MOSS_DIGEST_OK);
  /* Unknown user (no HA1): fails even with a response computed for the
   * dummy HA1's user-independent inputs. */
  make_frame_creds(&c, "nobody", "secret", n, 2, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(moss_digest_verify(&c, NULL, &t, 30, MOSS_STR_NULL),
              MOSS_DIGEST_BAD_RESPONSE);
  char zeros[33];
  memset(zeros, '0', 32);
  zeros[32] = '\0';
  char resp[MOSS_DIGEST_HEX_MAX];
  moss_digest_response(MOSS_DIGEST_MD5, moss_str_c(zeros), moss_str_c(c.nonce),
                       moss_str_c("3"), moss_str_c(c.cnonce), MOSS_STR_NULL,
                       MOSS_STR_NULL, resp);
  memcpy(c.response, resp, sizeof(resp));
  c.nc_value = 3;
  memcpy(c.nc, "3", 2);
  MT_CHECK_EQ(moss_digest_verify(&c, NULL, &t, 40, MOSS_STR_NULL),
              MOSS_DIGEST_BAD_RESPONSE);
  /* Stale and wrong: NONCE_BAD (no stale=true hint for a guesser). */
  make_frame_creds(&c, "joe", "wrong", 12345, 1, MOSS_DIGEST_MD5);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 50, MOSS_STR_NULL),
              MOSS_DIGEST_NONCE_BAD);
  /* Upper-case response hex is the same response. */
  make_frame_creds(&c, "joe", "secret", n, 4, MOSS_DIGEST_MD5);
  for (char *p = c.response; *p; p++)
    if (*p >= 'a' && *p <= 'f')
      *p = (char)(*p - 'a' + 'A');
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 60, MOSS_STR_NULL),
              MOSS_DIGEST_OK);
}

static void test_verify_sha256(void) {
  struct moss_nonce_table t;
  uint64_t ctr = 5, n;
  moss_nonce_init(&t, fake_rng, &ctr);
  MT_REQUIRE(moss_nonce_issue(&t, 0, &n) == MOSS_OK);
  struct moss_digest_creds c;
  make_frame_creds(&c, "joe", "secret", n, 1, MOSS_DIGEST_SHA256);
  MT_CHECK_EQ(
      moss_digest_check(&c, "myproduct", MOSS_DIGEST_SHA256, MOSS_STR_NULL),
      MOSS_DIGEST_OK);
  MT_CHECK_EQ(
      moss_digest_check(&c, "myproduct", MOSS_DIGEST_MD5, MOSS_STR_NULL),
      MOSS_DIGEST_ALGO_MISMATCH);
  MT_CHECK_EQ(
      moss_digest_verify(
          &c,
          "d9d81b3c1a4c249f36c7598a160b1b5c13768ea6db94234d38d6aefb75b37b40",
          &t, 1, MOSS_STR_NULL),
      MOSS_DIGEST_OK);
  /* An MD5 HA1 given for SHA-256 credentials never matches. */
  make_frame_creds(&c, "joe", "secret", n, 2, MOSS_DIGEST_SHA256);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 2, MOSS_STR_NULL),
              MOSS_DIGEST_BAD_RESPONSE);
}

/* ---- HTTP Authorization -------------------------------------------------- */

static const char spec_hdr[] =
    "Digest username=\"joe\", realm=\"myproduct\", nonce=\"5f3c1a2b\", "
    "uri=\"/rpc/Sys.GetInfo\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
    "response=\"a46485dc568d254716164e5c66ae5e52\", algorithm=MD5";

static void test_authorization_ok(void) {
  struct moss_digest_creds c;
  const char *why = NULL;
  MT_REQUIRE(moss_digest_parse_authorization(moss_str_c(spec_hdr), &c, &why) ==
             MOSS_OK);
  MT_CHECK(c.http);
  MT_CHECK_STR(c.username, "joe");
  MT_CHECK_STR(c.uri, "/rpc/Sys.GetInfo");
  MT_CHECK_STR(c.nc, "00000001");
  MT_CHECK_EQ(c.nc_value, 1);
  MT_CHECK_EQ(c.nonce_value, 0x5f3c1a2b);
  MT_CHECK_EQ(moss_digest_check(&c, "myproduct", MOSS_DIGEST_MD5,
                                moss_str_c("/rpc/Sys.GetInfo")),
              MOSS_DIGEST_OK);
  MT_CHECK_EQ(moss_digest_check(&c, "myproduct", MOSS_DIGEST_MD5,
                                moss_str_c("/rpc/Sys.Reboot")),
              MOSS_DIGEST_URI_MISMATCH);
  /* The spec's example verifies once its nonce is in the table. */
  struct moss_nonce_table t;
  moss_nonce_init(&t, NULL, NULL);
  t.e[0].value = 0x5f3c1a2b;
  t.e[0].issued_ms = 0;
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 1, moss_str_c("POST")),
              MOSS_DIGEST_OK);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 2, moss_str_c("POST")),
              MOSS_DIGEST_NONCE_STALE);
  /* The method is part of HA2. */
  t.e[0].max_nc = 0;
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 3, moss_str_c("GET")),
              MOSS_DIGEST_BAD_RESPONSE);

  /* curl's spelling: quoted qop, tabs, escapes, extra parameters, empty
   * list elements, lower-case scheme. */
  MT_REQUIRE(moss_digest_parse_authorization(
                 moss_str_c("digest username=\"j\\\"oe\",realm=\"myproduct\","
                            " ,nonce=\"1f\",\turi=\"/rpc\",cnonce=\"MTIz\","
                            "nc=0000000a,qop=\"auth\",response=\"ABCDEF0123"
                            "456789abcdef0123456789\",opaque=\"x\","
                            "userhash=false,foo=bar"),
                 &c, &why) == MOSS_OK);
  MT_CHECK_STR(c.username, "j\"oe");
  MT_CHECK_EQ(c.nc_value, 10);
  MT_CHECK_EQ(c.nonce_value, 0x1f);
  MT_CHECK(c.algo_ok && c.algo == MOSS_DIGEST_MD5);
}

static void test_authorization_errors(void) {
  /* Every required attribute removed in turn. */
  static const char *const req[] = {"username", "realm", "nonce", "uri",
                                    "response", "qop",   "nc",    "cnonce"};
  static const char *const vals[] = {
      "username=\"joe\"",
      "realm=\"myproduct\"",
      "nonce=\"5f3c1a2b\"",
      "uri=\"/rpc\"",
      "response=\"a46485dc568d254716164e5c66ae5e52\"",
      "qop=auth",
      "nc=00000001",
      "cnonce=\"0a4f113b\""};
  for (size_t skip = 0; skip < MOSS_ARRAY_SIZE(req); skip++) {
    char hdr[512] = "Digest ";
    size_t off = strlen(hdr);
    for (size_t i = 0; i < MOSS_ARRAY_SIZE(vals); i++) {
      if (i == skip)
        continue;
      off += (size_t)snprintf(hdr + off, sizeof(hdr) - off, "%s, ", vals[i]);
    }
    struct moss_digest_creds c;
    const char *why = NULL;
    MT_CHECK_EQ(moss_digest_parse_authorization(moss_str_c(hdr), &c, &why),
                MOSS_ERR_PARSE);
    char want[32];
    snprintf(want, sizeof(want), "missing %s", req[skip]);
    MT_CHECK_STR(why, want);
  }
  static const struct {
    const char *hdr, *why;
  } cases[] = {
      {"Digest username=\"a\", username=\"b\", realm=\"r\", nonce=\"1\", "
       "uri=\"/\", response=\"ab\", qop=auth, nc=00000001, cnonce=\"c\"",
       "duplicate parameter"},
      {"Digest username=\"a\", realm=\"r\", nonce=\"1\", uri=\"/\", "
       "response=\"ab\", qop=auth, nc=00000001, cnonce=\"c\", "
       "RESPONSE=\"cd\"",
       "duplicate parameter"},
      {"Digest username=\"a\", realm=\"r\", nonce=\"1\", uri=\"/\", "
       "response=\"ab\", qop=auth-int, nc=00000001, cnonce=\"c\"",
       "qop must be auth"},
      {"Digest username=\"a\", realm=\"r\", nonce=\"1\", uri=\"/\", "
       "response=\"ab\", qop=auth, nc=1, cnonce=\"c\"",
       "nc must be 8 hex digits"},
      {"Digest username=\"a\", realm=\"r\", nonce=\"1\", uri=\"/\", "
       "response=\"ab\", qop=auth, nc=00000000, cnonce=\"c\"",
       "nc must not be 0"},
      {"Digest username=\"a\", realm=\"r\", nonce=\"1\", uri=\"/\", "
       "response=\"zz\", qop=auth, nc=00000001, cnonce=\"c\"",
       "response is not hex"},
      {"Digest username=\"\", realm=\"r\", nonce=\"1\", uri=\"/\", "
       "response=\"ab\", qop=auth, nc=00000001, cnonce=\"c\"",
       "empty parameter"},
      {"Digest username=\"a\", realm=\"r\", nonce=\"1\", uri=\"/\", "
       "response=\"ab\", qop=auth, nc=00000001, cnonce=\"c\", userhash=true",
       "userhash is not supported"},
      {"Digest username*=UTF-8''a, realm=\"r\"", "username* is not supported"},
      {"Digest username=\"a", "unterminated quoted string"},
      {"Digest username=\"a\\", "unterminated quoted string"},
      {"Digest username", "expected '=' after a parameter name"},
      {"Digest username=", "expected a token or a quoted string"},
      {"Digest username=a b", "expected ',' between parameters"},
      {"Digest =a", "expected a parameter name"},
      {"Digest username=\"a\rb\"", "invalid character in quoted string"},
      {"", "expected an auth scheme"},
      {"Digest,", "expected an auth scheme"},
  };
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(cases); i++) {
    struct moss_digest_creds c;
    const char *why = NULL;
    int r = moss_digest_parse_authorization(moss_str_c(cases[i].hdr), &c, &why);
    MT_CHECK_EQ(r, MOSS_ERR_PARSE);
    MT_CHECK_STR(why, cases[i].why);
  }
  struct moss_digest_creds c;
  MT_CHECK_EQ(moss_digest_parse_authorization(
                  moss_str_c("Basic am9lOnNlY3JldA=="), &c, NULL),
              MOSS_ERR_NOENT);
  /* An over-long uri is refused, not truncated. */
  char hdr[1200];
  snprintf(hdr, sizeof(hdr), "Digest uri=\"/%0700d\"", 0);
  MT_CHECK_EQ(moss_digest_parse_authorization(moss_str_c(hdr), &c, NULL),
              MOSS_ERR_PARSE);
  MT_CHECK_EQ(moss_digest_parse_authorization(MOSS_STR_NULL, &c, NULL),
              MOSS_ERR_PARSE);
}

/* ---- challenges ---------------------------------------------------------- */

static void test_challenge_texts(void) {
  char buf[256];
  int n = moss_digest_challenge_json(buf, sizeof(buf), 1611048949, "myproduct",
                                     MOSS_DIGEST_MD5);
  MT_CHECK_STR(buf,
               "{\"auth_type\": \"digest\", \"nonce\": 1611048949, \"nc\": 1, "
               "\"realm\": \"myproduct\", \"algorithm\": \"MD5\"}");
  MT_CHECK_EQ(n, (long long)strlen(buf));
  /* It is what an error.message carries: valid JSON once decoded. */
  moss_json_init();
  cJSON *j = cJSON_Parse(buf);
  MT_CHECK(cJSON_IsObject(j));
  cJSON_Delete(j);
  moss_digest_challenge_json(buf, sizeof(buf), MOSS_NONCE_MAX, "a\"b\\c",
                             MOSS_DIGEST_SHA256);
  MT_CHECK_STR(buf,
               "{\"auth_type\": \"digest\", \"nonce\": 9007199254740991, "
               "\"nc\": 1, \"realm\": \"a\\\"b\\\\c\", \"algorithm\": "
               "\"SHA-256\"}");
  MT_CHECK_EQ(
      moss_digest_challenge_json(buf, 40, 1, "myproduct", MOSS_DIGEST_MD5),
      MOSS_ERR_TOOBIG);
  MT_CHECK_STR(buf, "");

  n = moss_digest_challenge_header(buf, sizeof(buf), 0x5f3c1a2b, "myproduct",
                                   MOSS_DIGEST_MD5, false);
  MT_CHECK_STR(buf,
               "Digest realm=\"myproduct\", qop=\"auth\", nonce=\"5f3c1a2b\", "
               "algorithm=MD5");
  MT_CHECK(n > 0);
  moss_digest_challenge_header(buf, sizeof(buf), 0xabc, "my \"p\"",
                               MOSS_DIGEST_SHA256, true);
  MT_CHECK_STR(buf,
               "Digest realm=\"my \\\"p\\\"\", qop=\"auth\", nonce=\"abc\", "
               "algorithm=SHA-256, stale=true");
  MT_CHECK_EQ(moss_digest_challenge_header(buf, sizeof(buf), 1, "a\r\nX: y",
                                           MOSS_DIGEST_MD5, false),
              MOSS_ERR_INVAL);
}

static void test_challenge_parse(void) {
  char buf[256];
  struct moss_digest_challenge ch;
  const char *why;
  moss_digest_challenge_header(buf, sizeof(buf), 0x5f3c1a2b, "my \"p\"",
                               MOSS_DIGEST_SHA256, true);
  MT_REQUIRE(moss_digest_parse_challenge(moss_str_c(buf), &ch, &why) ==
             MOSS_OK);
  MT_CHECK_STR(ch.realm, "my \"p\"");
  MT_CHECK_STR(ch.nonce, "5f3c1a2b");
  MT_CHECK(ch.stale);
  MT_CHECK(ch.algo == MOSS_DIGEST_SHA256);
  MT_CHECK_EQ(
      moss_digest_parse_challenge(moss_str_c("Digest realm=\"r\", nonce=\"1\", "
                                             "qop=\"auth-int\""),
                                  &ch, &why),
      MOSS_ERR_NOTSUP);
  MT_CHECK_EQ(
      moss_digest_parse_challenge(moss_str_c("Digest realm=\"r\", nonce=\"1\", "
                                             "algorithm=MD5-sess"),
                                  &ch, &why),
      MOSS_ERR_NOTSUP);
  MT_CHECK_EQ(
      moss_digest_parse_challenge(moss_str_c("Digest realm=\"r\""), &ch, &why),
      MOSS_ERR_PARSE);
  MT_CHECK_STR(why, "missing nonce");
  MT_CHECK_EQ(moss_digest_parse_challenge(
                  moss_str_c("Digest realm=\"r\", realm=\"s\", nonce=\"1\""),
                  &ch, &why),
              MOSS_ERR_PARSE);
  MT_CHECK_EQ(
      moss_digest_parse_challenge(moss_str_c("Basic realm=\"r\""), &ch, &why),
      MOSS_ERR_NOENT);
  MT_CHECK_EQ(moss_digest_parse_challenge(
                  moss_str_c("Digest qop=\"auth, auth-int\", nonce=\"1\", "
                             "realm=\"\""),
                  &ch, &why),
              MOSS_OK);

  moss_digest_challenge_json(buf, sizeof(buf), 1611048949, "myproduct",
                             MOSS_DIGEST_MD5);
  MT_REQUIRE(moss_digest_parse_frame_challenge(moss_str_c(buf), &ch, &why) ==
             MOSS_OK);
  MT_CHECK_STR(ch.nonce, "1611048949");
  MT_CHECK_STR(ch.realm, "myproduct");
  MT_CHECK(ch.algo == MOSS_DIGEST_MD5);
  MT_CHECK_EQ(
      moss_digest_parse_frame_challenge(moss_str_c("unauthorized"), &ch, &why),
      MOSS_ERR_NOENT);
  MT_CHECK_EQ(
      moss_digest_parse_frame_challenge(
          moss_str_c("{\"auth_type\":\"digest\",\"realm\":\"r\"}"), &ch, &why),
      MOSS_ERR_PARSE);
}

/* A full round: device challenge -> mos-style answer -> device verify. */
static void test_round_trip_http(void) {
  struct moss_nonce_table t;
  uint64_t ctr = 77, n;
  moss_nonce_init(&t, fake_rng, &ctr);
  MT_REQUIRE(moss_nonce_issue(&t, 0, &n) == MOSS_OK);
  char hdr[256];
  MT_REQUIRE(moss_digest_challenge_header(hdr, sizeof(hdr), n, "myproduct",
                                          MOSS_DIGEST_MD5, false) > 0);
  struct moss_digest_challenge ch;
  MT_REQUIRE(moss_digest_parse_challenge(moss_str_c(hdr), &ch, NULL) ==
             MOSS_OK);
  char resp[MOSS_DIGEST_HEX_MAX], auth[512];
  moss_digest_response(ch.algo, moss_str_c(joe_md5), moss_str_c(ch.nonce),
                       moss_str_c("00000001"), moss_str_c("4242"),
                       moss_str_c("POST"), moss_str_c("/rpc"), resp);
  snprintf(auth, sizeof(auth),
           "Digest username=\"joe\", realm=\"%s\", nonce=\"%s\", "
           "uri=\"/rpc\", qop=auth, nc=00000001, cnonce=\"4242\", "
           "response=\"%s\", algorithm=MD5",
           ch.realm, ch.nonce, resp);
  struct moss_digest_creds c;
  MT_REQUIRE(moss_digest_parse_authorization(moss_str_c(auth), &c, NULL) ==
             MOSS_OK);
  MT_CHECK_EQ(
      moss_digest_check(&c, "myproduct", MOSS_DIGEST_MD5, moss_str_c("/rpc")),
      MOSS_DIGEST_OK);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 5, moss_str_c("POST")),
              MOSS_DIGEST_OK);
  MT_CHECK_EQ(moss_digest_verify(&c, joe_md5, &t, 6, moss_str_c("POST")),
              MOSS_DIGEST_NONCE_STALE);
}

void at_digest_tests(void) {
  MT_RUN(test_ha2_constants);
  MT_RUN(test_ha1_vectors);
  MT_RUN(test_response_vectors);
  MT_RUN(test_creds_json_ok);
  MT_RUN(test_creds_json_errors);
  MT_RUN(test_check_statuses);
  MT_RUN(test_verify_replay);
  MT_RUN(test_verify_wrong);
  MT_RUN(test_verify_sha256);
  MT_RUN(test_authorization_ok);
  MT_RUN(test_authorization_errors);
  MT_RUN(test_challenge_texts);
  MT_RUN(test_challenge_parse);
  MT_RUN(test_round_trip_http);
}
