/*
 * ACL (rpc.md §6): the seed's broken sample, error positions and texts,
 * the decision table (tests/vectors/auth/acl_decisions.txt), sources.
 */
#include <stdio.h>
#include <string.h>

#include "auth_test.h"
#include "moss/err.h"

static const char seed_fixed[] =
    "[\n"
    "  {\"method\": \"FS.*\", \"ch_type\": \"GCP\", \"acl\": \"*\"},\n"
    "  {\"method\": \"SYS.*\", \"ch_type\": \"WS_in\", \"acl\": \"*\"},\n"
    "  {\"method\": \"FS.*\", \"acl\": \"+user1,-user2\"},\n"
    "  {\"method\": \"*\", \"acl\": \"-*\"}\n"
    "]\n";

static struct moss_acl acl; /* ~3 KiB: not on the test's stack */

static unsigned atoi_dec(const char *s) {
  unsigned v = 0;
  while (*s >= '0' && *s <= '9')
    v = v * 10 + (unsigned)(*s++ - '0');
  return v;
}

static void test_seed_sample_error(void) {
  char text[1024], buf[256];
  long n = at_read_file(AUTH_VEC("rpc_acl_seed.json"), text, sizeof(text));
  MT_REQUIRE(n > 0);
  struct moss_auth_file_error e;
  MT_CHECK_EQ(moss_acl_parse(&acl, text, (size_t)n, &e, NULL, NULL),
              MOSS_ERR_PARSE);
  MT_CHECK_EQ(acl.n, 0);
  MT_CHECK(moss_acl_error_format(buf, sizeof(buf), "rpc_acl.json", &e,
                                 MOSS_AUTH_MSG_CONFIG) > 0);
  MT_CHECK_STR(buf,
               "rpc_acl.json:3:3: expected ',' or ']' after array "
               "element, found '{'");
  moss_acl_error_format(buf, sizeof(buf), "rpc_acl.json", &e,
                        MOSS_AUTH_MSG_LOG);
  MT_CHECK_STR(buf,
               "rpc_acl.json:3:3: ACL parse error: expected ',' or ']' "
               "after array element, found '{'");
  moss_acl_error_format(buf, sizeof(buf), "rpc_acl.json", &e,
                        MOSS_AUTH_MSG_REPLY);
  MT_CHECK_STR(buf,
               "invalid ACL in rpc_acl.json at line 3, column 3: "
               "expected ',' or ']' after array element, found '{'");
}

static void test_seed_fixed_parses(void) {
  struct moss_auth_file_error e;
  MT_REQUIRE(moss_acl_parse(&acl, seed_fixed, strlen(seed_fixed), &e, NULL,
                            NULL) == MOSS_OK);
  MT_CHECK_EQ(acl.n, 4);
  MT_CHECK(moss_str_eq_c(acl.e[0].method, "FS.*"));
  MT_CHECK(moss_str_eq_c(acl.e[0].ch_type, "GCP"));
  MT_CHECK(moss_str_eq_c(acl.e[2].acl, "+user1,-user2"));
  MT_CHECK(acl.e[2].ch_type.buf == NULL);
  MT_CHECK_EQ(acl.e[3].line, 5);
  MT_CHECK_EQ(acl.e[3].col, 3);
  /* Views are NUL-terminated (handy for log lines). */
  MT_CHECK_EQ(acl.e[1].method.buf[acl.e[1].method.len], '\0');
}

static void test_error_vectors(void) {
  static char buf[8192];
  MT_REQUIRE(at_read_file(AUTH_VEC("acl_errors.txt"), buf, sizeof(buf)) > 0);
  char *cur = buf, *f[4];
  int rows = 0;
  while (at_next_row(&cur, '|', f, 4) == 4) {
    char json[512];
    size_t n = 0;
    for (const char *p = f[3]; *p && n + 1 < sizeof(json); p++) {
      if (p[0] == '\\' && p[1] == 'n') {
        json[n++] = '\n';
        p++;
      } else {
        json[n++] = *p;
      }
    }
    json[n] = '\0';
    struct moss_auth_file_error e;
    int r = moss_acl_parse(&acl, json, n, &e, NULL, NULL);
    if (r != MOSS_ERR_PARSE || e.line != (unsigned)atoi_dec(f[0]) ||
        e.col != (unsigned)atoi_dec(f[1]) || strcmp(e.what, f[2]) != 0)
      mt_fail(__FILE__, __LINE__, "%s: got %d %u:%u '%s', want %s:%s '%s'",
              f[3], r, e.line, e.col, e.what, f[0], f[1], f[2]);
    rows++;
  }
  MT_CHECK_EQ(rows, 26);
}

static void warn_cb(void *arg, unsigned line, unsigned col, const char *key) {
  char *out = arg;
  size_t n = strlen(out);
  snprintf(out + n, 256 - n, "%u:%u:%s;", line, col, key);
}

static void test_unknown_keys_warn(void) {
  char warned[256] = "";
  static const char text[] =
      "[{\"method\":\"*\",\"acl\":\"*\",\"comment\":{\"a\":[1,2,{}]},\n"
      " \"x\\u0041\":null}]";
  MT_CHECK_EQ(moss_acl_parse(&acl, text, strlen(text), NULL, warn_cb, warned),
              MOSS_OK);
  MT_CHECK_STR(warned, "1:26:comment;2:2:xA;");
  MT_CHECK_EQ(acl.n, 1);
}

static void test_limits(void) {
  static char text[MOSS_ACL_TEXT_MAX + 64];
  struct moss_auth_file_error e;
  size_t n = 0;
  text[n++] = '[';
  for (unsigned i = 0; i <= MOSS_ACL_MAX_ENTRIES; i++)
    n += (size_t)snprintf(text + n, sizeof(text) - n,
                          "%s{\"method\":\"m%u\",\"acl\":\"*\"}", i ? "," : "",
                          i);
  text[n++] = ']';
  MT_CHECK_EQ(moss_acl_parse(&acl, text, n, &e, NULL, NULL), MOSS_ERR_TOOBIG);
  MT_CHECK_STR(e.what, "too many ACL entries (at most 32)");
  MT_CHECK_EQ(acl.n, 0);
  /* Deep nesting inside an ignored value. */
  n = (size_t)snprintf(text, sizeof(text),
                       "[{\"method\":\"a\",\"acl\":\"*\","
                       "\"x\":");
  for (int i = 0; i < 40; i++)
    text[n++] = '[';
  for (int i = 0; i < 40; i++)
    text[n++] = ']';
  text[n++] = '}';
  text[n++] = ']';
  MT_CHECK_EQ(moss_acl_parse(&acl, text, n, &e, NULL, NULL), MOSS_ERR_PARSE);
  MT_CHECK_STR(e.what, "nesting too deep");
  /* Too long a text. */
  memset(text, ' ', MOSS_ACL_TEXT_MAX + 1);
  MT_CHECK_EQ(moss_acl_parse(&acl, text, MOSS_ACL_TEXT_MAX + 1, &e, NULL, NULL),
              MOSS_ERR_TOOBIG);
  /* Strings that overflow the pool. */
  n = 0;
  text[n++] = '[';
  for (int i = 0; i < 3; i++) {
    n += (size_t)snprintf(text + n, sizeof(text) - n, "%s{\"method\":\"",
                          i ? "," : "");
    memset(text + n, 'a', 900);
    n += 900;
    n += (size_t)snprintf(text + n, sizeof(text) - n, "\",\"acl\":\"*\"}");
  }
  text[n++] = ']';
  MT_CHECK_EQ(moss_acl_parse(&acl, text, n, &e, NULL, NULL), MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(e.line, 1);
}

static void test_strings_decoded(void) {
  static const char text[] =
      "[{\"method\":\"FS.\\u002a\",\"ch_type\":\"W\\u00e9\\ud83d\\ude00\","
      "\"acl\":\"+a\\/b\\\\c\"}]";
  MT_REQUIRE(moss_acl_parse(&acl, text, strlen(text), NULL, NULL, NULL) ==
             MOSS_OK);
  MT_CHECK(moss_str_eq_c(acl.e[0].method, "FS.*"));
  MT_CHECK(moss_str_eq_c(acl.e[0].ch_type, "W\xc3\xa9\xf0\x9f\x98\x80"));
  MT_CHECK(moss_str_eq_c(acl.e[0].acl, "+a/b\\c"));
  MT_CHECK_EQ(moss_acl_parse(&acl, "  [ ]  ", 7, NULL, NULL, NULL), MOSS_OK);
  MT_CHECK_EQ(acl.n, 0);
}

static enum moss_acl_verdict verdict_of(const char *s) {
  if (strcmp(s, "allow") == 0)
    return MOSS_ACL_ALLOW;
  if (strcmp(s, "need") == 0)
    return MOSS_ACL_NEED_USER;
  if (strcmp(s, "500") == 0)
    return MOSS_ACL_NOT_CONFIGURED;
  return MOSS_ACL_DENY;
}

static void test_decision_table(void) {
  static char buf[8192];
  MT_REQUIRE(at_read_file(AUTH_VEC("acl_decisions.txt"), buf, sizeof(buf)) > 0);
  char *cur = buf, *f[7];
  int rows = 0;
  while (at_next_row(&cur, '\t', f, 7) == 7) {
    const struct moss_acl *a = NULL;
    if (strcmp(f[0], "seed") == 0) {
      MT_REQUIRE(moss_acl_parse(&acl, seed_fixed, strlen(seed_fixed), NULL,
                                NULL, NULL) == MOSS_OK);
      a = &acl;
    } else if (strcmp(f[0], "-") != 0) {
      struct moss_auth_file_error e;
      int r = moss_acl_parse(&acl, f[0], strlen(f[0]), &e, NULL, NULL);
      if (r != MOSS_OK)
        mt_fail(__FILE__, __LINE__, "%s: %u:%u %s", f[0], e.line, e.col,
                e.what);
      a = &acl;
    }
    struct moss_str text = MOSS_STR_NULL;
    enum moss_acl_verdict v =
        moss_acl_decide(a, f[1][0] == '1', moss_str_c(f[2]), moss_str_c(f[3]),
                        moss_str_c(f[4]), &text);
    if (v != verdict_of(f[5]) || !moss_str_eq_c(text, f[6]))
      mt_fail(__FILE__, __LINE__, "row %d (%s %s %s %s): got %d '%.*s'",
              rows + 1, f[0], f[2], f[3], f[4], (int)v, (int)text.len,
              text.buf ? text.buf : "");
    rows++;
  }
  MT_CHECK_EQ(rows, 34);
}

static void test_acl_strings(void) {
  struct {
    const char *acl, *user;
    bool allow;
  } cases[] = {
      {"+user1,-user2", "user1", true},
      {"+user1,-user2", "user2", false},
      {"+user1,-user2", "joe", false},
      {"-user2,*", "joe", true},
      {"-user2,*", "user2", false},
      {"joe", "joe", true},
      {" joe , ann ", "ann", true},
      {"+adm*", "admin", true},
      {"-*,joe", "joe", false},
      {"", "joe", false},
      {",,joe", "joe", true},
      {"+", "joe", false},
      {"*", "", false},
  };
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(cases); i++)
    if (moss_acl_str_allows(moss_str_c(cases[i].acl),
                            moss_str_c(cases[i].user)) != cases[i].allow)
      mt_fail(__FILE__, __LINE__, "'%s' for '%s'", cases[i].acl, cases[i].user);
}

static void test_sources(void) {
  const char *w = "x";
  MT_CHECK_EQ(moss_acl_source("", "", &w), MOSS_ACL_SRC_NONE);
  MT_CHECK(w == NULL);
  MT_CHECK_EQ(moss_acl_source(NULL, NULL, &w), MOSS_ACL_SRC_NONE);
  MT_CHECK_EQ(moss_acl_source("[]", "", &w), MOSS_ACL_SRC_INLINE);
  MT_CHECK_STR(w, "[]");
  MT_CHECK_EQ(moss_acl_source("@rpc_acl.json", NULL, &w), MOSS_ACL_SRC_FILE);
  MT_CHECK_STR(w, "rpc_acl.json");
  MT_CHECK_EQ(moss_acl_source("", "acl2.json", &w), MOSS_ACL_SRC_FILE);
  MT_CHECK_STR(w, "acl2.json");
  MT_CHECK_EQ(moss_acl_source("[]", "acl2.json", &w), MOSS_ACL_SRC_CONFLICT);
  MT_CHECK_EQ(moss_acl_source("@a", "b", NULL), MOSS_ACL_SRC_CONFLICT);
}

/* The entry that decided, as 403 messages name it (1-based for users). */
static void test_match_and_format(void) {
  char buf[MOSS_ACL_ENTRY_TEXT_MAX];
  MT_REQUIRE(moss_acl_parse(&acl, seed_fixed, strlen(seed_fixed), NULL, NULL,
                            NULL) == MOSS_OK);
  MT_CHECK_EQ(
      moss_acl_match(&acl, moss_str_c("Sys.Reboot"), moss_str_c("WS_in")), 1);
  MT_CHECK_EQ(moss_acl_match(&acl, moss_str_c("FS.Get"), moss_str_c("GCP")), 0);
  MT_CHECK_EQ(moss_acl_match(&acl, moss_str_c("FS.Get"), moss_str_c("UART")),
              2);
  MT_CHECK_EQ(
      moss_acl_match(&acl, moss_str_c("Config.Set"), moss_str_c("HTTP")), 3);
  MT_CHECK_EQ(moss_acl_match(NULL, moss_str_c("RPC.List"), moss_str_c("x")),
              -1);
  MT_CHECK_EQ(moss_acl_entry_format(buf, sizeof(buf), &acl.e[3]), 25);
  MT_CHECK_STR(buf, "{\"method\":\"*\",\"acl\":\"-*\"}");
  moss_acl_entry_format(buf, sizeof(buf), &acl.e[0]);
  MT_CHECK_STR(buf, "{\"method\":\"FS.*\",\"ch_type\":\"GCP\",\"acl\":\"*\"}");

  static const char odd[] =
      "[{\"ch_type\":\"UART\",\"acl\":\"a\\\"b\\\\c\\n\"},"
      "{\"method\":\"RPC.Ping\",\"acl\":\"*\"}]";
  MT_REQUIRE(moss_acl_parse(&acl, odd, strlen(odd), NULL, NULL, NULL) ==
             MOSS_OK);
  MT_CHECK_EQ(moss_acl_match(&acl, moss_str_c("RPC.Ping"), moss_str_c("HTTP")),
              1);
  MT_CHECK_EQ(moss_acl_match(&acl, moss_str_c("RPC.List"), moss_str_c("HTTP")),
              -1);
  moss_acl_entry_format(buf, sizeof(buf), &acl.e[0]);
  MT_CHECK_STR(buf, "{\"ch_type\":\"UART\",\"acl\":\"a\\\"b\\\\c\\u000a\"}");

  /* Too long: cut at a character, marked, still one line. */
  static const char lng[] =
      "[{\"method\":\"Sys.\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\",\"acl\":\"-*\"}]";
  MT_REQUIRE(moss_acl_parse(&acl, lng, strlen(lng), NULL, NULL, NULL) ==
             MOSS_OK);
  char small[24];
  int n = moss_acl_entry_format(small, sizeof(small), &acl.e[0]);
  MT_CHECK_EQ(n, (int)strlen(small));
  MT_CHECK_STR(small, "{\"method\":\"Sys.\xc3\xa9\xc3\xa9...}");
  /* One byte less splits the second character: it goes whole. */
  moss_acl_entry_format(small, sizeof(small) - 1, &acl.e[0]);
  MT_CHECK_STR(small, "{\"method\":\"Sys.\xc3\xa9...}");
  MT_CHECK_EQ(moss_acl_entry_format(small, 6, &acl.e[0]), MOSS_ERR_TOOBIG);
}

void at_acl_tests(void) {
  MT_RUN(test_seed_sample_error);
  MT_RUN(test_seed_fixed_parses);
  MT_RUN(test_error_vectors);
  MT_RUN(test_unknown_keys_warn);
  MT_RUN(test_limits);
  MT_RUN(test_strings_decoded);
  MT_RUN(test_decision_table);
  MT_RUN(test_acl_strings);
  MT_RUN(test_sources);
  MT_RUN(test_match_and_format);
}
