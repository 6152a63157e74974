/*
 * Private layout of struct moss_conn, shared by the core (conn.c) and the
 * descriptor layer (tcp.c).  Other layers (TLS) use only conn.h.
 *
 * Memory: this core plus a layer's state is one allocation; nothing else
 * is allocated while the connection is idle.  Keep it small: its size is
 * part of MOSS_CONN_IDLE_BYTES.
 */
#ifndef MOSS_CONN_INT_H
#define MOSS_CONN_INT_H

#include "../ev/ev_int.h"
#include "moss/conn.h"

enum {
  CF_LISTENER = 1u << 0,
  CF_CONNECTING = 1u << 1,
  CF_CLOSING = 1u << 2, /* close/abort asked or failed: no on_data */
  CF_DEAD = 1u << 3,    /* layer finished: on_close + free in step 5 */
  CF_PAUSED = 1u << 4,
  CF_PENDING = 1u << 5,   /* on ev->pending */
  CF_REDELIVER = 1u << 6, /* offer buffered rx again (after resume) */
  CF_IN_DATA = 1u << 7,   /* inside on_data */
};

struct moss_conn {
  const struct moss_conn_ops *ops;
  struct moss_ev *ev;
  const struct moss_conn_handlers *h;
  void *user;
  struct moss_conn *next, *prev;  /* ev->conns */
  struct moss_conn *next_pending; /* ev->pending */
  struct moss_conn *parent;       /* listener that accepted it */
  union {
    struct { /* streams: unconsumed input, only while there is some */
      uint8_t *buf;
      uint32_t len, size;
    } rx;
    struct { /* listeners */
      uint32_t nconns, max_conns;
    } l;
  } u;
  uint32_t rx_cap, tx_cap; /* listeners: the caps of accepted conns */
  struct ev_tnode tmr;     /* connect timeout, idle timeout or linger */
  uint32_t idle_ms;
  uint32_t last_io; /* low 32 bits of ev->now at the last progress */
  int16_t reason;
  uint16_t flags;
};

/* Layer state follows the core (8-aligned: the core holds pointers). */
#define CONN_STATE(c) ((void *)((char *)(c) + sizeof(struct moss_conn)))
#define CONN_OF_STATE(s) \
  ((struct moss_conn *)(void *)((char *)(s) - sizeof(struct moss_conn)))

/* Fill defaults into caps from o (NULL allowed). */
void moss_conni_apply_opts(struct moss_conn *c, const struct moss_conn_opts *o);
/* Close because of err (< 0): log why, abort the layer, schedule on_error
 * and on_close. */
void moss_conni_fail(struct moss_conn *c, int err, const char *what);
/* Arm the core timer to fire after ms. */
int moss_conni_arm(struct moss_conn *c, uint32_t ms);
/* Free a connection that never reached the application (no callbacks). */
void moss_conni_free_raw(struct moss_conn *c);

#endif
