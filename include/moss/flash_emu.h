/*
 * moss/flash_emu.h - host-only model of a NOR flash chip (emu/).
 *
 * Backed by a file (state/flash.bin) mapped MAP_SHARED, or by RAM.  NOR
 * semantics: erase sets 4 KB sectors to 0xFF, programming only clears bits
 * (an attempt to set one is MOSS_ERR_BITSET, counted, and nothing is
 * written), bounds and alignment checked.  Erase counts per sector are kept
 * and, for a file-backed chip, persisted beside the image in
 * "<path>.wear" (one little-endian u32 per sector).
 *
 * Durability: every write and erase is applied to the shared mapping before
 * the call returns, so it is in the kernel's page cache: a kill -9 of the
 * process never loses an acknowledged write.  With sync on, each op is also
 * msync(MS_SYNC)'d, surviving a host crash (slow; off by default).
 *
 * Fault injection (tests): after N more successful mutating operations
 * (program or erase), the next one is cut: a program writes only its first
 * torn_bytes bytes, an erase sets only its first torn_bytes bytes to 0xFF,
 * the op returns MOSS_ERR_FAULT, and every later op fails with
 * MOSS_ERR_FAULT ("power is off") until moss_flash_emu_power_on().
 */
#ifndef MOSS_FLASH_EMU_H
#define MOSS_FLASH_EMU_H

#include <stdbool.h>
#include <stdint.h>

#include "moss/flash.h"

struct moss_flash_emu;

struct moss_flash_emu_stats {
  uint64_t reads, writes, erases;     /* operations */
  uint64_t bytes_read, bytes_written; /* payload bytes */
  uint64_t bitset_errors;             /* programs refused for setting bits */
  uint32_t erase_min, erase_max;      /* over all sectors */
  double erase_mean;
};

/* Open path, creating it (all 0xFF) with size bytes if it does not exist.
 * size must be 2, 4, 8 or 16 MB when creating; an existing file keeps its
 * size (size 0 = whatever it is).  *created tells which happened (may be
 * NULL).  Errors: MOSS_ERR_IO (with a logged reason), MOSS_ERR_INVAL. */
int moss_flash_emu_open(struct moss_flash_emu **out, const char *path,
                        uint32_t size, bool *created);
/* RAM-backed chip of any multiple of 4 KB, all 0xFF. */
int moss_flash_emu_open_ram(struct moss_flash_emu **out, uint32_t size);
/* NULL-safe. */
void moss_flash_emu_close(struct moss_flash_emu *e);

/* The flash view of the chip; valid until close. */
const struct moss_flash *moss_flash_emu_flash(struct moss_flash_emu *e);
/* Direct access to the raw bytes (tests, snapshots); valid until close. */
uint8_t *moss_flash_emu_data(struct moss_flash_emu *e);

void moss_flash_emu_set_sync(struct moss_flash_emu *e, bool on);
void moss_flash_emu_fail_after(struct moss_flash_emu *e, uint64_t nops,
                               uint32_t torn_bytes);
void moss_flash_emu_power_on(struct moss_flash_emu *e);
bool moss_flash_emu_powered(const struct moss_flash_emu *e);

void moss_flash_emu_get_stats(const struct moss_flash_emu *e,
                              struct moss_flash_emu_stats *st);
/* Erase count of sector i (0 past the end). */
uint32_t moss_flash_emu_erase_count(const struct moss_flash_emu *e,
                                    uint32_t sector);
void moss_flash_emu_reset_stats(struct moss_flash_emu *e);

#endif
