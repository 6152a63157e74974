/*
 * Fuzz target: bytes arriving on the RPC UART.  The first byte picks a
 * chunk size; the rest is fed to the line decoder in chunks, checking its
 * contract (progress, views inside the buffer, CRC claims true), then the
 * same bytes go through the UART channel into the RPC core.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moss/err.h"
#include "moss/log.h"
#include "moss/rpc.h"
#include "moss/rpc_uart.h"
#include "moss/util.h"

static int sink_write(void *arg, const void *data, size_t len) {
  (void)arg;
  (void)data;
  (void)len;
  return 0;
}

static void check_view(const struct moss_rpc_uart_dec *d, struct moss_str v) {
  if (v.len == 0)
    return;
  const uint8_t *p = (const uint8_t *)v.buf;
  if (p < d->buf || p + v.len > d->buf + d->cap)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  size_t chunk = (size_t)(data[0] % 17) + 1;
  data++;
  size--;
  uint8_t buf[MOSS_RPC_UART_BUF_SIZE(256)];
  struct moss_rpc_uart_dec d;
  moss_rpc_uart_dec_init(&d, buf, sizeof(buf));
  size_t off = 0;
  while (off < size) {
    size_t n = MOSS_MIN(chunk, size - off);
    while (n > 0) {
      struct moss_rpc_uart_ev ev;
      int r = moss_rpc_uart_dec_feed(&d, data + off, n, &ev);
      if (r <= 0 || (size_t)r > n)
        abort();
      check_view(&d, ev.json);
      check_view(&d, ev.meta);
      if (ev.type == MOSS_RPC_UART_EV_FRAME && ev.has_crc &&
          ev.crc_expected != moss_crc32(0, ev.json.buf, ev.json.len))
        abort();
      if (ev.type == MOSS_RPC_UART_EV_NONE && (size_t)r != n)
        abort();
      off += (size_t)r;
      n -= (size_t)r;
    }
  }

  moss_log_set_level(MOSS_LL_NONE);
  struct moss_rpc_cfg cfg = {.device_id = "dev", .max_frame_size = 512};
  struct moss_rpc *rpc = moss_rpc_new(&cfg);
  if (rpc == NULL)
    return 0;
  struct moss_rpc_uart *u = moss_rpc_uart_new(rpc, sink_write, NULL);
  if (u != NULL)
    moss_rpc_uart_input(u, data, size);
  moss_rpc_uart_free(u);
  moss_rpc_free(rpc);
  return 0;
}
