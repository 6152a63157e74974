/*
 * Private helpers shared by the files of src/auth/.
 */
#ifndef MOSS_AUTH_INT_H
#define MOSS_AUTH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/auth.h"

/* A bounded text builder over a caller buffer: appends until full, then
 * remembers the overflow so call sites need no checks. */
struct moss_auth_out {
  char *buf;
  size_t size, len;
  bool over;
};
void moss_auth_out_init(struct moss_auth_out *o, char *buf, size_t size);
void moss_auth_out_mem(struct moss_auth_out *o, const char *s, size_t n);
void moss_auth_out_str(struct moss_auth_out *o, const char *s);
void moss_auth_out_u64(struct moss_auth_out *o, uint64_t v, bool hex);
/* Length, or MOSS_ERR_TOOBIG (buf emptied). */
int moss_auth_out_end(struct moss_auth_out *o);

bool moss_auth_is_hex(const char *s, size_t n);

#endif
