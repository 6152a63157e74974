/*
 * Files: handles, the extent table of a writer, commit; and the
 * name-level operations (remove, rename, stat, list, info).
 *
 * A writable handle keeps, in RAM, the extent table of the version it is
 * building: a list of (flash address, length) covering [0, tsize), holes
 * as FS_HOLE.  Writes append DATA records and overlay the table; nothing
 * on flash refers to them until the commit record, so a cut before the
 * commit leaves the old version, and the commit is one record with a CRC.
 */
#include <limits.h>
#include <string.h>

#include "fs_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/util.h"

static int check_name(const char *name, size_t *len) {
  if (name == NULL)
    return MOSS_ERR_INVAL;
  size_t n = strnlen(name, MOSS_FS_NAME_MAX + 1);
  if (n == 0)
    return MOSS_ERR_INVAL;
  if (n > MOSS_FS_NAME_MAX)
    return MOSS_ERR_NAMETOOLONG;
  *len = n;
  return MOSS_OK;
}

static struct moss_fs_file *find_writer(struct moss_fs *fs, uint32_t fid) {
  for (struct moss_fs_file *f = fs->files; f != NULL; f = f->next)
    if (f->writable && f->fid == fid)
      return f;
  return NULL;
}

/* A writer creating a file not committed yet, with this name. */
static struct moss_fs_file *find_new(struct moss_fs *fs, const char *name,
                                     size_t len, uint32_t *count) {
  struct moss_fs_file *hit = NULL;
  *count = 0;
  for (struct moss_fs_file *f = fs->files; f != NULL; f = f->next) {
    if (!f->is_new)
      continue;
    (*count)++;
    if (f->namelen == len && memcmp(f->name, name, len) == 0)
      hit = f;
  }
  return hit;
}

/* ---- extent table of a writer -----------------------------------------
 *
 * Each entry has a "fresh" bit: set for records (and holes) this handle
 * added since it opened or last committed, clear for entries of the
 * committed version.  Only fresh entries add to what the filesystem
 * holds until the commit, so they are what the handle is charged for;
 * an entry superseded by a later write, a compaction or a tail merge
 * stops being charged when it leaves the table (its record is garbage
 * that GC reclaims: GC knows writers' tables). */

static bool is_fresh(const struct moss_fs_file *f, uint32_t i) {
  return (f->fresh[i / 32] >> (i % 32)) & 1u;
}

static void set_fresh(struct moss_fs_file *f, uint32_t i, bool v) {
  if (v)
    f->fresh[i / 32] |= 1u << (i % 32);
  else
    f->fresh[i / 32] &= ~(1u << (i % 32));
}

/* Open k entries at index i (their contents are set by the caller). */
static void tab_open(struct moss_fs_file *f, uint32_t i, uint32_t k) {
  memmove(&f->tab[i + k], &f->tab[i], (f->n_ext - i) * sizeof(*f->tab));
  for (uint32_t j = f->n_ext; j-- > i;)
    set_fresh(f, j + k, is_fresh(f, j));
  f->n_ext += k;
}

/* Remove the k entries at index i. */
static void tab_close(struct moss_fs_file *f, uint32_t i, uint32_t k) {
  memmove(&f->tab[i], &f->tab[i + k], (f->n_ext - i - k) * sizeof(*f->tab));
  for (uint32_t j = i; j + k < f->n_ext; j++)
    set_fresh(f, j, is_fresh(f, j + k));
  f->n_ext -= k;
}

static void tab_set(struct moss_fs_file *f, uint32_t i, uint32_t addr,
                    uint32_t len) {
  f->tab[i] = (struct fs_ext){addr, len};
  set_fresh(f, i, true);
}

/* Join neighbouring entries whose bytes follow each other in one record:
 * GC concatenates a file's small records (fs_log.c, gc_group), and the
 * next writer turns their extents into one, so the commit shrinks.
 * Contiguous addresses are always in the same record (a record header
 * separates two payloads). */
static void coalesce(struct moss_fs_file *f) {
  uint32_t i = 0;
  while (i + 1 < f->n_ext) {
    struct fs_ext *a = &f->tab[i], *b = &f->tab[i + 1];
    if (a->addr != FS_HOLE && b->addr != FS_HOLE &&
        a->addr + a->len == b->addr) {
      a->len += b->len;
      set_fresh(f, i, is_fresh(f, i) || is_fresh(f, i + 1));
      tab_close(f, i + 1, 1);
    } else {
      i++;
    }
  }
}

/* What one extent costs in the accounting model (moss_fsi_ent_live): its
 * bytes, a record header and padding. */
static uint64_t ext_charge(const struct moss_fs *fs, uint32_t len) {
  return (uint64_t)len + FS_RH + fs->U;
}

/* Charge of a writer's uncommitted records. */
static uint64_t writer_charge(const struct moss_fs_file *f) {
  uint64_t c = 0;
  for (uint32_t i = 0; i < f->n_ext; i++)
    if (is_fresh(f, i))
      c += ext_charge(f->fs, f->tab[i].addr == FS_HOLE ? 0 : f->tab[i].len);
  return c;
}

static uint64_t fs_pending(const struct moss_fs *fs) {
  uint64_t c = 0;
  for (const struct moss_fs_file *f = fs->files; f != NULL; f = f->next)
    if (f->tab != NULL)
      c += writer_charge(f);
  return c;
}

/* Admission control: what committed files and writers hold, plus need,
 * must stay within usable. */
static int admit(struct moss_fs *fs, uint64_t need) {
  return fs->live + fs_pending(fs) + need > fs->usable ? MOSS_ERR_NOSPC
                                                       : MOSS_OK;
}

static void split_at(struct moss_fs_file *f, uint32_t x) {
  uint32_t start = 0;
  for (uint32_t i = 0; i < f->n_ext; i++) {
    struct fs_ext *e = &f->tab[i];
    if (x > start && x < start + e->len) {
      uint32_t head = x - start;
      tab_open(f, i + 1, 1);
      f->tab[i + 1].addr = e->addr == FS_HOLE ? FS_HOLE : e->addr + head;
      f->tab[i + 1].len = e->len - head;
      set_fresh(f, i + 1, is_fresh(f, i));
      e->len = head;
      return;
    }
    start += e->len;
  }
}

/* Make [off, off+len) map to addr.  Needs n_ext + 2 <= emax. */
static void overlay(struct moss_fs_file *f, uint32_t off, uint32_t len,
                    uint32_t addr) {
  if (off > f->tsize) {
    tab_set(f, f->n_ext++, FS_HOLE, off - f->tsize);
    f->tsize = off;
  }
  split_at(f, off);
  split_at(f, off + len);
  uint32_t i0 = f->n_ext, i1 = f->n_ext, start = 0;
  for (uint32_t i = 0; i < f->n_ext; i++) {
    if (start >= off && i0 == f->n_ext)
      i0 = i;
    if (start >= off + len) {
      i1 = i;
      break;
    }
    start += f->tab[i].len;
  }
  if (i1 < i0)
    i1 = i0;
  if (i1 == i0) /* insert */
    tab_open(f, i0, 1);
  else if (i1 > i0 + 1)
    tab_close(f, i0 + 1, i1 - i0 - 1);
  tab_set(f, i0, addr, len);
  if (off + len > f->tsize)
    f->tsize = off + len;
}

/* Growth of the file's commit record when it commits: the model charges
 * one commit per file (a replaced commit is garbage as soon as the new
 * one is written; the transient second record fits in the slack that
 * moss_fsi_geometry keeps out of usable). */
static uint64_t commit_delta(const struct moss_fs_file *f) {
  struct moss_fs *fs = f->fs;
  uint64_t c = fs_recsize(fs, fs_cpaylen(f->namelen, f->n_ext + 2));
  const struct fs_ent *e = f->is_new ? NULL : moss_fsi_find_fid(fs, f->fid);
  uint64_t old =
      e != NULL ? fs_recsize(fs, fs_cpaylen(e->namelen, e->n_ext)) : 0;
  return c > old ? c - old : 0;
}

/* Rewrite runs of extents into single records until the table has room
 * for two more entries.  A run is cut to what the data head can take
 * (GC run for two entries at least): near full, the free space may only
 * exist in pieces, none of them a whole record. */
static int compact(struct moss_fs_file *f) {
  struct moss_fs *fs = f->fs;
  uint32_t i = 0;
  while (i < f->n_ext && f->n_ext + 2 > fs->emax) {
    uint32_t j = i, total = 0;
    while (j < f->n_ext && f->tab[j].len <= fs->maxpay - total) {
      total += f->tab[j].len;
      j++;
    }
    if (j - i < 2) {
      i = j > i ? j : i + 1;
      continue;
    }
    uint32_t two = f->tab[i].len + f->tab[i + 1].len;
    int rc = admit(fs, ext_charge(fs, two) + commit_delta(f));
    if (rc < 0)
      return rc;
    /* May move f->tab addresses (GC), not indices. */
    rc = moss_fsi_ensure(fs, FS_DATA, fs_recsize(fs, two));
    if (rc < 0)
      return rc;
    uint32_t room = moss_fsi_head_room(fs, FS_DATA);
    while (j - i > 2 && (total > room || admit(fs, ext_charge(fs, total) +
                                                       commit_delta(f)) < 0))
      total -= f->tab[--j].len;
    struct fs_piece p = {.kind = FS_P_EXTCOPY, .ext = &f->tab[i], .len = j - i};
    uint32_t a;
    rc = moss_fsi_rec_write(fs, FS_DATA, FS_REC_DATA, f->fid, &p, 1, &a);
    if (rc < 0)
      return rc;
    tab_set(f, i, a, total);
    tab_close(f, i + 1, j - i - 1);
    i++;
  }
  return f->n_ext + 2 > fs->emax ? MOSS_ERR_TOOBIG : MOSS_OK;
}

/* Appended pieces shorter than a quarter of a record are "small": never
 * cut (a cut costs an extent, and near full every FS.Put chunk would get
 * two) and kept with the commits until a tail merge replaces them.
 * Bigger ones need room in one piece too rarely found near full: they go
 * with the data, cut like any write. */
static bool is_small(const struct moss_fs *fs, uint32_t len) {
  return len < fs->maxpay / 4;
}

/* Bytes of the trailing run of a writer's table: the longest suffix of
 * data extents shorter than a whole record (what appends in small pieces
 * leave, joined or not by GC); *first gets its index. */
static uint32_t tail_run(const struct moss_fs_file *f, uint32_t *first) {
  uint32_t i = f->n_ext, b = 0;
  while (i > 0 && f->tab[i - 1].addr != FS_HOLE &&
         f->tab[i - 1].len < f->fs->maxpay) {
    i--;
    b += f->tab[i].len;
  }
  *first = i;
  return b;
}

/* What admission must allow for a merge of m bytes from a run of b and
 * the n bytes being written: the record (the run's own records stay
 * until the commit), what of src is left to write after it, and the
 * commit's growth.  Checked whole: a merge that would leave the rest of
 * the write without room is not made (writing it small needs less). */
static uint64_t merge_charge(const struct moss_fs_file *f, uint32_t b,
                             uint32_t m, uint32_t n) {
  uint32_t k = b >= m ? 0 : m - b;
  return ext_charge(f->fs, m) + (n > k ? ext_charge(f->fs, n - k) : 0) +
         commit_delta(f);
}

/* Write the first m bytes of the trailing run starting at entry i (b
 * bytes), completed with the first bytes of src, as one record at the
 * data head, which has room for it.  Returns 1 with *used bytes of src
 * consumed, or <0. */
static int merge_write(struct moss_fs_file *f, uint32_t i, uint32_t b,
                       uint32_t m, const uint8_t *src, uint32_t *used) {
  struct moss_fs *fs = f->fs;
  uint32_t j = f->n_ext, k = 0;
  if (b >= m) { /* only the first m bytes of the run */
    split_at(f, f->tsize - b + m);
    uint32_t x = 0;
    for (j = i; x < m; j++)
      x += f->tab[j].len;
  } else {
    k = m - b;
  }
  struct fs_piece p[2] = {
      {.kind = FS_P_EXTCOPY, .ext = &f->tab[i], .len = j - i},
      {.kind = FS_P_MEM, .mem = src, .len = k}};
  uint32_t a;
  int rc = moss_fsi_rec_write(fs, FS_DATA, FS_REC_DATA, f->fid, p, 2, &a);
  if (rc < 0)
    return rc;
  tab_close(f, i + 1, j - i - 1);
  tab_set(f, i, a, m);
  f->tsize += k;
  *used = k;
  return 1;
}

/* Tail merge, for appends in small pieces (FS.Put chunks, flushes of the
 * write buffer).  Each piece is a record of its own and each FS.Put a
 * commit: the file's table would grow by one extent per piece, and
 * sectors would mix live data with dead commits, which GC can only give
 * back in pieces.  So small pieces go with the commits (FS_META), and
 * once the trailing run and the new bytes fill a whole record they are
 * rewritten as one, at the start of a fresh sector of the data stream:
 * the file keeps one extent per sector, as if written in one piece, data
 * sectors stay dense, and the sectors of small records and commits
 * become garbage that GC frees by an erase.  The fresh sector comes from
 * the free ones, else from a victim with nothing live, else from GC
 * steps (at most one trip round the ring: such sectors are usually a few
 * steps away).  When no sector can be freed at all (live small files in
 * every sector), the rest of the data head is used instead if it is at
 * least a quarter of a record.  Skipped (returns 0) until there are
 * enough bytes, or when the transient copy (the run stays committed
 * until the next commit) does not pass admission: the piece is then
 * written small and a later append merges.  Returns 1 with *used bytes
 * of src consumed, 0, or <0.  Needs n_ext + 2 <= emax. */
static int merge_tail(struct moss_fs_file *f, const uint8_t *src, uint32_t n,
                      uint32_t *used) {
  struct moss_fs *fs = f->fs;
  uint32_t i, b = tail_run(f, &i), m = fs->maxpay;
  int rc;
  *used = 0;
  if (b == 0)
    return 0;
  if ((uint64_t)b + n < m) {
    /* Tiny pieces: join the run and src into one record wherever the
     * data head is, before the table fills up with them; it stays in the
     * run and a later merge makes it a whole record. */
    if (f->n_ext - i < FS_MERGE_RUN)
      return 0;
    m = b + n;
    if (admit(fs, merge_charge(f, b, m, n)) < 0)
      return 0;
    rc = moss_fsi_ensure(fs, FS_DATA, fs_recsize(fs, m));
    if (rc < 0)
      return rc == MOSS_ERR_NOSPC ? 0 : rc;
    return merge_write(f, i, b, m, src, used);
  }
  if (admit(fs, merge_charge(f, b, m, n)) < 0)
    return 0;
  rc = moss_fsi_fresh_head(fs, true);
  if (rc == MOSS_ERR_NOSPC) { /* no sector dies: the data head's rest */
    m = moss_fsi_head_room(fs, FS_DATA);
    if (fs->dhead == fs->head || m < fs->maxpay / 4 || (uint64_t)b + n < m ||
        admit(fs, merge_charge(f, b, m, n)) < 0)
      return 0;
  } else if (rc < 0) {
    return rc;
  }
  return merge_write(f, i, b, m, src, used);
}

/* Append DATA records for n bytes at file offset off.  A piece that
 * would not fit is cut to fill the sector first: no sector keeps a
 * reserved tail, so packing is what makes a full filesystem hold its
 * nominal capacity (and a file written in one piece gets one extent per
 * sector).  Small appends (FS.Put chunks) are the exception: they stay
 * whole and go with the commits (FS_META), since a tail merge soon
 * replaces them. */
static int data_record(struct moss_fs_file *f, uint32_t off, const uint8_t *src,
                       uint32_t n) {
  struct moss_fs *fs = f->fs;
  bool retried = false;
  /* A small append: this whole write is a small piece at the end of a
   * non-empty file (not the rest of a bigger write cut at a sector). */
  bool append = is_small(fs, n) && off == f->tsize && off > 0;
  coalesce(f); /* GC may have joined records since the last write */
  while (n > 0) {
    int rc = MOSS_OK;
    if (f->n_ext + 2 > fs->emax)
      rc = compact(f);
    if (rc < 0)
      return rc;
    if (off == f->tsize) {
      uint32_t used;
      rc = merge_tail(f, src, n, &used);
      if (rc < 0)
        return rc;
      if (rc > 0) {
        off += used;
        src += used;
        n -= used;
        continue;
      }
    }
    uint32_t c = MOSS_MIN(n, fs->maxpay);
    bool whole = append && c == n;
    enum fs_stream st = whole ? FS_META : FS_DATA;
    /* A write inside the table may split an entry on each side, one past
     * its end adds a hole. */
    uint64_t extra = off < f->tsize   ? 2 * ext_charge(fs, 0)
                     : off > f->tsize ? ext_charge(fs, 0)
                                      : 0;
    rc = admit(fs, ext_charge(fs, c) + extra + commit_delta(f));
    if (rc < 0)
      return rc;
    /* Ask only for a small piece: a sector (or a GC result) with less
     * room than c is filled rather than closed with its tail unused. */
    rc = moss_fsi_ensure(fs, st,
                         fs_recsize(fs, whole ? c : MOSS_MIN(c, FS_MIN_CHUNK)));
    if (rc < 0)
      return rc;
    /* GC just freed a sector: a merge may be possible now. */
    if (whole && !retried && fs->nfree > 1) {
      retried = true;
      continue;
    }
    uint32_t room = moss_fsi_head_room(fs, st);
    if (room < c)
      c = MOSS_MAX(room, MOSS_MIN(c, FS_MIN_CHUNK));
    struct fs_piece p = {.kind = FS_P_MEM, .mem = src, .len = c};
    uint32_t a;
    rc = moss_fsi_rec_write(fs, st, FS_REC_DATA, f->fid, &p, 1, &a);
    if (rc < 0)
      return rc;
    overlay(f, off, c, a);
    off += c;
    src += c;
    n -= c;
  }
  return MOSS_OK;
}

static int flush(struct moss_fs_file *f) {
  if (f->wb_len == 0)
    return MOSS_OK;
  int rc = data_record(f, f->wb_off, f->wb, f->wb_len);
  if (rc == MOSS_OK)
    f->wb_len = 0;
  return rc;
}

/* ---- open / close ------------------------------------------------------ */

int moss_fs_open(struct moss_fs *fs, const char *name, int flags,
                 struct moss_fs_file **out) {
  *out = NULL;
  size_t nl;
  int rc = check_name(name, &nl);
  if (rc < 0)
    return rc;
  int acc = flags & MOSS_FS_O_ACCMODE;
  bool wr = acc != MOSS_FS_O_RDONLY;
  if (acc == MOSS_FS_O_ACCMODE || (flags & ~0x3F) ||
      (!wr && (flags & ~MOSS_FS_O_ACCMODE)))
    return MOSS_ERR_INVAL;
  struct fs_ent *e = moss_fsi_find_name(fs, name, nl);
  uint32_t nnew;
  struct moss_fs_file *pend = find_new(fs, name, nl, &nnew);
  if (e != NULL) {
    if ((flags & MOSS_FS_O_CREAT) && (flags & MOSS_FS_O_EXCL))
      return MOSS_ERR_EXIST;
    if (wr && find_writer(fs, e->fid) != NULL)
      return MOSS_ERR_BUSY;
  } else {
    if (pend != NULL)
      return MOSS_ERR_BUSY;
    if (!(flags & MOSS_FS_O_CREAT))
      return MOSS_ERR_NOENT;
    if (fs->nent + nnew >= fs->maxent)
      return MOSS_ERR_NOSPC;
  }
  struct moss_fs_file *f = moss_calloc(MOSS_SUB_FS, 1, sizeof(*f));
  if (f == NULL)
    return MOSS_ERR_NOMEM;
  f->fs = fs;
  f->flags = flags;
  f->writable = wr;
  f->namelen = (uint8_t)nl;
  memcpy(f->name, name, nl);
  if (wr) {
    size_t words = (fs->emax + 31) / 32;
    f->tab = moss_alloc(MOSS_SUB_FS, fs->emax * sizeof(struct fs_ext) +
                                         FS_WBUF + words * sizeof(uint32_t));
    if (f->tab == NULL) {
      moss_free(f);
      return MOSS_ERR_NOMEM;
    }
    f->wb = (uint8_t *)(f->tab + fs->emax);
    f->fresh = (uint32_t *)(f->wb + FS_WBUF);
    memset(f->fresh, 0, words * sizeof(uint32_t));
  }
  if (e != NULL) {
    f->fid = e->fid;
    f->size = e->size;
    if (wr && (flags & MOSS_FS_O_TRUNC)) {
      f->size = 0;
      f->dirty = true;
    } else if (wr) {
      rc = moss_fsi_load_table(fs, e, f->tab);
      if (rc < 0) {
        moss_free(f->tab);
        moss_free(f);
        return rc;
      }
      f->n_ext = e->n_ext;
      f->tsize = e->size;
      coalesce(f);
    }
  } else {
    f->fid = fs->next_fid++;
    f->is_new = true;
    f->dirty = true; /* an empty new file still gets committed */
  }
  f->next = fs->files;
  fs->files = f;
  *out = f;
  return MOSS_OK;
}

void moss_fs_discard(struct moss_fs_file *f) {
  if (f == NULL)
    return;
  struct moss_fs *fs = f->fs;
  for (struct moss_fs_file **pp = &fs->files; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == f) {
      *pp = f->next;
      break;
    }
  }
  moss_free(f->tab);
  moss_free(f);
}

int moss_fs_sync(struct moss_fs_file *f) {
  if (!f->writable || !f->dirty)
    return MOSS_OK;
  struct moss_fs *fs = f->fs;
  int rc = flush(f);
  if (rc < 0)
    return rc;
  coalesce(f);
  if (f->size > f->tsize) {
    if (f->n_ext + 2 > fs->emax)
      rc = compact(f);
    if (rc < 0)
      return rc;
    tab_set(f, f->n_ext++, FS_HOLE, f->size - f->tsize);
    f->tsize = f->size;
  }
  rc = moss_fsi_ensure(fs, FS_META,
                       fs_recsize(fs, fs_cpaylen(f->namelen, f->n_ext)));
  if (rc < 0)
    return rc;
  struct fs_piece t = {.kind = FS_P_EXTSER, .ext = f->tab, .len = f->n_ext};
  uint32_t ca;
  rc = moss_fsi_write_commit(fs, f->fid, f->name, f->namelen, f->size, 0, &t,
                             f->n_ext, &ca);
  if (rc < 0)
    return rc;
  rc = moss_fsi_ent_set(fs, f->fid, ca, f->size, f->n_ext, f->name, f->namelen);
  if (rc < 0)
    return MOSS_ERR_INTERNAL; /* slot reserved at open */
  /* The table is the committed version now: nothing left to charge. */
  memset(f->fresh, 0, (fs->emax + 31) / 32 * sizeof(uint32_t));
  f->dirty = false;
  f->is_new = false;
  return MOSS_OK;
}

int moss_fs_close(struct moss_fs_file *f) {
  if (f == NULL)
    return MOSS_ERR_INVAL;
  int rc = moss_fs_sync(f);
  moss_fs_discard(f);
  return rc;
}

/* ---- read / write / seek ----------------------------------------------- */

static int cur_size(struct moss_fs_file *f, uint32_t *size, struct fs_ent **e) {
  *e = NULL;
  if (f->writable) {
    *size = f->size;
    return MOSS_OK;
  }
  *e = moss_fsi_find_fid(f->fs, f->fid);
  if (*e == NULL)
    return MOSS_ERR_NOENT;
  *size = (*e)->size;
  return MOSS_OK;
}

/* Flash address (or FS_HOLE) of file offset pos, and bytes available
 * there in the same extent. */
static int locate(struct moss_fs_file *f, struct fs_ent *e, uint32_t pos,
                  uint32_t *addr, uint32_t *avail) {
  if (f->writable) {
    uint32_t start = 0;
    for (uint32_t i = 0; i < f->n_ext; i++) {
      const struct fs_ext *x = &f->tab[i];
      if (pos < start + x->len) {
        *addr = x->addr == FS_HOLE ? FS_HOLE : x->addr + (pos - start);
        *avail = start + x->len - pos;
        return MOSS_OK;
      }
      start += x->len;
    }
    *addr = FS_HOLE; /* extended by truncate, not yet in the table */
    *avail = f->size - pos;
    return MOSS_OK;
  }
  if (e->caddr != f->c_caddr || pos < f->c_start) {
    f->c_caddr = e->caddr;
    f->c_idx = f->c_start = 0;
  }
  uint32_t ta = moss_fsi_table_addr(e);
  while (f->c_idx < e->n_ext) {
    uint8_t b[8];
    int rc = moss_fsi_read(f->fs, ta + 8 * f->c_idx, b, 8);
    if (rc < 0)
      return rc;
    uint32_t a = moss_get_le32(b), len = moss_get_le32(b + 4);
    if (pos < f->c_start + len) {
      *addr = a == FS_HOLE ? FS_HOLE : a + (pos - f->c_start);
      *avail = f->c_start + len - pos;
      return MOSS_OK;
    }
    f->c_start += len;
    f->c_idx++;
  }
  return MOSS_ERR_CORRUPT;
}

int moss_fs_read(struct moss_fs_file *f, void *buf, size_t len) {
  if (f == NULL || (buf == NULL && len > 0))
    return MOSS_ERR_INVAL;
  int rc = MOSS_OK;
  if (f->writable)
    rc = flush(f);
  if (rc < 0)
    return rc;
  uint32_t size;
  struct fs_ent *e;
  rc = cur_size(f, &size, &e);
  if (rc < 0)
    return rc;
  if (len > INT_MAX)
    len = INT_MAX;
  size_t done = 0;
  while (done < len && f->pos < size) {
    uint32_t a, avail;
    rc = locate(f, e, f->pos, &a, &avail);
    if (rc < 0)
      return rc;
    uint32_t c = (uint32_t)MOSS_MIN(len - done, (size_t)avail);
    c = MOSS_MIN(c, size - f->pos);
    uint8_t *dst = (uint8_t *)buf + done;
    if (a == FS_HOLE)
      memset(dst, 0, c);
    else if ((rc = moss_fsi_read(f->fs, a, dst, c)) < 0)
      return rc;
    f->pos += c;
    done += c;
  }
  return (int)done;
}

int moss_fs_write(struct moss_fs_file *f, const void *buf, size_t len) {
  if (f == NULL || (buf == NULL && len > 0))
    return MOSS_ERR_INVAL;
  if (!f->writable)
    return MOSS_ERR_PERM;
  if (len > INT_MAX)
    len = INT_MAX;
  if (f->flags & MOSS_FS_O_APPEND)
    f->pos = f->size;
  if ((uint64_t)f->pos + len > INT32_MAX)
    return MOSS_ERR_TOOBIG;
  const uint8_t *src = buf;
  size_t done = 0;
  while (done < len) {
    int rc = MOSS_OK;
    uint32_t c;
    if (f->wb_len > 0 &&
        (f->pos != f->wb_off + f->wb_len || f->wb_len == FS_WBUF))
      rc = flush(f);
    if (rc < 0)
      return rc;
    if (f->wb_len == 0 && len - done >= FS_WBUF) {
      /* All of it at once: data_record cuts records only at sector
       * ends (pre-cutting at maxpay gave two extents per sector). */
      c = (uint32_t)(len - done);
      rc = data_record(f, f->pos, src + done, c);
      if (rc < 0)
        return rc;
    } else {
      if (f->wb_len == 0)
        f->wb_off = f->pos;
      c = (uint32_t)MOSS_MIN(len - done, (size_t)(FS_WBUF - f->wb_len));
      memcpy(f->wb + f->wb_len, src + done, c);
      f->wb_len += c;
    }
    f->pos += c;
    done += c;
    if (f->pos > f->size)
      f->size = f->pos;
    f->dirty = true;
  }
  return (int)done;
}

int32_t moss_fs_seek(struct moss_fs_file *f, int32_t off, int whence) {
  if (f == NULL)
    return MOSS_ERR_INVAL;
  int64_t base;
  if (whence == MOSS_FS_SEEK_SET) {
    base = 0;
  } else if (whence == MOSS_FS_SEEK_CUR) {
    base = f->pos;
  } else if (whence == MOSS_FS_SEEK_END) {
    uint32_t size;
    struct fs_ent *e;
    int rc = cur_size(f, &size, &e);
    if (rc < 0)
      return rc;
    base = size;
  } else {
    return MOSS_ERR_INVAL;
  }
  int64_t np = base + off;
  if (np < 0 || np > INT32_MAX)
    return MOSS_ERR_INVAL;
  f->pos = (uint32_t)np;
  return (int32_t)np;
}

uint32_t moss_fs_tell(const struct moss_fs_file *f) {
  return f->pos;
}

uint32_t moss_fs_size(const struct moss_fs_file *f) {
  if (f->writable)
    return f->size;
  const struct fs_ent *e = moss_fsi_find_fid(f->fs, f->fid);
  return e ? e->size : 0;
}

int moss_fs_truncate(struct moss_fs_file *f, uint32_t size) {
  if (f == NULL)
    return MOSS_ERR_INVAL;
  if (!f->writable)
    return MOSS_ERR_PERM;
  if (size > INT32_MAX)
    return MOSS_ERR_TOOBIG;
  int rc = flush(f);
  if (rc < 0)
    return rc;
  if (size < f->tsize) {
    uint32_t start = 0, i = 0;
    for (; i < f->n_ext && start + f->tab[i].len < size; i++)
      start += f->tab[i].len;
    if (size == 0) {
      f->n_ext = 0;
    } else {
      f->tab[i].len = size - start;
      f->n_ext = i + 1;
    }
    f->tsize = size;
  }
  f->size = size;
  f->dirty = true;
  return MOSS_OK;
}

/* ---- name-level operations -------------------------------------------- */

int moss_fs_remove(struct moss_fs *fs, const char *name) {
  size_t nl;
  int rc = check_name(name, &nl);
  if (rc < 0)
    return rc;
  struct fs_ent *e = moss_fsi_find_name(fs, name, nl);
  if (e == NULL)
    return MOSS_ERR_NOENT;
  uint32_t fid = e->fid;
  if (find_writer(fs, fid) != NULL)
    return MOSS_ERR_BUSY;
  rc = moss_fsi_ensure(fs, FS_META, fs_recsize(fs, 0));
  if (rc < 0)
    return rc;
  rc = moss_fsi_rec_write(fs, FS_META, FS_REC_DELETE, fid, NULL, 0, NULL);
  if (rc < 0)
    return rc;
  moss_fsi_ent_del(fs, fid);
  return MOSS_OK;
}

int moss_fs_rename(struct moss_fs *fs, const char *src, const char *dst) {
  size_t sl, dl;
  uint32_t nnew;
  int rc = check_name(src, &sl);
  if (rc == MOSS_OK)
    rc = check_name(dst, &dl);
  if (rc < 0)
    return rc;
  struct fs_ent *es = moss_fsi_find_name(fs, src, sl);
  if (es == NULL)
    return MOSS_ERR_NOENT;
  if (sl == dl && memcmp(src, dst, sl) == 0)
    return MOSS_OK;
  struct fs_ent *ed = moss_fsi_find_name(fs, dst, dl);
  if (find_writer(fs, es->fid) != NULL || find_new(fs, dst, dl, &nnew) ||
      (ed != NULL && find_writer(fs, ed->fid) != NULL))
    return MOSS_ERR_BUSY;
  uint32_t fid = es->fid, kill = ed != NULL ? ed->fid : 0;
  rc = moss_fsi_ensure(fs, FS_META,
                       fs_recsize(fs, fs_cpaylen((uint32_t)dl, es->n_ext)));
  if (rc < 0)
    return rc;
  /* GC may have moved the commit: take addresses only now. */
  es = moss_fsi_find_fid(fs, fid);
  uint32_t size = es->size, n = es->n_ext;
  struct fs_piece t = {
      .kind = FS_P_FLASH, .addr = moss_fsi_table_addr(es), .len = 8 * n};
  uint32_t ca;
  rc =
      moss_fsi_write_commit(fs, fid, dst, (uint32_t)dl, size, kill, &t, n, &ca);
  if (rc < 0)
    return rc;
  if (kill != 0)
    moss_fsi_ent_del(fs, kill);
  return moss_fsi_ent_set(fs, fid, ca, size, n, dst, (uint32_t)dl);
}

int moss_fs_stat(struct moss_fs *fs, const char *name,
                 struct moss_fs_stat *st) {
  size_t nl;
  int rc = check_name(name, &nl);
  if (rc < 0)
    return rc;
  struct fs_ent *e = moss_fsi_find_name(fs, name, nl);
  if (e == NULL)
    return MOSS_ERR_NOENT;
  memcpy(st->name, name, nl);
  st->name[nl] = '\0';
  st->size = e->size;
  return MOSS_OK;
}

int moss_fs_list(struct moss_fs *fs, moss_fs_list_fn *fn, void *arg) {
  struct moss_fs_stat st;
  for (uint32_t i = 0; i < fs->nent; i++) {
    int rc = moss_fsi_read_name(fs, &fs->ent[i], st.name);
    if (rc < 0)
      return rc;
    st.size = fs->ent[i].size;
    rc = fn(arg, &st);
    if (rc != 0)
      return rc;
  }
  return MOSS_OK;
}

/* Model charge of a new file of s bytes: its data, an extent per sector
 * plus FS_FREE_EXT_SLACK more, and its commit with the longest name and
 * the two spare entries admission reserves (what data_record admits). */
static uint64_t new_file_charge(const struct moss_fs *fs, uint32_t s) {
  uint64_t n = ((uint64_t)s + fs->maxpay - 1) / fs->maxpay + FS_FREE_EXT_SLACK;
  if (n > fs->emax - 2)
    n = fs->emax - 2; /* no file can have more */
  return s + n * ext_charge(fs, 0) +
         fs_recsize(fs, fs_cpaylen(MOSS_FS_NAME_MAX, (uint32_t)n + 2));
}

/* free: the largest new file, in data bytes, whose charge admission
 * takes with half a sector to spare.  The spare is for the end of an
 * upload in chunks: by then the free space left is in pieces, one per
 * sector, and its last commits (each FS.Put's, the rename's) need room
 * in one piece; without it ~5% of filesystem states tried fell up to
 * 1.5 KB short of the figure (docs/design/fs.md, "Space"). */
int moss_fs_info(struct moss_fs *fs, struct moss_fs_info *info) {
  uint64_t used = fs->live + fs_pending(fs);
  if (used > fs->usable)
    used = fs->usable;
  uint64_t spare = (fs->P - fs->ds) / 2;
  uint64_t room = fs->usable - used > spare ? fs->usable - used - spare : 0;
  uint32_t lo = 0, hi = (uint32_t)room;
  if (fs->nent >= fs->maxent)
    hi = 0;         /* no slot for a new file */
  while (lo < hi) { /* new_file_charge grows with s */
    uint32_t mid = lo + (hi - lo + 1) / 2;
    if (new_file_charge(fs, mid) <= room)
      lo = mid;
    else
      hi = mid - 1;
  }
  info->total = (uint32_t)fs->usable;
  info->used = (uint32_t)used;
  info->free = lo;
  info->files = fs->nent;
  info->sectors = fs->N;
  info->free_sectors = fs->nfree;
  return MOSS_OK;
}

int moss_fs_write_file(struct moss_fs *fs, const char *name, const void *data,
                       size_t len) {
  struct moss_fs_file *f;
  int rc = moss_fs_open(
      fs, name, MOSS_FS_O_WRONLY | MOSS_FS_O_CREAT | MOSS_FS_O_TRUNC, &f);
  if (rc < 0)
    return rc;
  rc = moss_fs_write(f, data, len);
  if (rc >= 0 && (size_t)rc != len)
    rc = MOSS_ERR_TOOBIG;
  if (rc < 0) {
    moss_fs_discard(f);
    return rc;
  }
  return moss_fs_close(f);
}

int moss_fs_read_file(struct moss_fs *fs, const char *name, void *buf,
                      size_t cap, size_t *len) {
  struct moss_fs_file *f;
  *len = 0;
  int rc = moss_fs_open(fs, name, MOSS_FS_O_RDONLY, &f);
  if (rc < 0)
    return rc;
  uint32_t size = moss_fs_size(f);
  *len = size;
  if (size > cap) {
    moss_fs_discard(f);
    return MOSS_ERR_TOOBIG;
  }
  size_t got = 0;
  while (got < size) {
    rc = moss_fs_read(f, (uint8_t *)buf + got, size - got);
    if (rc <= 0)
      break;
    got += (size_t)rc;
  }
  moss_fs_discard(f);
  if (rc < 0)
    return rc;
  return got == size ? MOSS_OK : MOSS_ERR_CORRUPT;
}
