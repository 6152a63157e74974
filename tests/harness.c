/* The unit-test harness; see harness.h. */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "moss/alloc.h"

static int passed, failed;
static int cur_failed;
static bool allow_leaks;
static const char *filter;
static char tmpdir[256];

void mt_init(int argc, char **argv) {
  if (argc > 1)
    filter = argv[1];
  setvbuf(stdout, NULL, _IOLBF, 0);
}

void mt_allow_leaks(void) {
  allow_leaks = true;
}

static void rm_tmpdir(void) {
  if (tmpdir[0] != '\0') {
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", tmpdir);
    tmpdir[0] = '\0';
  }
}

const char *mt_tmpdir(void) {
  rm_tmpdir();
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof(tmpdir), "%s/moss-test-XXXXXX", base ? base : "/tmp");
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    exit(2);
  }
  return tmpdir;
}

void mt_run(const char *name, void (*fn)(void)) {
  if (filter != NULL && strstr(name, filter) == NULL)
    return;
  struct moss_alloc_stats before, after;
  moss_alloc_get_stats(&before);
  cur_failed = 0;
  allow_leaks = false;
  fn();
  moss_alloc_get_stats(&after);
  if (!allow_leaks && after.blocks != before.blocks) {
    mt_fail(__FILE__, __LINE__, "%zd block(s), %zd byte(s) leaked",
            (ssize_t)(after.blocks - before.blocks),
            (ssize_t)(after.in_use - before.in_use));
  }
  rm_tmpdir();
  if (cur_failed) {
    failed++;
    printf("FAIL %s\n", name);
  } else {
    passed++;
    printf("ok %s\n", name);
  }
}

void mt_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  cur_failed++;
  printf("  %s:%d: ", file, line);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

void mt_hexdump(const char *label, const void *p, size_t n) {
  const uint8_t *b = p;
  printf("  %s (%zu bytes):\n", label, n);
  for (size_t i = 0; i < n && i < 512; i += 16) {
    printf("    %04zx:", i);
    for (size_t j = i; j < i + 16 && j < n; j++)
      printf(" %02x", b[j]);
    printf("\n");
  }
}

int mt_done(void) {
  rm_tmpdir();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
