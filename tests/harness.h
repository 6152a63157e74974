/*
 * A small unit-test harness (BearSSL test_crypto / Redis testhelp style).
 *
 *   static void test_foo(void) { MT_CHECK(1 + 1 == 2); }
 *   int main(int argc, char **argv) {
 *     MT_RUN(test_foo);
 *     return mt_done();
 *   }
 *
 * Each MT_RUN prints "ok <name>" or "FAIL <name>" with every failed check
 * (file:line, expression, hex dumps for MT_CHECK_MEM).  After each test the
 * harness checks that moss's counting allocator has no outstanding blocks
 * (a leak fails the test).  mt_done() prints "N passed, N failed" and
 * returns the exit status.  A name filter may be given as argv[1]
 * (mt_init).
 */
#ifndef MOSS_TEST_HARNESS_H
#define MOSS_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void mt_init(int argc, char **argv);
void mt_run(const char *name, void (*fn)(void));
int mt_done(void);
void mt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mt_hexdump(const char *label, const void *p, size_t n);
/* Allow the current test to leave allocated blocks (fixtures kept across
 * tests); reset by each MT_RUN. */
void mt_allow_leaks(void);
/* A fresh temporary directory for this test (removed at exit). */
const char *mt_tmpdir(void);

#define MT_RUN(fn) mt_run(#fn, fn)

#define MT_CHECK(x)                                        \
  do {                                                     \
    if (!(x))                                              \
      mt_fail(__FILE__, __LINE__, "check failed: %s", #x); \
  } while (0)

#define MT_CHECK_EQ(a, b)                                                    \
  do {                                                                       \
    long long a_ = (long long)(a), b_ = (long long)(b);                      \
    if (a_ != b_)                                                            \
      mt_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
  } while (0)

#define MT_CHECK_STR(a, b)                                              \
  do {                                                                  \
    const char *a_ = (a), *b_ = (b);                                    \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                \
      mt_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
              a_ ? a_ : "(null)", b_ ? b_ : "(null)");                  \
  } while (0)

#define MT_CHECK_MEM(a, b, n)                                          \
  do {                                                                 \
    const void *a_ = (a), *b_ = (b);                                   \
    size_t n_ = (n);                                                   \
    if (memcmp(a_, b_, n_) != 0) {                                     \
      mt_fail(__FILE__, __LINE__, "memory differs: %s vs %s", #a, #b); \
      mt_hexdump("got", a_, n_);                                       \
      mt_hexdump("expected", b_, n_);                                  \
    }                                                                  \
  } while (0)

/* Returns from the test function on failure. */
#define MT_REQUIRE(x)                                            \
  do {                                                           \
    if (!(x)) {                                                  \
      mt_fail(__FILE__, __LINE__, "requirement failed: %s", #x); \
      return;                                                    \
    }                                                            \
  } while (0)

#endif
