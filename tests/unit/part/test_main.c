/* unit_part: main() and shared helpers. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "moss/fwimg.h"
#include "moss/log.h"
#include "moss/util.h"
#include "part_test.h"

static char logbuf[16384];
static size_t loglen;

static void sink(void *arg, enum moss_log_level lvl, const char *module,
                 const char *msg) {
  (void)arg;
  (void)lvl;
  (void)module;
  int n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%s\n", msg);
  if (n > 0)
    loglen = MOSS_MIN(loglen + (size_t)n, sizeof(logbuf) - 1);
}

void pt_log_reset(void) {
  loglen = 0;
  logbuf[0] = '\0';
}

const char *pt_log_text(void) {
  return logbuf;
}

void pt_log_quiet(int on) {
  moss_log_set_stderr(!on);
}

size_t pt_make_app(uint8_t *out, size_t cap, const struct moss_app_desc *d) {
  uint8_t desc[MOSS_FWIMG_APP_DESC_SIZE + 64];
  memset(desc, 0x5A, sizeof(desc));
  if (moss_fwimg_app_desc_encode(desc, d) != 0)
    return 0;
  static const char marker[] = "moss runtime (esp32-sim marker image)";
  struct moss_fwimg_seg segs[2] = {
      {MOSS_FWIMG_DROM_ADDR, desc, sizeof(desc)},
      {0x40080000u, marker, sizeof(marker)},
  };
  size_t len;
  if (moss_fwimg_build(out, cap, &len, segs, 2, MOSS_FWIMG_ENTRY) != 0) {
    return 0;
  }
  return len;
}

size_t pt_make_boot(uint8_t *out, size_t cap) {
  static const char marker[] = "moss second-stage bootloader marker";
  struct moss_fwimg_seg seg = {MOSS_FWIMG_BOOT_ADDR, marker, sizeof(marker)};
  size_t len;
  if (moss_fwimg_build(out, cap, &len, &seg, 1, 0x40078000u) != 0)
    return 0;
  return len;
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  moss_log_set_sink(sink, NULL);
  part_tests_table();
  part_tests_fwimg();
  part_tests_board();
  return mt_done();
}
