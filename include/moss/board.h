/*
 * moss/board.h - what a board hands the runtime: the contract a port
 * implements (DESIGN.md, "Layers").
 *
 * A board owns the hardware and its host wiring (files, descriptors,
 * emulators) and gives rt interfaces only: the UART as a connection on the
 * event loop, the filesystem partition as a struct moss_flash (the raw
 * partition window, or the flash-encryption layer stacked on it), and
 * slots for the eFuse controller, the secure element's bus and the ROM
 * loader.  rt never sees a descriptor, a termios or a host path.
 *
 * Lifecycle: the board is opened before the first moss_rt_start() and
 * closed after the last moss_rt_stop(); a reboot is rt stop + start over
 * the same board.  Everything a struct moss_board points to is owned by
 * the board and outlives every runtime started on it.  rt borrows:
 *   - uart: rt sets its handlers while it runs and pauses it at stop, so
 *     bytes that arrive during a reboot wait for the next runtime;
 *   - fs.flash: rt mounts the filesystem at start, unmounts at stop.
 * A slot left NULL means the board has no such part.
 *
 * Boards: esp32-sim (moss/esp32_sim.h), a virtual ESP32 module.
 */
#ifndef MOSS_BOARD_H
#define MOSS_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "moss/conn.h"
#include "moss/flash.h"
#include "moss/fwimg.h"

/* Interfaces of parts that boards will provide (declared by their
 * modules; a board without the part leaves the slot NULL). */
struct moss_efuse_ops;    /* ESP32 eFuse controller */
struct moss_se_transport; /* secure element (ATECC608A) bus */

/* The filesystem partition as the device sees it. */
struct moss_board_fs {
  const struct moss_flash *flash; /* top of the flash stack */
  const char *label;              /* "fs_0", for log lines */
  uint32_t offset;                /* partition address on the chip, for logs */
};

struct moss_board {
  const char *name; /* "esp32-sim" */
  const char *arch; /* "esp32" (Sys.GetInfo) */
  uint8_t mac[6];
  size_t ram_size;                 /* the heap budget (Sys.GetInfo) */
  const struct moss_app_desc *app; /* the booted firmware, may be NULL */
  struct moss_board_fs fs;
  struct moss_conn *uart; /* NULL: no UART */
  const struct moss_efuse_ops *efuse;
  void *efuse_ctx;
  const struct moss_se_transport *se;
  void *se_ctx;
  /* Download mode: hand the UART to the ROM serial loader.  NULL: the
   * board has none. */
  int (*rom_loader)(void *ctx, struct moss_conn *uart);
  void *rom_loader_ctx;
};

#endif
