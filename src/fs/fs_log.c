/*
 * The log: geometry, logical addressing, the in-RAM index, space
 * management, record writing and garbage collection.
 *
 * Invariants this file keeps:
 *  - records are appended only to the head, which is always the sector
 *    with the highest seq, strictly after every earlier record, each
 *    write_align unit programmed once;
 *  - a GC destination sector is written in full before its header, so it
 *    does not exist for mount until it is complete;
 *  - nothing referenced by a committed table is ever erased: GC copies the
 *    live records of the victim (or keeps them at the same logical
 *    address) and re-commits moved files before it erases the victim;
 *  - GC always takes the sector with the lowest seq (FIFO), so a DELETE
 *    record or a rename's kill can be dropped with it: every older record
 *    for the same file lived in that sector or in one erased before it;
 *  - at least one sector besides the head is free between operations
 *    (the GC destination); docs/design/fs.md, "Space", says why one is
 *    enough.
 */
#include <string.h>

#include "fs_int.h"
#include "moss/err.h"
#include "moss/util.h"

int moss_fsi_geometry(struct moss_fs *fs, const struct moss_flash *fl,
                      uint32_t U) {
  uint32_t P = fl->erase_size, W = fl->write_align ? fl->write_align : 1;
  if (P < 1024 || P > 65536 || (P & (P - 1)) || fl->size % P)
    return MOSS_ERR_INVAL;
  if (W > 64 || (W & (W - 1)))
    return MOSS_ERR_INVAL;
  if (fl->size / P < MOSS_FS_MIN_SECTORS || fl->size / P >= FS_NOLID)
    return MOSS_ERR_INVAL;
  if (U == 0)
    U = W < 8 ? 8 : W;
  if (U < 8 || U > 64 || (U & (U - 1)) || U < W)
    return MOSS_ERR_INVAL;
  fs->P = P;
  fs->N = (uint32_t)(fl->size / P);
  fs->U = U;
  fs->ds = fs_align(FS_SH, U);
  /* Extent table capacity: bounded so that one commit record (the
   * largest metadata record) stays a small part of a sector. */
  uint32_t cap = (P - fs->ds - FS_RH - FS_CMETA - MOSS_FS_NAME_MAX) / 8;
  fs->emax = MOSS_MIN(fs->N + 16, 96u);
  if (fs->emax > cap / 2)
    fs->emax = cap / 2;
  fs->maxpay = P - fs->ds - FS_RH;
  /* Every record placed by a GC plan takes at least 32 bytes. */
  fs->plan_cap = (P - fs->ds) / 32 + 2;
  /* One free sector is GC's destination; half a sector of slack covers
   * the unused tails of closed heads (docs/design/fs.md, "Space"). */
  fs->usable = (uint64_t)(fs->N - 1) * (P - fs->ds) - (P - fs->ds) / 2;
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

int moss_fsi_read(struct moss_fs *fs, uint32_t a, void *buf, uint32_t n) {
  uint32_t lid = a / fs->P, off = a % fs->P;
  if (a == FS_HOLE || lid >= fs->N || n > fs->P - off)
    return MOSS_ERR_CORRUPT;
  uint32_t p = fs->lmap[lid];
  if (p == FS_NOLID)
    return MOSS_ERR_CORRUPT;
  return moss_flash_read(fs->fl, p * fs->P + off, buf, n);
}

int moss_fsi_read_name(struct moss_fs *fs, const struct fs_ent *e, char *out) {
  int rc = moss_fsi_read(fs, e->caddr + FS_RH + FS_CMETA, out, e->namelen);
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
  if (fs->scratch_fid == fid)
    fs->scratch_fid = 0;
  return MOSS_OK;
}

void moss_fsi_ent_del(struct moss_fs *fs, uint32_t fid) {
  struct fs_ent *e = moss_fsi_find_fid(fs, fid);
  if (e == NULL)
    return;
  fs->live -= moss_fsi_ent_live(fs, e);
  *e = fs->ent[--fs->nent];
  fs->scratch_fid = 0;
}

uint32_t moss_fsi_table_addr(const struct fs_ent *e) {
  return e->caddr + FS_RH + FS_CMETA + fs_align(e->namelen, 4);
}

static int read_table(struct moss_fs *fs, uint32_t a, uint32_t n,
                      struct fs_ext *out) {
  uint8_t b[64];
  for (uint32_t i = 0; i < n; i += 8) {
    uint32_t k = MOSS_MIN(8u, n - i);
    int rc = moss_fsi_read(fs, a + i * 8, b, k * 8);
    if (rc < 0)
      return rc;
    for (uint32_t j = 0; j < k; j++) {
      out[i + j].addr = moss_get_le32(b + 8 * j);
      out[i + j].len = moss_get_le32(b + 8 * j + 4);
    }
  }
  return MOSS_OK;
}

int moss_fsi_load_table(struct moss_fs *fs, const struct fs_ent *e,
                        struct fs_ext *out) {
  if (out == fs->scratch)
    fs->scratch_fid = 0;
  return read_table(fs, moss_fsi_table_addr(e), e->n_ext, out);
}

int moss_fsi_crc_flash(struct moss_fs *fs, uint32_t addr, uint32_t len,
                       uint32_t *crc) {
  uint8_t b[128];
  uint32_t c = 0;
  while (len > 0) {
    uint32_t n = MOSS_MIN(len, (uint32_t)sizeof(b));
    int rc = moss_fsi_read(fs, addr, b, n);
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
                      uint32_t *pcrc, uint32_t *size) {
  if (h[0] != FS_REC_MAGIC)
    return MOSS_ERR_CORRUPT;
  if (moss_crc32(0, h, 20) != moss_get_le32(h + 20))
    return MOSS_ERR_CORRUPT;
  *type = h[1];
  *fid = moss_get_le32(h + 4);
  *len = moss_get_le32(h + 8);
  *pcrc = moss_get_le32(h + 12);
  uint32_t skip = moss_get_le32(h + 16);
  if (*type < FS_REC_DATA || *type > FS_REC_DELETE)
    return MOSS_ERR_CORRUPT;
  if (off > fs->P || FS_RH > fs->P - off || *len > fs->P - off - FS_RH)
    return MOSS_ERR_CORRUPT;
  uint32_t rs = fs_recsize(fs, *len);
  if (rs > fs->P - off || skip % fs->U || skip > fs->P - off - rs)
    return MOSS_ERR_CORRUPT;
  *size = rs + skip;
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
  return moss_fsi_read(fs, addr, buf, n);
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

/* Pick a free physical sector (round robin: wear levelling) and make sure
 * it is erased.  It stays not-USED until its header is written. */
static int pick_free(struct moss_fs *fs, uint32_t *out) {
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
    if (sc->zombie) {
      sc->zombie = 0;
      fs->nzombie--;
    }
  }
  /* From here the sector is no longer known-erased, whatever happens. */
  sc->state = FS_SEC_DIRTY;
  *out = s;
  return MOSS_OK;
}

/* Write the header that makes physical sector s hold lid (the newest
 * sector of the log, records from first up to end). */
static int write_sh(struct moss_fs *fs, uint32_t s, uint32_t lid,
                    uint32_t first, uint32_t end) {
  uint8_t *h = fs->stage;
  memset(h, 0xFF, fs->ds);
  memset(h, 0, FS_SH);
  moss_put_le32(h, FS_SEC_MAGIC);
  h[4] = FS_VERSION;
  uint8_t lg = 0;
  while ((1u << lg) < fs->U)
    lg++;
  h[5] = lg;
  moss_put_le16(h + 6, (uint16_t)lid);
  moss_put_le32(h + 8, fs->next_seq);
  moss_put_le32(h + 12, fs->P);
  moss_put_le32(h + 16, fs->N);
  moss_put_le16(h + 20, (uint16_t)first);
  moss_put_le32(h + 28, moss_crc32(0, h, 28));
  int rc = moss_flash_write(fs->fl, s * fs->P, h, fs->ds);
  if (rc < 0)
    return rc;
  struct fs_sec *sc = &fs->sec[s];
  sc->state = FS_SEC_USED;
  sc->seq = fs->next_seq++;
  sc->lid = (uint16_t)lid;
  sc->first = (uint16_t)first;
  sc->end = end;
  fs->lmap[lid] = (uint16_t)s;
  fs->nfree--;
  return MOSS_OK;
}

static int open_sector(struct moss_fs *fs) {
  fs->head = -1;
  uint32_t lid = 0, s;
  while (lid < fs->N && fs->lmap[lid] != FS_NOLID)
    lid++;
  if (lid == fs->N)
    return MOSS_ERR_INTERNAL; /* nfree > 0 implies a free lid */
  int rc = pick_free(fs, &s);
  if (rc == MOSS_OK)
    rc = write_sh(fs, s, lid, fs->ds, fs->ds);
  if (rc < 0)
    return rc;
  fs->head = (int32_t)s;
  fs->head_off = fs->ds;
  return MOSS_OK;
}

/* Sectors a mount found superseded by a GC copy still carry a valid
 * header: erase them before anything else is written, so that they can
 * never come back once their lid is reused or freed. */
static int erase_zombies(struct moss_fs *fs) {
  for (uint32_t s = 0; s < fs->N && fs->nzombie > 0; s++) {
    struct fs_sec *sc = &fs->sec[s];
    if (!sc->zombie)
      continue;
    int rc = moss_flash_erase(fs->fl, s * fs->P, fs->P);
    if (rc < 0)
      return rc;
    sc->zombie = 0;
    sc->state = FS_SEC_ERASED;
    fs->nzombie--;
  }
  return MOSS_OK;
}

int moss_fsi_ensure(struct moss_fs *fs, uint32_t need) {
  if (need > fs->P - fs->ds)
    return MOSS_ERR_TOOBIG;
  int rc = erase_zombies(fs);
  if (rc < 0)
    return rc;
  for (uint32_t it = 0; it < 2 * fs->N + 4; it++) {
    if (fs->head >= 0 && fs->head_off + need <= fs->P)
      return MOSS_OK;
    /* The last free sector is GC's destination. */
    if (fs->nfree > 1)
      rc = open_sector(fs);
    else
      rc = moss_fsi_gc_one(fs);
    if (rc < 0)
      return rc;
  }
  return MOSS_ERR_NOSPC;
}

uint32_t moss_fsi_head_room(const struct moss_fs *fs) {
  if (fs->head < 0 || fs->P - fs->head_off < FS_RH + FS_MIN_CHUNK)
    return 0;
  return fs->P - fs->head_off - FS_RH;
}

/* Write one record at offset off of physical sector s, followed by skip
 * unwritten bytes.  The payload CRC goes into the header, which is
 * written first. */
static int rec_write_at(struct moss_fs *fs, uint32_t s, uint32_t off,
                        uint32_t skip, uint8_t type, uint32_t fid,
                        const struct fs_piece *pc, uint32_t npc) {
  uint32_t len = 0, crc = 0;
  for (uint32_t i = 0; i < npc; i++)
    len += piece_len(&pc[i]);
  if (off + fs_recsize(fs, len) + skip > fs->P)
    return MOSS_ERR_INTERNAL;
  struct piter it = {pc, npc, 0, 0, 0, 0};
  for (;;) {
    int n = piter_read(fs, &it, fs->stage, FS_STAGE);
    if (n < 0)
      return n;
    if (n == 0)
      break;
    crc = moss_crc32(crc, fs->stage, (size_t)n);
  }
  uint8_t *h = fs->stage;
  memset(h, 0, FS_RH);
  h[0] = FS_REC_MAGIC;
  h[1] = type;
  moss_put_le32(h + 4, fid);
  moss_put_le32(h + 8, len);
  moss_put_le32(h + 12, crc);
  moss_put_le32(h + 16, skip);
  moss_put_le32(h + 20, moss_crc32(0, h, 20));
  /* Stream header + payload + padding in stage-sized writes. */
  struct piter it2 = {pc, npc, 0, 0, 0, 0};
  uint32_t fill = FS_RH, w = s * fs->P + off, left = len;
  for (;;) {
    if (left > 0 && fill < FS_STAGE) {
      int n = piter_read(fs, &it2, fs->stage + fill, FS_STAGE - fill);
      if (n <= 0)
        return n < 0 ? n : MOSS_ERR_INTERNAL;
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
      int rc = moss_flash_write(fs->fl, w, fs->stage, out);
      if (rc < 0)
        return rc;
      w += out;
    }
    fill = 0;
    if (left == 0)
      return MOSS_OK;
  }
}

int moss_fsi_rec_write(struct moss_fs *fs, uint8_t type, uint32_t fid,
                       const struct fs_piece *pc, uint32_t npc,
                       uint32_t *paddr) {
  uint32_t len = 0;
  for (uint32_t i = 0; i < npc; i++)
    len += piece_len(&pc[i]);
  uint32_t rs = fs_recsize(fs, len);
  if (fs->head < 0 || fs->head_off + rs > fs->P)
    return MOSS_ERR_INTERNAL;
  uint32_t s = (uint32_t)fs->head, off = fs->head_off;
  int rc = rec_write_at(fs, s, off, 0, type, fid, pc, npc);
  if (rc < 0) {
    /* Whatever reached the flash past the last record is unusable until
     * the sector is erased: close the head. */
    fs->head = -1;
    return rc;
  }
  fs->head_off += rs;
  fs->sec[s].end = fs->head_off;
  if (paddr)
    *paddr = fs->sec[s].lid * fs->P + off + FS_RH;
  return MOSS_OK;
}

/* A commit record at (s, off) followed by skip bytes. */
static int commit_at(struct moss_fs *fs, uint32_t s, uint32_t off,
                     uint32_t skip, uint32_t fid, const char *name,
                     uint32_t namelen, uint32_t size, uint32_t kill,
                     const struct fs_piece *table, uint32_t n_ext) {
  uint8_t meta[FS_CMETA + MOSS_FS_NAME_MAX + 4];
  uint32_t ml = FS_CMETA + fs_align(namelen, 4);
  memset(meta, 0, sizeof(meta));
  moss_put_le32(meta, size);
  moss_put_le32(meta + 4, kill);
  moss_put_le16(meta + 8, (uint16_t)n_ext);
  meta[10] = (uint8_t)namelen;
  memcpy(meta + FS_CMETA, name, namelen);
  struct fs_piece pc[2] = {{.kind = FS_P_MEM, .mem = meta, .len = ml}, *table};
  return rec_write_at(fs, s, off, skip, FS_REC_COMMIT, fid, pc, 2);
}

int moss_fsi_write_commit(struct moss_fs *fs, uint32_t fid, const char *name,
                          uint32_t namelen, uint32_t size, uint32_t kill,
                          const struct fs_piece *table, uint32_t n_ext,
                          uint32_t *caddr) {
  uint32_t rs = fs_recsize(fs, fs_cpaylen(namelen, n_ext));
  if (fs->head < 0 || fs->head_off + rs > fs->P)
    return MOSS_ERR_INTERNAL;
  uint32_t s = (uint32_t)fs->head, off = fs->head_off;
  int rc =
      commit_at(fs, s, off, 0, fid, name, namelen, size, kill, table, n_ext);
  if (rc < 0) {
    fs->head = -1;
    return rc;
  }
  fs->head_off += rs;
  fs->sec[s].end = fs->head_off;
  *caddr = fs->sec[s].lid * fs->P + off;
  return MOSS_OK;
}

/* ---- garbage collection ----------------------------------------------
 *
 * The victim v is the used sector with the lowest seq.  Its live records
 * are planned (fs->plan) into a free sector d under v's lid, written, then
 * d's header is written (the commit point of the step), then v is erased.
 * Until its header exists d is garbage to mount; afterwards d supersedes v
 * (same lid, higher seq) even if v's erase is cut.
 *
 * Live records slide down over dead ones, except DATA records of files
 * whose commit lies in another sector: those can stay "pinned" at their
 * offset, so their logical addresses stay valid and the commit need not
 * be rewritten (a big static file such as ca.pem costs no metadata at all
 * when GC moves it).  A pinned record cannot move down, so the space below
 * it is lost to the tail; floating it instead costs a new commit for its
 * file ("extra", written at the end of d).  Three policies are planned and
 * the one leaving the longest free tail wins.  A victim with nothing live
 * is just erased.
 */

/* Gaps smaller than this between live bytes of a record are copied
 * rather than split into another record: a split costs a header and
 * padding, so it only pays for itself (and never grows the copy) past
 * this. */
static uint32_t gc_gap(const struct moss_fs *fs) {
  return FS_RH + fs->U;
}

struct liveset {
  const struct fs_ext *t1, *t2;
  uint32_t n1, n2;
};

/* Next run of live bytes in [lo, hi) at or after x: [*rs, *re). */
static bool run_next(const struct moss_fs *fs, const struct liveset *ls,
                     uint32_t lo, uint32_t hi, uint32_t x, uint32_t *rs,
                     uint32_t *re) {
  uint32_t G = gc_gap(fs), best = UINT32_MAX;
  for (int k = 0; k < 2; k++) {
    const struct fs_ext *t = k ? ls->t2 : ls->t1;
    uint32_t n = k ? ls->n2 : ls->n1;
    for (uint32_t i = 0; i < n; i++) {
      if (t[i].addr == FS_HOLE)
        continue;
      uint64_t a = MOSS_MAX(t[i].addr, MOSS_MAX(lo, x));
      uint64_t b = MOSS_MIN((uint64_t)t[i].addr + t[i].len, (uint64_t)hi);
      if (a < b && a < best)
        best = (uint32_t)a;
    }
  }
  if (best == UINT32_MAX)
    return false;
  uint32_t e = best;
  for (bool grew = true; grew;) {
    grew = false;
    for (int k = 0; k < 2; k++) {
      const struct fs_ext *t = k ? ls->t2 : ls->t1;
      uint32_t n = k ? ls->n2 : ls->n1;
      for (uint32_t i = 0; i < n; i++) {
        if (t[i].addr == FS_HOLE)
          continue;
        uint64_t a = MOSS_MAX(t[i].addr, lo);
        uint64_t b = MOSS_MIN((uint64_t)t[i].addr + t[i].len, (uint64_t)hi);
        if (a < b && a < (uint64_t)e + G && b > e) {
          e = (uint32_t)b;
          grew = true;
        }
      }
    }
  }
  if (x == lo && best - lo < G)
    best = lo;
  if (hi - e < G)
    e = hi;
  *rs = best;
  *re = e;
  return true;
}

static struct moss_fs_file *writer_of(struct moss_fs *fs, uint32_t fid) {
  for (struct moss_fs_file *f = fs->files; f != NULL; f = f->next)
    if (f->tab != NULL && f->fid == fid)
      return f;
  return NULL;
}

static bool is_marked(const struct moss_fs *fs, uint32_t i) {
  return (fs->marks[i / 32] >> (i % 32)) & 1;
}

static int plan_put(struct moss_fs *fs, uint32_t *cnt, uint32_t src,
                    uint32_t dst, uint32_t a, uint32_t n) {
  if (*cnt >= fs->plan_cap)
    return MOSS_ERR_NOSPC;
  fs->plan[(*cnt)++] =
      (struct fs_gcent){(uint16_t)src, (uint16_t)dst, (uint16_t)a, (uint16_t)n};
  return MOSS_OK;
}

/* Live bytes of the DATA record with payload [lo, hi): ls gets the tables
 * to look at; *committed says whether the committed table refers to it. */
static int data_liveness(struct moss_fs *fs, uint32_t fid, uint32_t lo,
                         uint32_t hi, struct liveset *ls, struct fs_ent **pe,
                         bool *committed) {
  memset(ls, 0, sizeof(*ls));
  *committed = false;
  struct fs_ent *e = moss_fsi_find_fid(fs, fid);
  *pe = e;
  if (e != NULL) {
    if (fs->scratch_fid != fid) {
      int rc = moss_fsi_load_table(fs, e, fs->scratch);
      if (rc < 0)
        return rc;
      fs->scratch_fid = fid;
    }
    ls->t1 = fs->scratch;
    ls->n1 = e->n_ext;
    uint32_t rs, re;
    *committed = run_next(fs, ls, lo, hi, lo, &rs, &re);
  }
  struct moss_fs_file *w = writer_of(fs, fid);
  if (w != NULL) {
    ls->t2 = w->tab;
    ls->n2 = w->n_ext;
  }
  return MOSS_OK;
}

/* Footprint of the runs a floating copy of [lo, hi) would take. */
static uint32_t runs_size(const struct moss_fs *fs, const struct liveset *ls,
                          uint32_t lo, uint32_t hi, uint32_t *nruns) {
  uint32_t x = lo, rs, re, total = 0;
  *nruns = 0;
  while (x < hi && run_next(fs, ls, lo, hi, x, &rs, &re)) {
    total += fs_recsize(fs, re - rs);
    (*nruns)++;
    x = re;
  }
  return total;
}

/* How a plan treats DATA records of files committed in another sector:
 * keep them at their offset (no new commit), float them when that saves
 * more than the commit it costs, or always float them. */
enum gc_policy { GC_PIN, GC_HEUR, GC_FLOAT };

/* Plan the move of victim v's live records into a fresh sector under v's
 * lid.  MOSS_ERR_NOSPC: does not fit. */
static int gc_plan(struct moss_fs *fs, uint32_t v, enum gc_policy pol,
                   uint32_t *cnt, uint32_t *wend) {
  const struct fs_sec *sv = &fs->sec[v];
  uint32_t vl = sv->lid * fs->P, w = fs->ds;
  uint32_t off = sv->first;
  memset(fs->marks, 0, sizeof(fs->marks));
  *cnt = 0;
  while (off < sv->end) {
    uint8_t h[FS_RH], type;
    uint32_t fid, len, pcrc, size;
    int rc = moss_flash_read(fs->fl, v * fs->P + off, h, FS_RH);
    if (rc < 0)
      return rc;
    if (moss_fsi_parse_rh(fs, h, off, &type, &fid, &len, &pcrc, &size) < 0)
      break;
    uint32_t rsz = fs_recsize(fs, len);
    if (type == FS_REC_COMMIT) {
      struct fs_ent *e = moss_fsi_find_fid(fs, fid);
      if (e != NULL && e->caddr == vl + off) {
        if ((rc = plan_put(fs, cnt, off, w, 0, 0)) < 0)
          return rc;
        w += rsz;
      }
    } else if (type == FS_REC_DATA && len > 0) {
      struct liveset ls;
      struct fs_ent *e;
      bool committed;
      uint32_t lo = vl + off + FS_RH, hi = lo + len, nr;
      rc = data_liveness(fs, fid, lo, hi, &ls, &e, &committed);
      if (rc < 0)
        return rc;
      uint32_t fsz = runs_size(fs, &ls, lo, hi, &nr);
      if (nr > 0) {
        uint32_t idx = e != NULL ? (uint32_t)(e - fs->ent) : 0;
        bool foreign = committed && fs_lid_of(fs, e->caddr) != sv->lid &&
                       !is_marked(fs, idx);
        if (foreign &&
            (pol == GC_FLOAT ||
             (pol == GC_HEUR && fsz < rsz &&
              rsz - fsz >= fs_recsize(fs, fs_cpaylen(e->namelen, e->n_ext))))) {
          fs->marks[idx / 32] |= 1u << (idx % 32);
          foreign = false;
        }
        if (foreign) { /* pinned */
          if (w > off)
            return MOSS_ERR_INTERNAL;
          if ((rc = plan_put(fs, cnt, off, off, 0, 0)) < 0)
            return rc;
          w = off + rsz;
        } else if (pol != GC_FLOAT && fsz > rsz) { /* never grows */
          if ((rc = plan_put(fs, cnt, off, w, off + FS_RH, len)) < 0)
            return rc;
          w += rsz;
        } else {
          uint32_t x = lo, rs, re;
          while (x < hi && run_next(fs, &ls, lo, hi, x, &rs, &re)) {
            if ((rc = plan_put(fs, cnt, off, w, rs - vl, re - rs)) < 0)
              return rc;
            w += fs_recsize(fs, re - rs);
            x = re;
          }
        }
      }
    }
    /* DELETE records (and dead kills) go: v is the oldest sector. */
    off += size;
  }
  for (uint32_t i = 0; i < fs->nent; i++) {
    if (!is_marked(fs, i))
      continue;
    const struct fs_ent *e = &fs->ent[i];
    int rc = plan_put(fs, cnt, FS_GC_EXTRA, w, i, 0);
    if (rc < 0)
      return rc;
    w += fs_recsize(fs, fs_cpaylen(e->namelen, e->n_ext));
  }
  if (w > fs->P)
    return MOSS_ERR_NOSPC;
  *wend = w;
  return MOSS_OK;
}

/* New logical address of a (in victim lid vlid) under the plan. */
static uint32_t gc_map(const struct moss_fs *fs, uint32_t cnt, uint32_t vlid,
                       uint32_t a) {
  if (a == FS_HOLE || fs_lid_of(fs, a) != vlid)
    return a;
  uint32_t o = a % fs->P;
  for (uint32_t i = 0; i < cnt; i++) {
    const struct fs_gcent *p = &fs->plan[i];
    if (p->src != FS_GC_EXTRA && p->n > 0 && o >= p->a && o - p->a < p->n)
      return vlid * fs->P + p->dst + FS_RH + (o - p->a);
  }
  return a; /* pinned: same logical address */
}

static void remap_table(const struct moss_fs *fs, uint32_t cnt, uint32_t vlid,
                        struct fs_ext *t, uint32_t n) {
  for (uint32_t k = 0; k < n; k++)
    t[k].addr = gc_map(fs, cnt, vlid, t[k].addr);
}

/* Write plan entry i into physical sector d, followed by the gap up to
 * the next entry (or end). */
static int gc_write_one(struct moss_fs *fs, uint32_t v, uint32_t d,
                        uint32_t cnt, uint32_t i, uint32_t end) {
  const struct fs_gcent *p = &fs->plan[i];
  uint32_t vlid = fs->sec[v].lid,
           next = i + 1 < cnt ? fs->plan[i + 1].dst : end;
  char name[MOSS_FS_NAME_MAX + 1];
  int rc;
  fs->scratch_fid = 0;
  if (p->src == FS_GC_EXTRA) {
    const struct fs_ent *e = &fs->ent[p->a];
    uint32_t rs = fs_recsize(fs, fs_cpaylen(e->namelen, e->n_ext));
    if ((rc = moss_fsi_load_table(fs, e, fs->scratch)) < 0 ||
        (rc = moss_fsi_read_name(fs, e, name)) < 0)
      return rc;
    remap_table(fs, cnt, vlid, fs->scratch, e->n_ext);
    struct fs_piece t = {
        .kind = FS_P_EXTSER, .ext = fs->scratch, .len = e->n_ext};
    return commit_at(fs, d, p->dst, next - p->dst - rs, e->fid, name,
                     e->namelen, e->size, 0, &t, e->n_ext);
  }
  uint8_t h[FS_RH], type;
  uint32_t fid, len, pcrc, size, la = vlid * fs->P + p->src;
  if ((rc = moss_flash_read(fs->fl, v * fs->P + p->src, h, FS_RH)) < 0)
    return rc;
  if (moss_fsi_parse_rh(fs, h, p->src, &type, &fid, &len, &pcrc, &size) < 0)
    return MOSS_ERR_CORRUPT;
  if (type == FS_REC_COMMIT) {
    uint8_t m[FS_CMETA];
    if ((rc = moss_fsi_read(fs, la + FS_RH, m, FS_CMETA)) < 0)
      return rc;
    uint32_t n = moss_get_le16(m + 8), nl = m[10];
    if (n > fs->emax || nl == 0 || nl > MOSS_FS_NAME_MAX ||
        len != fs_cpaylen(nl, n))
      return MOSS_ERR_CORRUPT;
    if ((rc = moss_fsi_read(fs, la + FS_RH + FS_CMETA, name, nl)) < 0 ||
        (rc = read_table(fs, la + FS_RH + FS_CMETA + fs_align(nl, 4), n,
                         fs->scratch)) < 0)
      return rc;
    remap_table(fs, cnt, vlid, fs->scratch, n);
    struct fs_piece t = {.kind = FS_P_EXTSER, .ext = fs->scratch, .len = n};
    return commit_at(fs, d, p->dst, next - p->dst - fs_recsize(fs, len), fid,
                     name, nl, moss_get_le32(m), 0, &t, n);
  }
  struct fs_piece pc = {.kind = FS_P_FLASH, .addr = la + FS_RH, .len = len};
  if (p->n > 0) {
    pc.addr = vlid * fs->P + p->a;
    pc.len = p->n;
  }
  return rec_write_at(fs, d, p->dst, next - p->dst - fs_recsize(fs, pc.len),
                      FS_REC_DATA, fid, &pc, 1);
}

/* RAM follows the plan once its records are durable.  Entries are in
 * offset order and never move up, so a new commit address cannot be
 * mistaken for the old address of a later entry. */
static void gc_apply(struct moss_fs *fs, uint32_t cnt, uint32_t vlid) {
  for (uint32_t i = 0; i < cnt; i++) {
    const struct fs_gcent *p = &fs->plan[i];
    uint32_t na = vlid * fs->P + p->dst;
    if (p->src == FS_GC_EXTRA) {
      fs->ent[p->a].caddr = na;
      continue;
    }
    if (p->n > 0)
      continue;
    for (uint32_t k = 0; k < fs->nent; k++)
      if (fs->ent[k].caddr == vlid * fs->P + p->src)
        fs->ent[k].caddr = na;
  }
  for (struct moss_fs_file *f = fs->files; f != NULL; f = f->next)
    if (f->tab != NULL)
      remap_table(fs, cnt, vlid, f->tab, f->n_ext);
  fs->scratch_fid = 0;
}

/* v holds nothing live any more: free it. */
static int gc_release(struct moss_fs *fs, uint32_t v) {
  struct fs_sec *sv = &fs->sec[v];
  if (fs->lmap[sv->lid] == v)
    fs->lmap[sv->lid] = FS_NOLID;
  sv->state = FS_SEC_DIRTY;
  fs->nfree++;
  int rc = moss_flash_erase(fs->fl, v * fs->P, fs->P);
  if (rc == MOSS_OK) {
    sv->state = FS_SEC_ERASED;
  } else if (!sv->zombie) {
    sv->zombie = 1; /* its header may have survived */
    fs->nzombie++;
  }
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
  uint32_t vs = (uint32_t)v, vlid = fs->sec[vs].lid, cnt = 0, end = 0;
  /* The policy that leaves the longest free tail. */
  enum gc_policy best = GC_PIN;
  uint32_t best_end = fs->P + 1;
  for (int pol = GC_FLOAT; pol >= GC_PIN; pol--) {
    int rc = gc_plan(fs, vs, (enum gc_policy)pol, &cnt, &end);
    if (rc == MOSS_ERR_NOSPC)
      continue;
    if (rc < 0)
      return rc;
    if (end <= best_end) {
      best = (enum gc_policy)pol;
      best_end = end;
    }
  }
  if (best_end > fs->P)
    return MOSS_ERR_NOSPC;
  int rc = gc_plan(fs, vs, best, &cnt, &end);
  if (rc < 0)
    return rc;
  if (cnt == 0)
    return gc_release(fs, vs);
  uint32_t d;
  rc = pick_free(fs, &d);
  if (rc < 0)
    return rc;
  for (uint32_t i = 0; i < cnt; i++) {
    rc = gc_write_one(fs, vs, d, cnt, i, end);
    if (rc < 0)
      return rc;
  }
  /* The commit point of this GC step: d now supersedes v. */
  rc = write_sh(fs, d, vlid, fs->plan[0].dst, end);
  if (rc < 0)
    return rc;
  fs->head = (int32_t)d;
  fs->head_off = end;
  gc_apply(fs, cnt, vlid);
  return gc_release(fs, vs);
}
