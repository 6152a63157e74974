/*
 * Fuzz target: the input is a filesystem image (rounded up to 4 KB with
 * 0xFF, 16..64 KB, trimmed beyond) on a RAM flash.  Mount it, list, stat
 * and read every file, run the consistency check, try a small write,
 * appends in FS.Put-sized pieces (tail merges, both append streams, GC
 * on whatever the image holds), a rename and a remount.
 * Nothing may crash, hang or leak whatever the image holds.
 */
#include <stdint.h>
#include <string.h>

#include "moss/err.h"
#include "moss/flash_emu.h"
#include "moss/fs.h"

#define IMG 0x10000u

struct ctx {
  struct moss_fs *fs;
  uint8_t buf[4096];
};

static int visit(void *arg, const struct moss_fs_stat *st) {
  struct ctx *c = arg;
  struct moss_fs_stat st2;
  struct moss_fs_file *f;
  if (moss_fs_stat(c->fs, st->name, &st2) != MOSS_OK)
    return 0;
  if (moss_fs_open(c->fs, st->name, MOSS_FS_O_RDONLY, &f) != MOSS_OK)
    return 0;
  while (moss_fs_read(f, c->buf, sizeof(c->buf)) > 0) {
  }
  moss_fs_seek(f, 7, MOSS_FS_SEEK_SET);
  moss_fs_read(f, c->buf, 100);
  moss_fs_close(f);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct ctx c;
  struct moss_flash_emu *e;
  /* The geometry is in the sector headers: size the flash like the
   * image (4 KB multiple, 16..64 KB) so real images mount. */
  uint32_t fsz = size < IMG ? (uint32_t)(size + 4095) / 4096 * 4096 : IMG;
  if (fsz < 0x4000)
    fsz = 0x4000;
  if (moss_flash_emu_open_ram(&e, fsz) != MOSS_OK)
    return 0;
  memcpy(moss_flash_emu_data(e), data, size < fsz ? size : fsz);
  const struct moss_flash *fl = moss_flash_emu_flash(e);
  if (moss_fs_mount(&c.fs, fl) == MOSS_OK) {
    moss_fs_list(c.fs, visit, &c);
    moss_fs_check(c.fs);
    struct moss_fs_info in;
    moss_fs_info(c.fs, &in);
    moss_fs_write_file(c.fs, "fuzz.txt", "hello", 5);
    /* Like `mos put`: open, append 512 bytes, close, until the space
     * that moss_fs_info promised is used or a write fails. */
    memset(c.buf, 0x5A, 512);
    for (uint32_t done = 0; done + 512 <= in.free && done < 16384;
         done += 512) {
      struct moss_fs_file *f;
      if (moss_fs_open(c.fs, "fuzz.txt", MOSS_FS_O_RDWR | MOSS_FS_O_APPEND,
                       &f) != MOSS_OK)
        break;
      int rc = moss_fs_write(f, c.buf, 512);
      if (rc < 0) {
        moss_fs_discard(f);
        break;
      }
      if (moss_fs_close(f) != MOSS_OK)
        break;
    }
    moss_fs_info(c.fs, &in);
    moss_fs_check(c.fs);
    moss_fs_rename(c.fs, "fuzz.txt", "fuzz2.txt");
    moss_fs_unmount(c.fs);
    if (moss_fs_mount(&c.fs, fl) == MOSS_OK) {
      moss_fs_list(c.fs, visit, &c);
      moss_fs_unmount(c.fs);
    }
  }
  moss_flash_emu_close(e);
  return 0;
}
