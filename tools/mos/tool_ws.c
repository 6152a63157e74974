/* mos over ws://: RPC frames as WebSocket text messages (rpc.md §2.3). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "moss/alloc.h"
#include "moss/base64.h"
#include "moss/err.h"
#include "moss/ws_frame.h"
#include "tool.h"
#include "tool_net.h"

#define WS_MAX_MSG (1u << 20)

static void rand_bytes(void *p, size_t n) {
  if (getrandom(p, n, 0) != (ssize_t)n)
    memset(p, 0x5a, n);
}

int tool_ws_handshake(int fd, const char *host, const char *port,
                      const char *path, struct moss_buf *rx, long long deadline,
                      char *err, size_t errsz) {
  uint8_t nonce[16];
  char key[MOSS_WS_KEY_LEN + 1], accept[MOSS_WS_ACCEPT_LEN + 1];
  size_t kl;
  rand_bytes(nonce, sizeof(nonce));
  moss_base64_encode(key, sizeof(key), &kl, nonce, sizeof(nonce));
  if (moss_ws_accept_key(moss_str_c(key), accept) != MOSS_OK) {
    snprintf(err, errsz, "websocket: cannot compute accept key");
    return -1;
  }
  char req[1024];
  int n = snprintf(req, sizeof(req),
                   "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: json-rpc\r\n\r\n",
                   path, host, port, key);
  if (tool_write_all(fd, req, (size_t)n, deadline) != 0) {
    if (*tool_tls_last_error() != '\0')
      snprintf(err, errsz, "%s", tool_tls_last_error());
    else
      snprintf(err, errsz, "cannot send to %s:%s", host, port);
    return -1;
  }
  for (;;) {
    for (size_t i = 3; i < rx->len; i++) {
      if (memcmp(rx->buf + i - 3, "\r\n\r\n", 4) != 0)
        continue;
      size_t hl = i + 1;
      int status = 0;
      sscanf((char *)rx->buf, "HTTP/1.%*d %d", &status);
      if (status != 101) {
        const char *body = (const char *)rx->buf + hl;
        int bl = (int)(rx->len - hl);
        static const char off[] = "WS is disabled"; /* rt_http.c */
        if (status == 503 && bl >= (int)sizeof(off) - 1 &&
            memcmp(body, off, sizeof(off) - 1) == 0)
          snprintf(err, errsz,
                   "RPC over WebSocket is disabled on the device "
                   "(rpc.ws.enable is false)");
        else
          snprintf(err, errsz, "websocket upgrade refused: HTTP %d%s%.*s",
                   status, bl > 0 ? ": " : "", bl > 200 ? 200 : bl, body);
        return -1;
      }
      /* The accept value proves the server understood this handshake. */
      const char *h = (const char *)rx->buf;
      bool ok = false;
      for (const char *p = h; p < h + hl;) {
        const char *eol = memchr(p, '\n', (size_t)(h + hl - p));
        if (eol == NULL)
          break;
        if (strncasecmp(p, "sec-websocket-accept:", 21) == 0) {
          const char *v = p + 21;
          while (*v == ' ')
            v++;
          ok = strncmp(v, accept, MOSS_WS_ACCEPT_LEN) == 0;
        }
        p = eol + 1;
      }
      if (!ok) {
        snprintf(err, errsz, "websocket: bad Sec-WebSocket-Accept");
        return -1;
      }
      moss_buf_consume(rx, hl);
      return 0;
    }
    int rr = tool_read_some(fd, rx, deadline);
    if (rr != 0) {
      if (rr != -2 && *tool_tls_last_error() != '\0')
        snprintf(err, errsz, "%s", tool_tls_last_error());
      else
        snprintf(err, errsz,
                 rr == -2 ? "websocket handshake timed out"
                          : "connection closed during handshake");
      return -1;
    }
  }
}

static int send_frame(int fd, unsigned op, const void *data, size_t len,
                      long long deadline) {
  uint8_t mask[4];
  rand_bytes(mask, sizeof(mask));
  size_t cap = len + MOSS_WS_MAX_HEADER, olen;
  uint8_t *out = moss_alloc(MOSS_SUB_APP, cap);
  if (out == NULL)
    return -1;
  int rc = moss_ws_encode_frame(out, cap, true, op, data, len, mask, &olen);
  if (rc == MOSS_OK)
    rc = tool_write_all(fd, out, olen, deadline);
  moss_free(out);
  return rc == 0 ? 0 : -1;
}

int tool_ws_call(int fd, struct moss_buf *rx, const char *frame, cJSON **reply,
                 long long deadline, char *err, size_t errsz) {
  *reply = NULL;
  if (send_frame(fd, MOSS_WS_OP_TEXT, frame, strlen(frame), deadline) != 0) {
    snprintf(err, errsz, "websocket: send failed");
    return -1;
  }
  cJSON *req = cJSON_Parse(frame);
  double want = cJSON_GetNumberValue(cJSON_GetObjectItem(req, "id"));
  cJSON_Delete(req);
  uint8_t *mbuf = moss_alloc(MOSS_SUB_APP, WS_MAX_MSG);
  if (mbuf == NULL) {
    snprintf(err, errsz, "out of memory");
    return -1;
  }
  struct moss_ws_msg msg;
  moss_ws_msg_init(&msg, mbuf, WS_MAX_MSG);
  int ret = -1;
  for (;;) {
    struct moss_ws_frame f;
    int n = rx->len ? moss_ws_parse_frame(MOSS_WS_CLIENT, rx->buf, rx->len,
                                          WS_MAX_MSG, &f)
                    : 0;
    if (n < 0) {
      snprintf(err, errsz, "websocket: %s", moss_strerror(n));
      break;
    }
    if (n > 0) {
      int ev = moss_ws_msg_feed(&msg, &f);
      if (ev < 0) {
        snprintf(err, errsz, "websocket: %s", moss_strerror(ev));
        break;
      }
      if (ev == MOSS_WS_MSG_CONTROL && f.opcode == MOSS_WS_OP_PING) {
        send_frame(fd, MOSS_WS_OP_PONG, f.payload, (size_t)f.payload_len,
                   deadline);
      } else if (ev == MOSS_WS_MSG_CONTROL && f.opcode == MOSS_WS_OP_CLOSE) {
        snprintf(err, errsz, "websocket closed by the device");
        break;
      } else if (ev == MOSS_WS_MSG_DONE) {
        cJSON *j = cJSON_ParseWithLength((const char *)msg.data, msg.len);
        double id = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "id"));
        if (j != NULL && id == want) {
          *reply = j;
          moss_buf_consume(rx, (size_t)n);
          ret = 0;
          break;
        }
        cJSON_Delete(j);
      }
      moss_buf_consume(rx, (size_t)n);
      continue;
    }
    int rr = tool_read_some(fd, rx, deadline);
    if (rr != 0) {
      if (rr != -2 && *tool_tls_last_error() != '\0')
        snprintf(err, errsz, "%s", tool_tls_last_error());
      else
        snprintf(err, errsz,
                 rr == -2 ? "timed out waiting for the reply"
                          : "websocket connection closed");
      break;
    }
  }
  moss_free(mbuf);
  return ret;
}

void tool_ws_close(int fd) {
  uint8_t mask[4], out[32];
  size_t olen;
  rand_bytes(mask, sizeof(mask));
  if (moss_ws_encode_close(out, sizeof(out), MOSS_WS_CLOSE_NORMAL,
                           MOSS_STR_NULL, mask, &olen) == MOSS_OK) {
    if (tool_tls_active(fd)) {
      tool_tls_write_all(fd, out, olen, 0);
    } else if (write(fd, out, olen) < 0) {
      /* best effort: the socket is closed right after */
    }
  }
}
