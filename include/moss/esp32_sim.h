/*
 * moss/esp32_sim.h - the esp32-sim board: a virtual ESP32 module whose
 * state lives in a directory.  Host-side wiring (libmoss_emu): it opens
 * files and a pseudo-terminal and hands the runtime a struct moss_board
 * (moss/board.h) of interfaces.
 *
 *   DIR/flash.bin        4 MB NOR flash image (emu/flash_emu.c)
 *   DIR/flash.bin.wear   erase counts per sector
 *   DIR/mac              the module's MAC, chosen when DIR is created
 *   DIR/uart             symlink to the UART's pseudo-terminal
 *
 * moss_esp32_sim_open(): a new DIR gets a fresh flash written from the
 * firmware bundle (as a factory would), then the boot checks run
 * (bootloader, partition table, app image); the filesystem partition
 * fs_0 becomes board.fs (the runtime mounts it) and the PTY's master
 * becomes board.uart, a connection on ev with serial-line overrun.
 *
 * Ownership: struct moss_esp32_sim is caller-owned; everything it points
 * to is owned by it until moss_esp32_sim_close(), which must come after
 * the last moss_rt_stop() and before moss_ev_free().
 */
#ifndef MOSS_ESP32_SIM_H
#define MOSS_ESP32_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "moss/board.h"
#include "moss/board_boot.h"
#include "moss/ev.h"
#include "moss/flash.h"
#include "moss/flash_emu.h"
#include "moss/fs.h"
#include "moss/port_pty.h"

struct moss_esp32_sim_opts {
  const char *state_dir; /* created if missing */
  const char *fw_path;   /* bundle used when the flash is new */
  uint32_t flash_size;   /* for a new flash.bin: 2, 4, 8 or 16 MB */
  const char *mac;       /* "240ac40031bc" for a new state; NULL: random */
  bool uart;             /* create the PTY */
};

struct moss_esp32_sim {
  struct moss_board board; /* what the runtime gets */
  char state_dir[1024];
  struct moss_flash_emu *emu;
  struct moss_boot_info boot;
  struct moss_flash_part fs_part;
  struct moss_port_pty pty;
  bool has_pty;
  uint8_t mac[6];
};

/* Errors are logged with the cure; MOSS_ERR_IO (state dir, files),
 * MOSS_ERR_CORRUPT (boot failed), MOSS_ERR_NOMEM, or the factory flash's
 * errors.  ram_size goes into board.ram_size. */
int moss_esp32_sim_open(struct moss_esp32_sim *b, struct moss_ev *ev,
                        const struct moss_esp32_sim_opts *o, size_t ram_size);
/* NULL-safe on a zeroed struct. */
void moss_esp32_sim_close(struct moss_esp32_sim *b);

#endif
