/*
 * The "UART" RPC channel: the line codec (uart.c) wired to the RPC core,
 * with the spec's log lines and the '"""\x04"""' handshake answer.  The
 * board supplies only a write function and the bytes it reads.
 */
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/rpc_uart.h"

#define LOG_MOD "rpc_uart"

struct moss_rpc_uart {
  struct moss_rpc_channel *ch; /* NULL once closed */
  moss_rpc_uart_write_fn *write;
  void *arg;
  struct moss_rpc_uart_dec dec;
  uint8_t *line;
};

static int uart_send(struct moss_rpc_channel *ch, struct moss_str frame) {
  struct moss_rpc_uart *u = moss_rpc_channel_ctx(ch);
  char head[MOSS_RPC_UART_HEAD_MAX], tail[MOSS_RPC_UART_TAIL_MAX];
  size_t hn = moss_rpc_uart_head(u->dec.compat, head);
  size_t tn = moss_rpc_uart_tail(u->dec.compat, u->dec.crc_mode, frame, tail);
  int ret = u->write(u->arg, head, hn);
  if (ret >= 0)
    ret = u->write(u->arg, frame.buf, frame.len);
  if (ret >= 0)
    ret = u->write(u->arg, tail, tn);
  return ret < 0 ? ret : MOSS_OK;
}

static const char *uart_type(struct moss_rpc_channel *ch) {
  (void)ch;
  return "UART";
}

static void uart_close(struct moss_rpc_channel *ch) {
  struct moss_rpc_uart *u = moss_rpc_channel_ctx(ch);
  u->ch = NULL;
  moss_rpc_channel_closed(ch);
}

static const struct moss_rpc_channel_ops uart_ops = {
    .send_frame = uart_send,
    .get_type = uart_type,
    .close = uart_close,
};

struct moss_rpc_uart *moss_rpc_uart_new(struct moss_rpc *rpc,
                                        moss_rpc_uart_write_fn *write,
                                        void *arg) {
  struct moss_rpc_uart *u = moss_calloc(MOSS_SUB_RPC, 1, sizeof(*u));
  if (u == NULL)
    return NULL;
  size_t cap = MOSS_RPC_UART_BUF_SIZE(moss_rpc_max_frame_size(rpc));
  u->line = moss_alloc(MOSS_SUB_RPC, cap);
  u->write = write;
  u->arg = arg;
  if (u->line != NULL)
    u->ch = moss_rpc_channel_open(rpc, &uart_ops, u);
  if (u->ch == NULL) {
    moss_free(u->line);
    moss_free(u);
    return NULL;
  }
  moss_rpc_uart_dec_init(&u->dec, u->line, cap);
  return u;
}

static void on_event(struct moss_rpc_uart *u,
                     const struct moss_rpc_uart_ev *ev) {
  char q[MOSS_RPC_LOG_FRAME_MAX + 1], m[64];
  switch (ev->type) {
    case MOSS_RPC_UART_EV_FRAME:
      if (u->ch != NULL)
        moss_rpc_channel_recv(u->ch, ev->json, NULL);
      break;
    case MOSS_RPC_UART_EV_EOF:
      u->write(u->arg, MOSS_RPC_UART_EOF_REPLY, MOSS_RPC_UART_EOF_REPLY_LEN);
      break;
    case MOSS_RPC_UART_EV_EMPTY:
      u->write(u->arg, "\n", 1);
      break;
    case MOSS_RPC_UART_EV_CORRUPT: {
      char exp[9] = "-";
      moss_rpc_log_sanitize(q, sizeof(q), ev->json, MOSS_RPC_LOG_FRAME_MAX);
      moss_rpc_log_sanitize(m, sizeof(m), ev->meta, sizeof(m));
      if (ev->has_crc) {
        /* %08x of the value we parsed: lower-case whatever was sent. */
        static const char hx[] = "0123456789abcdef";
        for (int i = 0; i < 8; i++)
          exp[i] = hx[(ev->crc_expected >> ((7 - i) * 4)) & 0xf];
        exp[8] = '\0';
      }
      MOSS_LOG_W(LOG_MOD, "Corrupted frame (%zu): '%s' '%s' %s %08x",
                 ev->json.len, q, m, exp, (unsigned)ev->crc_computed);
      break;
    }
    case MOSS_RPC_UART_EV_TOO_BIG:
      MOSS_LOG_E(LOG_MOD, "Incoming frame is too big, dropping.");
      break;
    case MOSS_RPC_UART_EV_NOISE:
      moss_rpc_log_sanitize(q, sizeof(q), ev->json, MOSS_RPC_LOG_FRAME_MAX);
      MOSS_LOG_D(LOG_MOD, "ignoring line '%s'", q);
      break;
    case MOSS_RPC_UART_EV_NONE:
      break;
  }
}

void moss_rpc_uart_input(struct moss_rpc_uart *u, const void *data,
                         size_t len) {
  const uint8_t *p = data;
  while (len > 0) {
    struct moss_rpc_uart_ev ev;
    int n = moss_rpc_uart_dec_feed(&u->dec, p, len, &ev);
    if (n <= 0)
      break;
    on_event(u, &ev);
    p += n;
    len -= (size_t)n;
  }
}

void moss_rpc_uart_free(struct moss_rpc_uart *u) {
  if (u == NULL)
    return;
  if (u->ch != NULL)
    moss_rpc_channel_closed(u->ch);
  moss_free(u->line);
  moss_free(u);
}

const struct moss_rpc_uart_dec *moss_rpc_uart_decoder(
    const struct moss_rpc_uart *u) {
  return &u->dec;
}
