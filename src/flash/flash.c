/* Checked flash-ops wrappers and the partition window layer. */
#include "moss/flash.h"

#include "moss/err.h"

static int check(const struct moss_flash *f, uint32_t off, size_t len) {
  if (off > f->size || len > f->size - off)
    return MOSS_ERR_RANGE;
  return MOSS_OK;
}

int moss_flash_read(const struct moss_flash *f, uint32_t off, void *buf,
                    size_t len) {
  int rc = check(f, off, len);
  if (rc != MOSS_OK || len == 0)
    return rc;
  return f->ops->read(f->ctx, off, buf, len);
}

int moss_flash_write(const struct moss_flash *f, uint32_t off, const void *buf,
                     size_t len) {
  int rc = check(f, off, len);
  if (rc != MOSS_OK || len == 0)
    return rc;
  if (f->write_align > 1 && (off % f->write_align || len % f->write_align))
    return MOSS_ERR_ALIGN;
  return f->ops->write(f->ctx, off, buf, len);
}

int moss_flash_erase(const struct moss_flash *f, uint32_t off, size_t len) {
  int rc = check(f, off, len);
  if (rc != MOSS_OK || len == 0)
    return rc;
  if (off % f->erase_size || len % f->erase_size)
    return MOSS_ERR_ALIGN;
  return f->ops->erase(f->ctx, off, len);
}

static int part_read(void *ctx, uint32_t off, void *buf, size_t len) {
  struct moss_flash_part *p = ctx;
  return moss_flash_read(p->parent, p->base + off, buf, len);
}

static int part_write(void *ctx, uint32_t off, const void *buf, size_t len) {
  struct moss_flash_part *p = ctx;
  return moss_flash_write(p->parent, p->base + off, buf, len);
}

static int part_erase(void *ctx, uint32_t off, size_t len) {
  struct moss_flash_part *p = ctx;
  return moss_flash_erase(p->parent, p->base + off, len);
}

static const struct moss_flash_ops part_ops = {part_read, part_write,
                                               part_erase};

int moss_flash_part_init(struct moss_flash_part *p,
                         const struct moss_flash *parent, uint32_t base,
                         uint32_t size) {
  if (base % parent->erase_size || size % parent->erase_size || size == 0)
    return MOSS_ERR_ALIGN;
  if (base > parent->size || size > parent->size - base)
    return MOSS_ERR_RANGE;
  p->parent = parent;
  p->base = base;
  p->flash.ops = &part_ops;
  p->flash.ctx = p;
  p->flash.size = size;
  p->flash.erase_size = parent->erase_size;
  p->flash.write_align = parent->write_align;
  p->flash.erased_reads_ff = parent->erased_reads_ff;
  return MOSS_OK;
}
