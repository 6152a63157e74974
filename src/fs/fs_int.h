/*
 * Private definitions of the flash filesystem (src/fs/); functions shared
 * between its files are moss_fsi_* (exported from libmoss.a, so they carry
 * the prefix) and not for use outside src/fs/.  The on-flash format is
 * described in docs/design/fs.md; the constants here are it.
 *
 * Addresses.  Every address the FS keeps (extent tables, commit addresses)
 * is logical: lid * P + offset, where lid is the logical sector id written
 * in the sector header.  fs->lmap translates a lid to the physical sector
 * that holds it now; garbage collection may move a sector's records to
 * another physical sector under the same lid without touching the commit
 * records that point into it.
 */
#ifndef MOSS_FS_INT_H
#define MOSS_FS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "moss/fs.h"

/* Sector header (first SH bytes of a sector in use, padded to the unit). */
#define FS_SEC_MAGIC 0x3153464Du /* "MFS1" */
#define FS_VERSION 2u
#define FS_SH 32u
/* Record header. */
#define FS_REC_MAGIC 0x6Du
#define FS_RH 24u
#define FS_REC_DATA 1u
#define FS_REC_COMMIT 2u
#define FS_REC_DELETE 3u
/* Commit payload: fixed part before the name. */
#define FS_CMETA 12u
/* Extent address of a hole (reads as zeros). */
#define FS_HOLE 0xFFFFFFFFu
#define FS_STAGE 256u
#define FS_WBUF 256u
/* No physical sector holds this lid. */
#define FS_NOLID 0xFFFFu
/* A data write is split to fill the head sector when at least this much
 * payload fits there, rather than leaving the tail unused. */
#define FS_MIN_CHUNK 64u
/* Extents fs_free allows a new file beyond one per sector: a start in a
 * partly used sector and the small trailing records of an upload in
 * chunks (fs_file.c, moss_fs_info). */
#define FS_FREE_EXT_SLACK 16u
/* A run of this many small trailing extents is merged even when it does
 * not fill a record yet (appends in tiny pieces). */
#define FS_MERGE_RUN 8u

enum fs_sec_state { FS_SEC_DIRTY = 0, FS_SEC_ERASED, FS_SEC_USED };

/* Per physical sector. */
struct fs_sec {
  uint32_t seq;   /* log order of a used sector */
  uint32_t end;   /* end of the valid log in a used sector */
  uint16_t first; /* offset of its first record */
  uint16_t lid;   /* logical id of a used sector */
  uint8_t state;
  uint8_t zombie; /* dirty, but may still carry a valid header */
};

/* One committed file: 16 bytes of RAM. */
struct fs_ent {
  uint32_t fid;
  uint32_t caddr; /* logical address of its latest commit record */
  uint32_t size;
  uint16_t n_ext;
  uint8_t hash;
  uint8_t namelen;
};

struct fs_ext {
  uint32_t addr; /* logical address of the bytes, or FS_HOLE */
  uint32_t len;
};

/* One step of a garbage-collection plan (see fs_log.c): the record at
 * offset src of the victim (src == FS_GC_EXTRA: a new commit for file
 * slot a) goes to offset dst of the destination; n > 0 copies only the
 * payload bytes [a, a + n) of a DATA record (offsets in the victim).
 * src == FS_GC_CONT: those bytes continue the payload of the record the
 * previous entries started (same file), landing at dst + FS_RH. */
struct fs_gcent {
  uint16_t src, dst, a, n;
};
#define FS_GC_EXTRA 0xFFFFu
#define FS_GC_CONT 0xFFFEu

struct moss_fs_file {
  struct moss_fs *fs;
  struct moss_fs_file *next;
  uint32_t fid;
  int flags;
  uint32_t pos, size;
  bool writable, dirty, is_new;
  /* Read-only handles: cached extent lookup in the commit on flash. */
  uint32_t c_caddr, c_idx, c_start;
  /* Writable handles: working extent table covering [0, tsize), write
   * buffer holding wb_len bytes at file offset wb_off.  fresh: one bit
   * per table entry, set when the entry is a record (or hole) this
   * handle added since the last commit: what it charges (fs_file.c). */
  struct fs_ext *tab;
  uint32_t n_ext, tsize;
  uint8_t *wb;
  uint32_t wb_off, wb_len;
  uint32_t *fresh;
  uint8_t namelen;
  char name[MOSS_FS_NAME_MAX + 1];
};

struct moss_fs {
  const struct moss_flash *fl;
  uint32_t P;      /* sector size */
  uint32_t N;      /* sectors */
  uint32_t U;      /* record alignment unit, >= write_align */
  uint32_t ds;     /* offset of the first record in a fresh sector */
  uint32_t maxpay; /* largest data payload of one record */
  uint32_t emax;   /* extent table capacity */
  uint64_t usable; /* admission limit for live bytes */
  uint32_t next_seq, next_fid;
  /* Append points (physical sectors, -1 none; records go at sec[].end).
   * head takes COMMIT and DELETE records: it is the newest sector that
   * holds any, which keeps their log order; it also takes the short-lived
   * DATA of small appends (merged soon, fs_file.c).  dhead takes the rest
   * of DATA, whose place in the log does not matter (a commit refers to it
   * by address, after it is written).  Kept apart, data sectors stay dense
   * and the sectors of replaced commits and merged appends die whole.
   * Both may be one sector. */
  int32_t head, dhead;
  int32_t gcd;    /* destination of the last GC step, -1 none */
  bool plan_meta; /* the GC plan holds commit records */
  uint32_t nfree;
  uint32_t nzombie;
  uint32_t rr;        /* round-robin cursor for picking free sectors */
  uint64_t live;      /* charged to committed files (moss_fsi_ent_live) */
  struct fs_sec *sec; /* N, by physical index */
  uint16_t *lmap;     /* N, lid -> physical index or FS_NOLID */
  struct fs_ent *ent;
  uint32_t nent, maxent;
  struct fs_ext *scratch; /* emax entries, for GC and checks */
  uint32_t scratch_fid;   /* file whose table scratch holds, 0 none */
  struct fs_gcent *plan;  /* plan_cap entries */
  uint32_t plan_cap;
  /* The plan's victims (physical; gv[1] -1 for a single victim) and the
   * first entry of gv[1]'s records. */
  int32_t gv[2];
  uint32_t gsplit;
  uint32_t marks[(MOSS_FS_MAX_FILES + 31) / 32]; /* GC: files to recommit */
  struct moss_fs_file *files;
  uint8_t stage[FS_STAGE];
};

/* Payload source pieces for moss_fsi_rec_write. */
enum fs_piece_kind { FS_P_MEM, FS_P_FLASH, FS_P_EXTSER, FS_P_EXTCOPY };
struct fs_piece {
  uint8_t kind;
  const void *mem;          /* FS_P_MEM */
  uint32_t addr;            /* FS_P_FLASH, logical (FS_HOLE = zeros) */
  uint32_t len;             /* MEM/FLASH bytes; EXT* entry count */
  const struct fs_ext *ext; /* EXTSER: serialize; EXTCOPY: copy data */
};

static inline uint32_t fs_align(uint32_t v, uint32_t a) {
  return (v + a - 1) / a * a;
}
static inline uint32_t fs_recsize(const struct moss_fs *fs, uint32_t len) {
  return fs_align(FS_RH + len, fs->U);
}
static inline uint32_t fs_cpaylen(uint32_t namelen, uint32_t n_ext) {
  return FS_CMETA + fs_align(namelen, 4) + 8u * n_ext;
}
static inline uint32_t fs_lid_of(const struct moss_fs *fs, uint32_t a) {
  return a / fs->P;
}

/* fs_log.c */
int moss_fsi_geometry(struct moss_fs *fs, const struct moss_flash *fl,
                      uint32_t U);
uint64_t moss_fsi_ent_live(const struct moss_fs *fs, const struct fs_ent *e);
uint32_t moss_fsi_name_hash(const char *name, size_t len);
struct fs_ent *moss_fsi_find_fid(struct moss_fs *fs, uint32_t fid);
struct fs_ent *moss_fsi_find_name(struct moss_fs *fs, const char *name,
                                  size_t len);
/* Read n bytes at logical address a (within one sector). */
int moss_fsi_read(struct moss_fs *fs, uint32_t a, void *buf, uint32_t n);
int moss_fsi_read_name(struct moss_fs *fs, const struct fs_ent *e, char *out);
/* Append streams: FS_META (COMMIT and DELETE records, and DATA of small
 * appends) and FS_DATA (other DATA records). */
enum fs_stream { FS_META, FS_DATA };
/* Make room for a record of need bytes at the stream's append point
 * (opening sectors, running GC). */
int moss_fsi_ensure(struct moss_fs *fs, enum fs_stream st, uint32_t need);
/* Payload bytes a DATA record may carry on stream st right now without
 * opening a sector: 0 when it has no append point or that is nearly
 * full. */
uint32_t moss_fsi_head_room(const struct moss_fs *fs, enum fs_stream st);
/* Make the data head a fresh sector: keep it if it is one, else open one
 * while more than one sector is free, freeing GC's next victim first if
 * it holds nothing live; with force, running up to N ordinary GC steps
 * (one trip round the ring) to get there.  MOSS_ERR_NOSPC when that is
 * not possible (GC steps done stay done: each one is complete). */
int moss_fsi_fresh_head(struct moss_fs *fs, bool force);
/* Append a record on stream st (FS_META for COMMIT and DELETE). */
int moss_fsi_rec_write(struct moss_fs *fs, enum fs_stream st, uint8_t type,
                       uint32_t fid, const struct fs_piece *pc, uint32_t npc,
                       uint32_t *paddr);
/* Caller has called moss_fsi_ensure(fs, FS_META, fs_recsize(fs,
 * fs_cpaylen(..))) first and computed any flash addresses in table after
 * that (GC moves data). */
int moss_fsi_write_commit(struct moss_fs *fs, uint32_t fid, const char *name,
                          uint32_t namelen, uint32_t size, uint32_t kill,
                          const struct fs_piece *table, uint32_t n_ext,
                          uint32_t *caddr);
int moss_fsi_load_table(struct moss_fs *fs, const struct fs_ent *e,
                        struct fs_ext *out);
uint32_t moss_fsi_table_addr(const struct fs_ent *e);
int moss_fsi_gc_one(struct moss_fs *fs);
/* Parse a record header at sector offset off; *size gets the bytes to
 * the next record (padded record + its skip). */
int moss_fsi_parse_rh(const struct moss_fs *fs, const uint8_t *h, uint32_t off,
                      uint8_t *type, uint32_t *fid, uint32_t *len,
                      uint32_t *pcrc, uint32_t *size);
int moss_fsi_crc_flash(struct moss_fs *fs, uint32_t addr, uint32_t len,
                       uint32_t *crc);
int moss_fsi_ent_set(struct moss_fs *fs, uint32_t fid, uint32_t caddr,
                     uint32_t size, uint32_t n_ext, const char *name,
                     uint32_t namelen);
void moss_fsi_ent_del(struct moss_fs *fs, uint32_t fid);

#endif
