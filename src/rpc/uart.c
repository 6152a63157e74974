/*
 * UART line codec for RPC (spec rpc.md §2.1).  Pure: no I/O, no heap, no
 * logging; moss_rpc_uart (uart_chan.c) and the mos client add those.
 *
 * The decoder keeps one line in the caller's buffer.  '"""' is spotted
 * by counting a run of quotes rather than by looking back into the
 * buffer, so it is found even while an overlong line is being skipped.
 * Valid JSON never holds three quotes in a row, so the delimiter cannot
 * cut a frame in the middle.
 */
#include <string.h>

#include "moss/err.h"
#include "moss/rpc_uart.h"

void moss_rpc_uart_dec_init(struct moss_rpc_uart_dec *d, void *buf,
                            size_t size) {
  memset(d, 0, sizeof(*d));
  d->buf = buf;
  d->cap = size;
}

static bool is_blank(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int hexval(uint8_t c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Classifies one complete line (the delimiter already removed). */
static void line_event(struct moss_rpc_uart_dec *d,
                       enum moss_rpc_uart_delim delim,
                       struct moss_rpc_uart_ev *ev) {
  const uint8_t *p = d->buf;
  size_t n = d->len;
  memset(ev, 0, sizeof(*ev));
  ev->delim = delim;
  if (n == 1 && p[0] == 0x04) {
    ev->type = MOSS_RPC_UART_EV_EOF;
    return;
  }
  size_t open = 0;
  while (open < n && p[open] != '{')
    open++;
  if (open == n) {
    size_t i = 0;
    while (i < n && is_blank(p[i]))
      i++;
    if (i < n) {
      ev->type = MOSS_RPC_UART_EV_NOISE;
      ev->json = moss_str_n((const char *)p, n);
    } else if (delim == MOSS_RPC_UART_DELIM_NL) {
      ev->type = MOSS_RPC_UART_EV_EMPTY;
    }
    /* A blank run before '"""' is just the opening delimiter. */
    return;
  }
  size_t close = n;
  while (close > open && p[close - 1] != '}')
    close--;
  if (close == open)
    close = n; /* no '}': let the JSON parser reject it */
  ev->json = moss_str_n((const char *)p + open, close - open);

  size_t ms = close, me = n;
  while (ms < me && is_blank(p[ms]))
    ms++;
  while (me > ms && is_blank(p[me - 1]))
    me--;
  ev->meta = moss_str_n((const char *)p + ms, me - ms);
  ev->crc_computed = moss_crc32(0, ev->json.buf, ev->json.len);

  const uint8_t *m = p + ms;
  size_t ml = me - ms;
  if (ml == 0 || m[0] == ',') {
    ev->type = MOSS_RPC_UART_EV_FRAME;
    return;
  }
  uint32_t crc = 0;
  bool ok = ml >= 8 && (ml == 8 || m[8] == ',');
  for (size_t i = 0; ok && i < 8; i++) {
    int v = hexval(m[i]);
    if (v < 0)
      ok = false;
    crc = (crc << 4) | (uint32_t)(v & 0xf);
  }
  /* Anything else after '}' is not metadata: the line is damaged. */
  ev->type = MOSS_RPC_UART_EV_CORRUPT;
  if (!ok)
    return;
  ev->has_crc = true;
  ev->crc_expected = crc;
  if (crc != ev->crc_computed)
    return;
  ev->type = MOSS_RPC_UART_EV_FRAME;
  d->crc_mode = true;
}

int moss_rpc_uart_dec_feed(struct moss_rpc_uart_dec *d, const void *data,
                           size_t len, struct moss_rpc_uart_ev *ev) {
  if (d == NULL || ev == NULL || (data == NULL && len > 0))
    return MOSS_ERR_INVAL;
  memset(ev, 0, sizeof(*ev));
  if (len == 0)
    return 0;
  if (d->reset_pending) {
    d->len = 0;
    d->reset_pending = false;
  }
  const uint8_t *in = data;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = in[i];
    enum moss_rpc_uart_delim delim;
    d->quotes = c == '"' ? d->quotes + 1 : 0;
    if (c >= 0x80) {
      d->len = 0;
      continue;
    } else if (c == '\n') {
      delim = MOSS_RPC_UART_DELIM_NL;
    } else if (d->quotes == 3) {
      delim = MOSS_RPC_UART_DELIM_QUOTES;
      d->quotes = 0;
      d->compat = true;
      /* The first two quotes were buffered (unless skipping). */
      if (!d->discarding)
        d->len -= MOSS_MIN(d->len, 2u);
    } else {
      if (d->discarding)
        continue;
      if (d->len >= d->cap) {
        d->discarding = true;
        d->len = 0;
        ev->type = MOSS_RPC_UART_EV_TOO_BIG;
        return (int)(i + 1);
      }
      d->buf[d->len++] = c;
      continue;
    }
    if (d->discarding) {
      /* The tail of the overlong line ends here, unseen. */
      d->discarding = false;
      d->len = 0;
      continue;
    }
    line_event(d, delim, ev);
    if (ev->type == MOSS_RPC_UART_EV_NONE) {
      d->len = 0;
      continue;
    }
    d->reset_pending = true;
    return (int)(i + 1);
  }
  return (int)len;
}

static const char hexdig[] = "0123456789abcdef";

size_t moss_rpc_uart_head(bool compat, char *out) {
  size_t n = 0;
  out[n++] = '\n';
  if (compat) {
    memcpy(out + n, "\"\"\"", 3);
    n += 3;
  }
  return n;
}

size_t moss_rpc_uart_tail(bool compat, bool crc, struct moss_str json,
                          char *out) {
  size_t n = 0;
  if (crc) {
    uint32_t c = moss_crc32(0, json.buf, json.len);
    for (int i = 7; i >= 0; i--)
      out[n++] = hexdig[(c >> (i * 4)) & 0xf];
  }
  if (compat) {
    memcpy(out + n, "\"\"\"", 3);
    n += 3;
  }
  out[n++] = '\n';
  return n;
}

int moss_rpc_uart_encode(bool compat, bool crc, struct moss_str json, void *out,
                         size_t size) {
  char head[MOSS_RPC_UART_HEAD_MAX], tail[MOSS_RPC_UART_TAIL_MAX];
  size_t hn = moss_rpc_uart_head(compat, head);
  size_t tn = moss_rpc_uart_tail(compat, crc, json, tail);
  if (json.len > size || hn + tn > size - json.len)
    return MOSS_ERR_TOOBIG;
  uint8_t *o = out;
  memcpy(o, head, hn);
  if (json.len > 0)
    memcpy(o + hn, json.buf, json.len);
  memcpy(o + hn + json.len, tail, tn);
  return (int)(hn + json.len + tn);
}
