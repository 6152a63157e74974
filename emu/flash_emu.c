/*
 * NOR flash model.  See moss/flash_emu.h for the semantics.
 *
 * The image is mmap(MAP_SHARED)'d, so a store into it is a store into the
 * kernel's page cache: once an op returns, the data survives a kill -9 of
 * this process.  Erase counters live in a second mapped file.
 */
#include "moss/flash_emu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"

struct moss_flash_emu {
  struct moss_flash flash;
  uint8_t *data;
  uint32_t *wear; /* erase count per sector */
  uint32_t size;
  uint32_t nsectors;
  bool mapped; /* data/wear are file mappings (else heap) */
  bool sync;
  bool powered;
  uint64_t cut_after; /* 0 = no fault armed; else ops left + 1 */
  uint32_t torn_bytes;
  struct moss_flash_emu_stats st;
};

static const char *TAG = "flash_emu";

/* Returns true if this mutating op must be cut. */
static bool fault_due(struct moss_flash_emu *e) {
  if (e->cut_after == 0)
    return false;
  if (--e->cut_after > 0)
    return false;
  return true;
}

static void persist(struct moss_flash_emu *e, void *p, size_t len) {
  if (!e->mapped || !e->sync)
    return;
  long pg = sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)p & ~((uintptr_t)pg - 1);
  msync((void *)a, len + ((uintptr_t)p - a), MS_SYNC);
}

static int emu_read(void *ctx, uint32_t off, void *buf, size_t len) {
  struct moss_flash_emu *e = ctx;
  if (!e->powered)
    return MOSS_ERR_FAULT;
  memcpy(buf, e->data + off, len);
  e->st.reads++;
  e->st.bytes_read += len;
  return MOSS_OK;
}

static int emu_write(void *ctx, uint32_t off, const void *buf, size_t len) {
  struct moss_flash_emu *e = ctx;
  const uint8_t *src = buf;
  if (!e->powered)
    return MOSS_ERR_FAULT;
  /* NOR: a program can only clear bits.  Refuse the whole op if any byte
   * would need a 0 -> 1 transition; the chip would silently AND, but a
   * driver that tries is buggy and we want to know. */
  for (size_t i = 0; i < len; i++) {
    if ((uint8_t)(e->data[off + i] & src[i]) != src[i]) {
      e->st.bitset_errors++;
      MOSS_LOG_E(TAG, "program at 0x%x would set bits (byte %zu)",
                 (unsigned)off, i);
      return MOSS_ERR_BITSET;
    }
  }
  if (fault_due(e)) {
    size_t n = e->torn_bytes < len ? e->torn_bytes : len;
    for (size_t i = 0; i < n; i++)
      e->data[off + i] &= src[i];
    e->powered = false;
    return MOSS_ERR_FAULT;
  }
  for (size_t i = 0; i < len; i++)
    e->data[off + i] &= src[i];
  persist(e, e->data + off, len);
  e->st.writes++;
  e->st.bytes_written += len;
  return MOSS_OK;
}

static int emu_erase(void *ctx, uint32_t off, size_t len) {
  struct moss_flash_emu *e = ctx;
  if (!e->powered)
    return MOSS_ERR_FAULT;
  for (uint32_t s = off; s < off + len; s += MOSS_FLASH_SECTOR_SIZE) {
    if (fault_due(e)) {
      size_t n = e->torn_bytes < MOSS_FLASH_SECTOR_SIZE
                     ? e->torn_bytes
                     : MOSS_FLASH_SECTOR_SIZE;
      memset(e->data + s, 0xFF, n);
      e->powered = false;
      return MOSS_ERR_FAULT;
    }
    memset(e->data + s, 0xFF, MOSS_FLASH_SECTOR_SIZE);
    uint32_t idx = s / MOSS_FLASH_SECTOR_SIZE;
    e->wear[idx]++;
    persist(e, e->data + s, MOSS_FLASH_SECTOR_SIZE);
    persist(e, &e->wear[idx], sizeof(uint32_t));
    e->st.erases++;
  }
  return MOSS_OK;
}

static const struct moss_flash_ops emu_ops = {emu_read, emu_write, emu_erase};

static struct moss_flash_emu *emu_new(uint32_t size) {
  struct moss_flash_emu *e = moss_calloc(MOSS_SUB_FLASH, 1, sizeof(*e));
  if (e == NULL)
    return NULL;
  e->size = size;
  e->nsectors = size / MOSS_FLASH_SECTOR_SIZE;
  e->powered = true;
  e->flash.ops = &emu_ops;
  e->flash.ctx = e;
  e->flash.size = size;
  e->flash.erase_size = MOSS_FLASH_SECTOR_SIZE;
  e->flash.write_align = 1;
  e->flash.erased_reads_ff = true;
  return e;
}

int moss_flash_emu_open_ram(struct moss_flash_emu **out, uint32_t size) {
  *out = NULL;
  if (size == 0 || size % MOSS_FLASH_SECTOR_SIZE)
    return MOSS_ERR_INVAL;
  struct moss_flash_emu *e = emu_new(size);
  if (e == NULL)
    return MOSS_ERR_NOMEM;
  /* Host memory, not device RAM: plain malloc (port-level), uncounted. */
  e->data = malloc(size);
  e->wear = calloc(e->nsectors, sizeof(uint32_t));
  if (e->data == NULL || e->wear == NULL) {
    moss_flash_emu_close(e);
    return MOSS_ERR_NOMEM;
  }
  memset(e->data, 0xFF, size);
  *out = e;
  return MOSS_OK;
}

/* Map path with exactly len bytes, creating it filled with fill. */
static void *map_file(const char *path, size_t len, int fill, bool *created) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return NULL;
  struct stat sb;
  void *p = NULL;
  if (fstat(fd, &sb) != 0)
    goto out;
  if ((size_t)sb.st_size != len) {
    bool fresh = sb.st_size == 0;
    if (ftruncate(fd, (off_t)len) != 0)
      goto out;
    if (fresh && fill != 0) {
      /* Fill in chunks so a fresh 16 MB image does not need 16 MB heap. */
      uint8_t chunk[4096];
      memset(chunk, fill, sizeof(chunk));
      for (size_t o = 0; o < len; o += sizeof(chunk)) {
        size_t n = len - o < sizeof(chunk) ? len - o : sizeof(chunk);
        if (pwrite(fd, chunk, n, (off_t)o) != (ssize_t)n)
          goto out;
      }
    }
    if (created)
      *created = fresh;
  }
  p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    p = NULL;
out:
  close(fd);
  return p;
}

int moss_flash_emu_open(struct moss_flash_emu **out, const char *path,
                        uint32_t size, bool *created) {
  *out = NULL;
  if (created)
    *created = false;
  struct stat sb;
  bool exists = stat(path, &sb) == 0 && sb.st_size > 0;
  if (exists) {
    if (size != 0 && (uint64_t)sb.st_size != size) {
      MOSS_LOG_W(TAG, "%s is %lld bytes, not %u: keeping its size", path,
                 (long long)sb.st_size, (unsigned)size);
    }
    size = (uint32_t)sb.st_size;
    if (sb.st_size > 64 * 1024 * 1024 || size % MOSS_FLASH_SECTOR_SIZE) {
      MOSS_LOG_E(TAG, "%s: not a flash image (size %lld)", path,
                 (long long)sb.st_size);
      return MOSS_ERR_INVAL;
    }
  } else if (size != (2u << 20) && size != (4u << 20) && size != (8u << 20) &&
             size != (16u << 20)) {
    MOSS_LOG_E(TAG, "flash size must be 2, 4, 8 or 16 MB");
    return MOSS_ERR_INVAL;
  }
  struct moss_flash_emu *e = emu_new(size);
  if (e == NULL)
    return MOSS_ERR_NOMEM;
  e->mapped = true;
  bool made = false;
  e->data = map_file(path, size, 0xFF, &made);
  if (e->data == NULL) {
    MOSS_LOG_E(TAG, "%s: %s", path, strerror(errno));
    e->mapped = false;
    moss_flash_emu_close(e);
    return MOSS_ERR_IO;
  }
  char wpath[4096];
  int n = snprintf(wpath, sizeof(wpath), "%s.wear", path);
  if (n < 0 || (size_t)n >= sizeof(wpath)) {
    moss_flash_emu_close(e);
    return MOSS_ERR_NAMETOOLONG;
  }
  e->wear = map_file(wpath, e->nsectors * sizeof(uint32_t), 0, NULL);
  if (e->wear == NULL) {
    MOSS_LOG_E(TAG, "%s: %s", wpath, strerror(errno));
    moss_flash_emu_close(e);
    return MOSS_ERR_IO;
  }
  if (created)
    *created = made;
  *out = e;
  return MOSS_OK;
}

void moss_flash_emu_close(struct moss_flash_emu *e) {
  if (e == NULL)
    return;
  if (e->mapped) {
    if (e->data)
      munmap(e->data, e->size);
    if (e->wear)
      munmap(e->wear, e->nsectors * sizeof(uint32_t));
  } else {
    free(e->data);
    free(e->wear);
  }
  moss_free(e);
}

const struct moss_flash *moss_flash_emu_flash(struct moss_flash_emu *e) {
  return &e->flash;
}

uint8_t *moss_flash_emu_data(struct moss_flash_emu *e) {
  return e->data;
}

void moss_flash_emu_set_sync(struct moss_flash_emu *e, bool on) {
  e->sync = on;
}

void moss_flash_emu_fail_after(struct moss_flash_emu *e, uint64_t nops,
                               uint32_t torn_bytes) {
  e->cut_after = nops + 1;
  e->torn_bytes = torn_bytes;
}

void moss_flash_emu_power_on(struct moss_flash_emu *e) {
  e->powered = true;
  e->cut_after = 0;
}

bool moss_flash_emu_powered(const struct moss_flash_emu *e) {
  return e->powered;
}

void moss_flash_emu_get_stats(const struct moss_flash_emu *e,
                              struct moss_flash_emu_stats *st) {
  *st = e->st;
  uint64_t sum = 0;
  st->erase_min = UINT32_MAX;
  st->erase_max = 0;
  for (uint32_t i = 0; i < e->nsectors; i++) {
    uint32_t w = e->wear[i];
    sum += w;
    if (w < st->erase_min)
      st->erase_min = w;
    if (w > st->erase_max)
      st->erase_max = w;
  }
  st->erase_mean = e->nsectors ? (double)sum / e->nsectors : 0;
}

uint32_t moss_flash_emu_erase_count(const struct moss_flash_emu *e,
                                    uint32_t sector) {
  return sector < e->nsectors ? e->wear[sector] : 0;
}

void moss_flash_emu_reset_stats(struct moss_flash_emu *e) {
  memset(&e->st, 0, sizeof(e->st));
  memset(e->wear, 0, e->nsectors * sizeof(uint32_t));
}
