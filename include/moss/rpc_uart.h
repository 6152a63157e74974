/*
 * moss/rpc_uart.h - RPC over a serial line (spec rpc.md §2.1).
 *
 * Two layers:
 *
 * 1. A pure line codec (no I/O, no heap, no logging), used by the device
 *    and by the `mos` client alike:
 *    - moss_rpc_uart_dec_feed(): bytes in, events out.  Frames end at
 *      '\n' or at '"""' (which turns on compat mode); bytes before the
 *      first '{' are skipped; after the last '}' an optional CRC-32 as 8
 *      hex digits, optionally followed by ",<field>..." (ignored).  A
 *      valid CRC turns on CRC mode.  A byte >= 0x80 discards the buffer
 *      (JSON never contains one; the board looks for the ROM loader's
 *      SLIP SYNC before feeding bytes here).  More than the buffer's
 *      capacity without a delimiter drops the line up to the next
 *      delimiter (TOO_BIG once).
 *    - moss_rpc_uart_head()/_tail()/_encode(): the framing of a frame
 *      sent: "\n", '"""' if compat, JSON, CRC as 8 lower-case hex digits
 *      if CRC mode, '"""' if compat, "\n".
 *
 * 2. struct moss_rpc_uart: the "UART" RPC channel on top of the codec,
 *    logging per spec and answering the '"""\x04"""' handshake.  The board
 *    gives it a write function and feeds it the bytes read; that is all
 *    the glue there is.
 */
#ifndef MOSS_RPC_UART_H
#define MOSS_RPC_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/rpc.h"
#include "moss/util.h"

/* Buffered input allowed without a delimiter (spec: max_frame_size + 6). */
#define MOSS_RPC_UART_BUF_SIZE(max_frame) ((max_frame) + 6u)
/* Framing around a sent frame: "\n" + '"""' and CRC + '"""' + "\n". */
#define MOSS_RPC_UART_HEAD_MAX 4u
#define MOSS_RPC_UART_TAIL_MAX 12u
/* Answer to a frame consisting only of \x04 (the client's handshake). */
#define MOSS_RPC_UART_EOF_REPLY "\"\"\"\x04\"\"\""
#define MOSS_RPC_UART_EOF_REPLY_LEN 7u

/* Decoder state; caller-owned plain struct.  Fields are read-only for
 * the caller (compat and crc_mode say how to frame replies). */
struct moss_rpc_uart_dec {
  uint8_t *buf;
  size_t cap;
  size_t len;
  unsigned quotes;    /* run of '"' just seen (a '"""' delimiter) */
  bool reset_pending; /* last event's views still point into buf */
  bool discarding;    /* overflowed: skipping to the next delimiter */
  bool compat;        /* saw '"""' */
  bool crc_mode;      /* saw a valid CRC */
};

enum moss_rpc_uart_ev_type {
  MOSS_RPC_UART_EV_NONE = 0, /* all input consumed, nothing complete */
  MOSS_RPC_UART_EV_FRAME,    /* json (crc checked if has_crc), meta */
  MOSS_RPC_UART_EV_EOF,      /* a "\x04" frame: send the EOF reply */
  MOSS_RPC_UART_EV_EMPTY,    /* empty/blank line ended by '\n': send "\n" */
  MOSS_RPC_UART_EV_CORRUPT,  /* CRC mismatch or bad metadata: dropped */
  MOSS_RPC_UART_EV_TOO_BIG,  /* buffer overflow: line dropped */
  MOSS_RPC_UART_EV_NOISE,    /* a non-blank line without '{' (log text) */
};

enum moss_rpc_uart_delim {
  MOSS_RPC_UART_DELIM_NL = 0,
  MOSS_RPC_UART_DELIM_QUOTES, /* '"""' */
};

/* Views point into the decoder's buffer and stay valid until the next
 * moss_rpc_uart_dec_feed() call. */
struct moss_rpc_uart_ev {
  enum moss_rpc_uart_ev_type type;
  enum moss_rpc_uart_delim delim;
  struct moss_str json;  /* FRAME, CORRUPT: '{'...'}'; NOISE: the line */
  struct moss_str meta;  /* FRAME, CORRUPT: after '}', blanks trimmed */
  bool has_crc;          /* FRAME: CRC present and valid; CORRUPT: parsed */
  uint32_t crc_expected; /* from meta (has_crc) */
  uint32_t crc_computed; /* over json */
};

/* buf/size: storage for one line, normally
 * MOSS_RPC_UART_BUF_SIZE(max_frame_size) bytes; it must outlive d.
 * Cannot fail. */
void moss_rpc_uart_dec_init(struct moss_rpc_uart_dec *d, void *buf,
                            size_t size);
/* Feed len bytes.  Returns the number consumed (> 0; stops right after a
 * byte that completed an event), 0 when len is 0.  *ev is always set;
 * EV_NONE means every byte was consumed without completing anything.
 * Call again with the rest.  MOSS_ERR_INVAL on NULL arguments. */
int moss_rpc_uart_dec_feed(struct moss_rpc_uart_dec *d, const void *data,
                           size_t len, struct moss_rpc_uart_ev *ev);

/* Framing bytes before and after json; out must hold _HEAD_MAX /
 * _TAIL_MAX bytes (not NUL-terminated).  Return the byte counts. */
size_t moss_rpc_uart_head(bool compat, char *out);
size_t moss_rpc_uart_tail(bool compat, bool crc, struct moss_str json,
                          char *out);
/* The whole framed frame into out; returns bytes written or
 * MOSS_ERR_TOOBIG when size is short. */
int moss_rpc_uart_encode(bool compat, bool crc, struct moss_str json, void *out,
                         size_t size);

/* ---- the UART channel --------------------------------------------------- */

/* Write all len bytes to the serial line (the board's PTY).  A frame is
 * written as head, JSON, tail in three back-to-back calls from the loop,
 * so log lines cannot land inside it. */
typedef int moss_rpc_uart_write_fn(void *arg, const void *data, size_t len);

struct moss_rpc_uart; /* opaque */

/* Opens a persistent channel of type "UART" on rpc; the line buffer
 * (MOSS_RPC_UART_BUF_SIZE of rpc's max frame size) is allocated here.
 * NULL on MOSS_ERR_NOMEM.  Free it before or after moss_rpc_free(rpc);
 * after, it is only a line decoder without a channel. */
struct moss_rpc_uart *moss_rpc_uart_new(struct moss_rpc *rpc,
                                        moss_rpc_uart_write_fn *write,
                                        void *arg);
/* Bytes read from the line; frames are dispatched before it returns. */
void moss_rpc_uart_input(struct moss_rpc_uart *u, const void *data, size_t len);
/* Closes the channel (pending replies are dropped).  NULL-safe. */
void moss_rpc_uart_free(struct moss_rpc_uart *u);
/* Decoder state, e.g. for tests and Sys.GetInfo-style reports. */
const struct moss_rpc_uart_dec *moss_rpc_uart_decoder(
    const struct moss_rpc_uart *u);

#endif
