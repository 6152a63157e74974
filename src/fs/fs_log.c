/*
 * The log: geometry, logical addressing, the in-RAM index, space
 * management, record writing and garbage collection.
 *
 * Invariants this file keeps:
 *  - records are appended to a sector written since the mount, strictly
 *    after every earlier record of it, each write_align unit programmed
 *    once;
 *  - a GC destination sector is written in full before its header, so it
 *    does not exist for mount until it is complete;
 *  - nothing referenced by a committed table is ever erased: GC copies the
 *    live records of the victim (or keeps them at the same logical
 *    address) and re-commits moved files before it erases the victim;
 *  - GC always takes the sector with the lowest seq (FIFO), and may
 *    drain the next one with it, so a DELETE record or a rename's kill
 *    can be dropped: every older record for the same file lived in those
 *    sectors or in one erased before them;
 *  - COMMIT and DELETE records only go to fs->head, the newest sector
 *    holding any (a GC destination with commits becomes it), so their
 *    log order is the order they were written in; DATA may go to any
 *    sector written since the mount (fs->dhead), its place in the log
 *    does not matter;
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
  /* Extent table capacity: a record per sector for a file as big as the
   * filesystem, plus room for the small records that end a file written
   * in chunks (until GC or a tail merge joins them); bounded so that one
   * commit record (the largest metadata record) stays a small part of a
   * sector. */
  uint32_t cap = (P - fs->ds - FS_RH - FS_CMETA - MOSS_FS_NAME_MAX) / 8;
  fs->emax = MOSS_MIN(fs->N + 32, 96u);
  if (fs->emax > cap / 2)
    fs->emax = cap / 2;
  fs->maxpay = P - fs->ds - FS_RH;
  /* Every record placed by a GC plan takes at least 32 bytes. */
  fs->plan_cap = (P - fs->ds) / 32 + 2;
  /* One free sector is GC's destination; half a sector of slack covers
   * the unused tails of closed heads and the second commit record a
   * replace holds for a moment (docs/design/fs.md, "Space"). */
  fs->usable = (uint64_t)(fs->N - 1) * (P - fs->ds) - (P - fs->ds) / 2;
  fs->head = fs->dhead = fs->gcd = -1;
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

/* Open a sector (the newest of the log) as the append point of st.  A
 * sector opened for data is newer than the metadata head without holding
 * metadata, which keeps the head valid. */
static int open_sector(struct moss_fs *fs, enum fs_stream st) {
  int32_t *h = st == FS_DATA ? &fs->dhead : &fs->head;
  *h = -1;
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
  *h = (int32_t)s;
  return MOSS_OK;
}

static uint32_t room_of(const struct moss_fs *fs, int32_t s) {
  return s < 0 ? 0 : fs->P - fs->sec[s].end;
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

int moss_fsi_ensure(struct moss_fs *fs, enum fs_stream st, uint32_t need) {
  if (need > fs->P - fs->ds)
    return MOSS_ERR_TOOBIG;
  int rc = erase_zombies(fs);
  if (rc < 0)
    return rc;
  int32_t *h = st == FS_DATA ? &fs->dhead : &fs->head;
  for (uint32_t it = 0; it < 2 * fs->N + 4; it++) {
    if (*h >= 0 && room_of(fs, *h) >= need)
      return MOSS_OK;
    /* Near full, metadata may join the data head when that is the newest
     * sector (none newer can hold metadata) rather than cost a GC step. */
    if (st == FS_META && fs->nfree <= 1 && fs->dhead >= 0 &&
        fs->sec[fs->dhead].seq + 1 == fs->next_seq &&
        room_of(fs, fs->dhead) >= need) {
      fs->head = fs->dhead;
      continue;
    }
    /* The last free sector is GC's destination. */
    if (fs->nfree > 1) {
      rc = open_sector(fs, st);
    } else {
      rc = moss_fsi_gc_one(fs);
      /* Its destination is the newest sector: either stream may use it. */
      if (rc == MOSS_OK && fs->gcd >= 0 && room_of(fs, *h) < need &&
          room_of(fs, fs->gcd) > room_of(fs, *h))
        *h = fs->gcd;
    }
    if (rc < 0)
      return rc;
  }
  return MOSS_ERR_NOSPC;
}

static int gc_release_dead(struct moss_fs *fs);
static void close_sector(struct moss_fs *fs, uint32_t s);

int moss_fsi_fresh_head(struct moss_fs *fs, bool force) {
  if (fs->dhead >= 0 && fs->sec[fs->dhead].end == fs->ds)
    return MOSS_OK;
  int rc = erase_zombies(fs);
  /* The last free sector is GC's: another one may only come from a
   * victim with nothing live (freed by an erase, nothing copied). */
  if (rc == MOSS_OK && fs->nfree <= 1)
    rc = gc_release_dead(fs);
  /* Dead sectors (of merged small records, replaced commits) are
   * usually a few steps away round the ring. */
  for (uint32_t k = 0; force && rc == MOSS_ERR_NOSPC && k < fs->N; k++) {
    rc = moss_fsi_gc_one(fs);
    if (rc == MOSS_OK && fs->nfree <= 1)
      rc = MOSS_ERR_NOSPC;
  }
  if (rc < 0)
    return rc;
  return open_sector(fs, FS_DATA);
}

uint32_t moss_fsi_head_room(const struct moss_fs *fs, enum fs_stream st) {
  uint32_t r = room_of(fs, st == FS_DATA ? fs->dhead : fs->head);
  return r < FS_RH + FS_MIN_CHUNK ? 0 : r - FS_RH;
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

/* Nothing more may be appended to physical sector s. */
static void close_sector(struct moss_fs *fs, uint32_t s) {
  if (fs->head == (int32_t)s)
    fs->head = -1;
  if (fs->dhead == (int32_t)s)
    fs->dhead = -1;
  if (fs->gcd == (int32_t)s)
    fs->gcd = -1;
}

int moss_fsi_rec_write(struct moss_fs *fs, enum fs_stream st, uint8_t type,
                       uint32_t fid, const struct fs_piece *pc, uint32_t npc,
                       uint32_t *paddr) {
  uint32_t len = 0;
  for (uint32_t i = 0; i < npc; i++)
    len += piece_len(&pc[i]);
  uint32_t rs = fs_recsize(fs, len);
  int32_t h = st == FS_DATA && type == FS_REC_DATA ? fs->dhead : fs->head;
  if (h < 0 || room_of(fs, h) < rs)
    return MOSS_ERR_INTERNAL;
  uint32_t s = (uint32_t)h, off = fs->sec[s].end;
  int rc = rec_write_at(fs, s, off, 0, type, fid, pc, npc);
  if (rc < 0) {
    /* Whatever reached the flash past the last record is unusable until
     * the sector is erased: close it. */
    close_sector(fs, s);
    return rc;
  }
  fs->sec[s].end = off + rs;
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
  if (fs->head < 0 || room_of(fs, fs->head) < rs)
    return MOSS_ERR_INTERNAL;
  uint32_t s = (uint32_t)fs->head, off = fs->sec[s].end;
  int rc =
      commit_at(fs, s, off, 0, fid, name, namelen, size, kill, table, n_ext);
  if (rc < 0) {
    close_sector(fs, s);
    return rc;
  }
  fs->sec[s].end = off + rs;
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
 *
 * Floating runs of one file that follow each other are written as one
 * record (gc_group): appended small records merge for free.  When what
 * remains of d can hold every live record of the next oldest sector v2
 * too, they float into d as well (extra commits for their files) and v2
 * is erased after v: the step frees a whole sector.  Without this, free
 * space between long-lived small files spread over many sectors could
 * only ever be handed out in pieces.  A cut after d's header leaves v2
 * with only superseded records (its lid is free again), which mount
 * replays before d and the next GC step erases.
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

/* The DATA record a plan is building at its end: floating runs of one
 * file that follow each other in the victim (dead records between them
 * dropped) are concatenated into one record up to maxpay, and a writer
 * later joins the file's extents that became contiguous (fs_file.c):
 * small appended records merge into big ones at no extra cost. */
struct gc_group {
  bool open;
  uint32_t fid, dst, pay, runs;
};

/* Plan the payload bytes [a, a + n) (victim offsets) of the DATA record
 * at src, of file fid, at the end of the plan (*w). */
static int plan_run(struct moss_fs *fs, uint32_t *cnt, struct gc_group *g,
                    uint32_t fid, uint32_t src, uint32_t a, uint32_t n,
                    uint32_t *w) {
  int rc;
  if (g->open && g->fid == fid && g->pay + n <= fs->maxpay &&
      g->runs < fs->emax) {
    if ((rc = plan_put(fs, cnt, FS_GC_CONT, g->dst + g->pay, a, n)) < 0)
      return rc;
    g->pay += n;
    g->runs++;
    *w = g->dst + fs_recsize(fs, g->pay);
    return MOSS_OK;
  }
  if ((rc = plan_put(fs, cnt, src, *w, a, n)) < 0)
    return rc;
  *g = (struct gc_group){true, fid, *w, n, 1};
  *w += fs_recsize(fs, n);
  return MOSS_OK;
}

/* How a plan treats DATA records of files committed in another sector:
 * keep them at their offset (no new commit), float them when that saves
 * more than the commit it costs, or always float them. */
enum gc_policy { GC_PIN, GC_HEUR, GC_FLOAT };

/* Plan the live records of victim v at offset *w of the destination,
 * appending to fs->plan.  A file is "foreign" when its commit is in
 * neither victim (olid: the other one's lid, or FS_NOLID). */
static int plan_victim(struct moss_fs *fs, uint32_t v, uint32_t olid,
                       enum gc_policy pol, uint32_t *cnt, uint32_t *w) {
  const struct fs_sec *sv = &fs->sec[v];
  uint32_t vl = sv->lid * fs->P;
  uint32_t off = sv->first;
  struct gc_group g = {false, 0, 0, 0, 0};
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
        if ((rc = plan_put(fs, cnt, off, *w, 0, 0)) < 0)
          return rc;
        *w += rsz;
        g.open = false;
        fs->plan_meta = true;
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
        uint32_t clid = committed ? fs_lid_of(fs, e->caddr) : sv->lid;
        bool foreign = clid != sv->lid && clid != olid && !is_marked(fs, idx);
        if (foreign &&
            (pol == GC_FLOAT ||
             (pol == GC_HEUR && fsz < rsz &&
              rsz - fsz >= fs_recsize(fs, fs_cpaylen(e->namelen, e->n_ext))))) {
          fs->marks[idx / 32] |= 1u << (idx % 32);
          foreign = false;
        }
        if (foreign) { /* pinned */
          if (*w > off)
            return MOSS_ERR_INTERNAL;
          if ((rc = plan_put(fs, cnt, off, off, 0, 0)) < 0)
            return rc;
          *w = off + rsz;
          g.open = false;
        } else if (pol != GC_FLOAT && fsz > rsz) { /* never grows */
          if ((rc = plan_run(fs, cnt, &g, fid, off, off + FS_RH, len, w)) < 0)
            return rc;
        } else {
          uint32_t x = lo, rs, re;
          while (x < hi && run_next(fs, &ls, lo, hi, x, &rs, &re)) {
            rc = plan_run(fs, cnt, &g, fid, off, rs - vl, re - rs, w);
            if (rc < 0)
              return rc;
            x = re;
          }
        }
      }
    }
    /* DELETE records (and dead kills) go: v is among the oldest sectors. */
    off += size;
  }
  return MOSS_OK;
}

/* Plan the move of victim v1's live records into a fresh sector under
 * v1's lid, and with v2 >= 0 also all of v2's (the next oldest sector,
 * every record floating: its lid goes away), then the extra commits.
 * MOSS_ERR_NOSPC: does not fit. */
static int gc_plan(struct moss_fs *fs, uint32_t v1, int32_t v2,
                   enum gc_policy pol, uint32_t *cnt, uint32_t *wend) {
  uint32_t w = fs->ds;
  uint32_t l2 = v2 >= 0 ? fs->sec[v2].lid : FS_NOLID;
  memset(fs->marks, 0, sizeof(fs->marks));
  *cnt = 0;
  fs->plan_meta = false;
  fs->gv[0] = (int32_t)v1;
  fs->gv[1] = v2;
  int rc = plan_victim(fs, v1, l2, pol, cnt, &w);
  fs->gsplit = *cnt;
  if (rc == MOSS_OK && v2 >= 0)
    rc = plan_victim(fs, (uint32_t)v2, fs->sec[v1].lid, GC_FLOAT, cnt, &w);
  if (rc < 0)
    return rc;
  for (uint32_t i = 0; i < fs->nent; i++) {
    if (!is_marked(fs, i))
      continue;
    const struct fs_ent *e = &fs->ent[i];
    if ((rc = plan_put(fs, cnt, FS_GC_EXTRA, w, i, 0)) < 0)
      return rc;
    fs->plan_meta = true;
    w += fs_recsize(fs, fs_cpaylen(e->namelen, e->n_ext));
  }
  if (w > fs->P)
    return MOSS_ERR_NOSPC;
  *wend = w;
  return MOSS_OK;
}

/* Victim (physical) whose records plan entry i copies. */
static uint32_t entry_victim(const struct moss_fs *fs, uint32_t i) {
  return (uint32_t)fs->gv[i < fs->gsplit || fs->gv[1] < 0 ? 0 : 1];
}

/* New logical address of a under the plan (everything lands under the
 * first victim's lid). */
static uint32_t gc_map(const struct moss_fs *fs, uint32_t cnt, uint32_t a) {
  if (a == FS_HOLE)
    return a;
  uint32_t lid = fs_lid_of(fs, a), i = 0, e = cnt;
  if (lid == fs->sec[fs->gv[0]].lid)
    e = fs->gsplit;
  else if (fs->gv[1] >= 0 && lid == fs->sec[fs->gv[1]].lid)
    i = fs->gsplit;
  else
    return a;
  uint32_t o = a % fs->P, dlid = fs->sec[fs->gv[0]].lid;
  for (; i < e; i++) {
    const struct fs_gcent *p = &fs->plan[i];
    if (p->src != FS_GC_EXTRA && p->n > 0 && o >= p->a && o - p->a < p->n)
      /* dst + FS_RH is where the run's first byte lands, also for
       * FS_GC_CONT runs appended to an earlier record. */
      return dlid * fs->P + p->dst + FS_RH + (o - p->a);
  }
  return a; /* pinned: same logical address */
}

static void remap_table(const struct moss_fs *fs, uint32_t cnt,
                        struct fs_ext *t, uint32_t n) {
  for (uint32_t k = 0; k < n; k++)
    t[k].addr = gc_map(fs, cnt, t[k].addr);
}

/* Write plan entry i into physical sector d, followed by the gap up to
 * the next entry (or end). */
static int gc_write_one(struct moss_fs *fs, uint32_t d, uint32_t cnt,
                        uint32_t i, uint32_t end) {
  const struct fs_gcent *p = &fs->plan[i];
  uint32_t v = entry_victim(fs, i), vlid = fs->sec[v].lid, j = i + 1;
  if (p->src == FS_GC_CONT)
    return MOSS_OK; /* written with the record its group starts */
  while (j < cnt && fs->plan[j].src == FS_GC_CONT)
    j++;
  uint32_t next = j < cnt ? fs->plan[j].dst : end;
  char name[MOSS_FS_NAME_MAX + 1];
  int rc;
  fs->scratch_fid = 0;
  if (p->src == FS_GC_EXTRA) {
    const struct fs_ent *e = &fs->ent[p->a];
    uint32_t rs = fs_recsize(fs, fs_cpaylen(e->namelen, e->n_ext));
    if ((rc = moss_fsi_load_table(fs, e, fs->scratch)) < 0 ||
        (rc = moss_fsi_read_name(fs, e, name)) < 0)
      return rc;
    remap_table(fs, cnt, fs->scratch, e->n_ext);
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
    remap_table(fs, cnt, fs->scratch, n);
    struct fs_piece t = {.kind = FS_P_EXTSER, .ext = fs->scratch, .len = n};
    return commit_at(fs, d, p->dst, next - p->dst - fs_recsize(fs, len), fid,
                     name, nl, moss_get_le32(m), 0, &t, n);
  }
  struct fs_piece pc = {.kind = FS_P_FLASH, .addr = la + FS_RH, .len = len};
  uint32_t pay = len;
  if (p->n > 0) { /* the runs of entries i..j-1, one after the other */
    pay = 0;
    for (uint32_t k = i; k < j; k++) {
      fs->scratch[k - i].addr = vlid * fs->P + fs->plan[k].a;
      fs->scratch[k - i].len = fs->plan[k].n;
      pay += fs->plan[k].n;
    }
    pc = (struct fs_piece){
        .kind = FS_P_EXTCOPY, .ext = fs->scratch, .len = j - i};
  }
  return rec_write_at(fs, d, p->dst, next - p->dst - fs_recsize(fs, pay),
                      FS_REC_DATA, fid, &pc, 1);
}

/* RAM follows the plan once its records are durable.  Entries of a
 * victim are in offset order and never move up, so a new commit address
 * cannot be mistaken for the old address of a later entry; the second
 * victim's old addresses are under another lid. */
static void gc_apply(struct moss_fs *fs, uint32_t cnt) {
  uint32_t dlid = fs->sec[fs->gv[0]].lid;
  for (uint32_t i = 0; i < cnt; i++) {
    const struct fs_gcent *p = &fs->plan[i];
    uint32_t na = dlid * fs->P + p->dst;
    if (p->src == FS_GC_EXTRA) {
      fs->ent[p->a].caddr = na;
      continue;
    }
    if (p->n > 0)
      continue;
    uint32_t oa = fs->sec[entry_victim(fs, i)].lid * fs->P + p->src;
    for (uint32_t k = 0; k < fs->nent; k++)
      if (fs->ent[k].caddr == oa)
        fs->ent[k].caddr = na;
  }
  for (struct moss_fs_file *f = fs->files; f != NULL; f = f->next)
    if (f->tab != NULL)
      remap_table(fs, cnt, f->tab, f->n_ext);
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

/* GC's victim: the used sector with the lowest seq, never the head nor
 * skip; -1 when there is none.  (The data head may be it: it is closed
 * first.) */
static int32_t gc_victim(const struct moss_fs *fs, int32_t skip) {
  int32_t v = -1;
  for (uint32_t s = 0; s < fs->N; s++) {
    if (fs->sec[s].state != FS_SEC_USED || (int32_t)s == fs->head ||
        (int32_t)s == skip)
      continue;
    if (v < 0 || fs->sec[s].seq < fs->sec[v].seq)
      v = (int32_t)s;
  }
  return v;
}

/* The GC step when the victim holds nothing live: just erase it.
 * MOSS_ERR_NOSPC (nothing done) if it holds anything. */
static int gc_release_dead(struct moss_fs *fs) {
  int32_t v = gc_victim(fs, -1);
  uint32_t cnt = 0, end = 0;
  if (v < 0)
    return MOSS_ERR_NOSPC;
  int rc = gc_plan(fs, (uint32_t)v, -1, GC_PIN, &cnt, &end);
  if (rc < 0)
    return rc;
  if (cnt != 0)
    return MOSS_ERR_NOSPC;
  close_sector(fs, (uint32_t)v);
  return gc_release(fs, (uint32_t)v);
}

int moss_fsi_gc_one(struct moss_fs *fs) {
  int32_t v = gc_victim(fs, -1);
  fs->gcd = -1;
  if (v < 0)
    return MOSS_ERR_NOSPC;
  close_sector(fs, (uint32_t)v);
  uint32_t vs = (uint32_t)v, vlid = fs->sec[vs].lid, cnt = 0, end = 0;
  /* The policy that leaves the longest free tail. */
  enum gc_policy best = GC_PIN;
  uint32_t best_end = fs->P + 1;
  for (int pol = GC_FLOAT; pol >= GC_PIN; pol--) {
    int rc = gc_plan(fs, vs, -1, (enum gc_policy)pol, &cnt, &end);
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
  /* Drain the next oldest sector too when all it holds fits in the rest:
   * this step then frees a whole sector (live small files spread over
   * many sectors get packed; nothing else would join their free space). */
  int32_t v2 = gc_victim(fs, v);
  int rc = MOSS_ERR_NOSPC;
  if (v2 >= 0 && best_end > fs->ds && best_end < fs->P)
    rc = gc_plan(fs, vs, v2, best, &cnt, &end);
  if (rc == MOSS_ERR_NOSPC) {
    v2 = -1;
    rc = gc_plan(fs, vs, -1, best, &cnt, &end);
  }
  if (rc < 0)
    return rc;
  if (cnt == 0)
    return gc_release(fs, vs);
  uint32_t d;
  rc = pick_free(fs, &d);
  if (rc < 0)
    return rc;
  for (uint32_t i = 0; i < cnt; i++) {
    rc = gc_write_one(fs, d, cnt, i, end);
    if (rc < 0)
      return rc;
  }
  /* The commit point of this GC step: d now supersedes v (and v2's
   * records are all superseded by their copies). */
  rc = write_sh(fs, d, vlid, fs->plan[0].dst, end);
  if (rc < 0)
    return rc;
  /* d is the newest sector: if it holds commits, metadata may only be
   * appended there from now on (the old head is closed). */
  fs->gcd = (int32_t)d;
  if (fs->plan_meta)
    fs->head = (int32_t)d;
  gc_apply(fs, cnt);
  rc = gc_release(fs, vs);
  if (v2 >= 0) {
    close_sector(fs, (uint32_t)v2);
    int rc2 = gc_release(fs, (uint32_t)v2);
    if (rc == MOSS_OK)
      rc = rc2;
  }
  return rc;
}
