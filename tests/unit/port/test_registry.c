/* Unit tests of port/posix/registry.c: the port registry directory that
 * mossd writes and mos reads (moss/port_registry.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "moss/err.h"
#include "moss/port_registry.h"

static bool is_dir(const char *p, mode_t *mode) {
  struct stat st;
  if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
    return false;
  *mode = st.st_mode & 0777;
  return true;
}

static void test_xdg(void) {
  char want[600], got[600], parent[600];
  const char *t = mt_tmpdir();
  setenv("XDG_RUNTIME_DIR", t, 1);
  setenv("TMPDIR", "/nonexistent", 1);
  snprintf(want, sizeof(want), "%s/moss/ports", t);
  snprintf(parent, sizeof(parent), "%s/moss", t);
  /* mos: the path only, nothing made. */
  MT_CHECK_EQ(moss_port_registry_dir(got, sizeof(got), false), MOSS_OK);
  MT_CHECK_STR(got, want);
  mode_t m;
  MT_CHECK(!is_dir(parent, &m));
  /* mossd: the same path, made private. */
  MT_CHECK_EQ(moss_port_registry_dir(got, sizeof(got), true), MOSS_OK);
  MT_CHECK_STR(got, want);
  MT_CHECK(is_dir(parent, &m) && m == 0700);
  MT_CHECK(is_dir(want, &m) && m == 0700);
  /* Again: the directories exist, still fine. */
  MT_CHECK_EQ(moss_port_registry_dir(got, sizeof(got), true), MOSS_OK);
  MT_CHECK_STR(got, want);
  unsetenv("XDG_RUNTIME_DIR");
  unsetenv("TMPDIR");
}

static void test_tmpdir(void) {
  char want[600], got[600];
  const char *t = mt_tmpdir();
  setenv("XDG_RUNTIME_DIR", "", 1); /* empty counts as unset */
  setenv("TMPDIR", t, 1);
  snprintf(want, sizeof(want), "%s/moss-%u/ports", t, (unsigned)getuid());
  MT_CHECK_EQ(moss_port_registry_dir(got, sizeof(got), true), MOSS_OK);
  MT_CHECK_STR(got, want);
  mode_t m;
  MT_CHECK(is_dir(want, &m) && m == 0700);
  unsetenv("XDG_RUNTIME_DIR");
  setenv("TMPDIR", "", 1);
  snprintf(want, sizeof(want), "/tmp/moss-%u/ports", (unsigned)getuid());
  MT_CHECK_EQ(moss_port_registry_dir(got, sizeof(got), false), MOSS_OK);
  MT_CHECK_STR(got, want);
  unsetenv("TMPDIR");
  MT_CHECK_EQ(moss_port_registry_dir(got, sizeof(got), false), MOSS_OK);
  MT_CHECK_STR(got, want);
}

static void test_too_long(void) {
  char got[16];
  setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
  MT_CHECK_EQ(moss_port_registry_dir(got, sizeof(got), true), MOSS_ERR_TOOBIG);
  /* Exactly fitting: "/r/moss/ports" is 13 bytes + NUL. */
  setenv("XDG_RUNTIME_DIR", "/r", 1);
  MT_CHECK_EQ(moss_port_registry_dir(got, 14, false), MOSS_OK);
  MT_CHECK_STR(got, "/r/moss/ports");
  MT_CHECK_EQ(moss_port_registry_dir(got, 13, false), MOSS_ERR_TOOBIG);
  unsetenv("XDG_RUNTIME_DIR");
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  MT_RUN(test_xdg);
  MT_RUN(test_tmpdir);
  MT_RUN(test_too_long);
  return mt_done();
}
