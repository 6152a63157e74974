/* ESP32 image files: build/verify round trip, tamper detection, bounds. */
#include <string.h>

#include <mbedtls/sha256.h>

#include "harness.h"
#include "moss/err.h"
#include "moss/flash_emu.h"
#include "moss/fwimg.h"
#include "moss/util.h"
#include "part_test.h"

static const struct moss_app_desc test_desc = {
    .name = "moss",
    .version = "0.1.0",
    .build_id = "20250101-000000/1a2b3c4",
    .date = "2025-01-01",
    .time = "00:00:00",
    .idf_ver = "moss",
};

static void test_app_round_trip(void) {
  uint8_t img[1024];
  size_t len = pt_make_app(img, sizeof(img), &test_desc);
  MT_REQUIRE(len > 0);
  MT_CHECK_EQ(len % 16, 0);
  MT_CHECK_EQ(img[0], 0xE9);
  MT_CHECK_EQ(img[1], 2);
  MT_CHECK_EQ(img[2], 0x02);
  MT_CHECK_EQ(img[3], 0x20);
  MT_CHECK_EQ(moss_get_le32(img + 24), MOSS_FWIMG_DROM_ADDR);
  MT_CHECK_EQ(moss_get_le32(img + 32), MOSS_FWIMG_APP_DESC_MAGIC);

  struct moss_fwimg_info info;
  MT_REQUIRE(moss_fwimg_verify_buf(img, len, true, &info) == MOSS_OK);
  MT_CHECK_EQ(info.len, len);
  MT_CHECK_EQ(info.segments, 2);
  MT_CHECK_EQ(info.entry, MOSS_FWIMG_ENTRY);
  MT_CHECK(info.has_desc);
  MT_CHECK_STR(info.desc.name, "moss");
  MT_CHECK_STR(info.desc.version, "0.1.0");
  MT_CHECK_STR(info.desc.build_id, "20250101-000000/1a2b3c4");
  MT_CHECK_STR(info.desc.date, "2025-01-01");
  MT_CHECK_STR(info.desc.time, "00:00:00");
  MT_CHECK_STR(info.desc.idf_ver, "moss");
  /* The digest is over everything up to the checksum, and appended. */
  uint8_t sha[32];
  MT_REQUIRE(mbedtls_sha256(img, len - 32, sha, 0) == 0);
  MT_CHECK_MEM(info.sha256, sha, 32);
  MT_CHECK_MEM(img + len - 32, sha, 32);
  char hex[65];
  for (int i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", sha[i]);
  MT_CHECK_STR(info.desc.sha256, hex);
  /* Trailing bytes after the image (rest of the partition) are ignored. */
  uint8_t big[2048];
  memset(big, 0xFF, sizeof(big));
  memcpy(big, img, len);
  MT_CHECK_EQ(moss_fwimg_verify_buf(big, sizeof(big), true, &info), MOSS_OK);
  MT_CHECK_EQ(info.len, len);
}

static void test_app_tamper_every_byte(void) {
  uint8_t img[1024];
  size_t len = pt_make_app(img, sizeof(img), &test_desc);
  MT_REQUIRE(len > 0);
  struct moss_fwimg_info info;
  size_t sha_fail = 0;
  for (size_t i = 0; i < len; i++) {
    img[i] ^= 0x01;
    int ret = moss_fwimg_verify_buf(img, len, true, &info);
    if (ret == MOSS_OK) {
      mt_fail(__FILE__, __LINE__, "flip at %zu not detected", i);
    }
    if (strcmp(info.reason, "SHA-256 mismatch") == 0)
      sha_fail++;
    img[i] ^= 0x01;
  }
  /* Header fields and segment load addresses are caught by the digest. */
  MT_CHECK(sha_fail > 0);
  /* One data byte flipped and the checksum fixed up: only SHA-256 sees it. */
  img[40] ^= 0x10;
  img[len - 33] ^= 0x10;
  MT_CHECK_EQ(moss_fwimg_verify_buf(img, len, true, &info), MOSS_ERR_CORRUPT);
  MT_CHECK_STR(info.reason, "SHA-256 mismatch");
  img[40] ^= 0x10;
  /* Data intact, checksum byte wrong. */
  MT_CHECK_EQ(moss_fwimg_verify_buf(img, len, true, &info), MOSS_ERR_CORRUPT);
  MT_CHECK(strstr(info.reason, "checksum mismatch") != NULL);
}

static void test_image_bounds(void) {
  uint8_t img[1024];
  size_t len = pt_make_app(img, sizeof(img), &test_desc);
  MT_REQUIRE(len > 0);
  struct moss_fwimg_info info;
  /* Truncated at every length: never OK, never reads past the buffer. */
  for (size_t cut = 0; cut < len; cut++) {
    MT_CHECK(moss_fwimg_verify_buf(img, cut, true, &info) != MOSS_OK);
  }
  /* A huge segment length. */
  uint8_t bad[1024];
  memcpy(bad, img, len);
  moss_put_le32(bad + 28, 0xFFFFFFFCu);
  MT_CHECK_EQ(moss_fwimg_verify_buf(bad, len, true, &info), MOSS_ERR_CORRUPT);
  MT_CHECK(strstr(info.reason, "segment 0 length") != NULL);
  /* Length not a multiple of 4. */
  moss_put_le32(bad + 28, 0x101);
  MT_CHECK_EQ(moss_fwimg_verify_buf(bad, len, true, &info), MOSS_ERR_CORRUPT);
  /* Segment count 0 and 17. */
  memcpy(bad, img, len);
  bad[1] = 0;
  MT_CHECK_EQ(moss_fwimg_verify_buf(bad, len, true, &info), MOSS_ERR_CORRUPT);
  MT_CHECK_STR(info.reason, "bad segment count 0");
  bad[1] = 17;
  MT_CHECK_EQ(moss_fwimg_verify_buf(bad, len, true, &info), MOSS_ERR_CORRUPT);
  /* Not an ESP32 image (chip id of an ESP32-S2). */
  memcpy(bad, img, len);
  bad[12] = 2;
  MT_CHECK_EQ(moss_fwimg_verify_buf(bad, len, true, &info), MOSS_ERR_CORRUPT);
  MT_CHECK_STR(info.reason, "image is for chip id 2, not ESP32");
  /* Bad magic: the reason carries the first word. */
  memcpy(bad, img, len);
  bad[0] = 0xFF;
  MT_CHECK_EQ(moss_fwimg_verify_buf(bad, len, true, &info), MOSS_ERR_CORRUPT);
  MT_CHECK_STR(info.reason, "invalid header: 0x200202ff");
}

static void test_boot_image_has_no_desc(void) {
  uint8_t img[256];
  size_t len = pt_make_boot(img, sizeof(img));
  MT_REQUIRE(len > 0);
  struct moss_fwimg_info info;
  MT_CHECK_EQ(moss_fwimg_verify_buf(img, len, false, &info), MOSS_OK);
  MT_CHECK(!info.has_desc);
  MT_CHECK_EQ(moss_fwimg_verify_buf(img, len, true, &info), MOSS_ERR_CORRUPT);
  MT_CHECK_STR(info.reason, "no app description in the first segment");
}

static void test_build_errors(void) {
  uint8_t img[64];
  size_t len;
  uint8_t data[100] = {0};
  struct moss_fwimg_seg seg = {0, data, sizeof(data)};
  MT_CHECK_EQ(moss_fwimg_build(img, sizeof(img), &len, &seg, 1, 0),
              MOSS_ERR_NOSPC);
  MT_CHECK_EQ(moss_fwimg_build(img, sizeof(img), &len, &seg, 0, 0),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_fwimg_build_size(&seg, 1), 24 + 8 + 100 + 12 + 32);
  struct moss_app_desc d = test_desc;
  memset(d.version, 'x', 32);
  d.version[32] = '\0';
  uint8_t desc[MOSS_FWIMG_APP_DESC_SIZE];
  /* 32 characters fill the field exactly (no NUL on flash)... */
  MT_CHECK_EQ(moss_fwimg_app_desc_encode(desc, &d), MOSS_OK);
  /* ...and decode back intact. */
  uint8_t buf[1024];
  len = pt_make_app(buf, sizeof(buf), &d);
  MT_REQUIRE(len > 0);
  struct moss_fwimg_info info;
  MT_REQUIRE(moss_fwimg_verify_buf(buf, len, true, &info) == MOSS_OK);
  MT_CHECK_STR(info.desc.version, d.version);
  /* Unprintable bytes are masked for logs and JSON. */
  d = test_desc;
  d.name[1] = '\n';
  len = pt_make_app(buf, sizeof(buf), &d);
  MT_REQUIRE(moss_fwimg_verify_buf(buf, len, true, &info) == MOSS_OK);
  MT_CHECK_STR(info.desc.name, "m?ss");
}

static void test_verify_on_flash(void) {
  struct moss_flash_emu *emu;
  MT_REQUIRE(moss_flash_emu_open_ram(&emu, 1u << 20) == MOSS_OK);
  const struct moss_flash *f = moss_flash_emu_flash(emu);
  uint8_t img[1024];
  size_t len = pt_make_app(img, sizeof(img), &test_desc);
  MT_REQUIRE(len > 0);
  MT_REQUIRE(moss_flash_write(f, 0x10000, img, len) == MOSS_OK);
  struct moss_fwimg_info info;
  MT_CHECK_EQ(moss_fwimg_verify(f, 0x10000, 0x10000, true, &info), MOSS_OK);
  MT_CHECK_STR(info.desc.build_id, test_desc.build_id);
  /* The partition is smaller than the image. */
  MT_CHECK_EQ(moss_fwimg_verify(f, 0x10000, (uint32_t)len - 1, true, &info),
              MOSS_ERR_CORRUPT);
  /* The window itself is beyond the flash. */
  MT_CHECK_EQ(moss_fwimg_verify(f, 0xF0000, 0x20000, true, &info),
              MOSS_ERR_RANGE);
  /* Erased flash. */
  MT_CHECK_EQ(moss_fwimg_verify(f, 0x20000, 0x10000, true, &info),
              MOSS_ERR_CORRUPT);
  MT_CHECK_STR(info.reason, "invalid header: 0xffffffff");
  moss_flash_emu_close(emu);
}

void part_tests_fwimg(void) {
  MT_RUN(test_app_round_trip);
  MT_RUN(test_app_tamper_every_byte);
  MT_RUN(test_image_bounds);
  MT_RUN(test_boot_image_has_no_desc);
  MT_RUN(test_build_errors);
  MT_RUN(test_verify_on_flash);
}
