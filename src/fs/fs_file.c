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

/* Admission control: live + pending + need must stay within usable. */
static int admit(struct moss_fs *fs, uint64_t need) {
  return fs->live + fs->pending + need > fs->usable ? MOSS_ERR_NOSPC : MOSS_OK;
}

static void charge(struct moss_fs_file *f, uint32_t n) {
  f->pending += n;
  f->fs->pending += n;
}

/* ---- extent table of a writer ----------------------------------------- */

static void split_at(struct moss_fs_file *f, uint32_t x) {
  uint32_t start = 0;
  for (uint32_t i = 0; i < f->n_ext; i++) {
    struct fs_ext *e = &f->tab[i];
    if (x > start && x < start + e->len) {
      memmove(&f->tab[i + 2], &f->tab[i + 1], (f->n_ext - i - 1) * sizeof(*e));
      uint32_t head = x - start;
      f->tab[i + 1].addr = e->addr == FS_HOLE ? FS_HOLE : e->addr + head;
      f->tab[i + 1].len = e->len - head;
      e->len = head;
      f->n_ext++;
      return;
    }
    start += e->len;
  }
}

/* Make [off, off+len) map to addr.  Needs n_ext + 2 <= emax. */
static void overlay(struct moss_fs_file *f, uint32_t off, uint32_t len,
                    uint32_t addr) {
  if (off > f->tsize) {
    f->tab[f->n_ext++] = (struct fs_ext){FS_HOLE, off - f->tsize};
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
  if (i1 == i0) { /* insert */
    memmove(&f->tab[i0 + 1], &f->tab[i0], (f->n_ext - i0) * sizeof(*f->tab));
    f->n_ext++;
  } else if (i1 > i0 + 1) {
    memmove(&f->tab[i0 + 1], &f->tab[i1], (f->n_ext - i1) * sizeof(*f->tab));
    f->n_ext -= i1 - i0 - 1;
  }
  f->tab[i0] = (struct fs_ext){addr, len};
  if (off + len > f->tsize)
    f->tsize = off + len;
}

static uint64_t commit_reserve(const struct moss_fs_file *f) {
  return fs_recsize(f->fs, fs_cpaylen(f->namelen, f->n_ext + 2));
}

/* Rewrite runs of small extents into single records until the table has
 * room for two more entries. */
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
    uint32_t need = fs_recsize(fs, total);
    int rc = admit(fs, need + commit_reserve(f));
    if (rc < 0)
      return rc;
    rc = moss_fsi_ensure(fs, need); /* may move f->tab addresses, not
                                       indices */
    if (rc < 0)
      return rc;
    struct fs_piece p = {.kind = FS_P_EXTCOPY, .ext = &f->tab[i], .len = j - i};
    uint32_t a;
    rc = moss_fsi_rec_write(fs, FS_REC_DATA, f->fid, &p, 1, &a);
    if (rc < 0)
      return rc;
    charge(f, need);
    f->tab[i] = (struct fs_ext){a, total};
    memmove(&f->tab[i + 1], &f->tab[j], (f->n_ext - j) * sizeof(*f->tab));
    f->n_ext -= j - i - 1;
    i++;
  }
  return f->n_ext + 2 > fs->emax ? MOSS_ERR_TOOBIG : MOSS_OK;
}

/* Append DATA records for n bytes at file offset off.  A piece that
 * would not fit in the head is cut to fill it first: no sector keeps a
 * reserved tail, so packing is what makes a full filesystem hold its
 * nominal capacity. */
static int data_record(struct moss_fs_file *f, uint32_t off, const uint8_t *src,
                       uint32_t n) {
  struct moss_fs *fs = f->fs;
  while (n > 0) {
    int rc = MOSS_OK;
    if (f->n_ext + 2 > fs->emax)
      rc = compact(f);
    if (rc < 0)
      return rc;
    uint32_t c = MOSS_MIN(n, fs->maxpay);
    rc = admit(fs, fs_recsize(fs, c) + commit_reserve(f));
    if (rc < 0)
      return rc;
    /* Ask only for a small piece: a head (or a GC result) with less room
     * than c is filled rather than closed with its tail unused. */
    rc = moss_fsi_ensure(fs, fs_recsize(fs, MOSS_MIN(c, FS_MIN_CHUNK)));
    if (rc < 0)
      return rc;
    uint32_t room = moss_fsi_head_room(fs);
    if (room < c)
      c = MOSS_MAX(room, MOSS_MIN(c, FS_MIN_CHUNK));
    uint32_t need = fs_recsize(fs, c);
    struct fs_piece p = {.kind = FS_P_MEM, .mem = src, .len = c};
    uint32_t a;
    rc = moss_fsi_rec_write(fs, FS_REC_DATA, f->fid, &p, 1, &a);
    if (rc < 0)
      return rc;
    charge(f, need);
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
    f->tab =
        moss_alloc(MOSS_SUB_FS, fs->emax * sizeof(struct fs_ext) + FS_WBUF);
    if (f->tab == NULL) {
      moss_free(f);
      return MOSS_ERR_NOMEM;
    }
    f->wb = (uint8_t *)(f->tab + fs->emax);
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
  fs->pending -= f->pending;
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
  if (f->size > f->tsize) {
    if (f->n_ext + 2 > fs->emax)
      rc = compact(f);
    if (rc < 0)
      return rc;
    f->tab[f->n_ext++] = (struct fs_ext){FS_HOLE, f->size - f->tsize};
    f->tsize = f->size;
  }
  rc = moss_fsi_ensure(fs, fs_recsize(fs, fs_cpaylen(f->namelen, f->n_ext)));
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
  fs->pending -= f->pending;
  f->pending = 0;
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
      c = (uint32_t)MOSS_MIN(len - done, (size_t)f->fs->maxpay);
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
  rc = moss_fsi_ensure(fs, fs_recsize(fs, 0));
  if (rc < 0)
    return rc;
  rc = moss_fsi_rec_write(fs, FS_REC_DELETE, fid, NULL, 0, NULL);
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
  rc = moss_fsi_ensure(fs, fs_recsize(fs, fs_cpaylen((uint32_t)dl, es->n_ext)));
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

int moss_fs_info(struct moss_fs *fs, struct moss_fs_info *info) {
  uint64_t used = fs->live + fs->pending;
  if (used > fs->usable)
    used = fs->usable;
  info->total = (uint32_t)fs->usable;
  info->used = (uint32_t)used;
  info->free = (uint32_t)(fs->usable - used);
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
