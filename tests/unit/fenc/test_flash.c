/*
 * The flash-ops layer over the RAM NOR emulator: round trips, what lands
 * on the raw chip, alignment, the program-once rule, init checks, and the
 * filesystem running over the layer without knowing it.
 */
#include <string.h>

#include "fenc_test.h"
#include "harness.h"
#include "moss/err.h"
#include "moss/fenc.h"
#include "moss/flash_emu.h"
#include "moss/fs.h"
#include "moss/util.h"

#define CHIP (64u * 1024u)

struct rig {
  struct moss_flash_emu *emu;
  struct moss_fenc_flash f;
};

static int rig_open(struct rig *r, unsigned conf) {
  memset(r, 0, sizeof(*r));
  if (moss_flash_emu_open_ram(&r->emu, CHIP) != MOSS_OK)
    return 0;
  return moss_fenc_flash_init(&r->f, moss_flash_emu_flash(r->emu), ft_key, conf,
                              0) == MOSS_OK;
}

static void rig_close(struct rig *r) {
  moss_fenc_flash_free(&r->f);
  moss_flash_emu_close(r->emu);
}

static void test_view_fields(void) {
  struct rig r;
  MT_REQUIRE(rig_open(&r, 0xF));
  const struct moss_flash *raw = moss_flash_emu_flash(r.emu);
  MT_CHECK_EQ(r.f.flash.size, raw->size);
  MT_CHECK_EQ(r.f.flash.erase_size, raw->erase_size);
  MT_CHECK_EQ(r.f.flash.write_align, 32);
  MT_CHECK(!r.f.flash.erased_reads_ff);
  rig_close(&r);
  /* free wipes the key copy. */
  uint8_t zero[32] = {0};
  MT_CHECK_MEM(r.f.key, zero, 32);
}

static void test_layer_round_trip(void) {
  struct rig r;
  MT_REQUIRE(rig_open(&r, 0xF));
  static uint8_t pt[8192], got[8192];
  ft_fill(pt, sizeof(pt), 42);
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 0x2000, pt, sizeof(pt)), MOSS_OK);
  MT_CHECK_EQ(moss_flash_read(&r.f.flash, 0x2000, got, sizeof(got)), MOSS_OK);
  MT_CHECK_MEM(got, pt, sizeof(pt));
  /* The chip holds ciphertext, exactly what the algorithm gives for those
   * physical addresses. */
  const uint8_t *raw = moss_flash_emu_data(r.emu) + 0x2000;
  MT_CHECK(memcmp(raw, pt, sizeof(pt)) != 0);
  MT_CHECK(memmem(raw, sizeof(pt), pt + 100, 16) == NULL);
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, 0x2000, pt, got, sizeof(pt)),
              MOSS_OK);
  MT_CHECK_MEM(raw, got, sizeof(pt));
  /* Reads at any offset and length, across blocks, units and chunks. */
  uint32_t s = 1;
  for (int i = 0; i < 300; i++) {
    uint32_t o = ft_rand(&s) % sizeof(pt);
    size_t n = ft_rand(&s) % (sizeof(pt) - o + 1);
    memset(got, 0xEE, sizeof(got));
    MT_REQUIRE(moss_flash_read(&r.f.flash, 0x2000 + o, got, n) == MOSS_OK);
    MT_REQUIRE(memcmp(got, pt + o, n) == 0);
  }
  MT_CHECK_EQ(moss_flash_read(&r.f.flash, CHIP - 1, got, 1), MOSS_OK);
  MT_CHECK_EQ(moss_flash_read(&r.f.flash, CHIP - 1, got, 2), MOSS_ERR_RANGE);
  rig_close(&r);
}

/* A layer over a partition window: tweaks follow physical addresses. */
static void test_window_base(void) {
  struct moss_flash_emu *emu = NULL;
  MT_REQUIRE(moss_flash_emu_open_ram(&emu, CHIP) == MOSS_OK);
  struct moss_flash_part part;
  MT_REQUIRE(moss_flash_part_init(&part, moss_flash_emu_flash(emu), 0x8000,
                                  0x4000) == MOSS_OK);
  struct moss_fenc_flash f;
  MT_REQUIRE(moss_fenc_flash_init(&f, &part.flash, ft_key, 0xF, 0x8000) ==
             MOSS_OK);
  uint8_t pt[64], ct[64];
  ft_fill(pt, sizeof(pt), 5);
  MT_CHECK_EQ(moss_flash_write(&f.flash, 0x20, pt, 64), MOSS_OK);
  MT_CHECK_EQ(moss_fenc_encrypt(ft_key, 0xF, 0x8020, pt, ct, 64), MOSS_OK);
  MT_CHECK_MEM(moss_flash_emu_data(emu) + 0x8020, ct, 64);
  moss_fenc_flash_free(&f);
  moss_flash_emu_close(emu);
}

static void test_alignment(void) {
  struct rig r;
  MT_REQUIRE(rig_open(&r, 0xF));
  uint8_t buf[64] = {1};
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 16, buf, 32), MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 0, buf, 16), MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 1, buf, 32), MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 0, buf, 48), MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_flash_erase(&r.f.flash, 32, 4096), MOSS_ERR_ALIGN);
  /* Nothing reached the chip. */
  struct moss_flash_emu_stats st;
  moss_flash_emu_get_stats(r.emu, &st);
  MT_CHECK_EQ(st.writes, 0);
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 32, buf, 32), MOSS_OK);
  rig_close(&r);
}

static void test_program_once(void) {
  struct rig r;
  MT_REQUIRE(rig_open(&r, 0xF));
  uint8_t a[32], b[32], got[32];
  ft_fill(a, 32, 1);
  ft_fill(b, 32, 2);
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 0x1000, a, 32), MOSS_OK);
  /* Different data over a programmed unit needs bits set: the chip
   * refuses and keeps the first content. */
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 0x1000, b, 32), MOSS_ERR_BITSET);
  struct moss_flash_emu_stats st;
  moss_flash_emu_get_stats(r.emu, &st);
  MT_CHECK_EQ(st.bitset_errors, 1);
  MT_CHECK_EQ(moss_flash_read(&r.f.flash, 0x1000, got, 32), MOSS_OK);
  MT_CHECK_MEM(got, a, 32);
  /* Even "clearing bits" in plaintext is not allowed through the layer:
   * plaintext 0x00 over 0xFF still maps to unrelated ciphertext. */
  uint8_t ff[32], zero[32] = {0};
  memset(ff, 0xFF, sizeof(ff));
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 0x1020, ff, 32), MOSS_OK);
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 0x1020, zero, 32), MOSS_ERR_BITSET);
  /* Erased units do not read as 0xFF, and after an erase the unit takes
   * new data. */
  MT_CHECK_EQ(moss_flash_erase(&r.f.flash, 0x1000, 4096), MOSS_OK);
  MT_CHECK_EQ(moss_flash_read(&r.f.flash, 0x1000, got, 32), MOSS_OK);
  MT_CHECK(memcmp(got, ff, 32) != 0);
  MT_CHECK_MEM(moss_flash_emu_data(r.emu) + 0x1000, ff, 32);
  MT_CHECK_EQ(moss_flash_write(&r.f.flash, 0x1000, b, 32), MOSS_OK);
  MT_CHECK_EQ(moss_flash_read(&r.f.flash, 0x1000, got, 32), MOSS_OK);
  MT_CHECK_MEM(got, b, 32);
  rig_close(&r);
}

static void test_init_checks(void) {
  struct moss_flash_emu *emu = NULL;
  MT_REQUIRE(moss_flash_emu_open_ram(&emu, CHIP) == MOSS_OK);
  const struct moss_flash *raw = moss_flash_emu_flash(emu);
  struct moss_fenc_flash f;
  MT_CHECK_EQ(moss_fenc_flash_init(&f, raw, ft_key, 0xF, 16), MOSS_ERR_ALIGN);
  MT_CHECK_EQ(moss_fenc_flash_init(&f, raw, ft_key, 0x10, 0), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_fenc_flash_init(&f, NULL, ft_key, 0xF, 0), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_fenc_flash_init(&f, raw, NULL, 0xF, 0), MOSS_ERR_INVAL);
  struct moss_flash odd = *raw;
  odd.write_align = 64;
  MT_CHECK_EQ(moss_fenc_flash_init(&f, &odd, ft_key, 0xF, 0), MOSS_ERR_INVAL);
  odd = *raw;
  odd.size -= 16;
  MT_CHECK_EQ(moss_fenc_flash_init(&f, &odd, ft_key, 0xF, 0), MOSS_ERR_INVAL);
  /* Stacking on another 32-aligned view (e.g. an encrypted one) is fine. */
  MT_CHECK_EQ(moss_fenc_flash_init(&f, raw, ft_key, 0xF, 0x10000), MOSS_OK);
  moss_fenc_flash_free(&f);
  moss_fenc_flash_free(NULL);
  moss_flash_emu_close(emu);
}

static void test_fs_over_layer(void) {
  struct rig r;
  MT_REQUIRE(rig_open(&r, 0xF));
  const struct moss_flash *fl = &r.f.flash;
  struct moss_fs *fs = NULL;
  static const char secret[] = "wifi.sta.pass=correct horse battery staple";
  static uint8_t big[6000], got[6000];
  MT_REQUIRE(moss_fs_format(fl) == MOSS_OK);
  MT_REQUIRE(moss_fs_mount(&fs, fl) == MOSS_OK);
  MT_CHECK_EQ(moss_fs_write_file(fs, "conf9.json", secret, sizeof(secret)),
              MOSS_OK);
  /* Rewrites push the log through garbage collection several times
   * over the 16-sector chip. */
  for (uint32_t i = 0; i < 40; i++) {
    ft_fill(big, sizeof(big), i);
    MT_REQUIRE(moss_fs_write_file(fs, "big.bin", big, sizeof(big)) == MOSS_OK);
  }
  moss_fs_unmount(fs);
  fs = NULL;
  MT_REQUIRE(moss_fs_mount(&fs, fl) == MOSS_OK);
  MT_CHECK_EQ(moss_fs_check(fs), MOSS_OK);
  size_t n = 0;
  MT_CHECK_EQ(moss_fs_read_file(fs, "conf9.json", got, sizeof(got), &n),
              MOSS_OK);
  MT_CHECK_EQ(n, sizeof(secret));
  MT_CHECK_MEM(got, secret, sizeof(secret));
  MT_CHECK_EQ(moss_fs_read_file(fs, "big.bin", got, sizeof(got), &n), MOSS_OK);
  MT_CHECK_EQ(n, sizeof(big));
  ft_fill(big, sizeof(big), 39);
  MT_CHECK_MEM(got, big, sizeof(big));
  moss_fs_unmount(fs);
  fs = NULL;
  /* The raw chip shows neither names nor contents... */
  const uint8_t *raw = moss_flash_emu_data(r.emu);
  MT_CHECK(memmem(raw, CHIP, "correct horse", 13) == NULL);
  MT_CHECK(memmem(raw, CHIP, "conf9.json", 10) == NULL);
  /* ...and neither the raw chip nor a wrong key mounts. */
  MT_CHECK(moss_fs_mount(&fs, moss_flash_emu_flash(r.emu)) != MOSS_OK);
  moss_fs_unmount(fs);
  fs = NULL;
  uint8_t wrong[32];
  memcpy(wrong, ft_key, 32);
  wrong[31] ^= 1;
  struct moss_fenc_flash w;
  MT_REQUIRE(moss_fenc_flash_init(&w, moss_flash_emu_flash(r.emu), wrong, 0xF,
                                  0) == MOSS_OK);
  MT_CHECK(moss_fs_mount(&fs, &w.flash) != MOSS_OK);
  moss_fs_unmount(fs);
  moss_fenc_flash_free(&w);
  rig_close(&r);
}

void ft_flash_tests(void) {
  MT_RUN(test_view_fields);
  MT_RUN(test_layer_round_trip);
  MT_RUN(test_window_base);
  MT_RUN(test_alignment);
  MT_RUN(test_program_once);
  MT_RUN(test_init_checks);
  MT_RUN(test_fs_over_layer);
}
