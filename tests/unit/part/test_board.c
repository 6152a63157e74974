/* esp32-sim factory flash from a bundle and boot check, on a RAM flash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <zip.h>

#include "harness.h"
#include "moss/board_boot.h"
#include "moss/board_factory.h"
#include "moss/err.h"
#include "moss/flash_emu.h"
#include "moss/part.h"
#include "moss/util.h"
#include "part_test.h"

#define FLASH_4M (4u << 20)

/* A bundle's parts kept in memory while the zip is written. */
struct tb {
  uint8_t boot[256];
  size_t boot_len;
  uint8_t pt[MOSS_PART_TABLE_SIZE];
  uint8_t otadata[MOSS_PART_OTADATA_SIZE];
  uint8_t app[1024];
  size_t app_len;
  uint8_t fs[0x3000];
};

static const struct moss_app_desc tdesc = {
    .name = "moss",
    .version = "0.1.0",
    .build_id = "20250102-030405/cafe123",
    .date = "2025-01-02",
    .time = "03:04:05",
    .idf_ver = "moss",
};

static void tb_init(struct tb *b) {
  memset(b, 0, sizeof(*b));
  b->boot_len = pt_make_boot(b->boot, sizeof(b->boot));
  MOSS_ASSERT(moss_part_build_default(b->pt) == MOSS_OK);
  moss_part_otadata_build(b->otadata, 1, MOSS_PART_OTA_STATE_UNDEFINED);
  b->app_len = pt_make_app(b->app, sizeof(b->app), &tdesc);
  for (size_t i = 0; i < sizeof(b->fs); i++)
    b->fs[i] = (uint8_t)(i * 7);
  memcpy(b->fs, "ca.pem plaintext marker", 23);
}

static void sha_hex(const void *d, size_t n, char out[65]) {
  uint8_t h[32];
  mbedtls_sha256(d, n, h, 0);
  for (int i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Manifest text for b; "%s"-free pieces are easy to corrupt per test. */
static void tb_manifest(const struct tb *b, char *out, size_t cap) {
  char hb[65], hp[65], hn[65], ho[65], ha[65], hf[65];
  static uint8_t nvs[0x4000];
  memset(nvs, 0xFF, sizeof(nvs));
  sha_hex(b->boot, b->boot_len, hb);
  sha_hex(b->pt, sizeof(b->pt), hp);
  sha_hex(nvs, sizeof(nvs), hn);
  sha_hex(b->otadata, sizeof(b->otadata), ho);
  sha_hex(b->app, b->app_len, ha);
  sha_hex(b->fs, sizeof(b->fs), hf);
  snprintf(
      out, cap,
      "{\"name\":\"moss\",\"platform\":\"esp32\",\"version\":\"0.1.0\","
      "\"build_id\":\"20250102-030405/cafe123\",\"parts\":{"
      "\"boot\":{\"type\":\"boot\",\"addr\":4096,\"src\":\"bootloader.bin\","
      "\"size\":%zu,\"encrypt\":true,\"sha256\":\"%s\"},"
      "\"pt\":{\"type\":\"pt\",\"addr\":\"0x8000\",\"src\":\"partitions.bin\","
      "\"size\":%zu,\"encrypt\":true,\"sha256\":\"%s\"},"
      "\"nvs\":{\"type\":\"nvs\",\"ptn\":\"nvs\",\"fill\":255,\"size\":16384,"
      "\"encrypt\":false,\"sha256\":\"%s\"},"
      "\"otadata\":{\"type\":\"otadata\",\"ptn\":\"otadata\","
      "\"src\":\"otadata.bin\",\"size\":8192,\"encrypt\":true,"
      "\"sha256\":\"%s\"},"
      "\"app\":{\"type\":\"app\",\"ptn\":\"app_0\",\"src\":\"moss.bin\","
      "\"size\":%zu,\"encrypt\":true,\"sha256\":\"%s\"},"
      "\"fs\":{\"type\":\"fs\",\"ptn\":\"fs_0\",\"src\":\"fs.img\","
      "\"size\":%zu,\"encrypt\":true,\"sha256\":\"%s\"}}}",
      b->boot_len, hb, sizeof(b->pt), hp, hn, ho, b->app_len, ha, sizeof(b->fs),
      hf);
}

static int add(zip_t *z, const char *name, const void *d, size_t n) {
  zip_source_t *s = zip_source_buffer(z, d, n, 0);
  if (s == NULL)
    return -1;
  if (zip_file_add(z, name, s, ZIP_FL_OVERWRITE) < 0) {
    zip_source_free(s);
    return -1;
  }
  return 0;
}

/* Write b into path with the given manifest; skip names a file to omit. */
static int tb_write(const struct tb *b, const char *path, const char *manifest,
                    const char *skip) {
  int err;
  zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (z == NULL)
    return -1;
  struct {
    const char *name;
    const void *d;
    size_t n;
  } files[] = {
      {"manifest.json", manifest, strlen(manifest)},
      {"bootloader.bin", b->boot, b->boot_len},
      {"partitions.bin", b->pt, sizeof(b->pt)},
      {"otadata.bin", b->otadata, sizeof(b->otadata)},
      {"moss.bin", b->app, b->app_len},
      {"fs.img", b->fs, sizeof(b->fs)},
  };
  int ret = 0;
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(files); i++) {
    if (skip != NULL && strcmp(skip, files[i].name) == 0)
      continue;
    if (add(z, files[i].name, files[i].d, files[i].n) != 0)
      ret = -1;
  }
  if (zip_close(z) != 0) {
    zip_discard(z);
    ret = -1;
  }
  return ret;
}

static char *bundle_path(const char *name) {
  static char p[512];
  snprintf(p, sizeof(p), "%s/%s", mt_tmpdir(), name);
  return p;
}

static void test_factory_flash_and_boot(void) {
  static struct tb b;
  static char man[8192];
  tb_init(&b);
  tb_manifest(&b, man, sizeof(man));
  const char *path = bundle_path("fw.zip");
  MT_REQUIRE(tb_write(&b, path, man, NULL) == 0);

  struct moss_flash_emu *emu;
  MT_REQUIRE(moss_flash_emu_open_ram(&emu, FLASH_4M) == MOSS_OK);
  const struct moss_flash *f = moss_flash_emu_flash(emu);
  uint8_t *raw = moss_flash_emu_data(emu);
  /* Leftovers from an earlier firmware must be erased, not ANDed. */
  MT_REQUIRE(moss_flash_write(f, 0x190000, "\x00\x00\x00\x00", 4) == 0);
  pt_log_reset();
  MT_REQUIRE(moss_board_factory_flash(f, path) == MOSS_OK);
  MT_CHECK(
      strstr(pt_log_text(),
             "Loaded moss/esp32 version 0.1.0 (20250102-030405/cafe123)") !=
      NULL);
  MT_CHECK_MEM(raw + 0x1000, b.boot, b.boot_len);
  MT_CHECK_MEM(raw + 0x8000, b.pt, sizeof(b.pt));
  MT_CHECK_MEM(raw + 0xd000, b.otadata, sizeof(b.otadata));
  MT_CHECK_MEM(raw + 0x10000, b.app, b.app_len);
  MT_CHECK_MEM(raw + 0x190000, b.fs, sizeof(b.fs));
  MT_CHECK_EQ(raw[0x190000 + sizeof(b.fs)], 0xFF);
  for (uint32_t i = 0x9000; i < 0xd000; i++) {
    if (raw[i] != 0xFF) {
      mt_fail(__FILE__, __LINE__, "nvs byte 0x%x is 0x%02x", i, raw[i]);
      break;
    }
  }

  struct moss_boot_info bi;
  pt_log_reset();
  MT_REQUIRE(moss_board_boot_check(f, &bi) == MOSS_OK);
  MT_CHECK_STR(bi.app_label, "app_0");
  MT_CHECK_EQ(bi.app_offset, 0x10000);
  MT_CHECK_EQ(bi.app_slot, 0);
  MT_CHECK_EQ(bi.ota_seq, 1);
  MT_CHECK_EQ(bi.app_len, b.app_len);
  MT_CHECK_STR(bi.fs_label, "fs_0");
  MT_CHECK_EQ(bi.fs_offset, 0x190000);
  MT_CHECK_EQ(bi.fs_size, 0x40000);
  MT_CHECK(bi.fs_encrypted);
  MT_CHECK_STR(bi.app.name, "moss");
  MT_CHECK_STR(bi.app.version, "0.1.0");
  MT_CHECK_STR(bi.app.build_id, "20250102-030405/cafe123");
  char h[65];
  sha_hex(b.app, b.app_len - 32, h);
  MT_CHECK_STR(bi.app.sha256, h);
  MT_CHECK_EQ(bi.pt.n, 6);

  /* otadata seq 2 selects app_1, which is empty: fall back to app_0. */
  uint8_t od[MOSS_PART_OTADATA_SIZE];
  moss_part_otadata_build(od, 2, MOSS_PART_OTA_STATE_UNDEFINED);
  MT_REQUIRE(moss_flash_erase(f, 0xd000, sizeof(od)) == MOSS_OK);
  MT_REQUIRE(moss_flash_write(f, 0xd000, od, sizeof(od)) == MOSS_OK);
  pt_log_quiet(1);
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_OK);
  pt_log_quiet(0);
  MT_CHECK_STR(bi.app_label, "app_0");
  MT_CHECK_STR(bi.fs_label, "fs_0");
  /* With an image in app_1, it boots with its filesystem fs_1. */
  MT_REQUIRE(moss_flash_write(f, 0x1d0000, b.app, b.app_len) == MOSS_OK);
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_OK);
  MT_CHECK_STR(bi.app_label, "app_1");
  MT_CHECK_EQ(bi.app_slot, 1);
  MT_CHECK_EQ(bi.ota_seq, 2);
  MT_CHECK_STR(bi.fs_label, "fs_1");
  MT_CHECK_EQ(bi.fs_offset, 0x350000);

  /* Reflashing the same bundle over a used flash works (erase first). */
  MT_CHECK_EQ(moss_board_factory_flash(f, path), MOSS_OK);
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_OK);
  MT_CHECK_STR(bi.app_label, "app_0");
  moss_flash_emu_close(emu);
}

static void test_boot_check_failures(void) {
  static struct tb b;
  tb_init(&b);
  struct moss_flash_emu *emu;
  MT_REQUIRE(moss_flash_emu_open_ram(&emu, FLASH_4M) == MOSS_OK);
  const struct moss_flash *f = moss_flash_emu_flash(emu);
  struct moss_boot_info bi;
  pt_log_quiet(1);

  /* Blank flash: no bootloader. */
  pt_log_reset();
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_ERR_NOENT);
  MT_CHECK(strstr(pt_log_text(), "invalid header: 0xffffffff\n") != NULL);
  MT_CHECK(strstr(pt_log_text(),
                  "boot failed: no valid bootloader image at 0x1000\n") !=
           NULL);

  /* Bootloader but no table. */
  MT_REQUIRE(moss_flash_write(f, 0x1000, b.boot, b.boot_len) == MOSS_OK);
  pt_log_reset();
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_ERR_CORRUPT);
  MT_CHECK(strstr(pt_log_text(), "partition table invalid: empty table\n") !=
           NULL);

  /* A table whose MD5 does not match. */
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  memcpy(tab, b.pt, sizeof(tab));
  tab[0x30] ^= 0x01;
  MT_REQUIRE(moss_flash_erase(f, 0x8000, 0x1000) == MOSS_OK);
  MT_REQUIRE(moss_flash_write(f, 0x8000, tab, sizeof(tab)) == MOSS_OK);
  pt_log_reset();
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_ERR_CORRUPT);
  MT_CHECK(strstr(pt_log_text(), "partition table invalid: MD5 mismatch\n") !=
           NULL);

  /* Good table, no app anywhere. */
  MT_REQUIRE(moss_flash_erase(f, 0x8000, 0x1000) == MOSS_OK);
  MT_REQUIRE(moss_flash_write(f, 0x8000, b.pt, sizeof(b.pt)) == MOSS_OK);
  pt_log_reset();
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_ERR_CORRUPT);
  MT_CHECK(strstr(pt_log_text(), "no bootable app partition\n") != NULL);

  /* A tampered app: one byte of its description. */
  uint8_t app[1024];
  memcpy(app, b.app, b.app_len);
  app[24 + 8 + 16] ^= 0x02; /* version[0] */
  MT_REQUIRE(moss_flash_write(f, 0x10000, app, b.app_len) == MOSS_OK);
  pt_log_reset();
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_ERR_CORRUPT);
  MT_CHECK(strstr(pt_log_text(), "app_0 at 0x10000: checksum mismatch") !=
           NULL);

  /* A bootloader with a bad digest is not a valid bootloader. */
  MT_REQUIRE(moss_flash_erase(f, 0x1000, 0x1000) == MOSS_OK);
  uint8_t boot[256];
  memcpy(boot, b.boot, b.boot_len);
  boot[4] ^= 0x01; /* entry address: covered by the SHA-256 only */
  MT_REQUIRE(moss_flash_write(f, 0x1000, boot, b.boot_len) == MOSS_OK);
  pt_log_reset();
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_ERR_NOENT);
  MT_CHECK(strstr(pt_log_text(), "bootloader image: SHA-256 mismatch\n") !=
           NULL);
  pt_log_quiet(0);
  moss_flash_emu_close(emu);
}

/* Each bad bundle: the right error, the reason logged, flash untouched. */
static void expect_bad(const char *path, int want, const char *reason,
                       const struct moss_flash *f, const uint8_t *raw) {
  pt_log_reset();
  int ret = moss_board_factory_flash(f, path);
  if (ret != want) {
    mt_fail(__FILE__, __LINE__, "%s: ret %d, want %d", reason, ret, want);
  }
  char line[512];
  snprintf(line, sizeof(line), "%s: %s", path, reason);
  if (strstr(pt_log_text(), line) == NULL) {
    mt_fail(__FILE__, __LINE__, "no log line \"%s\" in:\n%s", line,
            pt_log_text());
  }
  for (size_t i = 0; i < FLASH_4M; i++) {
    if (raw[i] != 0xFF) {
      mt_fail(__FILE__, __LINE__, "%s: flash written at 0x%zx", reason, i);
      break;
    }
  }
}

/* Replace the first occurrence of from by to in s (in place, s big). */
static void subst(char *s, size_t cap, const char *from, const char *to) {
  char *p = strstr(s, from);
  MOSS_ASSERT(p != NULL);
  size_t fl = strlen(from), tl = strlen(to), rest = strlen(p + fl);
  MOSS_ASSERT((size_t)(p - s) + tl + rest < cap);
  memmove(p + tl, p + fl, rest + 1);
  memcpy(p, to, tl);
}

static void test_corrupt_bundles(void) {
  static struct tb b;
  static char man[8192], m2[8192];
  tb_init(&b);
  tb_manifest(&b, man, sizeof(man));
  struct moss_flash_emu *emu;
  MT_REQUIRE(moss_flash_emu_open_ram(&emu, FLASH_4M) == MOSS_OK);
  const struct moss_flash *f = moss_flash_emu_flash(emu);
  const uint8_t *raw = moss_flash_emu_data(emu);
  const char *dir = mt_tmpdir();
  char path[512];
  pt_log_quiet(1);

  snprintf(path, sizeof(path), "%s/nonexistent.zip", dir);
  expect_bad(path, MOSS_ERR_IO, "No such file", f, raw);

  snprintf(path, sizeof(path), "%s/notazip.zip", dir);
  FILE *fp = fopen(path, "w");
  MT_REQUIRE(fp != NULL);
  fputs("this is not a zip file, just text long enough to look at\n", fp);
  fclose(fp);
  expect_bad(path, MOSS_ERR_CORRUPT, "Not a zip archive", f, raw);

  snprintf(path, sizeof(path), "%s/nomanifest.zip", dir);
  MT_REQUIRE(tb_write(&b, path, man, "manifest.json") == 0);
  expect_bad(path, MOSS_ERR_CORRUPT, "no manifest.json", f, raw);

  snprintf(path, sizeof(path), "%s/badjson.zip", dir);
  memcpy(m2, man, sizeof(m2));
  m2[strlen(m2) - 1] = '\0'; /* drop the last brace */
  MT_REQUIRE(tb_write(&b, path, m2, NULL) == 0);
  expect_bad(path, MOSS_ERR_CORRUPT, "manifest.json: invalid JSON", f, raw);

  snprintf(path, sizeof(path), "%s/missing.zip", dir);
  MT_REQUIRE(tb_write(&b, path, man, "moss.bin") == 0);
  expect_bad(path, MOSS_ERR_CORRUPT,
             "part app: moss.bin missing from the bundle", f, raw);

  /* A part whose bytes differ from the manifest's digest. */
  snprintf(path, sizeof(path), "%s/badsha.zip", dir);
  b.fs[100] ^= 1;
  MT_REQUIRE(tb_write(&b, path, man, NULL) == 0);
  b.fs[100] ^= 1;
  expect_bad(path, MOSS_ERR_CORRUPT, "part fs: sha256 mismatch", f, raw);

  /* A part placed past the end of the flash. */
  snprintf(path, sizeof(path), "%s/beyond.zip", dir);
  memcpy(m2, man, sizeof(m2));
  subst(m2, sizeof(m2), "\"addr\":4096", "\"addr\":4194304");
  MT_REQUIRE(tb_write(&b, path, m2, NULL) == 0);
  expect_bad(path, MOSS_ERR_RANGE,
             "part boot: 0x400000+0x70 is beyond the flash size 0x400000", f,
             raw);

  /* A part larger than its partition. */
  snprintf(path, sizeof(path), "%s/toolarge.zip", dir);
  memcpy(m2, man, sizeof(m2));
  subst(m2, sizeof(m2), "\"ptn\":\"fs_0\"", "\"ptn\":\"otadata\"");
  MT_REQUIRE(tb_write(&b, path, m2, NULL) == 0);
  expect_bad(path, MOSS_ERR_RANGE,
             "part fs: 0x3000 bytes do not fit in partition otadata", f, raw);

  /* Unknown partition, wrong platform, overlapping parts, bad table. */
  snprintf(path, sizeof(path), "%s/noptn.zip", dir);
  memcpy(m2, man, sizeof(m2));
  subst(m2, sizeof(m2), "\"ptn\":\"fs_0\"", "\"ptn\":\"fs_9\"");
  MT_REQUIRE(tb_write(&b, path, m2, NULL) == 0);
  expect_bad(path, MOSS_ERR_CORRUPT, "part fs: no partition fs_9", f, raw);

  snprintf(path, sizeof(path), "%s/platform.zip", dir);
  memcpy(m2, man, sizeof(m2));
  subst(m2, sizeof(m2), "\"esp32\"", "\"esp8266\"");
  MT_REQUIRE(tb_write(&b, path, m2, NULL) == 0);
  expect_bad(path, MOSS_ERR_CORRUPT, "platform is not esp32", f, raw);

  snprintf(path, sizeof(path), "%s/overlap.zip", dir);
  memcpy(m2, man, sizeof(m2));
  subst(m2, sizeof(m2), "\"ptn\":\"fs_0\"", "\"ptn\":\"app_0\"");
  MT_REQUIRE(tb_write(&b, path, m2, NULL) == 0);
  expect_bad(path, MOSS_ERR_CORRUPT, "parts app and fs overlap", f, raw);

  snprintf(path, sizeof(path), "%s/badpt.zip", dir);
  b.pt[0] = 0;
  tb_manifest(&b, m2, sizeof(m2));
  MT_REQUIRE(tb_write(&b, path, m2, NULL) == 0);
  b.pt[0] = 0xAA;
  expect_bad(path, MOSS_ERR_CORRUPT,
             "part pt: partition table invalid: entry 0: bad magic 0x5000", f,
             raw);

  snprintf(path, sizeof(path), "%s/nosrc.zip", dir);
  memcpy(m2, man, sizeof(m2));
  subst(m2, sizeof(m2), "\"fill\":255,", "");
  MT_REQUIRE(tb_write(&b, path, m2, NULL) == 0);
  expect_bad(path, MOSS_ERR_CORRUPT, "part nvs: needs exactly one of src, fill",
             f, raw);

  pt_log_quiet(0);
  moss_flash_emu_close(emu);
}

/* Power cut midway: the error surfaces, and the boot check then refuses
 * the half-written flash instead of booting it. */
static void test_factory_flash_power_cut(void) {
  static struct tb b;
  static char man[8192];
  tb_init(&b);
  tb_manifest(&b, man, sizeof(man));
  const char *path = bundle_path("fw.zip");
  MT_REQUIRE(tb_write(&b, path, man, NULL) == 0);
  struct moss_flash_emu *emu;
  MT_REQUIRE(moss_flash_emu_open_ram(&emu, FLASH_4M) == MOSS_OK);
  const struct moss_flash *f = moss_flash_emu_flash(emu);
  pt_log_quiet(1);
  /* boot: erase + program, pt: erase, then the table program is torn. */
  moss_flash_emu_fail_after(emu, 3, 100);
  pt_log_reset();
  MT_CHECK_EQ(moss_board_factory_flash(f, path), MOSS_ERR_FAULT);
  MT_CHECK(strstr(pt_log_text(), "part pt: write at 0x8000: ") != NULL);
  moss_flash_emu_power_on(emu);
  struct moss_boot_info bi;
  pt_log_reset();
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_ERR_CORRUPT);
  MT_CHECK(strstr(pt_log_text(), "partition table invalid: ") != NULL);
  pt_log_quiet(0);
  /* Power back: a second run completes. */
  MT_CHECK_EQ(moss_board_factory_flash(f, path), MOSS_OK);
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_OK);
  moss_flash_emu_close(emu);
}

/* The real bundle, when the build made one ($MOSS_BUILD/fw.zip). */
static void test_built_bundle(void) {
  const char *build = getenv("MOSS_BUILD");
  char path[512];
  snprintf(path, sizeof(path), "%s/fw.zip", build ? build : "build");
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) {
    printf("  (skipped: no %s)\n", path);
    return;
  }
  fclose(fp);
  struct moss_flash_emu *emu;
  MT_REQUIRE(moss_flash_emu_open_ram(&emu, FLASH_4M) == MOSS_OK);
  const struct moss_flash *f = moss_flash_emu_flash(emu);
  MT_CHECK_EQ(moss_board_factory_flash(f, path), MOSS_OK);
  struct moss_boot_info bi;
  MT_CHECK_EQ(moss_board_boot_check(f, &bi), MOSS_OK);
  MT_CHECK_STR(bi.app.name, "moss");
  MT_CHECK_STR(bi.app.idf_ver, "moss");
  MT_CHECK_EQ(bi.fs_offset, 0x190000);
  MT_CHECK_EQ(strlen(bi.app.sha256), 64);
  /* The version in the image is the repository's VERSION. */
  char ver[64] = "";
  fp = fopen("VERSION", "r");
  if (fp != NULL) {
    if (fgets(ver, sizeof(ver), fp) != NULL)
      ver[strcspn(ver, "\r\n")] = 0;
    fclose(fp);
    MT_CHECK_STR(bi.app.version, ver);
  }
  moss_flash_emu_close(emu);
}

void part_tests_board(void) {
  MT_RUN(test_factory_flash_and_boot);
  MT_RUN(test_boot_check_failures);
  MT_RUN(test_corrupt_bundles);
  MT_RUN(test_factory_flash_power_cut);
  MT_RUN(test_built_bundle);
}
