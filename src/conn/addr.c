/* Address strings: "ip:port", ":port", "port".  Pure, no I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moss/conn.h"
#include "moss/err.h"

/* Decimal number of at most maxd digits, <= max; advances *s. */
static int num(const char **s, unsigned long max, unsigned long *v) {
  const char *p = *s;
  unsigned long n = 0;
  int d = 0;
  while (*p >= '0' && *p <= '9') {
    n = n * 10 + (unsigned long)(*p - '0');
    if (++d > 5 || n > max)
      return MOSS_ERR_INVAL;
    p++;
  }
  if (d == 0)
    return MOSS_ERR_INVAL;
  *v = n;
  *s = p;
  return MOSS_OK;
}

static int parse_ip(const char *s, size_t n, uint32_t *ip) {
  if (n == 0 || (n == 1 && s[0] == '*')) {
    *ip = 0;
    return MOSS_OK;
  }
  if (n == 9 && memcmp(s, "localhost", 9) == 0) {
    *ip = 0x7f000001u;
    return MOSS_OK;
  }
  char tmp[16];
  if (n >= sizeof(tmp))
    return MOSS_ERR_INVAL;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  const char *p = tmp;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned long o;
    if (i > 0 && *p++ != '.')
      return MOSS_ERR_INVAL;
    if (num(&p, 255, &o) != MOSS_OK)
      return MOSS_ERR_INVAL;
    v = v << 8 | (uint32_t)o;
  }
  if (*p != '\0')
    return MOSS_ERR_INVAL;
  *ip = v;
  return MOSS_OK;
}

int moss_conn_parse_addr(const char *addr, uint32_t *ip, uint16_t *port) {
  if (addr == NULL)
    return MOSS_ERR_INVAL;
  const char *colon = strrchr(addr, ':');
  const char *ps = colon != NULL ? colon + 1 : addr;
  size_t iplen = colon != NULL ? (size_t)(colon - addr) : 0;
  unsigned long pv;
  if (num(&ps, 65535, &pv) != MOSS_OK || *ps != '\0')
    return MOSS_ERR_INVAL;
  if (parse_ip(addr, iplen, ip) != MOSS_OK)
    return MOSS_ERR_INVAL;
  *port = (uint16_t)pv;
  return MOSS_OK;
}

int moss_conn_map_addr(const char *map, const char *dev_addr, char *out,
                       size_t outsz, bool *mapped) {
  uint32_t ip;
  uint16_t port;
  *mapped = false;
  if (moss_conn_parse_addr(dev_addr, &ip, &port) != MOSS_OK)
    return MOSS_ERR_INVAL;
  const char *p = map != NULL ? map : "";
  while (*p != '\0') {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    char item[96];
    if (n >= sizeof(item))
      return MOSS_ERR_INVAL;
    memcpy(item, p, n);
    item[n] = '\0';
    char *eq = strchr(item, '=');
    char *end;
    if (eq == NULL)
      return MOSS_ERR_INVAL;
    *eq = '\0';
    long from = strtol(item, &end, 10);
    if (*end != '\0' || from <= 0 || from > 65535)
      return MOSS_ERR_INVAL;
    if (from == port) {
      uint32_t tip;
      uint16_t tport;
      if (moss_conn_parse_addr(eq + 1, &tip, &tport) != MOSS_OK)
        return MOSS_ERR_INVAL;
      if (strchr(eq + 1, ':') != NULL && eq[1] != ':')
        ip = tip;
      port = tport;
      *mapped = true;
      break;
    }
    p += n;
    if (*p == ',')
      p++;
  }
  int w = snprintf(out, outsz, "%u.%u.%u.%u:%u", (unsigned)(ip >> 24),
                   (unsigned)(ip >> 16) & 255, (unsigned)(ip >> 8) & 255,
                   (unsigned)ip & 255, (unsigned)port);
  return w > 0 && (size_t)w < outsz ? MOSS_OK : MOSS_ERR_TOOBIG;
}
