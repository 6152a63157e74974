/* Address strings: "ip:port", ":port", "port".  Pure, no I/O. */
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
