/* A tiny in-memory filesystem behind struct moss_cfg_fs for the tests
 * (static storage: the harness's leak check sees only the module). */
#ifndef TEST_CFG_MEMFS_H
#define TEST_CFG_MEMFS_H

#include <stdbool.h>
#include <stddef.h>

#include "moss/cfg.h"

#define MEMFS_FILES 16

struct memfs {
  struct {
    bool used;
    char name[40];
    char data[MOSS_CFG_FILE_MAX + 64];
    size_t len;
  } f[MEMFS_FILES];
  int fail_write; /* moss_err returned by write when non-zero */
  int writes;
  int read_err_for_name; /* with read_err_name: read fails with it */
  char read_err_name[40];
};

void memfs_reset(struct memfs *m);
void memfs_put(struct memfs *m, const char *name, const char *text);
/* NULL if absent; NUL-terminated. */
const char *memfs_get(struct memfs *m, const char *name);
bool memfs_has(struct memfs *m, const char *name);
/* An fs bound to m (static storage, one at a time). */
const struct moss_cfg_fs *memfs_ops(struct memfs *m);

#endif
