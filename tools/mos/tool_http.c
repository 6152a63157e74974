/* mos over http://: POST /rpc with a whole frame (spec rpc.md §2.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "moss/buf.h"
#include "moss/util.h"
#include "tool.h"
#include "tool_net.h"

/* Finds the end of the response head; returns its length or 0. */
static size_t head_len(const struct moss_buf *b) {
  for (size_t i = 3; i < b->len; i++) {
    if (memcmp(b->buf + i - 3, "\r\n\r\n", 4) == 0)
      return i + 1;
  }
  return 0;
}

/* Content-Length from a response head; -1 if absent or invalid. */
static long long content_length(const char *head, size_t n) {
  const char *p = head;
  while (p < head + n) {
    const char *eol = memchr(p, '\n', (size_t)(head + n - p));
    if (eol == NULL)
      break;
    if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0) {
      char *end;
      long long v = strtoll(p + 15, &end, 10);
      return v >= 0 ? v : -1;
    }
    p = eol + 1;
  }
  return -1;
}

/* The value of header `name` in a response head, copied into out. */
static void header_value(const char *head, size_t n, const char *name,
                         char *out, size_t outsz) {
  size_t nl = strlen(name);
  out[0] = '\0';
  for (const char *p = head; p < head + n;) {
    const char *eol = memchr(p, '\n', (size_t)(head + n - p));
    if (eol == NULL)
      break;
    if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
        p[nl] == ':') {
      const char *v = p + nl + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      size_t vl = (size_t)(eol - v);
      if (vl > 0 && v[vl - 1] == '\r')
        vl--;
      snprintf(out, outsz, "%.*s", (int)vl, v);
      return;
    }
    p = eol + 1;
  }
}

/* A reply that is not JSON: say what the status means for RPC.  A 404
 * on /rpc from a live HTTP server is the device's answer when RPC over
 * HTTP is switched off (rpc.http.enable=false); on any other path there
 * is no RPC endpoint. */
static void not_rpc(const char *host, const char *port, const char *path,
                    bool tls, int status, const char *body, size_t bl,
                    char *err, size_t errsz) {
  bool v6 = strchr(host, ':') != NULL;
  if (status == 404 &&
      (strcmp(path, "/rpc") == 0 || strcmp(path, "/rpc/") == 0)) {
    snprintf(err, errsz,
             "RPC over HTTP is disabled on the device (rpc.http.enable is "
             "false)");
  } else if (status == 404 || status == 405) {
    snprintf(err, errsz, "no RPC endpoint at %s://%s%s%s:%s%s (HTTP %d)",
             tls ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "", port,
             path, status);
  } else {
    snprintf(err, errsz, "HTTP %d: %.*s", status, (int)(bl > 200 ? 200 : bl),
             body);
  }
}

/* An error object sent bare ({"code": 403, "message": "..."}, as the
 * REST form /rpc/<Method> answers) becomes {"error": {...}}, so that it
 * is reported like any other error frame. */
static void wrap_bare_error(cJSON *reply) {
  if (cJSON_GetObjectItemCaseSensitive(reply, "error") != NULL ||
      cJSON_GetObjectItemCaseSensitive(reply, "result") != NULL ||
      cJSON_GetObjectItemCaseSensitive(reply, "id") != NULL ||
      !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(reply, "code")) ||
      !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(reply, "message")))
    return;
  cJSON *e = cJSON_CreateObject();
  if (e == NULL)
    return;
  cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(reply, "code");
  cJSON *m = cJSON_DetachItemFromObjectCaseSensitive(reply, "message");
  cJSON_AddItemToObject(e, "code", c);
  cJSON_AddItemToObject(e, "message", m);
  cJSON_AddItemToObject(reply, "error", e);
}

/* One POST.  *status gets the HTTP status; on a 401, www gets the
 * WWW-Authenticate value and the call returns 1. */
static int http_once(const char *host, const char *port, const char *path,
                     bool tls, const char *frame, const char *authz,
                     cJSON **reply, char *www, size_t wwwsz, long long deadline,
                     char *err, size_t errsz) {
  int fd = tool_tcp_connect(host, port, deadline, err, errsz);
  if (fd < 0)
    return -1;
  if (tls && tool_tls_start(fd, host, port, deadline, err, errsz) != 0) {
    tool_tls_close(fd);
    close(fd);
    return -1;
  }
  int ret = -1;
  struct moss_buf rx;
  moss_buf_init(&rx, MOSS_SUB_APP, 1 << 22);
  char head[2048];
  int hn =
      snprintf(head, sizeof(head),
               "POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
               "Content-Type: application/json\r\n"
               "Content-Length: %zu\r\nConnection: close\r\n"
               "%s%s%s\r\n",
               path, host, port, strlen(frame), authz ? "Authorization: " : "",
               authz ? authz : "", authz ? "\r\n" : "");
  if (hn < 0 || (size_t)hn >= sizeof(head)) {
    snprintf(err, errsz, "request head too long");
    goto out;
  }
  if (tool_write_all(fd, head, (size_t)hn, deadline) != 0 ||
      tool_write_all(fd, frame, strlen(frame), deadline) != 0) {
    snprintf(err, errsz, "cannot send request to %s:%s", host, port);
    goto out;
  }
  size_t hl = 0;
  long long cl = -1;
  for (;;) {
    int rr = tool_read_some(fd, &rx, deadline);
    if (hl == 0)
      hl = head_len(&rx);
    if (hl > 0 && cl < 0)
      cl = content_length((char *)rx.buf, hl);
    if (hl > 0 && cl >= 0 && rx.len >= hl + (size_t)cl)
      break;
    if (rr == -2) {
      snprintf(err, errsz, "timed out waiting for the reply");
      goto out;
    }
    if (rr < 0) {
      if (hl > 0 && cl < 0)
        break; /* body delimited by close */
      if (*tool_tls_last_error() != '\0')
        snprintf(err, errsz, "%s", tool_tls_last_error());
      else
        snprintf(err, errsz, "connection to %s:%s closed", host, port);
      goto out;
    }
  }
  int status = 0;
  if (rx.len < 12 || sscanf((char *)rx.buf, "HTTP/1.%*d %d", &status) != 1) {
    snprintf(err, errsz, "invalid HTTP response");
    goto out;
  }
  if (status == 401) {
    header_value((char *)rx.buf, hl, "WWW-Authenticate", www, wwwsz);
    ret = 1;
    goto out;
  }
  size_t bl = cl >= 0 ? (size_t)cl : rx.len - hl;
  *reply = cJSON_ParseWithLength((char *)rx.buf + hl, bl);
  if (*reply == NULL || !cJSON_IsObject(*reply)) {
    cJSON_Delete(*reply);
    *reply = NULL;
    not_rpc(host, port, path, tls, status, (char *)rx.buf + hl, bl, err, errsz);
    goto out;
  }
  wrap_bare_error(*reply);
  ret = 0;
out:
  moss_buf_free(&rx);
  tool_tls_close(fd);
  close(fd);
  return ret;
}

int tool_http_call(const char *host, const char *port, const char *path,
                   bool tls, const char *frame, cJSON **reply, int *code,
                   long long deadline, char *err, size_t errsz) {
  char www[512] = "", authz[1024];
  int rc = http_once(host, port, path, tls, frame, NULL, reply, www,
                     sizeof(www), deadline, err, errsz);
  if (rc != 1)
    return rc;
  /* An HTTP 401 is the device asking who we are: it is up. */
  *code = 401;
  /* rpc.md §7 (4): answer the Digest challenge once. */
  if (tool_auth_header(www, "POST", path, authz, sizeof(authz), err, errsz) !=
      0)
    return -1;
  rc = http_once(host, port, path, tls, frame, authz, reply, www, sizeof(www),
                 deadline, err, errsz);
  moss_zeroize(authz, sizeof(authz));
  if (rc == 1) {
    tool_auth_failed(err, errsz);
    return -1;
  }
  *code = 0;
  return rc;
}
