/*
 * moss-mkfs: build a moss filesystem image from a folder.
 *
 *   moss-mkfs <folder> <out.img> [--size BYTES]
 *
 * Every regular file under <folder> (recursively) is stored under its path
 * relative to <folder> ('/' separated; the FS namespace is flat).  The
 * image is made on a RAM flash of --size bytes (default 0x40000, a
 * multiple of 4096, at least 16 KB) and written out whole, so the
 * firmware bundle can carry it as the `fs` part.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "moss/err.h"
#include "moss/flash_emu.h"
#include "moss/fs.h"

static int add_tree(struct moss_fs *fs, const char *root, const char *rel) {
  char path[4096];
  snprintf(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "", rel);
  DIR *d = opendir(path);
  if (d == NULL) {
    fprintf(stderr, "moss-mkfs: %s: %s\n", path, strerror(errno));
    return -1;
  }
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    char name[4096], full[8192];
    snprintf(name, sizeof(name), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
    snprintf(full, sizeof(full), "%s/%s", root, name);
    struct stat sb;
    if (stat(full, &sb) != 0)
      continue;
    if (S_ISDIR(sb.st_mode)) {
      ret = add_tree(fs, root, name);
      continue;
    }
    if (!S_ISREG(sb.st_mode))
      continue;
    FILE *f = fopen(full, "rb");
    uint8_t *buf = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
    size_t n = 0;
    if (f == NULL || buf == NULL ||
        (n = fread(buf, 1, (size_t)sb.st_size, f)) != (size_t)sb.st_size) {
      fprintf(stderr, "moss-mkfs: %s: cannot read\n", full);
      ret = -1;
    } else {
      int rc = moss_fs_write_file(fs, name, buf, n);
      if (rc != MOSS_OK) {
        fprintf(stderr, "moss-mkfs: %s: %s\n", name, moss_strerror(rc));
        ret = -1;
      }
    }
    if (f)
      fclose(f);
    free(buf);
  }
  closedir(d);
  return ret;
}

int main(int argc, char **argv) {
  unsigned long size = 0x40000;
  if (argc == 5 && strcmp(argv[3], "--size") == 0) {
    char *end;
    size = strtoul(argv[4], &end, 0);
    if (*end != '\0' || size < 16384 || size % 4096 || size > (64ul << 20)) {
      fprintf(stderr, "moss-mkfs: bad --size %s\n", argv[4]);
      return 2;
    }
  } else if (argc != 3) {
    fprintf(stderr, "usage: moss-mkfs <folder> <out.img> [--size BYTES]\n");
    return 2;
  }
  struct moss_flash_emu *e;
  struct moss_fs *fs;
  if (moss_flash_emu_open_ram(&e, (uint32_t)size) != MOSS_OK)
    return 1;
  const struct moss_flash *fl = moss_flash_emu_flash(e);
  int rc = moss_fs_format(fl);
  if (rc == MOSS_OK)
    rc = moss_fs_mount(&fs, fl);
  if (rc != MOSS_OK) {
    fprintf(stderr, "moss-mkfs: %s\n", moss_strerror(rc));
    moss_flash_emu_close(e);
    return 1;
  }
  int ret = add_tree(fs, argv[1], "") == 0 ? 0 : 1;
  if (ret == 0 && moss_fs_check(fs) != MOSS_OK)
    ret = 1;
  struct moss_fs_info in;
  moss_fs_info(fs, &in);
  moss_fs_unmount(fs);
  if (ret == 0) {
    FILE *o = fopen(argv[2], "wb");
    if (o == NULL || fwrite(moss_flash_emu_data(e), 1, size, o) != size ||
        fclose(o) != 0) {
      fprintf(stderr, "moss-mkfs: %s: cannot write\n", argv[2]);
      ret = 1;
    } else {
      printf(
          "%s: %u files, %u of %u bytes used, room for a new file of "
          "%u bytes (capacity %.1f%% of the %lu-byte partition)\n",
          argv[2], in.files, in.used, in.total, in.free,
          100.0 * in.total / (double)size, size);
    }
  }
  moss_flash_emu_close(e);
  return ret;
}
