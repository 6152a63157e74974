/* Power-cut test: a workload (create, overwrite, append, rename, remove,
 * fill to full, GC under pressure, appends in FS.Put-sized chunks near
 * full: tail merges, GC steps draining two sectors) is replayed and power
 * is cut at every single flash program/erase, with and without torn
 * writes.  After each cut: power on, remount, fsck, the whole state must
 * equal the model before or after the interrupted operation, and the FS
 * must be writable. */
#include <stdlib.h>
#include <string.h>

#include "fs_test.h"
#include "harness.h"
#include "moss/err.h"
#include "moss/fs.h"
#include "moss/util.h"

#define CUT_SIZE 0x8000u
/* Steps CHUNK0.. append CHUNK bytes each to "p", one open/write/close
 * (an FS.Put) per step, after step CHUNK0 - 1 filled the FS close to
 * full. */
#define CHUNK0 21
#define NCHUNKS 16
#define CHUNK 512
#define NSTEPS (CHUNK0 + NCHUNKS)
#define MAXF 8
#define MAXLEN 32768

struct mfile {
  char name[8];
  uint32_t len;
  uint8_t data[MAXLEN];
};
struct model {
  int n;
  struct mfile f[MAXF];
};

static struct mfile *mfind(struct model *m, const char *name) {
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->f[i].name, name) == 0)
      return &m->f[i];
  return NULL;
}

static void mremove(struct model *m, const char *name) {
  struct mfile *f = mfind(m, name);
  if (f != NULL)
    *f = m->f[--m->n];
}

static void mput(struct model *m, const char *name, const uint8_t *d,
                 uint32_t len) {
  struct mfile *f = mfind(m, name);
  if (f == NULL) {
    f = &m->f[m->n++];
    snprintf(f->name, sizeof(f->name), "%s", name);
  }
  memcpy(f->data, d, len);
  f->len = len;
}

static uint8_t tmp[MAXLEN * 2];

static int wf(struct moss_fs *fs, struct model *m, const char *name,
              uint32_t len, uint32_t seed) {
  fst_fill(tmp, len, seed);
  int rc = moss_fs_write_file(fs, name, tmp, len);
  mput(m, name, tmp, len);
  return rc;
}

/* Step i >= CHUNK0: one FS.Put-sized append to "p" (open, write,
 * close). */
static int chunk_step(struct moss_fs *fs, int i, struct model *m) {
  struct moss_fs_file *f;
  struct mfile *mf = mfind(m, "p");
  if (mf == NULL) {
    mput(m, "p", tmp, 0);
    mf = mfind(m, "p");
  }
  fst_fill(mf->data + mf->len, CHUNK, (uint32_t)(100 + i));
  mf->len += CHUNK;
  int rc = moss_fs_open(fs, "p", MOSS_FS_O_RDWR | MOSS_FS_O_CREAT, &f);
  if (rc < 0)
    return rc;
  if ((rc = moss_fs_seek(f, 0, MOSS_FS_SEEK_END)) < 0 ||
      (rc = moss_fs_write(f, mf->data + mf->len - CHUNK, CHUNK)) < 0) {
    moss_fs_discard(f);
    return rc;
  }
  return moss_fs_close(f);
}

/* One workload step on fs and on the model; returns the FS result. */
static int step(struct moss_fs *fs, int i, struct model *m) {
  struct moss_fs_file *f;
  struct mfile *mf;
  int rc;
  if (i >= CHUNK0)
    return chunk_step(fs, i, m);
  switch (i) {
    case 0:
      return wf(fs, m, "a", 300, 1);
    case 1:
      return wf(fs, m, "b", 2000, 2);
    case 2:
      return wf(fs, m, "a", 500, 3);
    case 3: /* append */
      mf = mfind(m, "b");
      fst_fill(mf->data + mf->len, 700, 4);
      mf->len += 700;
      rc = moss_fs_open(fs, "b", MOSS_FS_O_WRONLY | MOSS_FS_O_APPEND, &f);
      if (rc < 0)
        return rc;
      rc = moss_fs_write(f, mf->data + mf->len - 700, 700);
      if (rc < 0) {
        moss_fs_discard(f);
        return rc;
      }
      return moss_fs_close(f);
    case 4:
      mf = mfind(m, "a");
      snprintf(mf->name, sizeof(mf->name), "c");
      return moss_fs_rename(fs, "a", "c");
    case 5:
      return wf(fs, m, "d", 1500, 5);
    case 6: /* replacing rename */
      mremove(m, "b");
      mf = mfind(m, "d");
      snprintf(mf->name, sizeof(mf->name), "b");
      return moss_fs_rename(fs, "d", "b");
    case 7:
      mremove(m, "c");
      return moss_fs_remove(fs, "c");
    case 8: { /* too big: must fail with NOSPC and change nothing */
      fst_fill(tmp, 30000, 8);
      rc = moss_fs_write_file(fs, "big", tmp, 30000);
      return rc == MOSS_ERR_NOSPC ? MOSS_OK : (rc == MOSS_OK ? -100 : rc);
    }
    case 9: /* overwrite in the middle */
      mf = mfind(m, "b");
      fst_fill(mf->data + 100, 300, 6);
      rc = moss_fs_open(fs, "b", MOSS_FS_O_RDWR, &f);
      if (rc < 0)
        return rc;
      if ((rc = moss_fs_seek(f, 100, MOSS_FS_SEEK_SET)) < 0 ||
          (rc = moss_fs_write(f, mf->data + 100, 300)) < 0) {
        moss_fs_discard(f);
        return rc;
      }
      return moss_fs_close(f);
    case 10: { /* fill close to full */
      struct moss_fs_info in;
      moss_fs_info(fs, &in);
      return wf(fs, m, "g", in.free - 8000, 7);
    }
    case 17:
      mf = mfind(m, "b");
      mf->len = 50;
      rc = moss_fs_open(fs, "b", MOSS_FS_O_RDWR, &f);
      if (rc < 0)
        return rc;
      if ((rc = moss_fs_truncate(f, 50)) < 0) {
        moss_fs_discard(f);
        return rc;
      }
      return moss_fs_close(f);
    case 18:
      mremove(m, "g");
      return moss_fs_remove(fs, "g");
    case 19:
      return wf(fs, m, "h", 2500, 19);
    case 20: { /* close to full again, for the chunked appends */
      struct moss_fs_info in;
      moss_fs_info(fs, &in);
      return wf(fs, m, "q", in.free - 9 * 1024, 20);
    }
    default:
      return wf(fs, m, "f", 3000, (uint32_t)(10 + i)); /* 11..16 */
  }
}

static bool state_is(struct moss_fs *fs, struct model *m) {
  struct moss_fs_info in;
  moss_fs_info(fs, &in);
  if ((int)in.files != m->n)
    return false;
  for (int i = 0; i < m->n; i++) {
    size_t n;
    if (moss_fs_read_file(fs, m->f[i].name, tmp, sizeof(tmp), &n) != MOSS_OK ||
        n != m->f[i].len || memcmp(tmp, m->f[i].data, n) != 0)
      return false;
  }
  return true;
}

static struct model mb, ma;

/* Runs the workload with a cut after nops ops; returns false when the
 * workload finished without a cut. */
static bool run_cut(const struct moss_flash *view, struct moss_flash_emu *e,
                    uint64_t nops, uint32_t torn, int *fails) {
  struct moss_fs *fs = NULL;
  if (moss_fs_format(view) != MOSS_OK || moss_fs_mount(&fs, view) != MOSS_OK)
    return (*fails)++, false;
  memset(&ma, 0, sizeof(ma));
  moss_flash_emu_fail_after(e, nops, torn);
  int cut = -1;
  for (int i = 0; i < NSTEPS; i++) {
    memcpy(&mb, &ma, sizeof(ma));
    int rc = step(fs, i, &ma);
    if (!moss_flash_emu_powered(e)) {
      cut = i;
      break;
    }
    if (rc != MOSS_OK) {
      MT_CHECK_EQ(rc, MOSS_OK);
      printf("  step %d rc %d\n", i, rc);
      (*fails)++;
      break;
    }
  }
  moss_fs_unmount(fs);
  moss_flash_emu_power_on(e);
  if (cut < 0)
    return false;
  int rc = moss_fs_mount(&fs, view);
  if (rc != MOSS_OK) {
    printf("  cut %llu torn %u step %d: mount %d\n", (unsigned long long)nops,
           torn, cut, rc);
    (*fails)++;
    return true;
  }
  int crc = moss_fs_check(fs);
  bool before = state_is(fs, &mb), after = state_is(fs, &ma);
  /* Still writable, and that survives a remount. */
  int wrc = moss_fs_write_file(fs, "z", "zz", 2);
  bool ok = crc == MOSS_OK && (before || after) && wrc == MOSS_OK;
  if (!ok)
    printf("  check %d write %d\n", crc, wrc);
  moss_fs_unmount(fs);
  if (moss_fs_mount(&fs, view) != MOSS_OK) {
    ok = false;
  } else {
    size_t n;
    ok = ok && moss_fs_read_file(fs, "z", tmp, 4, &n) == MOSS_OK && n == 2;
    ok = ok && moss_fs_check(fs) == MOSS_OK;
    moss_fs_unmount(fs);
  }
  if (!ok) {
    printf("  cut %llu torn %u step %d: before %d after %d\n",
           (unsigned long long)nops, torn, cut, before, after);
    (*fails)++;
  }
  return true;
}

static void cut_all(bool encrypted) {
  struct moss_flash_emu *e;
  struct xor_flash x;
  MT_REQUIRE(moss_flash_emu_open_ram(&e, CUT_SIZE) == MOSS_OK);
  const struct moss_flash *view = moss_flash_emu_flash(e);
  if (encrypted) {
    MT_REQUIRE(xor_flash_init(&x, view) == MOSS_OK);
    view = &x.flash;
  }
  /* Count the ops of an uninterrupted run. */
  struct moss_fs *fs = NULL;
  MT_REQUIRE(moss_fs_format(view) == MOSS_OK);
  MT_REQUIRE(moss_fs_mount(&fs, view) == MOSS_OK);
  moss_flash_emu_reset_stats(e);
  memset(&ma, 0, sizeof(ma));
  for (int i = 0; i < NSTEPS; i++)
    MT_CHECK_EQ(step(fs, i, &ma), MOSS_OK);
  MT_CHECK(state_is(fs, &ma));
  struct moss_flash_emu_stats st;
  moss_flash_emu_get_stats(e, &st);
  MT_CHECK(st.erases > 8); /* GC ran */
  moss_fs_unmount(fs);
  uint64_t total = st.writes + st.erases;
  static const uint32_t torns[] = {0, 100, 7};
  int fails = 0, cuts = 0;
  for (size_t t = 0; t < MOSS_ARRAY_SIZE(torns) && fails < 5; t++) {
    for (uint64_t n = 0; n <= total + 1 && fails < 5; n++)
      cuts += run_cut(view, e, n, torns[t], &fails);
  }
  printf("# fs power-cut%s: %llu ops per run, %d cut points checked\n",
         encrypted ? " (encrypted view, write_align 32)" : "",
         (unsigned long long)total, cuts);
  MT_CHECK_EQ(fails, 0);
  MT_CHECK(cuts >= (int)total * 3);
  moss_flash_emu_get_stats(e, &st);
  MT_CHECK_EQ(st.bitset_errors, 0);
  if (encrypted)
    xor_flash_free(&x);
  moss_flash_emu_close(e);
}

void test_fs_cut_all(void) {
  cut_all(false);
}

void test_fs_cut_xor(void) {
  cut_all(true);
}
