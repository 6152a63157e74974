/*
 * The log: geometry, the in-RAM index, space management, record writing
 * and garbage collection.
 *
 * Invariants this file keeps:
 *  - a record is written only into the head sector, strictly after every
 *    earlier record, each write_align unit programmed once;
 *  - nothing referenced by a committed table is ever erased: GC copies the
 *    live records of the oldest sector and re-commits their files before
 *    it erases that sector;
 *  - GC always takes the oldest sector (FIFO), so a DELETE record or a
 *    rename's kill can be dropped with its sector: every older record for
 *    the same file lived in that sector or in one erased before it.
 */
#include <string.h>

#include "fs_int.h"
#include "moss/err.h"
#include "moss/util.h"

int moss_fsi_geometry(struct moss_fs *fs, const struct moss_flash *fl) {
  uint32_t P = fl->erase_size, W = fl->write_align ? fl->write_align : 1;
  if (P < 1024 || P > 65536 || (P & (P - 1)) || fl->size % P)
    return MOSS_ERR_INVAL;
  if (W > 64 || (W & (W - 1)))
    return MOSS_ERR_INVAL;
  if (fl->size / P < MOSS_FS_MIN_SECTORS)
    return MOSS_ERR_INVAL;
  fs->fl = fl;
  fs->P = P;
  fs->N = fl->size / P;
  fs->U = W < 8 ? 8 : W;
  fs->ds = fs_align(FS_SH, fs->U);
  /* Extent table capacity: bounded so that one commit record (the
   * largest metadata record) is small. */
  uint32_t cap = (P - fs->ds - FS_RH - FS_CMETA - MOSS_FS_NAME_MAX) / 8;
  fs->emax = MOSS_MIN(fs->N + 16, 96u);
  if (fs->emax > cap / 2)
    fs->emax = cap / 2;
  /* DATA records end at or below dlimit: every sector keeps room for the
   * largest commit record, so GC moving a sector full of one file's live
   * data can always write that file's new commit into the same fresh
   * sector ("Space" in docs/design/fs.md). */
  fs->dlimit =
      P - fs_align(FS_RH + fs_cpaylen(MOSS_FS_NAME_MAX, fs->emax), fs->U);
  fs->maxpay = fs->dlimit - fs->ds - FS_RH;
  /* Three sectors' worth stay out of reach of files: one free sector for
   * GC to copy into, one head abandoned at mount, one of slack for the
   * commit records GC rewrites (docs/design/fs.md, "Space"). */
  fs->usable = (uint64_t)(fs->N - 3) * (fs->dlimit - fs->ds);
  fs->head = -1;
  return MOSS_OK;
}

uint64_t moss_fsi_ent_live(const struct moss_fs *fs, const struct fs_ent *e) {
  return fs_recsize(fs, fs_cpaylen(e->namelen, e->n_ext)) + e->size +
         (uint64_t)e->n_ext * (FS_RH + fs->U);
}

uint32_t moss_fsi_name_hash(const char *name, size_t len) {
  return moss_crc32(0, name, len) & 0xFF;
}

struct fs_ent *moss_fsi_find_fid(struct moss_fs *fs, uint32_t fid) {
  for (uint32_t i = 0; i < fs->nent; i++)
    if (fs->ent[i].fid == fid)
      return &fs->ent[i];
  return NULL;
}

int moss_fsi_read_name(struct moss_fs *fs, const struct fs_ent *e, char *out) {
  int rc =
      moss_flash_read(fs->fl, e->caddr + FS_RH + FS_CMETA, out, e->namelen);
  out[rc == MOSS_OK ? e->namelen : 0] = '\0';
  return rc;
}

struct fs_ent *moss_fsi_find_name(struct moss_fs *fs, const char *name,
                                  size_t len) {
  uint8_t h = (uint8_t)moss_fsi_name_hash(name, len);
  char buf[MOSS_FS_NAME_MAX + 1];
  for (uint32_t i = 0; i < fs->nent; i++) {
    struct fs_ent *e = &fs->ent[i];
    if (e->hash != h || e->namelen != len)
      continue;
    if (moss_fsi_read_name(fs, e, buf) == MOSS_OK &&
        memcmp(buf, name, len) == 0)
      return e;
  }
  return NULL;
}

int moss_fsi_ent_set(struct moss_fs *fs, uint32_t fid, uint32_t caddr,
                     uint32_t size, uint32_t n_ext, const char *name,
                     uint32_t namelen) {
  struct fs_ent *e = moss_fsi_find_fid(fs, fid);
  if (e != NULL) {
    fs->live -= moss_fsi_ent_live(fs, e);
  } else {
    if (fs->nent >= fs->maxent)
      return MOSS_ERR_NOSPC;
    e = &fs->ent[fs->nent++];
    e->fid = fid;
  }
  e->caddr = caddr;
  e->size = size;
  e->n_ext = (uint16_t)n_ext;
  e->namelen = (uint8_t)namelen;
  e->hash = (uint8_t)moss_fsi_name_hash(name, namelen);
  fs->live += moss_fsi_ent_live(fs, e);
  return MOSS_OK;
}

void moss_fsi_ent_del(struct moss_fs *fs, uint32_t fid) {
  struct fs_ent *e = moss_fsi_find_fid(fs, fid);
  if (e == NULL)
    return;
  fs->live -= moss_fsi_ent_live(fs, e);
  *e = fs->ent[--fs->nent];
}

uint32_t moss_fsi_table_addr(const struct fs_ent *e) {
  return e->caddr + FS_RH + FS_CMETA + fs_align(e->namelen, 4);
}

int moss_fsi_load_table(struct moss_fs *fs, const struct fs_ent *e,
                        struct fs_ext *out) {
  uint32_t a = moss_fsi_table_addr(e);
  uint8_t b[64];
  for (uint32_t i = 0; i < e->n_ext; i += 8) {
    uint32_t n = MOSS_MIN(8u, e->n_ext - i);
    int rc = moss_flash_read(fs->fl, a + i * 8, b, n * 8);
    if (rc < 0)
      return rc;
    for (uint32_t k = 0; k < n; k++) {
      out[i + k].addr = moss_get_le32(b + 8 * k);
      out[i + k].len = moss_get_le32(b + 8 * k + 4);
    }
  }
  return MOSS_OK;
}

int moss_fsi_crc_flash(struct moss_fs *fs, uint32_t addr, uint32_t len,
                       uint32_t *crc) {
  uint8_t b[128];
  uint32_t c = 0;
  while (len > 0) {
    uint32_t n = MOSS_MIN(len, (uint32_t)sizeof(b));
    int rc = moss_flash_read(fs->fl, addr, b, n);
    if (rc < 0)
      return rc;
    c = moss_crc32(c, b, n);
    addr += n;
    len -= n;
  }
  *crc = c;
  return MOSS_OK;
}

int moss_fsi_parse_rh(const struct moss_fs *fs, const uint8_t *h, uint32_t off,
                      uint8_t *type, uint32_t *fid, uint32_t *len,
                      uint32_t *pcrc) {
  if (h[0] != FS_REC_MAGIC)
    return MOSS_ERR_CORRUPT;
  if (moss_crc32(0, h, 20) != moss_get_le32(h + 20))
    return MOSS_ERR_CORRUPT;
  *type = h[1];
  *fid = moss_get_le32(h + 4);
  *len = moss_get_le32(h + 8);
  *pcrc = moss_get_le32(h + 12);
  if (*type < FS_REC_DATA || *type > FS_REC_DELETE)
    return MOSS_ERR_CORRUPT;
  if (off > fs->P || *len > fs->P - off || FS_RH > fs->P - off - *len)
    return MOSS_ERR_CORRUPT;
  return MOSS_OK;
}

/* ---- payload pieces ------------------------------------------------- */

struct piter {
  const struct fs_piece *pc;
  uint32_t npc, i, off; /* piece and byte offset within it */
  uint32_t ei, eoff;    /* EXTCOPY: extent and offset within it */
};

static uint32_t piece_len(const struct fs_piece *p) {
  if (p->kind == FS_P_EXTSER)
    return 8 * p->len;
  if (p->kind == FS_P_EXTCOPY) {
    uint32_t t = 0;
    for (uint32_t i = 0; i < p->len; i++)
      t += p->ext[i].len;
    return t;
  }
  return p->len;
}

static int read_or_zero(struct moss_fs *fs, uint32_t addr, uint8_t *buf,
                        uint32_t n) {
  if (addr == FS_HOLE) {
    memset(buf, 0, n);
    return MOSS_OK;
  }
  return moss_flash_read(fs->fl, addr, buf, n);
}

/* Produce up to n bytes of the concatenated pieces; returns the count. */
static int piter_read(struct moss_fs *fs, struct piter *it, uint8_t *buf,
                      uint32_t n) {
  uint32_t got = 0;
  while (got < n && it->i < it->npc) {
    const struct fs_piece *p = &it->pc[it->i];
    uint32_t c = 0;
    int rc = MOSS_OK;
    if (p->kind == FS_P_MEM) {
      c = MOSS_MIN(n - got, p->len - it->off);
      memcpy(buf + got, (const uint8_t *)p->mem + it->off, c);
    } else if (p->kind == FS_P_FLASH) {
      c = MOSS_MIN(n - got, p->len - it->off);
      rc = read_or_zero(fs, p->addr == FS_HOLE ? FS_HOLE : p->addr + it->off,
                        buf + got, c);
    } else if (p->kind == FS_P_EXTSER) {
      if (it->off < 8 * p->len) {
        uint8_t t[8];
        const struct fs_ext *x = &p->ext[it->off / 8];
        moss_put_le32(t, x->addr);
        moss_put_le32(t + 4, x->len);
        c = MOSS_MIN(n - got, 8 - it->off % 8);
        memcpy(buf + got, t + it->off % 8, c);
      }
    } else {
      while (it->ei < p->len && it->eoff >= p->ext[it->ei].len) {
        it->ei++;
        it->eoff = 0;
      }
      if (it->ei < p->len) {
        const struct fs_ext *x = &p->ext[it->ei];
        c = MOSS_MIN(n - got, x->len - it->eoff);
        rc = read_or_zero(fs, x->addr == FS_HOLE ? FS_HOLE : x->addr + it->eoff,
                          buf + got, c);
        it->eoff += c;
      }
    }
    if (rc < 0)
      return rc;
    got += c;
    it->off += c;
    if (c == 0 || it->off >= piece_len(p)) {
      it->i++;
      it->off = it->ei = it->eoff = 0;
    }
  }
  return (int)got;
}

/* ---- sectors and records -------------------------------------------- */

static int open_sector(struct moss_fs *fs) {
  fs->head = -1;
  uint32_t s = fs->N;
  for (uint32_t k = 0; k < fs->N; k++) {
    uint32_t c = (fs->rr + k) % fs->N;
    if (fs->sec[c].state != FS_SEC_USED) {
      s = c;
      break;
    }
  }
  if (s == fs->N)
    return MOSS_ERR_NOSPC;
  fs->rr = (s + 1) % fs->N;
  struct fs_sec *sc = &fs->sec[s];
  if (sc->state == FS_SEC_DIRTY) {
    int rc = moss_flash_erase(fs->fl, s * fs->P, fs->P);
    if (rc < 0)
      return rc;
    sc->state = FS_SEC_ERASED;
  }
  /* From here the sector is no longer known-erased, whatever happens. */
  sc->state = FS_SEC_DIRTY;
  uint8_t *h = fs->stage;
  memset(h, 0xFF, fs->ds);
  memset(h, 0, FS_SH);
  moss_put_le32(h, FS_SEC_MAGIC);
  h[4] = 1; /* format version */
  moss_put_le32(h + 8, fs->next_seq);
  moss_put_le32(h + 12, fs->P);
  moss_put_le32(h + 16, fs->N);
  moss_put_le32(h + 28, moss_crc32(0, h, 28));
  int rc = moss_flash_write(fs->fl, s * fs->P, h, fs->ds);
  if (rc < 0)
    return rc;
  sc->state = FS_SEC_USED;
  sc->seq = fs->next_seq++;
  sc->end = fs->ds;
  fs->nfree--;
  fs->head = (int32_t)s;
  fs->head_off = fs->ds;
  return MOSS_OK;
}

static int fs_ensure_lim(struct moss_fs *fs, uint32_t need, uint32_t lim) {
  if (need > lim - fs->ds)
    return MOSS_ERR_TOOBIG;
  for (uint32_t it = 0; it < 2 * fs->N + 4; it++) {
    if (fs->head >= 0 && fs->head_off + need <= lim)
      return MOSS_OK;
    /* Two free sectors are GC's: one for a GC cut by power loss (its
     * sector is abandoned at mount) and one for the retry. */
    uint32_t reserve = fs->in_gc ? 0 : 2;
    int rc;
    if (fs->nfree > reserve)
      rc = open_sector(fs);
    else if (fs->in_gc)
      return MOSS_ERR_NOSPC;
    else
      rc = moss_fsi_gc_one(fs);
    if (rc < 0)
      return rc;
  }
  return MOSS_ERR_NOSPC;
}

int moss_fsi_ensure(struct moss_fs *fs, uint32_t need) {
  return fs_ensure_lim(fs, need, fs->P);
}

int moss_fsi_ensure_data(struct moss_fs *fs, uint32_t need) {
  return fs_ensure_lim(fs, need, fs->dlimit);
}

int moss_fsi_rec_write(struct moss_fs *fs, uint8_t type, uint32_t fid,
                       const struct fs_piece *pc, uint32_t npc,
                       uint32_t *paddr) {
  uint32_t len = 0, crc = 0;
  for (uint32_t i = 0; i < npc; i++)
    len += piece_len(&pc[i]);
  uint32_t rs = fs_recsize(fs, len);
  if (fs->head < 0 || fs->head_off + rs > fs->P)
    return MOSS_ERR_INTERNAL;
  /* Pass 1: the payload CRC goes into the header, which is written
   * first. */
  struct piter it = {pc, npc, 0, 0, 0, 0};
  for (;;) {
    int n = piter_read(fs, &it, fs->stage, FS_STAGE);
    if (n < 0)
      return n;
    if (n == 0)
      break;
    crc = moss_crc32(crc, fs->stage, (size_t)n);
  }
  uint32_t base = (uint32_t)fs->head * fs->P + fs->head_off;
  uint8_t *h = fs->stage;
  memset(h, 0, FS_RH);
  h[0] = FS_REC_MAGIC;
  h[1] = type;
  moss_put_le32(h + 4, fid);
  moss_put_le32(h + 8, len);
  moss_put_le32(h + 12, crc);
  moss_put_le32(h + 16, 0xFFFFFFFFu);
  moss_put_le32(h + 20, moss_crc32(0, h, 20));
  /* Pass 2: stream header + payload + padding in stage-sized writes. */
  struct piter it2 = {pc, npc, 0, 0, 0, 0};
  uint32_t fill = FS_RH, w = base, left = len;
  int rc = MOSS_OK;
  for (;;) {
    if (left > 0 && fill < FS_STAGE) {
      int n = piter_read(fs, &it2, fs->stage + fill, FS_STAGE - fill);
      if (n <= 0) {
        rc = n < 0 ? n : MOSS_ERR_INTERNAL;
        goto fail;
      }
      fill += (uint32_t)n;
      left -= (uint32_t)n;
      continue;
    }
    uint32_t out = fill;
    if (left == 0) {
      out = fs_align(fill, fs->U);
      memset(fs->stage + fill, 0xFF, out - fill);
    }
    if (out > 0) {
      rc = moss_flash_write(fs->fl, w, fs->stage, out);
      if (rc < 0)
        goto fail;
      w += out;
    }
    fill = 0;
    if (left == 0)
      break;
  }
  fs->head_off += rs;
  fs->sec[fs->head].end = fs->head_off;
  if (paddr)
    *paddr = base + FS_RH;
  return MOSS_OK;
fail:
  /* Whatever reached the flash past the last record is unusable until
   * the sector is erased: close the head. */
  fs->head = -1;
  return rc;
}

int moss_fsi_write_commit(struct moss_fs *fs, uint32_t fid, const char *name,
                          uint32_t namelen, uint32_t size, uint32_t kill,
                          const struct fs_piece *table, uint32_t n_ext,
                          uint32_t *caddr) {
  uint8_t meta[FS_CMETA + MOSS_FS_NAME_MAX + 4];
  uint32_t ml = FS_CMETA + fs_align(namelen, 4);
  memset(meta, 0, sizeof(meta));
  moss_put_le32(meta, size);
  moss_put_le32(meta + 4, kill);
  moss_put_le16(meta + 8, (uint16_t)n_ext);
  meta[10] = (uint8_t)namelen;
  memcpy(meta + FS_CMETA, name, namelen);
  struct fs_piece pc[2] = {{.kind = FS_P_MEM, .mem = meta, .len = ml}, *table};
  uint32_t pa;
  int rc = moss_fsi_rec_write(fs, FS_REC_COMMIT, fid, pc, 2, &pa);
  if (rc == MOSS_OK)
    *caddr = pa - FS_RH;
  return rc;
}

/* ---- garbage collection --------------------------------------------- */

static bool in_sector(const struct moss_fs *fs, uint32_t addr, uint32_t v) {
  return addr != FS_HOLE && fs_sector_of(fs, addr) == v;
}

/* An open writer's table shares extents with the committed one: point
 * them at the copy just made instead of copying the bytes twice. */
static void remap_writer(struct moss_fs *fs, uint32_t fid, uint32_t oa,
                         uint32_t len, uint32_t na) {
  for (struct moss_fs_file *f = fs->files; f != NULL; f = f->next) {
    if (f->tab == NULL || f->fid != fid)
      continue;
    for (uint32_t k = 0; k < f->n_ext; k++) {
      struct fs_ext *x = &f->tab[k];
      if (x->addr != FS_HOLE && x->addr >= oa && x->addr - oa < len &&
          x->len <= len - (x->addr - oa))
        x->addr = na + (x->addr - oa);
    }
  }
}

/* Copy every extent of tab that lies in sector v to the head. */
static int move_extents(struct moss_fs *fs, uint32_t fid, struct fs_ext *tab,
                        uint32_t n, uint32_t v, bool shared, bool *moved) {
  for (uint32_t i = 0; i < n; i++) {
    if (!in_sector(fs, tab[i].addr, v))
      continue;
    int rc = moss_fsi_ensure_data(fs, fs_recsize(fs, tab[i].len));
    if (rc < 0)
      return rc;
    struct fs_piece p = {
        .kind = FS_P_FLASH, .addr = tab[i].addr, .len = tab[i].len};
    uint32_t oa = tab[i].addr;
    rc = moss_fsi_rec_write(fs, FS_REC_DATA, fid, &p, 1, &tab[i].addr);
    if (rc < 0)
      return rc;
    if (shared)
      remap_writer(fs, fid, oa, tab[i].len, tab[i].addr);
    *moved = true;
  }
  return MOSS_OK;
}

static int relocate_file(struct moss_fs *fs, struct fs_ent *e, uint32_t v) {
  bool moved = in_sector(fs, e->caddr, v);
  int rc = moss_fsi_load_table(fs, e, fs->scratch);
  if (rc < 0)
    return rc;
  rc = move_extents(fs, e->fid, fs->scratch, e->n_ext, v, true, &moved);
  if (rc < 0 || !moved)
    return rc;
  char name[MOSS_FS_NAME_MAX + 1];
  rc = moss_fsi_read_name(fs, e, name);
  if (rc < 0)
    return rc;
  rc = moss_fsi_ensure(fs, fs_recsize(fs, fs_cpaylen(e->namelen, e->n_ext)));
  if (rc < 0)
    return rc;
  struct fs_piece t = {
      .kind = FS_P_EXTSER, .ext = fs->scratch, .len = e->n_ext};
  uint32_t ca;
  rc = moss_fsi_write_commit(fs, e->fid, name, e->namelen, e->size, 0, &t,
                             e->n_ext, &ca);
  if (rc == MOSS_OK)
    e->caddr = ca;
  return rc;
}

int moss_fsi_gc_one(struct moss_fs *fs) {
  int32_t v = -1;
  for (uint32_t s = 0; s < fs->N; s++) {
    if (fs->sec[s].state != FS_SEC_USED || (int32_t)s == fs->head)
      continue;
    if (v < 0 || fs->sec[s].seq < fs->sec[v].seq)
      v = (int32_t)s;
  }
  if (v < 0)
    return MOSS_ERR_NOSPC;
  fs->in_gc = true;
  int rc = MOSS_OK;
  uint32_t off = fs->ds, end = fs->sec[v].end;
  uint32_t base = (uint32_t)v * fs->P;
  while (off < end) {
    uint8_t h[FS_RH], type;
    uint32_t fid, len, pcrc;
    rc = moss_flash_read(fs->fl, base + off, h, FS_RH);
    if (rc < 0)
      goto out;
    if (moss_fsi_parse_rh(fs, h, off, &type, &fid, &len, &pcrc) < 0)
      break;
    if (type != FS_REC_DELETE) {
      struct fs_ent *e = moss_fsi_find_fid(fs, fid);
      if (e != NULL) {
        rc = relocate_file(fs, e, (uint32_t)v);
        if (rc < 0)
          goto out;
      }
    }
    off += fs_recsize(fs, len);
  }
  /* Uncommitted data of open writers lives in the log too. */
  for (struct moss_fs_file *f = fs->files; f != NULL; f = f->next) {
    bool moved = false;
    if (f->tab == NULL)
      continue;
    rc = move_extents(fs, f->fid, f->tab, f->n_ext, (uint32_t)v, false, &moved);
    if (rc < 0)
      goto out;
  }
  /* Nothing live is left in v.  Even if the erase is cut, the sector is
   * free: it is erased again before reuse. */
  fs->sec[v].state = FS_SEC_DIRTY;
  fs->nfree++;
  rc = moss_flash_erase(fs->fl, base, fs->P);
  if (rc == MOSS_OK)
    fs->sec[v].state = FS_SEC_ERASED;
out:
  fs->in_gc = false;
  return rc;
}
