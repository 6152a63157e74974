/* Capped growable buffers: storage exists only while data is held. */
#include "moss/buf.h"

#include <string.h>

#include "moss/err.h"
#include "moss/util.h"

void moss_buf_init(struct moss_buf *b, enum moss_subsys sub, size_t cap) {
  b->buf = NULL;
  b->len = b->size = 0;
  b->cap = cap;
  b->sub = sub;
}

int moss_buf_reserve(struct moss_buf *b, size_t n) {
  if (n > b->cap || b->len > b->cap - n)
    return MOSS_ERR_TOOBIG;
  size_t need = b->len + n;
  if (need <= b->size)
    return MOSS_OK;
  /* Grow by half again, but never past the cap. */
  size_t want = b->size + b->size / 2;
  if (want < need)
    want = need;
  if (want < 64)
    want = 64;
  if (want > b->cap)
    want = b->cap;
  uint8_t *nb =
      b->buf == NULL ? moss_alloc(b->sub, want) : moss_realloc(b->buf, want);
  if (nb == NULL)
    return MOSS_ERR_NOMEM;
  b->buf = nb;
  b->size = want;
  return MOSS_OK;
}

int moss_buf_append(struct moss_buf *b, const void *data, size_t n) {
  if (n == 0)
    return MOSS_OK;
  int rc = moss_buf_reserve(b, n);
  if (rc != MOSS_OK)
    return rc;
  memcpy(b->buf + b->len, data, n);
  b->len += n;
  return MOSS_OK;
}

void moss_buf_consume(struct moss_buf *b, size_t n) {
  if (n >= b->len) {
    moss_free(b->buf);
    b->buf = NULL;
    b->len = b->size = 0;
    return;
  }
  memmove(b->buf, b->buf + n, b->len - n);
  b->len -= n;
}

void moss_buf_trim(struct moss_buf *b) {
  if (b->len == 0) {
    moss_buf_consume(b, 0);
    moss_free(b->buf);
    b->buf = NULL;
    b->size = 0;
    return;
  }
  if (b->size > b->len) {
    uint8_t *nb = moss_realloc(b->buf, b->len);
    if (nb != NULL) {
      b->buf = nb;
      b->size = b->len;
    }
  }
}

void moss_buf_free(struct moss_buf *b) {
  moss_free(b->buf);
  b->buf = NULL;
  b->len = b->size = 0;
}

void moss_buf_free_secret(struct moss_buf *b) {
  moss_free_secret(b->buf);
  b->buf = NULL;
  b->len = b->size = 0;
}
