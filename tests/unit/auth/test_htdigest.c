/*
 * htdigest password files (rpc.md §5.7): files written by Apache's
 * htdigest (tests/vectors/auth/gen.sh), streaming in any chunk size, and
 * every malformed-line error with its line and column.
 */
#include <stdio.h>
#include <string.h>

#include "auth_test.h"
#include "moss/err.h"

static char file_md5[4096], file_sha[4096];
static long len_md5, len_sha;

static void load(void) {
  if (len_md5 <= 0) {
    len_md5 =
        at_read_file(AUTH_VEC("rpc_auth.txt"), file_md5, sizeof(file_md5));
    len_sha = at_read_file(AUTH_VEC("rpc_auth_sha256.txt"), file_sha,
                           sizeof(file_sha));
  }
}

static void test_real_htdigest_file(void) {
  load();
  MT_REQUIRE(len_md5 > 0);
  char ha1[MOSS_DIGEST_HEX_MAX];
  struct moss_auth_file_error e;
  MT_CHECK_EQ(moss_htdigest_lookup(file_md5, (size_t)len_md5, MOSS_DIGEST_MD5,
                                   "joe", "myproduct", ha1, &e),
              MOSS_OK);
  MT_CHECK_STR(ha1, "30ddc51638030c8748c70feadcf878d8");
  /* Same user, other realm: its own line. */
  MT_CHECK_EQ(moss_htdigest_lookup(file_md5, (size_t)len_md5, MOSS_DIGEST_MD5,
                                   "joe", "otherrealm", ha1, &e),
              MOSS_OK);
  MT_CHECK_STR(ha1, "2989a95009620fc43a48e0024c653a41");
  /* The HA1 htdigest wrote is H(user:realm:password). */
  char h[MOSS_DIGEST_HEX_MAX];
  struct moss_str p[3] = {moss_str_c("user1"), moss_str_c("myproduct"),
                          moss_str_c("pa:ss w0rd")};
  moss_digest_hash_hex(MOSS_DIGEST_MD5, p, 3, h);
  MT_CHECK_EQ(moss_htdigest_lookup(file_md5, (size_t)len_md5, MOSS_DIGEST_MD5,
                                   "user1", "myproduct", ha1, &e),
              MOSS_OK);
  MT_CHECK_STR(ha1, h);
  MT_CHECK_EQ(moss_htdigest_lookup(file_md5, (size_t)len_md5, MOSS_DIGEST_MD5,
                                   "mallory", "myproduct", ha1, &e),
              MOSS_OK);
  MT_CHECK_STR(ha1, "");
  MT_CHECK_EQ(moss_htdigest_lookup(file_md5, (size_t)len_md5, MOSS_DIGEST_MD5,
                                   "JOE", "myproduct", ha1, &e),
              MOSS_OK);
  MT_CHECK_STR(ha1, "");
  /* An MD5 file is invalid when SHA-256 is configured (fail closed). */
  MT_CHECK_EQ(
      moss_htdigest_lookup(file_md5, (size_t)len_md5, MOSS_DIGEST_SHA256, "joe",
                           "myproduct", ha1, &e),
      MOSS_ERR_PARSE);
  MT_CHECK_STR(ha1, "");
  MT_CHECK_EQ(e.line, 1);
  MT_CHECK_EQ(e.col, 15);
  MT_CHECK_STR(e.what, "expected 64 hex digits after the second ':'");
}

static void test_sha256_file(void) {
  load();
  MT_REQUIRE(len_sha > 0);
  char ha1[MOSS_DIGEST_HEX_MAX];
  MT_CHECK_EQ(
      moss_htdigest_lookup(file_sha, (size_t)len_sha, MOSS_DIGEST_SHA256, "joe",
                           "myproduct", ha1, NULL),
      MOSS_OK);
  MT_CHECK_STR(ha1,
               "d9d81b3c1a4c249f36c7598a160b1b5c"
               "13768ea6db94234d38d6aefb75b37b40");
}

/* Every chunk size gives the same answer as the one-shot lookup. */
static void test_streaming_chunks(void) {
  load();
  MT_REQUIRE(len_md5 > 0);
  for (size_t chunk = 1; chunk <= (size_t)len_md5; chunk++) {
    struct moss_htdigest_scan s;
    moss_htdigest_scan_init(&s, MOSS_DIGEST_MD5, "user2", "myproduct");
    for (size_t off = 0; off < (size_t)len_md5; off += chunk) {
      size_t n = MOSS_MIN(chunk, (size_t)len_md5 - off);
      MT_CHECK_EQ(moss_htdigest_scan_feed(&s, file_md5 + off, n), MOSS_OK);
    }
    MT_CHECK_EQ(moss_htdigest_scan_finish(&s), MOSS_OK);
    MT_CHECK_STR(moss_htdigest_scan_ha1(&s),
                 "ee654e57a3b0f5d8719719d0286e694f");
    moss_htdigest_scan_wipe(&s);
    MT_CHECK(moss_htdigest_scan_ha1(&s) == NULL ||
             moss_htdigest_scan_ha1(&s)[0] == '\0');
  }
}

static void test_format_rules(void) {
  /* Comments, blank lines, CRLF, trailing spaces, no final newline,
   * upper-case hex (returned lower-cased), first match wins. */
  static const char text[] =
      "# users\r\n"
      "\n"
      "   \r\n"
      "joe:myproduct:30DDC51638030C8748C70FEADCF878D8 \r\n"
      "joe:myproduct:00000000000000000000000000000000\n"
      "ann:myproduct:0123456789abcdef0123456789abcdef";
  char ha1[MOSS_DIGEST_HEX_MAX];
  MT_CHECK_EQ(moss_htdigest_lookup(text, strlen(text), MOSS_DIGEST_MD5, "joe",
                                   "myproduct", ha1, NULL),
              MOSS_OK);
  MT_CHECK_STR(ha1, "30ddc51638030c8748c70feadcf878d8");
  MT_CHECK_EQ(moss_htdigest_lookup(text, strlen(text), MOSS_DIGEST_MD5, "ann",
                                   "myproduct", ha1, NULL),
              MOSS_OK);
  MT_CHECK_STR(ha1, "0123456789abcdef0123456789abcdef");
  /* Validation only. */
  MT_CHECK_EQ(moss_htdigest_lookup(text, strlen(text), MOSS_DIGEST_MD5, NULL,
                                   NULL, ha1, NULL),
              MOSS_OK);
  MT_CHECK_STR(ha1, "");
  MT_CHECK_EQ(moss_htdigest_lookup("", 0, MOSS_DIGEST_MD5, "a", "b", ha1, NULL),
              MOSS_OK);
}

static void test_errors(void) {
  static const struct {
    const char *text;
    unsigned line, col;
    const char *what;
  } cases[] = {
      {"joe:myproduct:30ddc51638030c8748c70feadcf878d8\n"
       "ok:r:30ddc51638030c8748c70feadcf878d8\n"
       "joe:myproduc:xyz\n",
       3, 14, "expected 32 hex digits after the second ':'"},
      {"joe:myproduct:30ddc51638030c8748c70feadcf878d\n", 1, 15,
       "expected 32 hex digits after the second ':'"},
      {"joe:myproduct:30ddc51638030c8748c70feadcf878d8a\n", 1, 15,
       "expected 32 hex digits after the second ':'"},
      {"joe:myproduct:30ddc51638030c8748c70feadcf878dg\n", 1, 15,
       "expected 32 hex digits after the second ':'"},
      {"joe:myproduct: 30ddc51638030c8748c70feadcf878d8\n", 1, 15,
       "expected 32 hex digits after the second ':'"},
      {"joe:a:b:30ddc51638030c8748c70feadcf878d8\n", 1, 7,
       "expected 32 hex digits after the second ':'"},
      {"\njoe\n", 2, 4, "expected ':' after the user name"},
      {":r:30ddc51638030c8748c70feadcf878d8\n", 1, 1, "empty user name"},
      {"joe:myproduct\n", 1, 14, "expected ':' after the realm"},
      {"joe::30ddc51638030c8748c70feadcf878d8\n", 1, 5, "empty realm"},
      {"jo\0e:r:30ddc51638030c8748c70feadcf878d8\n", 1, 3,
       "unexpected NUL byte"},
      /* A bad line after the user's own line still fails the file. */
      {"joe:myproduct:30ddc51638030c8748c70feadcf878d8\nbroken\n", 2, 7,
       "expected ':' after the user name"},
  };
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(cases); i++) {
    size_t len = strlen(cases[i].text);
    if (strcmp(cases[i].what, "unexpected NUL byte") == 0)
      len = 2 + 1 + strlen(cases[i].text + 3);
    char ha1[MOSS_DIGEST_HEX_MAX] = "junk";
    struct moss_auth_file_error e;
    MT_CHECK_EQ(moss_htdigest_lookup(cases[i].text, len, MOSS_DIGEST_MD5, "joe",
                                     "myproduct", ha1, &e),
                MOSS_ERR_PARSE);
    MT_CHECK_STR(ha1, "");
    MT_CHECK_EQ(e.line, cases[i].line);
    MT_CHECK_EQ(e.col, cases[i].col);
    MT_CHECK_STR(e.what, cases[i].what);
  }
}

static void test_long_lines(void) {
  static char text[2100];
  /* Exactly 1024 bytes before the newline: accepted. */
  memset(text, 'a', 1024);
  memcpy(text, "u:", 2);
  memcpy(text + 1024 - 33, ":30ddc51638030c8748c70feadcf878d8", 33);
  text[1024] = '\n';
  MT_CHECK_EQ(
      moss_htdigest_lookup(text, 1025, MOSS_DIGEST_MD5, NULL, NULL, NULL, NULL),
      MOSS_OK);
  /* 1025: refused, at column 1025, whatever the chunking. */
  memset(text, 'a', 1025);
  memcpy(text, "u:", 2);
  memcpy(text + 1025 - 33, ":30ddc51638030c8748c70feadcf878d8", 33);
  text[1025] = '\n';
  struct moss_auth_file_error e;
  MT_CHECK_EQ(
      moss_htdigest_lookup(text, 1026, MOSS_DIGEST_MD5, NULL, NULL, NULL, &e),
      MOSS_ERR_PARSE);
  MT_CHECK_EQ(e.line, 1);
  MT_CHECK_EQ(e.col, 1025);
  MT_CHECK_STR(e.what, "line longer than 1024 bytes");
  /* Sticky: later feeds change nothing. */
  struct moss_htdigest_scan s;
  moss_htdigest_scan_init(&s, MOSS_DIGEST_MD5, "u", "r");
  MT_CHECK_EQ(moss_htdigest_scan_feed(&s, text, 1026), MOSS_ERR_PARSE);
  MT_CHECK_EQ(
      moss_htdigest_scan_feed(&s, "u:r:30ddc51638030c8748c70feadcf878d8\n", 37),
      MOSS_ERR_PARSE);
  MT_CHECK_EQ(moss_htdigest_scan_finish(&s), MOSS_ERR_PARSE);
  MT_CHECK(moss_htdigest_scan_ha1(&s) == NULL);
  MT_CHECK_EQ(moss_htdigest_scan_error(&s)->col, 1025);
  moss_htdigest_scan_wipe(&s);
}

static void test_error_texts(void) {
  struct moss_auth_file_error e = {3, 14, ""};
  snprintf(e.what, sizeof(e.what),
           "expected 32 hex digits after the second ':'");
  char buf[200];
  MT_CHECK(moss_htdigest_error_format(buf, sizeof(buf), "rpc_auth.txt", &e,
                                      MOSS_AUTH_MSG_LOG) > 0);
  MT_CHECK_STR(buf,
               "rpc_auth.txt:3:14: invalid password file: expected 32 "
               "hex digits after the second ':'");
  moss_htdigest_error_format(buf, sizeof(buf), "rpc_auth.txt", &e,
                             MOSS_AUTH_MSG_REPLY);
  MT_CHECK_STR(buf,
               "invalid password file rpc_auth.txt: line 3: expected 32 "
               "hex digits after the second ':'");
  e.line = 2;
  moss_htdigest_error_format(buf, sizeof(buf), "rpc_auth.txt", &e,
                             MOSS_AUTH_MSG_CONFIG);
  MT_CHECK_STR(buf,
               "rpc_auth.txt: line 2: expected 32 hex digits after the "
               "second ':'");
  MT_CHECK_EQ(moss_htdigest_error_format(buf, 10, "rpc_auth.txt", &e,
                                         MOSS_AUTH_MSG_CONFIG),
              MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(strlen(buf), 9);
}

void at_htdigest_tests(void) {
  MT_RUN(test_real_htdigest_file);
  MT_RUN(test_sha256_file);
  MT_RUN(test_streaming_chunks);
  MT_RUN(test_format_rules);
  MT_RUN(test_errors);
  MT_RUN(test_long_lines);
  MT_RUN(test_error_texts);
}
