/* Shared helpers of the unit_part binary (partition table, images, board
 * factory flash and boot check). */
#ifndef MOSS_TEST_PART_H
#define MOSS_TEST_PART_H

#include <stddef.h>
#include <stdint.h>

#include "moss/fwimg.h"

/* Test groups, one per file. */
void part_tests_table(void);
void part_tests_fwimg(void);
void part_tests_board(void);

/* Log capture: every line logged since the last pt_log_reset(). */
void pt_log_reset(void);
const char *pt_log_text(void);
/* Quiet stderr while capturing (expected errors). */
void pt_log_quiet(int on);

/* Build an app image with description d (plus one IRAM marker segment)
 * into out; returns its length, 0 on error. */
size_t pt_make_app(uint8_t *out, size_t cap, const struct moss_app_desc *d);
/* A bootloader marker image; returns its length. */
size_t pt_make_boot(uint8_t *out, size_t cap);

#endif
