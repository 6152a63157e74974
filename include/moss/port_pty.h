/*
 * moss/port_pty.h - the virtual UART of the esp32-sim board: a
 * pseudo-terminal.  The runtime reads and writes the master side; host
 * tools (mos, esptool-js, a terminal) open the slave, whose path is
 * printed at start and linked as state/uart.
 *
 * The board keeps one descriptor of the slave open itself, so the master
 * never sees a hang-up (EIO) between clients, and sets the line to raw
 * mode (no echo, no line editing, 8 bits), as a real UART is.
 */
#ifndef MOSS_PORT_PTY_H
#define MOSS_PORT_PTY_H

#include <stddef.h>

struct moss_port_pty {
  int master;     /* non-blocking, close-on-exec */
  int slave_keep; /* held open to keep the line up */
  char name[128]; /* slave path, e.g. /dev/pts/3 */
};

/* MOSS_ERR_IO (reason in moss_port_last_error-style log). */
int moss_port_pty_open(struct moss_port_pty *p);
/* Replace `link` with a symlink to the slave (state/uart). */
int moss_port_pty_link(const struct moss_port_pty *p, const char *link);
/* Discard what the runtime wrote that no client has read. */
void moss_port_pty_flush(const struct moss_port_pty *p);
/* NULL-safe. */
void moss_port_pty_close(struct moss_port_pty *p);

#endif
