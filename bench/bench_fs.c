/*
 * Flash filesystem benchmarks on the RAM-backed flash emulator (256 KB,
 * 64 sectors): throughput, write amplification, erase spread, mount time.
 * Baseline: the emulator's own raw write/read throughput measured in the
 * same run (what the FS could reach with zero overhead); for capacity, the
 * partition size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moss/err.h"
#include "moss/flash_emu.h"
#include "moss/fs.h"

#define FS_SIZE 0x40000u

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill(uint8_t *p, size_t n, uint32_t s) {
  for (size_t i = 0; i < n; i++) {
    s = s * 1103515245u + 12345u;
    p[i] = (uint8_t)(s >> 16);
  }
}

int main(void) {
  static uint8_t buf[100000], back[100000];
  struct moss_flash_emu *e;
  struct moss_fs *fs;
  if (moss_flash_emu_open_ram(&e, FS_SIZE) != MOSS_OK)
    return 1;
  const struct moss_flash *fl = moss_flash_emu_flash(e);
  fill(buf, sizeof(buf), 1);

  /* Raw baseline: program and read 200 sectors' worth. */
  int reps = 200;
  double t0 = now();
  for (int r = 0; r < reps; r++) {
    uint32_t off = (uint32_t)(r % 64) * 4096;
    moss_flash_erase(fl, off, 4096);
    moss_flash_write(fl, off, buf, 4096);
  }
  double raw_w = reps * 4096.0 / (now() - t0) / 1e6;
  t0 = now();
  for (int r = 0; r < reps * 10; r++)
    moss_flash_read(fl, (uint32_t)(r % 64) * 4096, back, 4096);
  double raw_r = reps * 10 * 4096.0 / (now() - t0) / 1e6;

  /* FS write/read of a 100 KB file, replaced 20 times. */
  moss_fs_format(fl);
  if (moss_fs_mount(&fs, fl) != MOSS_OK)
    return 1;
  moss_flash_emu_reset_stats(e);
  t0 = now();
  int n = 20;
  for (int r = 0; r < n; r++) {
    buf[0] = (uint8_t)r;
    if (moss_fs_write_file(fs, "big.bin", buf, sizeof(buf)) != MOSS_OK)
      return 1;
  }
  double fs_w = n * (double)sizeof(buf) / (now() - t0) / 1e6;
  struct moss_flash_emu_stats st;
  moss_flash_emu_get_stats(e, &st);
  double wa_big = (double)st.bytes_written / (n * (double)sizeof(buf));
  t0 = now();
  for (int r = 0; r < n * 5; r++) {
    size_t len;
    moss_fs_read_file(fs, "big.bin", back, sizeof(back), &len);
  }
  double fs_r = n * 5 * (double)sizeof(buf) / (now() - t0) / 1e6;

  /* Config-save workload: 500-byte whole-file replaces next to 120 KB of
   * static data (ca.pem); write amplification and wear. */
  moss_fs_remove(fs, "big.bin");
  moss_fs_write_file(fs, "ca.pem", buf, 100000);
  moss_fs_write_file(fs, "web.html", buf + 1, 20000);
  moss_flash_emu_reset_stats(e);
  int saves = 20000;
  for (int r = 0; r < saves; r++) {
    char name[16];
    snprintf(name, sizeof(name), "conf%d.json", r % 3);
    fill(back, 500, (uint32_t)r);
    if (moss_fs_write_file(fs, name, back, 500) != MOSS_OK)
      return 1;
  }
  moss_flash_emu_get_stats(e, &st);
  double wa_cfg = (double)st.bytes_written / (saves * 500.0);
  double spread = st.erase_mean > 0 ? st.erase_max / st.erase_mean : 0;

  /* Chunked upload (FS.Put): 100 KB in 512-byte append+close steps. */
  moss_fs_remove(fs, "ca.pem");
  moss_flash_emu_reset_stats(e);
  t0 = now();
  for (size_t off = 0; off < 100000; off += 512) {
    struct moss_fs_file *f;
    moss_fs_open(fs, "up.bin",
                 MOSS_FS_O_WRONLY | MOSS_FS_O_CREAT | MOSS_FS_O_APPEND, &f);
    moss_fs_write(f, buf + off, off + 512 > 100000 ? 100000 - off : 512);
    if (moss_fs_close(f) != MOSS_OK)
      return 1;
  }
  double up = 100000 / (now() - t0) / 1e6;
  moss_flash_emu_get_stats(e, &st);
  double wa_up = st.bytes_written / 100000.0;

  /* Mount time of a full filesystem: fill with 4 KB files to NOSPC. */
  moss_fs_unmount(fs);
  moss_fs_format(fl);
  moss_fs_mount(&fs, fl);
  int files = 0;
  for (;; files++) {
    char name[16];
    snprintf(name, sizeof(name), "f%d", files);
    if (moss_fs_write_file(fs, name, buf + files, 4000) != MOSS_OK)
      break;
  }
  struct moss_fs_info in;
  moss_fs_info(fs, &in);
  moss_fs_unmount(fs);
  int mounts = 50;
  t0 = now();
  for (int r = 0; r < mounts; r++) {
    if (moss_fs_mount(&fs, fl) != MOSS_OK)
      return 1;
    moss_fs_unmount(fs);
  }
  double mount_ms = (now() - t0) / mounts * 1e3;

  /* The firmware's layout: the CA bundle (+8 KB of growth) and 20 user
   * files of 1 KB, then 1 KB atomic replaces at that fill level. */
  moss_fs_format(fl);
  moss_fs_mount(&fs, fl);
  struct moss_fs_info cap;
  moss_fs_info(fs, &cap);
  static uint8_t ca[219597 + 8192];
  fill(ca, sizeof(ca), 3);
  if (moss_fs_write_file(fs, "ca.pem", ca, sizeof(ca)) != MOSS_OK)
    return 1;
  for (int r = 0; r < 20; r++) {
    char name[16];
    snprintf(name, sizeof(name), "user%d.pem", r % 100);
    if (moss_fs_write_file(fs, name, buf + r, 1024) != MOSS_OK)
      return 1;
  }
  struct moss_fs_info full;
  moss_fs_info(fs, &full);
  moss_flash_emu_reset_stats(e);
  int reps_full = 500;
  t0 = now();
  for (int r = 0; r < reps_full; r++) {
    if (moss_fs_write_file(fs, "user3.pem", buf + r, 1024) != MOSS_OK)
      return 1;
  }
  double full_ms = (now() - t0) / reps_full * 1e3;
  moss_flash_emu_get_stats(e, &st);
  double wa_full = st.bytes_written / (reps_full * 1024.0);
  double spread_full = st.erase_mean > 0 ? st.erase_max / st.erase_mean : 0;
  moss_fs_unmount(fs);

  printf(
      "fs|usable capacity, 256 KB partition|%u|%u|bytes|file data + "
      "metadata the FS admits; baseline = partition size\n",
      cap.total, FS_SIZE);
  printf(
      "fs|1 KB replace at %.1f%% full|%.3f|-|ms|ca.pem 227789 B + 20 x 1 KB; "
      "write amplification %.1fx, erase spread %.2f\n",
      100.0 * full.used / full.total, full_ms, wa_full, spread_full);
  printf(
      "fs|write 100 KB file (atomic replace)|%.1f|%.1f|MB/s|baseline: "
      "raw emulator erase+program in the same run\n",
      fs_w, raw_w);
  printf(
      "fs|read 100 KB file|%.1f|%.1f|MB/s|baseline: raw emulator read "
      "in the same run\n",
      fs_r, raw_r);
  printf(
      "fs|chunked upload 512 B append+close|%.1f|%.1f|MB/s|100 KB like "
      "FS.Put; baseline raw program\n",
      up, raw_w);
  printf(
      "fs|write amplification, 100 KB replace|%.2f|1.00|x|flash bytes "
      "programmed / payload (incl. GC)\n",
      wa_big);
  printf(
      "fs|write amplification, 500 B config saves|%.2f|1.00|x|20000 "
      "saves beside 120 KB static files\n",
      wa_cfg);
  printf(
      "fs|write amplification, chunked upload|%.2f|1.00|x|512 B "
      "appends, each a commit\n",
      wa_up);
  printf(
      "fs|erase spread max/mean|%.2f|2.00|x|after the config-save "
      "workload; baseline = requirement bound\n",
      spread);
  printf(
      "fs|mount time, full 256 KB FS|%.3f|-|ms|%d files, %u of %u "
      "bytes used\n",
      mount_ms, files, in.used, in.total);
  moss_flash_emu_close(e);
  return 0;
}
