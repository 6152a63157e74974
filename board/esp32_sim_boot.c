/*
 * esp32-sim: the boot checks of the flash contents (esp32.md §5.3 steps
 * 2, 3, 6).  See moss/board_boot.h.
 *
 * Device code: what the ROM and second-stage bootloader decide before
 * the runtime starts.  The flash contents are untrusted; every length and
 * offset goes through the partition and image verifiers.  No heap.
 */
#include "moss/board_boot.h"

#include <stdio.h>
#include <string.h>

#include "moss/err.h"
#include "moss/log.h"
#include "moss/util.h"

static const char *TAG = "esp32";

/* Slot index of an OTA app partition, -1 for others. */
static int ota_slot(const struct moss_part_entry *e) {
  if (e->type != MOSS_PART_TYPE_APP)
    return -1;
  if (e->subtype < MOSS_PART_SUBTYPE_OTA_0 ||
      e->subtype >= MOSS_PART_SUBTYPE_OTA_0 + 16) {
    return -1;
  }
  return e->subtype - MOSS_PART_SUBTYPE_OTA_0;
}

static const struct moss_part_entry *find_slot(const struct moss_part_table *t,
                                               unsigned slot) {
  return moss_part_find_type(t, MOSS_PART_TYPE_APP,
                             (uint8_t)(MOSS_PART_SUBTYPE_OTA_0 + slot));
}

static int check_bootloader(const struct moss_flash *f) {
  uint8_t w[4];
  /* FE hook: with flash encryption on, this header is read through the
   * decrypting view; a bad decrypted header over a good raw one is step 2a
   * (plaintext from before encryption: encrypt in place). */
  int ret = moss_flash_read(f, MOSS_FW_BOOT_OFFSET, w, sizeof(w));
  if (ret != MOSS_OK)
    return ret;
  if (w[0] != MOSS_FWIMG_MAGIC) {
    MOSS_LOG_E(TAG, "invalid header: 0x%08x", (unsigned)moss_get_le32(w));
    MOSS_LOG_E(TAG, "boot failed: no valid bootloader image at 0x1000");
    return MOSS_ERR_NOENT;
  }
  struct moss_fwimg_info info;
  ret = moss_fwimg_verify(f, MOSS_FW_BOOT_OFFSET, MOSS_FW_BOOT_MAX_SIZE, false,
                          &info);
  if (ret != MOSS_OK) {
    MOSS_LOG_E(TAG, "bootloader image: %s", info.reason);
    MOSS_LOG_E(TAG, "boot failed: no valid bootloader image at 0x1000");
    return ret == MOSS_ERR_CORRUPT ? MOSS_ERR_NOENT : ret;
  }
  return MOSS_OK;
}

static int try_app(const struct moss_flash *f, const struct moss_part_entry *e,
                   struct moss_boot_info *out) {
  struct moss_fwimg_info info;
  int ret = moss_fwimg_verify(f, e->offset, e->size, true, &info);
  if (ret != MOSS_OK) {
    MOSS_LOG_W(TAG, "%s at 0x%x: %s", e->label, (unsigned)e->offset,
               info.reason);
    return ret;
  }
  out->app_offset = e->offset;
  out->app_size = e->size;
  memcpy(out->app_label, e->label, sizeof(out->app_label));
  out->app = info.desc;
  out->app_len = info.len;
  return MOSS_OK;
}

/* The filesystem that goes with an app: fs_<N> for app slot N, else fs_0,
 * else the first FAT/SPIFFS data partition. */
static void pick_fs(struct moss_boot_info *out,
                    const struct moss_part_entry *app) {
  char label[MOSS_PART_LABEL_MAX + 1];
  int slot = ota_slot(app);
  snprintf(label, sizeof(label), "fs_%d", slot < 0 ? 0 : slot);
  const struct moss_part_entry *e = moss_part_find(&out->pt, label);
  if (e == NULL)
    e = moss_part_find(&out->pt, "fs_0");
  if (e == NULL) {
    e = moss_part_find_type(&out->pt, MOSS_PART_TYPE_DATA,
                            MOSS_PART_SUBTYPE_SPIFFS);
  }
  if (e == NULL) {
    e = moss_part_find_type(&out->pt, MOSS_PART_TYPE_DATA,
                            MOSS_PART_SUBTYPE_FAT);
  }
  if (e == NULL) {
    MOSS_LOG_W(TAG, "no filesystem partition");
    return;
  }
  out->fs_offset = e->offset;
  out->fs_size = e->size;
  out->fs_encrypted = (e->flags & MOSS_PART_FLAG_ENCRYPTED) != 0;
  memcpy(out->fs_label, e->label, sizeof(out->fs_label));
}

int moss_board_boot_check(const struct moss_flash *flash,
                          struct moss_boot_info *out) {
  memset(out, 0, sizeof(*out));
  /* Step 2: bootloader. */
  int ret = check_bootloader(flash);
  if (ret != MOSS_OK)
    return ret;

  /* Step 3: partition table (FE hook: decrypted read when FE is on). */
  uint8_t tab[MOSS_PART_TABLE_SIZE];
  ret = moss_flash_read(flash, MOSS_PART_TABLE_OFFSET, tab, sizeof(tab));
  if (ret != MOSS_OK)
    return ret;
  if (moss_part_parse(&out->pt, tab, sizeof(tab), flash->size) != MOSS_OK) {
    MOSS_LOG_E(TAG, "partition table invalid: %s", out->pt.reason);
    return MOSS_ERR_CORRUPT;
  }

  /* Step 6: app selection.  Count OTA slots as ESP-IDF does (ota_N
   * partitions), read both otadata copies, pick the slot; a factory app is
   * the fallback target when there is no OTA slot. */
  unsigned nslots = 0;
  for (size_t i = 0; i < out->pt.n; i++) {
    if (ota_slot(&out->pt.e[i]) >= 0)
      nslots++;
  }
  const struct moss_part_entry *od = moss_part_find_type(
      &out->pt, MOSS_PART_TYPE_DATA, MOSS_PART_SUBTYPE_OTADATA);
  unsigned slot = 0;
  if (od != NULL && nslots > 0) {
    uint8_t s0[MOSS_PART_OTA_SEL_SIZE], s1[MOSS_PART_OTA_SEL_SIZE];
    ret = moss_flash_read(flash, od->offset, s0, sizeof(s0));
    if (ret == MOSS_OK) {
      ret = moss_flash_read(flash, od->offset + MOSS_PART_OTA_SECTOR, s1,
                            sizeof(s1));
    }
    if (ret != MOSS_OK)
      return ret;
    slot = moss_part_otadata_select(s0, s1, nslots, &out->ota_seq);
  }
  const struct moss_part_entry *first =
      nslots > 0 ? find_slot(&out->pt, slot)
                 : moss_part_find_type(&out->pt, MOSS_PART_TYPE_APP,
                                       MOSS_PART_SUBTYPE_FACTORY);
  const struct moss_part_entry *booted = NULL;
  if (first != NULL && try_app(flash, first, out) == MOSS_OK)
    booted = first;
  /* Like the ESP-IDF bootloader, fall back to any other valid app. */
  for (size_t i = 0; booted == NULL && i < out->pt.n; i++) {
    const struct moss_part_entry *e = &out->pt.e[i];
    if (e->type != MOSS_PART_TYPE_APP || e == first)
      continue;
    if (try_app(flash, e, out) == MOSS_OK)
      booted = e;
  }
  if (booted == NULL) {
    MOSS_LOG_E(TAG, "no bootable app partition");
    return MOSS_ERR_CORRUPT;
  }
  int bs = ota_slot(booted);
  out->app_slot = bs < 0 ? 0 : (unsigned)bs;
  pick_fs(out, booted);
  MOSS_LOG_I(TAG, "booting %s at 0x%x: %s %s (%s)", out->app_label,
             (unsigned)out->app_offset, out->app.name, out->app.version,
             out->app.build_id);
  return MOSS_OK;
}
