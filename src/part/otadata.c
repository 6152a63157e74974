/*
 * otadata: which OTA app slot boots.  ESP-IDF format and rule, see
 * moss/part.h.  Two copies live in two sectors so that an update can
 * rewrite one while the other stays valid; a torn write only invalidates
 * the copy being written (its CRC fails) and the older one still wins.
 */
#include "moss/part.h"

#include <string.h>

#include "moss/util.h"

static uint32_t sel_crc(uint32_t seq) {
  uint8_t b[4];
  moss_put_le32(b, seq);
  return moss_crc32(0xFFFFFFFFu, b, sizeof(b));
}

void moss_part_otadata_build(uint8_t out[MOSS_PART_OTADATA_SIZE], uint32_t seq,
                             uint32_t state) {
  memset(out, 0xFF, MOSS_PART_OTADATA_SIZE);
  if (seq == 0)
    return;
  moss_put_le32(out, seq);
  memset(out + 4, 0, 20); /* seq_label, unused by the bootloader */
  moss_put_le32(out + 24, state);
  moss_put_le32(out + 28, sel_crc(seq));
}

static bool sel_valid(const uint8_t *p, uint32_t *seq) {
  *seq = moss_get_le32(p);
  uint32_t state = moss_get_le32(p + 24);
  if (*seq == 0 || *seq == 0xFFFFFFFFu)
    return false;
  if (state == MOSS_PART_OTA_STATE_INVALID ||
      state == MOSS_PART_OTA_STATE_ABORTED) {
    return false;
  }
  return moss_get_le32(p + 28) == sel_crc(*seq);
}

unsigned moss_part_otadata_select(const uint8_t sel0[MOSS_PART_OTA_SEL_SIZE],
                                  const uint8_t sel1[MOSS_PART_OTA_SEL_SIZE],
                                  unsigned n_slots, uint32_t *seq_out) {
  const uint8_t *sel[2] = {sel0, sel1};
  uint32_t best = 0;
  for (unsigned i = 0; i < 2; i++) {
    uint32_t seq;
    if (sel_valid(sel[i], &seq) && seq > best)
      best = seq;
  }
  if (seq_out != NULL)
    *seq_out = best;
  if (n_slots == 0)
    n_slots = 1;
  return best == 0 ? 0 : (best - 1) % n_slots;
}
