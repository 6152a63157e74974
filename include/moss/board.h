/*
 * moss/board.h - the esp32-sim board: a virtual ESP32 module whose state
 * lives in a directory.
 *
 *   DIR/flash.bin        4 MB NOR flash image (emu/flash_emu.c)
 *   DIR/flash.bin.wear   erase counts per sector
 *   DIR/mac              the module's MAC, chosen when DIR is created
 *   DIR/uart             symlink to the UART's pseudo-terminal
 *
 * moss_board_open(): a new DIR gets a fresh flash written from the
 * firmware bundle (as a factory would), then the boot checks run
 * (bootloader, partition table, app image) and the filesystem partition
 * fs_0 is mounted.  moss_board_remount() is the flash side of a reboot.
 *
 * Ownership: struct moss_board is caller-owned; everything it points to
 * is owned by it until moss_board_close().
 */
#ifndef MOSS_BOARD_H
#define MOSS_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "moss/board_flash.h"
#include "moss/flash.h"
#include "moss/flash_emu.h"
#include "moss/fs.h"
#include "moss/port_pty.h"

struct moss_board_opts {
  const char *state_dir; /* created if missing */
  const char *fw_path;   /* bundle used when the flash is new */
  uint32_t flash_size;   /* for a new flash.bin: 2, 4, 8 or 16 MB */
  const char *mac;       /* "240ac40031bc" for a new state; NULL: random */
  bool uart;             /* create the PTY */
};

struct moss_board {
  char state_dir[1024];
  struct moss_flash_emu *emu;
  struct moss_boot_info boot;
  struct moss_flash_part fs_part;
  struct moss_fs *fs;
  struct moss_port_pty pty;
  bool has_pty;
  uint8_t mac[6];
};

/* Errors are logged with the cure; MOSS_ERR_IO (state dir, files),
 * MOSS_ERR_CORRUPT (boot failed), or the factory flash's errors. */
int moss_board_open(struct moss_board *b, const struct moss_board_opts *o);
/* Unmount and mount the filesystem again (a reboot). */
int moss_board_remount(struct moss_board *b);
/* NULL-safe on a zeroed struct. */
void moss_board_close(struct moss_board *b);

#endif
