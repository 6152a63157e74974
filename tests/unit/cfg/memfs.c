#include "memfs.h"

#include <stdio.h>
#include <string.h>

#include "moss/err.h"

static int find(struct memfs *m, const char *name) {
  for (int i = 0; i < MEMFS_FILES; i++)
    if (m->f[i].used && strcmp(m->f[i].name, name) == 0)
      return i;
  return -1;
}

void memfs_reset(struct memfs *m) {
  memset(m, 0, sizeof(*m));
}

static int put_n(struct memfs *m, const char *name, const void *d, size_t n) {
  int i = find(m, name);
  if (i < 0)
    for (i = 0; i < MEMFS_FILES && m->f[i].used; i++) {
    }
  if (i >= MEMFS_FILES || n >= sizeof(m->f[i].data) ||
      strlen(name) >= sizeof(m->f[i].name))
    return MOSS_ERR_NOSPC;
  m->f[i].used = true;
  snprintf(m->f[i].name, sizeof(m->f[i].name), "%s", name);
  memcpy(m->f[i].data, d, n);
  m->f[i].data[n] = '\0';
  m->f[i].len = n;
  return MOSS_OK;
}

void memfs_put(struct memfs *m, const char *name, const char *text) {
  put_n(m, name, text, strlen(text));
}

const char *memfs_get(struct memfs *m, const char *name) {
  int i = find(m, name);
  return i < 0 ? NULL : m->f[i].data;
}

bool memfs_has(struct memfs *m, const char *name) {
  return find(m, name) >= 0;
}

static int fs_read(void *ctx, const char *name, char *buf, size_t cap) {
  struct memfs *m = ctx;
  if (m->read_err_for_name && strcmp(name, m->read_err_name) == 0)
    return m->read_err_for_name;
  int i = find(m, name);
  if (i < 0)
    return MOSS_ERR_NOENT;
  if (m->f[i].len > cap)
    return MOSS_ERR_TOOBIG;
  memcpy(buf, m->f[i].data, m->f[i].len);
  return (int)m->f[i].len;
}

static int fs_write(void *ctx, const char *name, const void *d, size_t n) {
  struct memfs *m = ctx;
  if (m->fail_write)
    return m->fail_write;
  m->writes++;
  return put_n(m, name, d, n);
}

static int fs_remove(void *ctx, const char *name) {
  struct memfs *m = ctx;
  int i = find(m, name);
  if (i < 0)
    return MOSS_ERR_NOENT;
  m->f[i].used = false;
  return MOSS_OK;
}

static bool fs_exists(void *ctx, const char *name) {
  return find(ctx, name) >= 0;
}

const struct moss_cfg_fs *memfs_ops(struct memfs *m) {
  static struct moss_cfg_fs ops;
  ops.ctx = m;
  ops.read = fs_read;
  ops.write = fs_write;
  ops.remove = fs_remove;
  ops.exists = fs_exists;
  ops.rename = NULL; /* exercise the read+write+remove fallback */
  return &ops;
}
