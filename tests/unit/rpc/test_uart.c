/* UART line framing (spec rpc.md §2.1): decoder, encoder, channel. */
#include <string.h>

#include "harness.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/rpc.h"
#include "moss/rpc_uart.h"
#include "moss/util.h"
#include "rpc_test.h"

/* Events of one decode, flattened to text for comparison:
 * F<json>|meta|c  (c: crc present), E (EOF), B (blank), C<json>, T, N<line> */
struct evlog {
  char s[2048];
  size_t n;
};

static void ev_add(struct evlog *l, const struct moss_rpc_uart_ev *ev) {
  char tmp[700];
  switch (ev->type) {
    case MOSS_RPC_UART_EV_FRAME:
      snprintf(tmp, sizeof(tmp), "F%.*s|%.*s|%d;", (int)ev->json.len,
               ev->json.buf, (int)ev->meta.len, ev->meta.buf, ev->has_crc);
      break;
    case MOSS_RPC_UART_EV_EOF:
      snprintf(tmp, sizeof(tmp), "E;");
      break;
    case MOSS_RPC_UART_EV_EMPTY:
      snprintf(tmp, sizeof(tmp), "B;");
      break;
    case MOSS_RPC_UART_EV_CORRUPT:
      snprintf(tmp, sizeof(tmp), "C%.*s|%08x|%08x;", (int)ev->json.len,
               ev->json.buf, (unsigned)ev->crc_expected,
               (unsigned)ev->crc_computed);
      break;
    case MOSS_RPC_UART_EV_TOO_BIG:
      snprintf(tmp, sizeof(tmp), "T;");
      break;
    case MOSS_RPC_UART_EV_NOISE:
      snprintf(tmp, sizeof(tmp), "N%.*s;", (int)ev->json.len, ev->json.buf);
      break;
    default:
      tmp[0] = '\0';
      break;
  }
  size_t k = strlen(tmp);
  if (l->n + k < sizeof(l->s)) {
    memcpy(l->s + l->n, tmp, k + 1);
    l->n += k;
  }
}

/* Decode in chunks of at most `chunk` bytes, first chunk `first` bytes. */
static void decode(struct moss_rpc_uart_dec *d, const char *in, size_t len,
                   size_t first, size_t chunk, struct evlog *l) {
  l->n = 0;
  l->s[0] = '\0';
  size_t off = 0;
  while (off < len) {
    size_t n = off == 0 ? first : chunk;
    if (n > len - off)
      n = len - off;
    const char *p = in + off;
    size_t left = n;
    while (left > 0) {
      struct moss_rpc_uart_ev ev;
      int r = moss_rpc_uart_dec_feed(d, p, left, &ev);
      if (r <= 0 || (size_t)r > left) {
        mt_fail(__FILE__, __LINE__, "feed returned %d", r);
        return;
      }
      ev_add(l, &ev);
      p += r;
      left -= (size_t)r;
    }
    off += n;
  }
}

static void test_crc_vectors(void) {
  static const struct {
    const char *json;
    uint32_t crc;
  } v[] = {
      {"{\"method\":\"Sys.GetInfo\"}", 0x010a4ff9},
      {"{\"id\":1,\"method\":\"RPC.Ping\"}", 0x2a95c795},
      {"{\"id\":1,\"src\":\"esp32_0031BC\",\"dst\":\"mos\",\"result\":"
       "{\"channel_info\":\"\"}}",
       0xcb307c52},
  };
  for (size_t i = 0; i < 3; i++) {
    MT_CHECK_EQ(moss_crc32(0, v[i].json, strlen(v[i].json)), v[i].crc);
  }
}

static const char mos_stream[] =
    "\"\"\"\x04\"\"\"\n\n"                                       /* handshake */
    "\n\"\"\"{\"id\":1,\"method\":\"RPC.Ping\"}2a95c795\"\"\"\n" /* mos */
    "I (123) boot: log line\n"                                   /* noise */
    "xx{\"method\":\"Sys.GetInfo\"}010A4FF9,foo,bar\n"           /* upper hex */
    "{\"method\":\"Sys.GetInfo\"}010a4ff8\n"                     /* bad CRC */
    "{\"id\":2}  \r\n";                                          /* no CRC */

static const char mos_events[] =
    "E;B;B;B;F{\"id\":1,\"method\":\"RPC.Ping\"}|2a95c795|1;B;"
    "NI (123) boot: log line;"
    "F{\"method\":\"Sys.GetInfo\"}|010A4FF9,foo,bar|1;"
    "C{\"method\":\"Sys.GetInfo\"}|010a4ff8|010a4ff9;"
    "F{\"id\":2}||0;";

static void test_decode_stream(void) {
  uint8_t buf[256];
  struct moss_rpc_uart_dec d;
  struct evlog l;
  moss_rpc_uart_dec_init(&d, buf, sizeof(buf));
  decode(&d, mos_stream, sizeof(mos_stream) - 1, sizeof(mos_stream), 1, &l);
  MT_CHECK_STR(l.s, mos_events);
  MT_CHECK(d.compat);
  MT_CHECK(d.crc_mode);
}

/* Splitting the input anywhere must not change the events. */
static void test_decode_split_everywhere(void) {
  uint8_t buf[256];
  struct moss_rpc_uart_dec d;
  struct evlog l;
  size_t n = sizeof(mos_stream) - 1;
  for (size_t cut = 1; cut < n; cut++) {
    moss_rpc_uart_dec_init(&d, buf, sizeof(buf));
    decode(&d, mos_stream, n, cut, n, &l);
    if (strcmp(l.s, mos_events) != 0)
      mt_fail(__FILE__, __LINE__, "cut %zu: %s", cut, l.s);
  }
  moss_rpc_uart_dec_init(&d, buf, sizeof(buf));
  decode(&d, mos_stream, n, 1, 1, &l); /* byte by byte */
  MT_CHECK_STR(l.s, mos_events);
}

static void test_decode_modes(void) {
  uint8_t buf[64];
  struct moss_rpc_uart_dec d;
  struct evlog l;
  moss_rpc_uart_dec_init(&d, buf, sizeof(buf));
  const char *plain = "{\"id\":1}\n";
  decode(&d, plain, strlen(plain), 100, 100, &l);
  MT_CHECK_STR(l.s, "F{\"id\":1}||0;");
  MT_CHECK(!d.compat && !d.crc_mode);
  /* Metadata that is not a CRC: the line is damaged, dropped. */
  const char *junk = "{\"id\":1} trailing words\n{\"id\":1}12345678x\n";
  decode(&d, junk, strlen(junk), 100, 100, &l);
  MT_CHECK_STR(l.s,
               "C{\"id\":1}|00000000|445df8c5;"
               "C{\"id\":1}|00000000|445df8c5;");
  MT_CHECK(!d.crc_mode);
  /* Only-meta-fields are fine; a frame with no '}' goes to the parser. */
  const char *f2 = "{\"id\":1},x\n{\"id\":\n";
  decode(&d, f2, strlen(f2), 100, 100, &l);
  MT_CHECK_STR(l.s, "F{\"id\":1}|,x|0;F{\"id\":||0;");
}

static void test_decode_overflow(void) {
  uint8_t buf[32];
  struct moss_rpc_uart_dec d;
  struct evlog l;
  moss_rpc_uart_dec_init(&d, buf, sizeof(buf));
  char in[200];
  memset(in, 'a', 100);
  in[0] = '{';
  memcpy(in + 100, "\"}\n{\"id\":3}\n", 13);
  decode(&d, in, strlen(in), 7, 7, &l);
  /* One TOO_BIG, the rest of the long line skipped, next frame fine. */
  MT_CHECK_STR(l.s, "T;F{\"id\":3}||0;");
  /* Exactly the capacity is still accepted. */
  char fit[40];
  memset(fit, ' ', 32);
  fit[0] = '{';
  fit[31] = '}';
  memcpy(fit + 32, "\n", 2);
  decode(&d, fit, strlen(fit), 40, 40, &l);
  MT_CHECK(l.s[0] == 'F');
  /* '"""' ends an overlong line too. */
  memset(in, 'b', 100);
  memcpy(in + 100, "\"\"\"{\"id\":4}\"\"\"", 15);
  decode(&d, in, strlen(in), 100, 100, &l);
  MT_CHECK_STR(l.s, "T;F{\"id\":4}||0;");
}

static void test_decode_high_bytes(void) {
  uint8_t buf[64];
  struct moss_rpc_uart_dec d;
  struct evlog l;
  moss_rpc_uart_dec_init(&d, buf, sizeof(buf));
  const char *in = "{\"id\":\xc0\x01 {\"id\":5}\n";
  decode(&d, in, strlen(in), 3, 3, &l);
  MT_CHECK_STR(l.s, "F{\"id\":5}||0;");
  struct moss_rpc_uart_ev ev;
  MT_CHECK_EQ(moss_rpc_uart_dec_feed(&d, "", 0, &ev), 0);
  MT_CHECK_EQ(ev.type, MOSS_RPC_UART_EV_NONE);
  MT_CHECK_EQ(moss_rpc_uart_dec_feed(NULL, "", 1, &ev), MOSS_ERR_INVAL);
}

static void test_encode(void) {
  const char *js =
      "{\"id\":1,\"src\":\"esp32_0031BC\",\"dst\":\"mos\","
      "\"result\":{\"channel_info\":\"\"}}";
  char out[200];
  int n = moss_rpc_uart_encode(true, true, moss_str_c(js), out, sizeof(out));
  char want[200];
  snprintf(want, sizeof(want), "\n\"\"\"%scb307c52\"\"\"\n", js);
  MT_REQUIRE(n == (int)strlen(want));
  MT_CHECK_MEM(out, want, (size_t)n);
  n = moss_rpc_uart_encode(false, false, moss_str_c("{}"), out, sizeof(out));
  MT_REQUIRE(n == 4);
  MT_CHECK_MEM(out, "\n{}\n", 4);
  n = moss_rpc_uart_encode(false, true, moss_str_c("{}"), out, sizeof(out));
  MT_REQUIRE(n == 12);
  MT_CHECK_EQ(moss_rpc_uart_encode(true, true, moss_str_c(js), out, 20),
              MOSS_ERR_TOOBIG);
  /* Round trip through the decoder. */
  uint8_t buf[128];
  struct moss_rpc_uart_dec d;
  struct evlog l;
  moss_rpc_uart_dec_init(&d, buf, sizeof(buf));
  n = moss_rpc_uart_encode(true, true, moss_str_c("{\"a\":\"\\\"\"}"), out,
                           sizeof(out));
  decode(&d, out, (size_t)n, 1, 1, &l);
  MT_CHECK_STR(l.s, "B;F{\"a\":\"\\\"\"}|28b30536|1;B;");
}

struct wire {
  char s[2048];
  size_t n;
};

static int wire_write(void *arg, const void *data, size_t len) {
  struct wire *w = arg;
  if (w->n + len < sizeof(w->s)) {
    memcpy(w->s + w->n, data, len);
    w->n += len;
    w->s[w->n] = '\0';
  }
  return 0;
}

static void test_uart_channel(void) {
  struct moss_rpc_cfg cfg = {.device_id = "esp32_0031BC"};
  struct moss_rpc *rpc = moss_rpc_new(&cfg);
  MT_REQUIRE(rpc != NULL);
  struct wire w = {0};
  struct moss_rpc_uart *u = moss_rpc_uart_new(rpc, wire_write, &w);
  MT_REQUIRE(u != NULL);
  /* Plain line before any handshake: plain reply. */
  log_capture_start();
  const char *l1 = "{\"id\":1,\"src\":\"mos\",\"method\":\"RPC.Ping\"}\n";
  moss_rpc_uart_input(u, l1, strlen(l1));
  MT_CHECK_STR(w.s,
               "\n{\"id\":1,\"src\":\"esp32_0031BC\",\"dst\":\"mos\","
               "\"result\":{\"channel_info\":\"\"}}\n");
  MT_CHECK(log_has("Called 'RPC.Ping' via 'UART', ACL: '*'"));
  /* mos: handshake, then a CRC'd compat frame. */
  w.n = 0;
  const char hs[] = "\"\"\"\x04\"\"\"\n\n";
  moss_rpc_uart_input(u, hs, sizeof(hs) - 1);
  MT_CHECK_STR(w.s, "\"\"\"\x04\"\"\"\n\n");
  w.n = 0;
  w.s[0] = '\0';
  const char *l2 =
      "\n\"\"\"{\"id\":1,\"src\":\"mos\",\"method\":\"RPC.Ping\"}"
      "b8e8ad1d\"\"\"";
  char l2b[200];
  /* Compute the CRC rather than trust a constant typed by hand. */
  const char *js = "{\"id\":1,\"src\":\"mos\",\"method\":\"RPC.Ping\"}";
  int n = moss_rpc_uart_encode(true, true, moss_str_c(js), l2b, sizeof(l2b));
  (void)l2;
  MT_REQUIRE(n > 0);
  moss_rpc_uart_input(u, l2b, (size_t)n);
  MT_CHECK_STR(w.s,
               "\n\n\"\"\"{\"id\":1,\"src\":\"esp32_0031BC\",\"dst\":"
               "\"mos\",\"result\":{\"channel_info\":\"\"}}cb307c52"
               "\"\"\"\n\n");
  /* Corrupted frame: WARN, nothing sent. */
  w.n = 0;
  w.s[0] = '\0';
  const char *l3 = "{\"method\":\"Sys.GetInfo\"}010a4ff8\"\"\"";
  moss_rpc_uart_input(u, l3, strlen(l3));
  MT_CHECK_EQ(w.n, 0);
  MT_CHECK(
      log_has("Corrupted frame (24): '{\"method\":\"Sys.GetInfo\"}' "
              "'010a4ff8' 010a4ff8 010a4ff9"));
  /* Overlong. */
  size_t big = MOSS_RPC_UART_BUF_SIZE(MOSS_RPC_MAX_FRAME_SIZE_DEFAULT) + 10;
  char *b = moss_alloc(MOSS_SUB_APP, big);
  MT_REQUIRE(b != NULL);
  memset(b, 'x', big);
  moss_rpc_uart_input(u, b, big);
  moss_free(b);
  MT_CHECK(log_has("Incoming frame is too big, dropping."));
  log_capture_stop();
  moss_rpc_uart_free(u);
  moss_rpc_free(rpc);
  /* Freed in the other order too. */
  rpc = moss_rpc_new(&cfg);
  u = moss_rpc_uart_new(rpc, wire_write, &w);
  MT_REQUIRE(u != NULL);
  moss_rpc_free(rpc);
  moss_rpc_uart_free(u);
}

void rpc_uart_tests(void) {
  MT_RUN(test_crc_vectors);
  MT_RUN(test_decode_stream);
  MT_RUN(test_decode_split_everywhere);
  MT_RUN(test_decode_modes);
  MT_RUN(test_decode_overflow);
  MT_RUN(test_decode_high_bytes);
  MT_RUN(test_encode);
  MT_RUN(test_uart_channel);
}
