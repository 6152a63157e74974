/*
 * Nonce table (rpc.md §5.6) with a fake clock and a fake random source,
 * and the per-peer failure throttle.
 */
#include <string.h>

#include "auth_test.h"
#include "moss/err.h"

static int seq_rng(void *arg, void *buf, size_t n) {
  uint64_t *ctr = arg;
  uint8_t *b = buf;
  (*ctr)++;
  memset(b, 0, n);
  for (size_t i = 0; i < 8 && i < n; i++)
    b[n - 1 - i] = (uint8_t)(*ctr >> (8 * i));
  return MOSS_OK;
}

static int const_rng(void *arg, void *buf, size_t n) {
  (void)arg;
  memset(buf, 0x5a, n);
  return MOSS_OK;
}

static int bad_rng(void *arg, void *buf, size_t n) {
  (void)arg;
  (void)buf;
  (void)n;
  return MOSS_ERR_IO;
}

static void test_issue_os_random(void) {
  struct moss_nonce_table t;
  moss_nonce_init(&t, NULL, NULL);
  MT_CHECK_EQ(t.ttl_s, 300);
  uint64_t a, b;
  MT_REQUIRE(moss_nonce_issue(&t, 0, &a) == MOSS_OK);
  MT_REQUIRE(moss_nonce_issue(&t, 0, &b) == MOSS_OK);
  MT_CHECK(a != 0 && b != 0 && a != b);
  MT_CHECK(a <= MOSS_NONCE_MAX && b <= MOSS_NONCE_MAX);
  MT_CHECK_EQ(moss_nonce_check(&t, a, 1, 1), MOSS_NONCE_VALID);
}

static void test_rng_failure_and_collision(void) {
  struct moss_nonce_table t;
  uint64_t n = 0;
  moss_nonce_init(&t, bad_rng, NULL);
  MT_CHECK_EQ(moss_nonce_issue(&t, 0, &n), MOSS_ERR_CRYPTO);
  MT_CHECK_EQ(t.e[0].value, 0);
  /* A source stuck on one value: the second nonce would repeat, so none
   * is issued. */
  moss_nonce_init(&t, const_rng, NULL);
  MT_CHECK_EQ(moss_nonce_issue(&t, 0, &n), MOSS_OK);
  MT_CHECK_EQ(n, 0x5a5a5a5a5a5a5aull & MOSS_NONCE_MAX);
  MT_CHECK_EQ(moss_nonce_issue(&t, 0, &n), MOSS_ERR_CRYPTO);
}

static void test_nc_rules(void) {
  struct moss_nonce_table t;
  uint64_t ctr = 0, n;
  moss_nonce_init(&t, seq_rng, &ctr);
  MT_REQUIRE(moss_nonce_issue(&t, 100, &n) == MOSS_OK);
  MT_CHECK_EQ(n, 1);
  MT_CHECK_EQ(moss_nonce_check(&t, n, 0, 100), MOSS_NONCE_REPLAY);
  MT_CHECK_EQ(moss_nonce_accept(&t, n, 1, 100), MOSS_NONCE_VALID);
  MT_CHECK_EQ(moss_nonce_accept(&t, n, 1, 100), MOSS_NONCE_REPLAY);
  /* check alone does not consume. */
  MT_CHECK_EQ(moss_nonce_check(&t, n, 2, 100), MOSS_NONCE_VALID);
  MT_CHECK_EQ(moss_nonce_check(&t, n, 2, 100), MOSS_NONCE_VALID);
  MT_CHECK_EQ(moss_nonce_accept(&t, n, 3, 100), MOSS_NONCE_VALID);
  MT_CHECK_EQ(moss_nonce_accept(&t, n, 2, 100), MOSS_NONCE_REPLAY);
  MT_CHECK_EQ(moss_nonce_accept(&t, n, 4, 100), MOSS_NONCE_VALID);
  MT_CHECK_EQ(moss_nonce_check(&t, 0, 1, 100), MOSS_NONCE_UNKNOWN);
  MT_CHECK_EQ(moss_nonce_check(&t, 999, 1, 100), MOSS_NONCE_UNKNOWN);
  moss_nonce_clear(&t);
  MT_CHECK_EQ(moss_nonce_check(&t, n, 9, 100), MOSS_NONCE_UNKNOWN);
}

static void test_expiry_fake_clock(void) {
  struct moss_nonce_table t;
  uint64_t ctr = 0, n;
  moss_nonce_init(&t, seq_rng, &ctr);
  MT_REQUIRE(moss_nonce_issue(&t, 5000, &n) == MOSS_OK);
  MT_CHECK_EQ(moss_nonce_check(&t, n, 1, 5000 + 299999), MOSS_NONCE_VALID);
  MT_CHECK_EQ(moss_nonce_check(&t, n, 1, 5000 + 300000), MOSS_NONCE_EXPIRED);
  /* The expired entry is gone for good. */
  MT_CHECK_EQ(moss_nonce_check(&t, n, 1, 5000), MOSS_NONCE_UNKNOWN);
  /* Configurable TTL, clamped to 1..3600 s, applies to live nonces. */
  MT_CHECK_EQ(moss_nonce_set_ttl(&t, 10), 10);
  MT_REQUIRE(moss_nonce_issue(&t, 0, &n) == MOSS_OK);
  MT_CHECK_EQ(moss_nonce_check(&t, n, 1, 9999), MOSS_NONCE_VALID);
  MT_CHECK_EQ(moss_nonce_set_ttl(&t, 0), 1);
  MT_CHECK_EQ(moss_nonce_check(&t, n, 1, 1000), MOSS_NONCE_EXPIRED);
  MT_CHECK_EQ(moss_nonce_set_ttl(&t, 99999), 3600);
  MT_CHECK_EQ(moss_nonce_set_ttl(&t, -5), 1);
  /* A clock that went backwards does not expire anything. */
  moss_nonce_set_ttl(&t, 300);
  MT_REQUIRE(moss_nonce_issue(&t, 1000000, &n) == MOSS_OK);
  MT_CHECK_EQ(moss_nonce_check(&t, n, 1, 10), MOSS_NONCE_VALID);
}

static void test_table_full(void) {
  struct moss_nonce_table t;
  uint64_t ctr = 0, n[MOSS_NONCE_TABLE_SIZE + 2];
  moss_nonce_init(&t, seq_rng, &ctr);
  for (size_t i = 0; i < MOSS_NONCE_TABLE_SIZE; i++)
    MT_REQUIRE(moss_nonce_issue(&t, 1000 + i, &n[i]) == MOSS_OK);
  MT_CHECK_EQ(t.evictions, 0);
  for (size_t i = 0; i < MOSS_NONCE_TABLE_SIZE; i++)
    MT_CHECK_EQ(moss_nonce_check(&t, n[i], 1, 2000), MOSS_NONCE_VALID);
  /* Full: the oldest (issued at 1000) goes. */
  MT_REQUIRE(moss_nonce_issue(&t, 2000, &n[MOSS_NONCE_TABLE_SIZE]) == MOSS_OK);
  MT_CHECK_EQ(t.evictions, 1);
  MT_CHECK_EQ(moss_nonce_check(&t, n[0], 1, 2000), MOSS_NONCE_UNKNOWN);
  MT_CHECK_EQ(moss_nonce_check(&t, n[1], 1, 2000), MOSS_NONCE_VALID);
  MT_CHECK_EQ(moss_nonce_check(&t, n[MOSS_NONCE_TABLE_SIZE], 1, 2000),
              MOSS_NONCE_VALID);
  /* Expired entries are reused before any live one is evicted: at
   * 1000+5+300000 the entries issued at 1001..1005 have expired. */
  MT_REQUIRE(moss_nonce_issue(&t, 301005, &n[MOSS_NONCE_TABLE_SIZE + 1]) ==
             MOSS_OK);
  MT_CHECK_EQ(t.evictions, 1);
  MT_CHECK_EQ(moss_nonce_check(&t, n[10], 1, 301005), MOSS_NONCE_VALID);
}

static void test_throttle(void) {
  struct moss_auth_throttle t;
  moss_auth_throttle_init(&t);
  uint32_t count = 0;
  MT_CHECK_EQ(moss_auth_throttle_delay(&t, "10.0.0.7", 0), 0);
  for (uint32_t i = 1; i <= MOSS_AUTH_THROTTLE_FREE; i++) {
    MT_CHECK_EQ(moss_auth_throttle_fail(&t, "10.0.0.7", i, &count), 0);
    MT_CHECK_EQ(count, i);
  }
  MT_CHECK_EQ(moss_auth_throttle_delay(&t, "10.0.0.7", 10), 250);
  MT_CHECK_EQ(moss_auth_throttle_fail(&t, "10.0.0.7", 10, &count), 250);
  MT_CHECK_EQ(moss_auth_throttle_fail(&t, "10.0.0.7", 11, &count), 500);
  for (int i = 0; i < 40; i++)
    moss_auth_throttle_fail(&t, "10.0.0.7", 12, &count);
  MT_CHECK_EQ(moss_auth_throttle_fail(&t, "10.0.0.7", 13, &count),
              MOSS_AUTH_THROTTLE_MAX_MS);
  MT_CHECK_EQ(count, 46);
  /* Other peers are unaffected. */
  MT_CHECK_EQ(moss_auth_throttle_fail(&t, "UART", 13, &count), 0);
  MT_CHECK_EQ(count, 1);
  /* Success forgets; so does a long quiet period. */
  moss_auth_throttle_success(&t, "10.0.0.7");
  MT_CHECK_EQ(moss_auth_throttle_delay(&t, "10.0.0.7", 14), 0);
  for (int i = 0; i < 6; i++)
    moss_auth_throttle_fail(&t, "UART", 20, NULL);
  MT_CHECK(moss_auth_throttle_delay(&t, "UART", 21) > 0);
  MT_CHECK_EQ(
      moss_auth_throttle_delay(&t, "UART", 20 + MOSS_AUTH_THROTTLE_FORGET_MS),
      0);
  MT_CHECK_EQ(moss_auth_throttle_fail(
                  &t, "UART", 20 + MOSS_AUTH_THROTTLE_FORGET_MS, &count),
              0);
  MT_CHECK_EQ(count, 1);
  /* A full table evicts the least recent peer. */
  char peer[16];
  for (int i = 0; i < 20; i++) {
    snprintf(peer, sizeof(peer), "p%d", i);
    moss_auth_throttle_fail(&t, peer, 1000000 + (uint64_t)i, NULL);
  }
  moss_auth_throttle_fail(&t, "p19", 1000100, &count);
  MT_CHECK_EQ(count, 2);
  moss_auth_throttle_fail(&t, "p0", 1000100, &count);
  MT_CHECK_EQ(count, 1);
}

void at_nonce_tests(void) {
  MT_RUN(test_issue_os_random);
  MT_RUN(test_rng_failure_and_collision);
  MT_RUN(test_nc_rules);
  MT_RUN(test_expiry_fake_clock);
  MT_RUN(test_table_full);
  MT_RUN(test_throttle);
}
