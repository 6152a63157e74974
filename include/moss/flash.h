/*
 * moss/flash.h - the flash-ops interface every storage layer speaks.
 *
 * A struct moss_flash is a view of a NOR flash device (or of a window of
 * one, or of a transform over one such as ESP32 flash encryption).  Layers
 * stack: filesystem -> partition window -> flash encryption -> raw flash.
 * None of them can tell what is below.
 *
 * NOR rules every layer must respect (and the emulator enforces):
 *  - erase works on whole erase_size sectors and sets them to 0xFF;
 *  - programming can only clear bits (new = old AND data); the raw emulator
 *    reports an attempt to set a bit as MOSS_ERR_BITSET;
 *  - program offsets and lengths must be multiples of write_align;
 *  - when erased_reads_ff is false (flash encryption), an erased area does
 *    not read back as 0xFF, and each write_align unit may be programmed at
 *    most once between erases: software must not infer "erased" from data.
 *
 * Ownership: the struct is caller-owned; ctx belongs to whoever set it up
 * and outlives every use of the view.
 */
#ifndef MOSS_FLASH_H
#define MOSS_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct moss_flash_ops {
  int (*read)(void *ctx, uint32_t off, void *buf, size_t len);
  int (*write)(void *ctx, uint32_t off, const void *buf, size_t len);
  int (*erase)(void *ctx, uint32_t off, size_t len);
};

struct moss_flash {
  const struct moss_flash_ops *ops;
  void *ctx;
  uint32_t size;        /* bytes */
  uint32_t erase_size;  /* sector size, 4096 on ESP32 flash */
  uint32_t write_align; /* 1 raw; 16 or 32 under flash encryption */
  bool erased_reads_ff; /* false when erased state cannot be observed */
};

#define MOSS_FLASH_SECTOR_SIZE 4096u

/* Checked wrappers: bounds (MOSS_ERR_RANGE), alignment (MOSS_ERR_ALIGN),
 * then the layer's op.  len 0 is a no-op returning MOSS_OK. */
int moss_flash_read(const struct moss_flash *f, uint32_t off, void *buf,
                    size_t len);
int moss_flash_write(const struct moss_flash *f, uint32_t off, const void *buf,
                     size_t len);
int moss_flash_erase(const struct moss_flash *f, uint32_t off, size_t len);

/* A window [base, base+size) of a parent flash, e.g. a partition.
 * base and size must be multiples of the parent's erase_size. */
struct moss_flash_part {
  struct moss_flash flash; /* the view to hand out */
  const struct moss_flash *parent;
  uint32_t base;
};
int moss_flash_part_init(struct moss_flash_part *p,
                         const struct moss_flash *parent, uint32_t base,
                         uint32_t size);

#endif
