/*
 * mos transports: --port resolution and the RPC client over serial (the
 * PTY of an esp32-sim board or a real UART), tcp:// (same byte stream),
 * ws:// (WebSocket) and http:// (POST /rpc).  Blocking I/O with poll()
 * timeouts: a host tool talks to one device at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>

#include "moss/alloc.h"
#include "moss/buf.h"
#include "moss/err.h"
#include "moss/port_registry.h"
#include "moss/rpc_uart.h"
#include "moss/util.h"
#include "tool.h"
#include "tool_net.h"

enum conn_kind { CK_SERIAL, CK_TCP, CK_WS, CK_HTTP };

struct tool_conn {
  enum conn_kind kind;
  int fd;
  char host[256];
  char port[16];
  char path[256];
  char display[512];
  bool handshaken;
  bool tls;
  struct moss_buf rx;
  unsigned id;
  struct moss_rpc_uart_dec dec; /* serial and tcp:// */
  uint8_t *decbuf;
};

/* Largest reply frame mos accepts on a serial line. */
#define SERIAL_MAX_FRAME (256u * 1024u)

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- port registry (mossd writes it, mos auto reads it) ---------------- */

/* Newest live registered UART; 0 if found. */
static int find_auto_port(char *out, size_t sz) {
  char dir[512];
  if (moss_port_registry_dir(dir, sizeof(dir), false) != MOSS_OK)
    return -1;
  DIR *d = opendir(dir);
  time_t best = 0;
  int found = -1;
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end != '\0' || pid <= 0)
      continue;
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
      unlink(p); /* stale entry of a dead mossd */
      continue;
    }
    struct stat sb;
    FILE *f = fopen(p, "r");
    if (f == NULL || fstat(fileno(f), &sb) != 0) {
      if (f)
        fclose(f);
      continue;
    }
    char line[600];
    while (fgets(line, sizeof(line), f) != NULL) {
      if (strncmp(line, "uart=", 5) == 0 && sb.st_mtime >= best) {
        line[strcspn(line, "\r\n")] = '\0';
        moss_str_copy(out, sz, moss_str_c(line + 5));
        best = sb.st_mtime;
        found = 0;
      }
    }
    fclose(f);
  }
  if (d)
    closedir(d);
  if (found == 0)
    return 0;
  /* Then real serial devices. */
  static const char *const devs[] = {"/dev/ttyUSB0", "/dev/ttyUSB1",
                                     "/dev/ttyACM0", "/dev/ttyACM1"};
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(devs); i++) {
    if (access(devs[i], R_OK | W_OK) == 0) {
      snprintf(out, sz, "%s", devs[i]);
      return 0;
    }
  }
  return -1;
}

/* ---- low-level I/O ------------------------------------------------------ */

int tool_write_all(int fd, const void *buf, size_t len, long long deadline) {
  if (tool_tls_active(fd))
    return tool_tls_write_all(fd, buf, len, deadline);
  const uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n > 0) {
      p += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return -1;
    struct pollfd pfd = {fd, POLLOUT, 0};
    long long left = deadline - now_ms();
    if (left <= 0)
      return -2;
    poll(&pfd, 1, (int)left);
  }
  return 0;
}

/* Reads what is available into b, waiting until deadline. 0 ok, -1 error or
 * EOF, -2 timeout. */
int tool_read_some(int fd, struct moss_buf *b, long long deadline) {
  if (tool_tls_active(fd))
    return tool_tls_read_some(fd, b, deadline);
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0)
      return -2;
    struct pollfd pfd = {fd, POLLIN, 0};
    int pr = poll(&pfd, 1, (int)(left > 100 ? 100 : left));
    if (pr < 0 && errno != EINTR)
      return -1;
    if (pr <= 0)
      continue;
    uint8_t tmp[4096];
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n > 0)
      return moss_buf_append(b, tmp, (size_t)n) == 0 ? 0 : -1;
    if (n == 0)
      return -1;
    if (errno == EIO)
      return -1; /* PTY master gone */
    if (errno != EAGAIN && errno != EINTR)
      return -1;
  }
}

int tool_tcp_connect(const char *host, const char *port, long long deadline,
                     char *err, size_t errsz) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0) {
    snprintf(err, errsz, "cannot resolve %s: %s", host, gai_strerror(gai));
    return -1;
  }
  int fd = -1;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0)
      continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    if (errno == EINPROGRESS) {
      struct pollfd pfd = {fd, POLLOUT, 0};
      long long left = deadline - now_ms();
      int soerr = ETIMEDOUT;
      if (left > 0 && poll(&pfd, 1, (int)left) == 1) {
        socklen_t sl = sizeof(soerr);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
      }
      if (soerr == 0)
        break;
      errno = soerr;
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err, errsz, "cannot connect to %s:%s: %s", host, port,
             strerror(errno));
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

/* ---- URL parsing ----------------------------------------------------------
 */

static int parse_url(struct tool_conn *c, const char *url, const char *defport,
                     char *err, size_t errsz) {
  const char *p = strstr(url, "://") + 3;
  const char *slash = strchr(p, '/');
  size_t hl = slash ? (size_t)(slash - p) : strlen(p);
  char hp[sizeof(c->host)];
  if (hl == 0 || hl >= sizeof(hp)) {
    snprintf(err, errsz, "invalid port %s", url);
    return -1;
  }
  memcpy(hp, p, hl);
  hp[hl] = '\0';
  snprintf(c->path, sizeof(c->path), "%s", slash ? slash : "/rpc");
  char *colon = strrchr(hp, ':');
  if (hp[0] == '[') { /* [v6]:port */
    char *rb = strchr(hp, ']');
    if (rb == NULL) {
      snprintf(err, errsz, "invalid port %s", url);
      return -1;
    }
    *rb = '\0';
    snprintf(c->host, sizeof(c->host), "%s", hp + 1);
    colon = rb[1] == ':' ? rb + 1 : NULL;
  } else {
    if (colon)
      *colon = '\0';
    snprintf(c->host, sizeof(c->host), "%s", hp);
  }
  snprintf(c->port, sizeof(c->port), "%s", colon ? colon + 1 : defport);
  return 0;
}

static int serial_init(struct tool_conn *c) {
  size_t sz = MOSS_RPC_UART_BUF_SIZE(SERIAL_MAX_FRAME);
  c->decbuf = moss_alloc(MOSS_SUB_APP, sz);
  if (c->decbuf == NULL)
    return -1;
  moss_rpc_uart_dec_init(&c->dec, c->decbuf, sz);
  return 0;
}

/* A pseudo-terminal has no FIFO to overrun. */
static bool is_pty(int fd) {
  const char *n = ttyname(fd);
  return n != NULL && strncmp(n, "/dev/pts/", 9) == 0;
}

/* The termios constant of --baud-rate; 0 if the host has none for it. */
static speed_t baud_constant(long long baud) {
  static const struct {
    long long baud;
    speed_t sp;
  } tab[] = {{9600, B9600},     {19200, B19200},   {38400, B38400},
             {57600, B57600},   {115200, B115200}, {230400, B230400},
             {460800, B460800}, {921600, B921600}};
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(tab); i++) {
    if (tab[i].baud == baud)
      return tab[i].sp;
  }
  return 0;
}

static int open_serial(struct tool_conn *c, const char *path, char *err,
                       size_t errsz) {
  speed_t sp = baud_constant(tool_int("baud-rate"));
  if (sp == 0) {
    snprintf(err, errsz,
             "unsupported --baud-rate %lld (9600, 19200, 38400, 57600, "
             "115200, 230400, 460800, 921600)",
             tool_int("baud-rate"));
    return -1;
  }
  c->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (c->fd < 0) {
    snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  struct termios t;
  if (tcgetattr(c->fd, &t) == 0) {
    cfmakeraw(&t);
    cfsetispeed(&t, sp);
    cfsetospeed(&t, sp);
    if (tool_bool("hw-flow-control"))
      t.c_cflag |= CRTSCTS;
    else
      t.c_cflag &= ~(tcflag_t)CRTSCTS;
    tcsetattr(c->fd, TCSANOW, &t);
  }
  return 0;
}

struct tool_conn *tool_connect(char *err, size_t errsz) {
  const char *port = tool_str("port");
  char autop[512];
  if (strcmp(port, "auto") == 0 || *port == '\0') {
    if (find_auto_port(autop, sizeof(autop)) != 0) {
      snprintf(err, errsz, "--port not specified and none were found");
      return NULL;
    }
    fprintf(stderr, "Using port %s\n", autop);
    /* Reconnects (after a reboot) use the same device, silently. */
    tool_flag("port")->sval = tool_strdup(autop);
    port = autop;
  }
  struct tool_conn *c = moss_calloc(MOSS_SUB_APP, 1, sizeof(*c));
  if (c == NULL) {
    snprintf(err, errsz, "out of memory");
    return NULL;
  }
  c->fd = -1;
  c->id = (unsigned)(now_ms() % 1000000) * 1000 + (unsigned)getpid() % 1000;
  moss_buf_init(&c->rx, MOSS_SUB_APP, 1 << 22);
  snprintf(c->display, sizeof(c->display), "%s", port);
  long long deadline = now_ms() + tool_int("timeout");
  int rc;
  bool wss = strncmp(port, "wss://", 6) == 0;
  bool https = strncmp(port, "https://", 8) == 0;
  if (strncmp(port, "ws://", 5) == 0 || wss) {
    c->kind = CK_WS;
    c->tls = tool_tls_wanted(port);
    rc = parse_url(c, port, c->tls ? "443" : "80", err, errsz);
    if (rc == 0) {
      c->fd = tool_tcp_connect(c->host, c->port, deadline, err, errsz);
      rc = c->fd < 0 ? -1 : 0;
      if (rc == 0 && c->tls)
        rc = tool_tls_start(c->fd, c->host, c->port, deadline, err, errsz);
      if (rc == 0)
        rc = tool_ws_handshake(c->fd, c->host, c->port, c->path, &c->rx,
                               deadline, err, errsz);
    }
  } else if (strncmp(port, "http://", 7) == 0 || https) {
    c->kind = CK_HTTP;
    c->tls = tool_tls_wanted(port);
    rc = parse_url(c, port, c->tls ? "443" : "80", err, errsz);
  } else if (strncmp(port, "tcp://", 6) == 0) {
    c->kind = CK_TCP;
    rc = serial_init(c);
    if (rc == 0)
      rc = parse_url(c, port, "23", err, errsz);
    if (rc == 0) {
      c->fd = tool_tcp_connect(c->host, c->port, deadline, err, errsz);
      rc = c->fd < 0 ? -1 : 0;
    }
  } else if (strncmp(port, "mqtt://", 7) == 0 ||
             strncmp(port, "mqtts://", 8) == 0) {
    snprintf(err, errsz, "port %s: transport not supported yet", port);
    rc = -1;
  } else {
    c->kind = CK_SERIAL;
    rc = serial_init(c);
    if (rc == 0)
      rc = open_serial(c, strncmp(port, "serial://", 9) == 0 ? port + 9 : port,
                       err, errsz);
  }
  if (rc != 0) {
    tool_disconnect(c);
    return NULL;
  }
  return c;
}

void tool_disconnect(struct tool_conn *c) {
  if (c == NULL)
    return;
  if (c->fd >= 0) {
    if (c->kind == CK_WS)
      tool_ws_close(c->fd);
    tool_tls_close(c->fd);
    close(c->fd);
  }
  moss_buf_free(&c->rx);
  moss_free(c->decbuf);
  moss_free(c);
}

/* ---- request/reply ------------------------------------------------------ */

static cJSON *make_frame(struct tool_conn *c, const char *method,
                         const cJSON *params, unsigned *id) {
  cJSON *f = cJSON_CreateObject();
  *id = ++c->id;
  cJSON_AddNumberToObject(f, "id", *id);
  cJSON_AddStringToObject(f, "src", "mos");
  cJSON_AddStringToObject(f, "method", method);
  if (params != NULL)
    cJSON_AddItemToObject(f, "params", cJSON_Duplicate(params, 1));
  return f;
}

/* Extracts result or error from a reply frame for request id.  Returns 0
 * result, 1 remote error, 2 not our frame, -1 malformed. */
static int take_reply(cJSON *fr, unsigned id, cJSON **result, int *code,
                      char *err, size_t errsz) {
  cJSON *jid = cJSON_GetObjectItemCaseSensitive(fr, "id");
  bool anon_error = jid == NULL && cJSON_GetObjectItem(fr, "error") != NULL;
  if (!anon_error && (!cJSON_IsNumber(jid) || (unsigned)jid->valuedouble != id))
    return 2;
  if (cJSON_GetObjectItemCaseSensitive(fr, "method") != NULL)
    return 2;
  cJSON *e = cJSON_GetObjectItemCaseSensitive(fr, "error");
  if (e != NULL) {
    cJSON *jc = cJSON_GetObjectItemCaseSensitive(e, "code");
    cJSON *jm = cJSON_GetObjectItemCaseSensitive(e, "message");
    *code = cJSON_IsNumber(jc) ? (int)jc->valuedouble : -1;
    if (*code != 0) {
      snprintf(err, errsz, "%s", cJSON_IsString(jm) ? jm->valuestring : "");
      return 1;
    }
  }
  cJSON *r = cJSON_DetachItemFromObjectCaseSensitive(fr, "result");
  *result = r != NULL ? r : cJSON_CreateNull();
  return 0;
}

/* Serial: runs the bytes received through the same line codec the device
 * uses (moss/rpc_uart.h) and returns the next frame, or NULL when none is
 * complete yet.  Log lines and corrupted frames are skipped; *eof_echo
 * tells that the handshake answer arrived. */
static cJSON *serial_next_frame(struct tool_conn *c, bool *eof_echo) {
  while (c->rx.len > 0) {
    struct moss_rpc_uart_ev ev;
    int n = moss_rpc_uart_dec_feed(&c->dec, c->rx.buf, c->rx.len, &ev);
    if (n <= 0)
      break;
    cJSON *j = NULL;
    if (ev.type == MOSS_RPC_UART_EV_FRAME)
      j = cJSON_ParseWithLength(ev.json.buf, ev.json.len);
    else if (ev.type == MOSS_RPC_UART_EV_EOF)
      *eof_echo = true;
    moss_buf_consume(&c->rx, (size_t)n);
    if (j != NULL)
      return j;
  }
  return NULL;
}

static int serial_handshake(struct tool_conn *c, long long deadline, char *err,
                            size_t errsz) {
  static const char hs[] = "\"\"\"\x04\"\"\"\n\n";
  while (now_ms() < deadline) {
    if (tool_write_all(c->fd, hs, sizeof(hs) - 1, deadline) != 0)
      break;
    long long until = now_ms() + 200;
    while (now_ms() < until) {
      int rc = tool_read_some(c->fd, &c->rx, until);
      if (rc == -1) {
        snprintf(err, errsz, "%s: device closed the connection", c->display);
        return -1;
      }
      bool echo = false;
      cJSON *j;
      while ((j = serial_next_frame(c, &echo)) != NULL)
        cJSON_Delete(j);
      if (echo) {
        c->handshaken = true;
        return 0;
      }
    }
  }
  snprintf(err, errsz, "%s: no answer from the device", c->display);
  return -1;
}

static int call_serial(struct tool_conn *c, const char *frame, unsigned id,
                       cJSON **result, int *code, char *err, size_t errsz,
                       long long deadline) {
  if (!c->handshaken && serial_handshake(c, deadline, err, errsz) != 0)
    return -1;
  char crc[9];
  snprintf(crc, sizeof(crc), "%08x",
           (unsigned)moss_crc32(0, frame, strlen(frame)));
  struct moss_buf out;
  moss_buf_init(&out, MOSS_SUB_APP, strlen(frame) + 64);
  moss_buf_append(&out, "\n\"\"\"", 4);
  moss_buf_append(&out, frame, strlen(frame));
  moss_buf_append(&out, crc, 8);
  moss_buf_append(&out, "\"\"\"\n", 4);
  int wr = 0;
  /* A real UART at 115200 without flow control overruns the chip's FIFO:
   * pace 16-byte chunks 5 ms apart (harmless on a PTY). */
  bool pace = c->kind == CK_SERIAL && !tool_bool("rpc-uart-no-delay") &&
              !tool_bool("hw-flow-control") &&
              tool_int("baud-rate") <= 115200 && !is_pty(c->fd);
  for (size_t o = 0; o < out.len && wr == 0; o += pace ? 16 : out.len) {
    size_t n = pace && out.len - o > 16 ? 16 : out.len - o;
    wr = tool_write_all(c->fd, out.buf + o, n, deadline);
    if (pace)
      usleep(5000);
  }
  moss_buf_free(&out);
  if (wr != 0) {
    snprintf(err, errsz, "%s: write failed", c->display);
    return -1;
  }
  for (;;) {
    bool echo = false;
    cJSON *fr;
    while ((fr = serial_next_frame(c, &echo)) != NULL) {
      int rc = take_reply(fr, id, result, code, err, errsz);
      cJSON_Delete(fr);
      if (rc != 2)
        return rc;
    }
    int rr = tool_read_some(c->fd, &c->rx, deadline);
    if (rr == -2) {
      snprintf(err, errsz, "timed out waiting for the reply");
      return -1;
    }
    if (rr < 0) {
      snprintf(err, errsz, "%s: device closed the connection", c->display);
      return -1;
    }
  }
}

static int call_once(struct tool_conn *c, const char *frame, unsigned id,
                     cJSON **result, int *code, char *err, size_t errsz) {
  *result = NULL;
  *code = 0;
  long long deadline = now_ms() + tool_int("timeout");
  int rc = -1;
  cJSON *fr = NULL;
  switch (c->kind) {
    case CK_SERIAL:
    case CK_TCP:
      rc = call_serial(c, frame, id, result, code, err, errsz, deadline);
      break;
    case CK_WS:
      rc = tool_ws_call(c->fd, &c->rx, frame, &fr, deadline, err, errsz);
      break;
    case CK_HTTP:
      rc = tool_http_call(c->host, c->port, c->path, c->tls, frame, &fr, code,
                          deadline, err, errsz);
      break;
  }
  if (fr != NULL) {
    rc = take_reply(fr, id, result, code, err, errsz);
    if (rc == 2) {
      snprintf(err, errsz, "reply does not match the request");
      rc = -1;
    }
    cJSON_Delete(fr);
  }
  return rc;
}

int tool_call(struct tool_conn *c, const char *method, const cJSON *params,
              cJSON **result, int *code, char *err, size_t errsz) {
  unsigned id;
  cJSON *obj = make_frame(c, method, params, &id);
  char *frame = obj ? cJSON_PrintUnformatted(obj) : NULL;
  if (frame == NULL) {
    cJSON_Delete(obj);
    snprintf(err, errsz, "out of memory");
    return -1;
  }
  int rc = call_once(c, frame, id, result, code, err, errsz);
  if (rc == 1 && *code == 401) {
    /* rpc.md §7: answer a Digest challenge once, same request, same id. */
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", err);
    int a = tool_auth_frame(msg, obj, err, errsz);
    if (a < 0) {
      rc = -1;
    } else if (a == 0) {
      cJSON_free(frame);
      frame = cJSON_PrintUnformatted(obj);
      rc = frame ? call_once(c, frame, id, result, code, err, errsz) : -1;
      if (rc == 1 && *code == 401) {
        /* A second challenge: the device did not take the password (the
         * challenge it sends again is no news for a person). */
        tool_auth_failed(err, errsz);
        rc = -1;
      }
    } else {
      snprintf(err, errsz, "%s", msg);
    }
  }
  cJSON_free(frame);
  cJSON_Delete(obj);
  return rc;
}

int tool_call_or_fail(struct tool_conn *c, const char *method,
                      const cJSON *params, cJSON **result) {
  char err[1024];
  int code = 0;
  int rc = tool_call(c, method, params, result, &code, err, sizeof(err));
  if (rc == 1)
    return tool_fail("remote error %d: %s", code, err);
  if (rc < 0)
    return tool_fail("%s", err);
  return 0;
}
