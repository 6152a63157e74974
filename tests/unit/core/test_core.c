/* Unit tests of core/: allocator, buffers, strings, glob, base64, crc. */
#include <string.h>

#include "harness.h"
#include "moss/alloc.h"
#include "moss/base64.h"
#include "moss/buf.h"
#include "moss/err.h"
#include "moss/glob.h"
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
  MT_CHECK_EQ(((unsigned char *) q)[99], 0);
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
  MT_CHECK_EQ(moss_str_copy(d, sizeof(d), moss_str_c("abcd")),
              MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(moss_str_copy(d, sizeof(d), moss_str_c("abc")), MOSS_OK);
  MT_CHECK(moss_str_casecmp_eq(moss_str_c("Sys"), moss_str_c("sYS")));
  MT_CHECK_STR(moss_strerror(MOSS_ERR_NOSPC), "no space left");
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  MT_RUN(test_alloc_counts_per_subsystem);
  MT_RUN(test_alloc_budget);
  MT_RUN(test_buf_cap);
  MT_RUN(test_glob);
  MT_RUN(test_base64);
  MT_RUN(test_util);
  return mt_done();
}
