/*
 * moss/buf.h - capped growable byte buffers.
 *
 * A moss_buf owns its storage (allocated from a subsystem's account) and
 * grows on demand up to a hard cap fixed at init; growing past the cap is
 * MOSS_ERR_TOOBIG, never a silent realloc.  An empty buffer holds no heap
 * (buf == NULL): buffers cost RAM only while data is in flight.
 *
 * Lifecycle: moss_buf_init() (cannot fail), appends/consumes, then
 * moss_buf_free() (NULL-safe; moss_buf_free_secret() wipes first).
 */
#ifndef MOSS_BUF_H
#define MOSS_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "moss/alloc.h"

struct moss_buf {
  uint8_t *buf; /* NULL while empty and released */
  size_t len;   /* bytes of data */
  size_t size;  /* bytes allocated */
  size_t cap;   /* hard cap on size */
  enum moss_subsys sub;
};

void moss_buf_init(struct moss_buf *b, enum moss_subsys sub, size_t cap);
/* Make room for at least n more bytes. MOSS_ERR_TOOBIG, MOSS_ERR_NOMEM. */
int moss_buf_reserve(struct moss_buf *b, size_t n);
int moss_buf_append(struct moss_buf *b, const void *data, size_t n);
/* Drop n bytes from the front (n > len drops all).  When the buffer
 * becomes empty its storage is released. */
void moss_buf_consume(struct moss_buf *b, size_t n);
/* Release storage that is larger than needed (keeps data). */
void moss_buf_trim(struct moss_buf *b);
void moss_buf_free(struct moss_buf *b);
void moss_buf_free_secret(struct moss_buf *b);

#endif
