/*
 * moss/log.h - leveled logging with module tags.
 *
 * A line is "<time> <level> <module> <message>\n" on stderr, time as
 * "YYYY-MM-DD HH:MM:SS.mmm" (UTC).  Levels follow Mongoose OS's numbers
 * (debug.level): 0 error, 1 warn, 2 info, 3 debug, 4 verbose debug.
 * Messages above the current level are not formatted at all.
 *
 * Never pass secrets (keys, passwords, HA1 hashes, nonces' HMAC keys) to
 * the logger: lines can leave the device (UART, UDP log, files).
 *
 * A sink callback lets tests and the RPC log channel see each line; it is
 * called with the formatted message (without time and trailing newline).
 */
#ifndef MOSS_LOG_H
#define MOSS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum moss_log_level {
  MOSS_LL_NONE = -1,
  MOSS_LL_ERROR = 0,
  MOSS_LL_WARN = 1,
  MOSS_LL_INFO = 2,
  MOSS_LL_DEBUG = 3,
  MOSS_LL_VERBOSE = 4,
};

typedef void moss_log_sink_fn(void *arg, enum moss_log_level lvl,
                              const char *module, const char *msg);

void moss_log_set_level(enum moss_log_level lvl);
enum moss_log_level moss_log_get_level(void);
/* One extra sink besides stderr (NULL removes it). */
void moss_log_set_sink(moss_log_sink_fn *fn, void *arg);
/* Turn the stderr output off (tests that check lines via the sink). */
void moss_log_set_stderr(int on);
const char *moss_log_level_name(enum moss_log_level lvl);

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void moss_log(enum moss_log_level lvl, const char *module, const char *fmt,
              ...);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 0)))
#endif
void moss_vlog(enum moss_log_level lvl, const char *module, const char *fmt,
               va_list ap);

/* Untrusted text (a peer's URI, user or method name, a file name, a
 * string field read from flash) reaches a log line only through these,
 * so that it cannot forge lines (CR, LF) or drive a terminal (ESC).
 *
 * moss_log_printable(): whether byte c may appear as itself in a line:
 * printable ASCII, 0x20..0x7e.
 *
 * moss_log_sanitize(): copies the n bytes at src (borrowed for the call;
 * NULL allowed when n is 0) into dst of dstsz bytes, each byte that is not
 * printable replaced by '?', truncated to dstsz - 1 bytes, always
 * NUL-terminated (nothing written when dstsz is 0).  NUL bytes in src are
 * replaced too: a caller whose text ends at a NUL passes its length.
 * Returns the number of bytes written before the NUL.  No heap. */
bool moss_log_printable(unsigned char c);
size_t moss_log_sanitize(char *dst, size_t dstsz, const void *src, size_t n);

#define MOSS_LOG_E(mod, ...) moss_log(MOSS_LL_ERROR, mod, __VA_ARGS__)
#define MOSS_LOG_W(mod, ...) moss_log(MOSS_LL_WARN, mod, __VA_ARGS__)
#define MOSS_LOG_I(mod, ...) moss_log(MOSS_LL_INFO, mod, __VA_ARGS__)
#define MOSS_LOG_D(mod, ...) moss_log(MOSS_LL_DEBUG, mod, __VA_ARGS__)

#endif
