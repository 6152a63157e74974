/*
 * libFuzzer target: the HTTP request-head parser and the helpers a server
 * runs on its results (path decoding, query and list iteration, the
 * WebSocket handshake check, the response writer).
 *
 * The input is parsed twice: whole, and in pieces whose sizes come from
 * the input itself, carrying one struct across calls (the resume path).
 * Both must agree, which checks that the restartable scan is equivalent
 * to a fresh parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moss/http_parse.h"
#include "moss/ws_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

static void inside(struct moss_str s, const char *buf, size_t len) {
  if (s.len == 0)
    return;
  check(s.buf >= buf && s.buf + s.len <= buf + len);
}

static void use_request(const struct moss_http_req *req, const char *buf,
                        size_t len) {
  char out[MOSS_HTTP_MAX_URI + 1];
  size_t n;
  struct moss_str q = req->query, k, v, item;
  struct moss_ws_handshake hs;
  struct moss_http_resp r;
  char resp[512];

  inside(req->method, buf, len);
  inside(req->target, buf, len);
  inside(req->query, buf, len);
  for (size_t i = 0; i < req->num_headers; i++) {
    inside(req->headers[i].name, buf, len);
    inside(req->headers[i].value, buf, len);
    struct moss_str l = req->headers[i].value;
    while (moss_http_list_next(&l, &item))
      check(item.len > 0);
  }
  if (moss_http_path_decode(out, sizeof(out), req->path, &n) == 0) {
    check(n > 0 && out[0] == '/' && strlen(out) == n);
    check(strstr(out, "//") == NULL && strstr(out, "/../") == NULL);
  }
  while (moss_http_query_next(&q, &k, &v)) {
    (void)moss_http_url_decode(out, sizeof(out), k, true, &n);
    (void)moss_http_url_decode(out, sizeof(out), v, true, &n);
  }
  if (moss_ws_check_handshake(req, &hs) == 0)
    check(moss_ws_write_handshake_response(&r, resp, sizeof(resp), &hs) == 0);
  moss_http_resp_init(&r, resp, sizeof(resp), req->status ? req->status : 200,
                      NULL);
  moss_http_resp_header(&r, "X-Path", "%.*s", (int)req->path.len,
                        req->path.buf);
  if (req->num_headers > 0)
    moss_http_resp_raw(&r, req->headers[0].value);
  if (moss_http_resp_finish(&r) == 0)
    check(r.len < sizeof(resp));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct moss_http_header h1[MOSS_HTTP_MAX_HEADERS], h2[MOSS_HTTP_MAX_HEADERS];
  struct moss_http_req whole, inc;
  const char *buf;
  char *copy;
  size_t step, off = 0;
  int a, b = 0;

  if (size < 1)
    return 0;
  step = (data[0] & 0x3f) + 1;
  data++;
  size--;
  /* An exact-size copy so any overread is caught by ASan. */
  copy = malloc(size ? size : 1);
  if (copy == NULL)
    return 0;
  memcpy(copy, data, size);
  buf = copy;

  moss_http_req_init(&whole, h1, MOSS_ARRAY_SIZE(h1));
  a = moss_http_parse_request(&whole, buf, size);
  check(a <= (int)size);
  if (a > 0) {
    check(whole.head_len == (size_t)a && whole.status == 0);
    use_request(&whole, buf, size);
  } else if (a < 0) {
    check(whole.status >= 400 && whole.status <= 505);
  }

  moss_http_req_init(&inc, h2, MOSS_ARRAY_SIZE(h2));
  while (off < size) {
    off = off + step < size ? off + step : size;
    b = moss_http_parse_request(&inc, buf, off);
    if (b != 0)
      break;
  }
  /* Incremental parsing may stop earlier (an error found in a prefix, or
   * a complete head before the end), but it must agree with the whole
   * parse about what it found. */
  if (b > 0)
    check(a == b && inc.num_headers == whole.num_headers);
  if (a > 0)
    check(b == a);
  if (a == 0)
    check(b == 0);
  if (a < 0)
    check(b < 0);
  if (b < 0 && a < 0)
    check(inc.status == whole.status || off < size);
  free(copy);
  return 0;
}
