/* esp32-sim board: state directory, flash, boot, filesystem, UART. */
#include "moss/esp32_sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moss/board_factory.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/port.h"

static const char *TAG = "board";

static int path_in(const struct moss_esp32_sim *b, const char *name, char *out,
                   size_t n) {
  int w = snprintf(out, n, "%s/%s", b->state_dir, name);
  return w > 0 && (size_t)w < n ? MOSS_OK : MOSS_ERR_NAMETOOLONG;
}

static int parse_mac(const char *s, uint8_t mac[6]) {
  unsigned v[6];
  if (strlen(s) == 12 && sscanf(s, "%2x%2x%2x%2x%2x%2x", &v[0], &v[1], &v[2],
                                &v[3], &v[4], &v[5]) == 6) {
    for (int i = 0; i < 6; i++)
      mac[i] = (uint8_t)v[i];
    return MOSS_OK;
  }
  return MOSS_ERR_INVAL;
}

/* The MAC is chosen once, when the state is created (esp32.md §3.7:
 * Espressif's OUI 24:0a:c4 and three random bytes).  The eFuse model
 * will take this over. */
static int load_mac(struct moss_esp32_sim *b, const char *want) {
  char p[1100], line[64];
  path_in(b, "mac", p, sizeof(p));
  FILE *f = fopen(p, "r");
  if (f != NULL) {
    bool ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (ok && parse_mac(line, b->mac) == MOSS_OK)
      return MOSS_OK;
    MOSS_LOG_E(TAG, "%s: not a MAC address", p);
    return MOSS_ERR_CORRUPT;
  }
  if (want != NULL) {
    if (parse_mac(want, b->mac) != MOSS_OK) {
      MOSS_LOG_E(TAG, "--mac %s: expected 12 hex digits", want);
      return MOSS_ERR_INVAL;
    }
  } else {
    b->mac[0] = 0x24;
    b->mac[1] = 0x0a;
    b->mac[2] = 0xc4;
    if (moss_port_random(b->mac + 3, 3) != MOSS_OK)
      return MOSS_ERR_IO;
  }
  f = fopen(p, "w");
  if (f == NULL) {
    MOSS_LOG_E(TAG, "%s: %s", p, strerror(errno));
    return MOSS_ERR_IO;
  }
  fprintf(f, "%02x%02x%02x%02x%02x%02x\n", b->mac[0], b->mac[1], b->mac[2],
          b->mac[3], b->mac[4], b->mac[5]);
  fclose(f);
  return MOSS_OK;
}

/* The UART line: small buffers (a UART has a FIFO, not a heap), and
 * overrun instead of refusing output nobody reads. */
static const struct moss_conn_opts uart_opts = {
    .rx_cap = 2048, .tx_cap = 8192, .overrun = true};

int moss_esp32_sim_open(struct moss_esp32_sim *b, struct moss_ev *ev,
                        const struct moss_esp32_sim_opts *o, size_t ram_size) {
  memset(b, 0, sizeof(*b));
  b->pty.master = b->pty.slave_keep = -1;
  if (snprintf(b->state_dir, sizeof(b->state_dir), "%s", o->state_dir) >=
      (int)sizeof(b->state_dir))
    return MOSS_ERR_NAMETOOLONG;
  if (mkdir(b->state_dir, 0755) != 0 && errno != EEXIST) {
    MOSS_LOG_E(TAG, "cannot create %s: %s", b->state_dir, strerror(errno));
    return MOSS_ERR_IO;
  }
  int rc = load_mac(b, o->mac);
  if (rc != MOSS_OK)
    return rc;
  char p[1100];
  path_in(b, "flash.bin", p, sizeof(p));
  bool created = false;
  rc = moss_flash_emu_open(&b->emu, p, o->flash_size ? o->flash_size : 4u << 20,
                           &created);
  if (rc != MOSS_OK)
    return rc;
  if (created) {
    MOSS_LOG_I(TAG, "new flash %s: writing firmware %s", p, o->fw_path);
    rc = moss_board_factory_flash(moss_flash_emu_flash(b->emu), o->fw_path);
    if (rc != MOSS_OK) {
      MOSS_LOG_E(TAG, "factory flashing failed: %s", moss_strerror(rc));
      moss_flash_emu_close(b->emu);
      b->emu = NULL;
      unlink(p); /* so the next start tries again */
      return rc;
    }
  }
  rc = moss_board_boot_check(moss_flash_emu_flash(b->emu), &b->boot);
  if (rc != MOSS_OK)
    return rc;
  MOSS_LOG_I(TAG, "booting %s %s (%s) from %s", b->boot.app.name,
             b->boot.app.version, b->boot.app.build_id, b->boot.app_label);
  rc = moss_flash_part_init(&b->fs_part, moss_flash_emu_flash(b->emu),
                            b->boot.fs_offset, b->boot.fs_size);
  if (rc != MOSS_OK)
    return rc;
  /* Flash encryption will stack its layer on the partition window here
   * (esp32.md §5.3 step 7). */
  if (o->uart) {
    rc = moss_port_pty_open(&b->pty);
    if (rc != MOSS_OK)
      return rc;
    b->has_pty = true;
    path_in(b, "uart", p, sizeof(p));
    rc = moss_port_pty_link(&b->pty, p);
    if (rc != MOSS_OK)
      return rc;
    /* The connection owns the master descriptor from here on; it starts
     * paused until a runtime attaches. */
    rc = moss_conn_from_fd(ev, b->pty.master, &uart_opts, NULL, NULL,
                           &b->board.uart);
    b->pty.master = -1;
    if (rc != MOSS_OK)
      return rc;
    moss_conn_pause(b->board.uart);
  }
  b->board.name = "esp32-sim";
  b->board.arch = "esp32";
  memcpy(b->board.mac, b->mac, 6);
  b->board.ram_size = ram_size;
  b->board.app = &b->boot.app;
  b->board.fs.flash = &b->fs_part.flash;
  b->board.fs.label = b->boot.fs_label;
  b->board.fs.offset = b->boot.fs_offset;
  return MOSS_OK;
}

void moss_esp32_sim_close(struct moss_esp32_sim *b) {
  if (b == NULL)
    return;
  if (b->board.uart != NULL)
    moss_conn_abort(b->board.uart);
  b->board.uart = NULL;
  moss_flash_emu_close(b->emu);
  b->emu = NULL;
  if (b->has_pty) {
    char p[1100];
    if (path_in(b, "uart", p, sizeof(p)) == MOSS_OK)
      unlink(p);
    moss_port_pty_close(&b->pty);
    b->has_pty = false;
  }
}
