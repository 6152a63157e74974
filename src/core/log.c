/* Leveled logging: "<time> <level> <module> <message>" on stderr. */
#include "moss/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static enum moss_log_level cur_level = MOSS_LL_INFO;
static moss_log_sink_fn *sink_fn;
static void *sink_arg;
static int to_stderr = 1;

void moss_log_set_level(enum moss_log_level lvl) {
  cur_level = lvl;
}

enum moss_log_level moss_log_get_level(void) {
  return cur_level;
}

void moss_log_set_sink(moss_log_sink_fn *fn, void *arg) {
  sink_fn = fn;
  sink_arg = arg;
}

void moss_log_set_stderr(int on) {
  to_stderr = on;
}

const char *moss_log_level_name(enum moss_log_level lvl) {
  switch (lvl) {
    case MOSS_LL_ERROR:
      return "ERROR";
    case MOSS_LL_WARN:
      return "WARN";
    case MOSS_LL_INFO:
      return "INFO";
    case MOSS_LL_DEBUG:
      return "DEBUG";
    case MOSS_LL_VERBOSE:
      return "VERBOSE";
    default:
      return "NONE";
  }
}

bool moss_log_printable(unsigned char c) {
  return c >= 0x20 && c <= 0x7e;
}

size_t moss_log_sanitize(char *dst, size_t dstsz, const void *src, size_t n) {
  if (dstsz == 0)
    return 0;
  const unsigned char *p = src;
  size_t k = n < dstsz - 1 ? n : dstsz - 1;
  for (size_t i = 0; i < k; i++)
    dst[i] = moss_log_printable(p[i]) ? (char)p[i] : '?';
  dst[k] = '\0';
  return k;
}

void moss_vlog(enum moss_log_level lvl, const char *module, const char *fmt,
               va_list ap) {
  if (lvl > cur_level || lvl < MOSS_LL_ERROR)
    return;
  char msg[512];
  vsnprintf(msg, sizeof(msg), fmt, ap);
  if (to_stderr) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s %s %s\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
            tm.tm_sec, ts.tv_nsec / 1000000L, moss_log_level_name(lvl), module,
            msg);
  }
  if (sink_fn != NULL)
    sink_fn(sink_arg, lvl, module, msg);
}

void moss_log(enum moss_log_level lvl, const char *module, const char *fmt,
              ...) {
  if (lvl > cur_level)
    return;
  va_list ap;
  va_start(ap, fmt);
  moss_vlog(lvl, module, fmt, ap);
  va_end(ap);
}
