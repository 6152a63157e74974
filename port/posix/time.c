/* POSIX port: monotonic time, randomness and the last-error text. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "moss/err.h"
#include "moss/port.h"
#include "port_int.h"

static char last_err[96];

void moss_port_set_error(int e) {
  /* strerror_r (GNU) may return static text instead of filling buf. */
  const char *s = strerror_r(e, last_err, sizeof(last_err));
  if (s != last_err) {
    size_t n = strlen(s);
    if (n >= sizeof(last_err))
      n = sizeof(last_err) - 1;
    memcpy(last_err, s, n);
    last_err[n] = '\0';
  }
}

const char *moss_port_last_error(void) {
  return last_err;
}

uint64_t moss_port_time_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int moss_port_random(void *buf, size_t n) {
  uint8_t *p = buf;
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      moss_port_set_error(errno);
      return MOSS_ERR_IO;
    }
    p += r;
    n -= (size_t)r;
  }
  return MOSS_OK;
}
