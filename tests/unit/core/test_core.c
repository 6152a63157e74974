/* Unit tests of core/: allocator, buffers, strings, glob, base64, crc,
 * JSON positions, log sanitizing. */
#include <string.h>

#include "harness.h"
#include "moss/alloc.h"
#include "moss/base64.h"
#include "moss/buf.h"
#include "moss/err.h"
#include "moss/glob.h"
#include "moss/json.h"
#include "moss/log.h"
#include "moss/util.h"

static void test_alloc_counts_per_subsystem(void) {
  struct moss_alloc_stats a, b;
  moss_alloc_get_stats(&a);
  void *p = moss_alloc(MOSS_SUB_HTTP, 100);
  void *q = moss_calloc(MOSS_SUB_TLS, 10, 10);
  MT_REQUIRE(p != NULL && q != NULL);
  moss_alloc_get_stats(&b);
  MT_CHECK_EQ(b.by_sub[MOSS_SUB_HTTP] - a.by_sub[MOSS_SUB_HTTP],
              100 + MOSS_ALLOC_OVERHEAD);
  MT_CHECK_EQ(b.by_sub[MOSS_SUB_TLS] - a.by_sub[MOSS_SUB_TLS],
              100 + MOSS_ALLOC_OVERHEAD);
  MT_CHECK_EQ(b.blocks - a.blocks, 2);
  MT_CHECK_EQ(((unsigned char *)q)[99], 0);
  p = moss_realloc(p, 300);
  MT_REQUIRE(p != NULL);
  moss_alloc_get_stats(&b);
  MT_CHECK_EQ(b.by_sub[MOSS_SUB_HTTP] - a.by_sub[MOSS_SUB_HTTP],
              300 + MOSS_ALLOC_OVERHEAD);
  moss_free(p);
  moss_free_secret(q);
  moss_alloc_get_stats(&b);
  MT_CHECK_EQ(b.in_use, a.in_use);
}

static void test_alloc_budget(void) {
  struct moss_alloc_stats st;
  moss_alloc_get_stats(&st);
  moss_alloc_set_budget(st.in_use + 1000);
  void *p = moss_alloc(MOSS_SUB_CORE, 900);
  MT_CHECK(p != NULL);
  void *q = moss_alloc(MOSS_SUB_CORE, 200); /* beyond the budget */
  MT_CHECK(q == NULL);
  MT_CHECK(moss_realloc(p, 2000) == NULL); /* old block untouched */
  moss_alloc_get_stats(&st);
  MT_CHECK(st.failures >= 2);
  MT_CHECK(st.min_free <= 100);
  moss_free(p);
  moss_alloc_set_budget(0);
  moss_alloc_fail_after(2);
  p = moss_alloc(MOSS_SUB_CORE, 8);
  q = moss_alloc(MOSS_SUB_CORE, 8);
  MT_CHECK(p != NULL && q == NULL);
  moss_free(p);
  MT_CHECK(moss_alloc(MOSS_SUB_CORE, 0) == NULL);
}

static void test_buf_cap(void) {
  struct moss_buf b;
  moss_buf_init(&b, MOSS_SUB_CORE, 100);
  MT_CHECK(b.buf == NULL);
  MT_CHECK_EQ(moss_buf_append(&b, "hello", 5), MOSS_OK);
  char big[200];
  memset(big, 'x', sizeof(big));
  MT_CHECK_EQ(moss_buf_append(&b, big, 96), MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(moss_buf_append(&b, big, 95), MOSS_OK);
  MT_CHECK_EQ(b.len, 100);
  moss_buf_consume(&b, 5);
  MT_CHECK_EQ(b.len, 95);
  MT_CHECK(b.buf[0] == 'x');
  moss_buf_consume(&b, 1000);
  MT_CHECK(b.buf == NULL && b.len == 0); /* idle buffers hold no heap */
  moss_buf_free(&b);
}

static bool gm(const char *p, const char *s) {
  return moss_glob_match(moss_str_c(p), moss_str_c(s));
}

static void test_glob(void) {
  MT_CHECK(gm("*", "RPC.List"));
  MT_CHECK(gm("FS.*", "fs.list"));
  MT_CHECK(gm("fs.*", "FS.Put"));
  MT_CHECK(!gm("FS.*", "Sys.GetInfo"));
  MT_CHECK(!gm("FS.*", "FS"));
  MT_CHECK(gm("Sys.?etInfo", "Sys.GetInfo"));
  MT_CHECK(!gm("*", "a/b"));
  MT_CHECK(gm("**", "a/b"));
  MT_CHECK(gm("a/**", "a/b/c"));
  MT_CHECK(gm("*.pem|*.key", "server.key"));
  MT_CHECK(gm("*.pem,*.key", "ca.pem"));
  MT_CHECK(!gm("*.pem,*.key", "ca.crt"));
  MT_CHECK(!gm("", "x"));
  MT_CHECK(!gm("", ""));
  MT_CHECK(gm("abc$", "abc"));
  MT_CHECK(!gm("ab", "abc")); /* whole-string match */
  MT_CHECK(gm("*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
  MT_CHECK(!gm("*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_base64(void) {
  char out[64];
  size_t n;
  MT_CHECK_EQ(moss_base64_encode(out, sizeof(out), &n, "hello", 5), MOSS_OK);
  MT_CHECK_STR(out, "aGVsbG8=");
  uint8_t dec[16];
  MT_CHECK_EQ(moss_base64_decode(dec, sizeof(dec), &n, out, strlen(out)),
              MOSS_OK);
  MT_CHECK_EQ(n, 5);
  MT_CHECK_MEM(dec, "hello", 5);
  MT_CHECK_EQ(moss_base64_decode(dec, sizeof(dec), &n, "a*==", 4),
              MOSS_ERR_PARSE);
  MT_CHECK_EQ(moss_base64_encode(out, 4, &n, "hello", 5), MOSS_ERR_TOOBIG);
  memset(out, 'x', sizeof(out));
  MT_CHECK_EQ(moss_base64_encode(out, sizeof(out), &n, "", 0), MOSS_OK);
  MT_CHECK_EQ(n, 0);
  MT_CHECK_STR(out, "");
}

static void test_util(void) {
  MT_CHECK_EQ(moss_crc32(0, "123456789", 9), 0xCBF43926u);
  MT_CHECK(moss_ct_eq("abcd", "abcd", 4));
  MT_CHECK(!moss_ct_eq("abcd", "abce", 4));
  uint8_t k[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  moss_zeroize(k, sizeof(k));
  MT_CHECK_MEM(k, "\0\0\0\0\0\0\0\0", 8);
  char d[4];
  MT_CHECK_EQ(moss_str_copy(d, sizeof(d), moss_str_c("abcd")), MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(moss_str_copy(d, sizeof(d), moss_str_c("abc")), MOSS_OK);
  MT_CHECK(moss_str_casecmp_eq(moss_str_c("Sys"), moss_str_c("sYS")));
  MT_CHECK_STR(moss_strerror(MOSS_ERR_NOSPC), "no space left");
}

/* A literal as (text, n): its bytes without the terminating NUL. */
#define JT(lit) (lit), (sizeof(lit) - 1)

static void test_json_ws(void) {
  MT_CHECK(moss_json_is_ws(' ') && moss_json_is_ws('\t'));
  MT_CHECK(moss_json_is_ws('\r') && moss_json_is_ws('\n'));
  /* RFC 8259: nothing else, although cJSON skips every byte <= 0x20. */
  MT_CHECK(!moss_json_is_ws('\v') && !moss_json_is_ws('\f'));
  MT_CHECK(!moss_json_is_ws('\0') && !moss_json_is_ws('x'));
  MT_CHECK_EQ(moss_json_skip_ws(JT(" \t\r\n x"), 0), 5);
  MT_CHECK_EQ(moss_json_skip_ws(JT(" \v x"), 0), 1);
  MT_CHECK_EQ(moss_json_skip_ws(JT("   "), 1), 3);
}

static void test_json_strings(void) {
  MT_CHECK_EQ(moss_json_string_end(JT("\"a\\\"b\" x"), 0), 5);
  MT_CHECK_EQ(moss_json_skip_string(JT("\"a\\\"b\" x"), 0), 6);
  MT_CHECK_EQ(moss_json_skip_string(JT("\"\\\\\"x"), 0), 4);
  MT_CHECK_EQ(moss_json_string_end(JT("\"abc"), 0), 4);
  MT_CHECK_EQ(moss_json_skip_string(JT("\"abc"), 0), 4);
  /* A backslash as the last byte: the escape runs past n, the result
   * stays n (the '"' beyond n is never looked at). */
  MT_CHECK_EQ(moss_json_string_end("\"ab\\\"", 4, 0), 4);
  MT_CHECK_EQ(moss_json_skip_string("\"ab\"", 3, 0), 3);
}

static void test_json_values(void) {
  const char obj[] = "{\"a\":[1,\"]}\",{}],\"b\":\"{\"} ,";
  MT_CHECK_EQ(moss_json_skip_value(obj, sizeof(obj) - 1, 0), 25);
  MT_CHECK_EQ(moss_json_skip_value(JT("[[[]]]x"), 0), 6);
  MT_CHECK_EQ(moss_json_skip_value(JT("123 ,"), 0), 3);
  MT_CHECK_EQ(moss_json_skip_value(JT("-1.5e3}"), 0), 6);
  MT_CHECK_EQ(moss_json_skip_value(JT("true]"), 0), 4);
  MT_CHECK_EQ(moss_json_skip_value(JT("null\n"), 0), 4);
  MT_CHECK_EQ(moss_json_skip_value(JT("\"x\\\"y\","), 0), 6);
  /* Not RFC whitespace: part of the token, so a caller checking the
   * token's grammar rejects it instead of losing its place. */
  MT_CHECK_EQ(moss_json_skip_value(JT("1\v,"), 0), 2);
  MT_CHECK_EQ(moss_json_skip_value(JT("{\"a\":[1,2"), 0), 9);
  MT_CHECK_EQ(moss_json_skip_value(JT("x"), 1), 1);
}

static void test_json_members(void) {
  const char t[] =
      "{ \"a\" : 1 ,\r\n\t\"b\\\"c\":{\"x\":[1,2]}, \"id\" :\"q\" }";
  size_t n = sizeof(t) - 1, i = 1;
  struct moss_str key;
  MT_REQUIRE(moss_json_member(t, n, &i, &key));
  MT_CHECK(moss_str_eq_c(key, "a"));
  MT_CHECK_EQ(t[i], '1');
  MT_REQUIRE(moss_json_member_next(t, n, &i));
  MT_REQUIRE(moss_json_member(t, n, &i, &key));
  MT_CHECK(moss_str_eq_c(key, "b\\\"c")); /* as written, not decoded */
  MT_CHECK_EQ(t[i], '{');
  MT_REQUIRE(moss_json_member_next(t, n, &i));
  MT_REQUIRE(moss_json_member(t, n, &i, &key));
  MT_CHECK(moss_str_eq_c(key, "id"));
  MT_CHECK_EQ(moss_json_skip_value(t, n, i) - i, 3);
  MT_CHECK(!moss_json_member_next(t, n, &i)); /* the closing '}' */

  i = 1;
  MT_CHECK(!moss_json_member(JT("{ }"), &i, &key));
  i = 1;
  MT_CHECK(!moss_json_member(JT("{\"a\"\v:1}"), &i, &key));
  i = 1;
  MT_CHECK(!moss_json_member(JT("{\"a"), &i, &key));
  i = 1;
  MT_CHECK(!moss_json_member(JT("{\"a\""), &i, &key));
  i = 5;
  MT_CHECK(!moss_json_member_next(JT("{\"a\":1"), &i));
  i = 5; /* a string value, then a byte cJSON skips but RFC 8259 not */
  MT_CHECK(!moss_json_member_next(JT("{\"a\":\"x\"\v,\"b\":2}"), &i));
}

static void test_log_sanitize(void) {
  MT_CHECK(!moss_log_printable(0x00) && !moss_log_printable(0x1f));
  MT_CHECK(moss_log_printable(0x20) && moss_log_printable(0x7e));
  MT_CHECK(!moss_log_printable(0x7f) && !moss_log_printable(0x80));
  MT_CHECK(!moss_log_printable(0xff));

  char d[32];
  const char in[] = "ab\r\nc\x1b[1m\x7f\x80\xff\t~ ";
  MT_CHECK_EQ(moss_log_sanitize(d, sizeof(d), in, sizeof(in) - 1), 15);
  MT_CHECK_STR(d, "ab??c?[1m????~ ");
  /* Forged line: the CR/LF never reach the log. */
  MT_CHECK_EQ(moss_log_sanitize(d, sizeof(d), "u\nERROR x", 9), 9);
  MT_CHECK_STR(d, "u?ERROR x");
  /* Embedded NUL: replaced, not an early end. */
  MT_CHECK_EQ(moss_log_sanitize(d, sizeof(d), "a\0b", 3), 3);
  MT_CHECK_STR(d, "a?b");
  /* Truncated to the destination, always terminated. */
  MT_CHECK_EQ(moss_log_sanitize(d, 4, "abcdef", 6), 3);
  MT_CHECK_STR(d, "abc");
  MT_CHECK_EQ(moss_log_sanitize(d, 1, "abcdef", 6), 0);
  MT_CHECK_STR(d, "");
  /* Nothing written at all into a 0-byte destination. */
  d[0] = 'z';
  MT_CHECK_EQ(moss_log_sanitize(d, 0, "abc", 3), 0);
  MT_CHECK_EQ(d[0], 'z');
  MT_CHECK_EQ(moss_log_sanitize(d, sizeof(d), NULL, 0), 0);
  MT_CHECK_STR(d, "");
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  MT_RUN(test_alloc_counts_per_subsystem);
  MT_RUN(test_alloc_budget);
  MT_RUN(test_buf_cap);
  MT_RUN(test_glob);
  MT_RUN(test_base64);
  MT_RUN(test_util);
  MT_RUN(test_json_ws);
  MT_RUN(test_json_strings);
  MT_RUN(test_json_values);
  MT_RUN(test_json_members);
  MT_RUN(test_log_sanitize);
  return mt_done();
}
