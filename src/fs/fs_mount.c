/*
 * Format, mount (log replay), unmount and the consistency check.
 *
 * Mount trusts nothing it reads: a sector counts only with a CRC-valid
 * header of this geometry, a record only with a CRC-valid header (and, for
 * metadata, a CRC-valid payload whose fields are in range).  The first
 * record that fails ends the sector's log: the space after it may hold a
 * torn write and is never written again until the sector is erased.  Of
 * two sectors with the same logical id (a GC step cut between writing its
 * copy and erasing the original) the one with the higher seq, the copy,
 * counts.  Every loop is bounded by the geometry, so any image mounts or
 * fails in bounded time.
 */
#include <string.h>

#include "fs_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/util.h"

static const char *TAG = "fs";

static struct moss_fs *fs_new(const struct moss_flash *fl, int *err) {
  struct moss_fs g;
  memset(&g, 0, sizeof(g));
  *err = moss_fsi_geometry(&g, fl, 0);
  if (*err < 0)
    return NULL;
  size_t sz = sizeof(g) + g.N * sizeof(struct fs_sec) +
              MOSS_FS_MAX_FILES * sizeof(struct fs_ent) +
              g.emax * sizeof(struct fs_ext) +
              g.plan_cap * sizeof(struct fs_gcent) + g.N * sizeof(uint16_t);
  uint8_t *p = moss_calloc(MOSS_SUB_FS, 1, sz);
  if (p == NULL) {
    *err = MOSS_ERR_NOMEM;
    return NULL;
  }
  struct moss_fs *fs = (struct moss_fs *)p;
  *fs = g;
  fs->fl = fl;
  p += sizeof(g);
  fs->ent = (struct fs_ent *)p;
  p += MOSS_FS_MAX_FILES * sizeof(struct fs_ent);
  fs->scratch = (struct fs_ext *)p;
  p += g.emax * sizeof(struct fs_ext);
  fs->sec = (struct fs_sec *)p;
  p += g.N * sizeof(struct fs_sec);
  fs->plan = (struct fs_gcent *)p;
  p += g.plan_cap * sizeof(struct fs_gcent);
  fs->lmap = (uint16_t *)p;
  for (uint32_t i = 0; i < g.N; i++)
    fs->lmap[i] = FS_NOLID;
  fs->maxent = MOSS_FS_MAX_FILES;
  fs->next_seq = 1;
  fs->next_fid = 1;
  return fs;
}

int moss_fs_format(const struct moss_flash *flash) {
  int rc;
  struct moss_fs *fs = fs_new(flash, &rc);
  if (fs == NULL)
    return rc;
  rc = moss_flash_erase(flash, 0, flash->size);
  if (rc == MOSS_OK) {
    for (uint32_t s = 0; s < fs->N; s++)
      fs->sec[s].state = FS_SEC_ERASED;
    fs->nfree = fs->N;
    /* One sector with a header is what marks the area as a filesystem. */
    rc = moss_fsi_ensure(fs, FS_META, 0);
  }
  moss_free(fs);
  return rc;
}

/* Validate and apply one commit record at logical addr (payload len,
 * crc pcrc). */
static int replay_commit(struct moss_fs *fs, uint32_t addr, uint32_t fid,
                         uint32_t len, uint32_t pcrc) {
  uint32_t crc;
  int rc = moss_fsi_crc_flash(fs, addr + FS_RH, len, &crc);
  if (rc < 0)
    return rc;
  if (crc != pcrc || len < FS_CMETA)
    return MOSS_ERR_CORRUPT;
  uint8_t m[FS_CMETA + MOSS_FS_NAME_MAX];
  rc = moss_fsi_read(fs, addr + FS_RH, m, MOSS_MIN(len, (uint32_t)sizeof(m)));
  if (rc < 0)
    return rc;
  uint32_t size = moss_get_le32(m), kill = moss_get_le32(m + 4);
  uint32_t n = moss_get_le16(m + 8), nl = m[10];
  if (nl == 0 || nl > MOSS_FS_NAME_MAX || n > fs->emax ||
      len != fs_cpaylen(nl, n) || fid == 0)
    return MOSS_ERR_CORRUPT;
  const char *name = (const char *)m + FS_CMETA;
  if (memchr(name, 0, nl) != NULL)
    return MOSS_ERR_CORRUPT;
  /* Extents: each inside one sector's record area, summing to size. */
  struct fs_ent tmp = {fid, addr, size, (uint16_t)n, 0, (uint8_t)nl};
  rc = moss_fsi_load_table(fs, &tmp, fs->scratch);
  if (rc < 0)
    return rc;
  uint64_t sum = 0;
  for (uint32_t i = 0; i < n; i++) {
    const struct fs_ext *x = &fs->scratch[i];
    sum += x->len;
    if (x->len == 0)
      return MOSS_ERR_CORRUPT;
    if (x->addr == FS_HOLE)
      continue;
    if (x->len > fs->maxpay)
      return MOSS_ERR_CORRUPT;
    uint32_t o = x->addr % fs->P;
    if (x->addr / fs->P >= fs->N || o < fs->ds + FS_RH || x->len > fs->P - o)
      return MOSS_ERR_CORRUPT;
  }
  if (sum != size)
    return MOSS_ERR_CORRUPT;
  if (kill != 0 && kill != fid)
    moss_fsi_ent_del(fs, kill);
  /* A full index cannot come from this code: mount fails (NOSPC). */
  return moss_fsi_ent_set(fs, fid, addr, size, n, name, nl);
}

static int replay_sector(struct moss_fs *fs, uint32_t s) {
  struct fs_sec *sc = &fs->sec[s];
  uint32_t off = sc->first, base = s * fs->P, lb = sc->lid * fs->P;
  while (off + FS_RH <= fs->P) {
    uint8_t h[FS_RH], type;
    uint32_t fid, len, pcrc, size;
    int rc = moss_flash_read(fs->fl, base + off, h, FS_RH);
    if (rc < 0)
      return rc;
    if (moss_fsi_parse_rh(fs, h, off, &type, &fid, &len, &pcrc, &size) < 0)
      break;
    if (type == FS_REC_COMMIT) {
      rc = replay_commit(fs, lb + off, fid, len, pcrc);
      if (rc == MOSS_ERR_CORRUPT)
        break;
      if (rc < 0)
        return rc == MOSS_ERR_NOSPC ? MOSS_ERR_CORRUPT : rc;
    } else if (type == FS_REC_DELETE) {
      if (len != 0)
        break;
      moss_fsi_ent_del(fs, fid);
    }
    if (fid >= fs->next_fid && fid < 0xFFFFFFF0u)
      fs->next_fid = fid + 1;
    off += size;
  }
  sc->end = off;
  return MOSS_OK;
}

/* Every live extent must lie below the valid end of a used sector. */
static int validate_index(struct moss_fs *fs) {
  for (uint32_t i = 0; i < fs->nent; i++) {
    const struct fs_ent *e = &fs->ent[i];
    int rc = moss_fsi_load_table(fs, e, fs->scratch);
    if (rc < 0)
      return rc;
    for (uint32_t k = 0; k < e->n_ext; k++) {
      const struct fs_ext *x = &fs->scratch[k];
      if (x->addr == FS_HOLE)
        continue;
      uint32_t p = fs->lmap[fs_lid_of(fs, x->addr)];
      if (p == FS_NOLID || x->addr % fs->P + x->len > fs->sec[p].end)
        return MOSS_ERR_CORRUPT;
    }
  }
  return MOSS_OK;
}

/* Sector header check; the image's unit U is adopted from the first valid
 * header (it may exceed this view's write_align). */
static bool sh_valid(struct moss_fs *fs, const uint8_t *h, bool *ufixed) {
  if (moss_get_le32(h) != FS_SEC_MAGIC || h[4] != FS_VERSION ||
      moss_crc32(0, h, 28) != moss_get_le32(h + 28) ||
      moss_get_le32(h + 12) != fs->P || moss_get_le32(h + 16) != fs->N ||
      h[5] > 6)
    return false;
  uint32_t U = 1u << h[5];
  if (U != fs->U) {
    if (*ufixed)
      return false; /* an earlier sector fixed U */
    struct moss_fs g = *fs;
    if (moss_fsi_geometry(&g, fs->fl, U) < 0 || g.emax > fs->emax ||
        g.plan_cap > fs->plan_cap)
      return false;
    fs->U = g.U;
    fs->ds = g.ds;
    fs->emax = g.emax;
    fs->maxpay = g.maxpay;
    fs->plan_cap = g.plan_cap;
    fs->usable = g.usable;
  }
  *ufixed = true;
  uint32_t lid = moss_get_le16(h + 6), first = moss_get_le16(h + 20);
  return lid < fs->N && first >= fs->ds && first <= fs->P && first % fs->U == 0;
}

int moss_fs_mount(struct moss_fs **out, const struct moss_flash *flash) {
  *out = NULL;
  int rc;
  struct moss_fs *fs = fs_new(flash, &rc);
  if (fs == NULL)
    return rc;
  uint32_t used = 0;
  bool ufixed = false;
  for (uint32_t s = 0; s < fs->N; s++) {
    uint8_t h[FS_SH];
    rc = moss_flash_read(flash, s * fs->P, h, FS_SH);
    if (rc < 0)
      goto fail;
    struct fs_sec *sc = &fs->sec[s];
    if (!sh_valid(fs, h, &ufixed)) {
      sc->state = FS_SEC_DIRTY;
      fs->nfree++;
      continue;
    }
    sc->state = FS_SEC_USED;
    sc->seq = moss_get_le32(h + 8);
    sc->lid = moss_get_le16(h + 6);
    sc->first = moss_get_le16(h + 20);
    if (sc->seq >= fs->next_seq)
      fs->next_seq = sc->seq + 1;
    /* Same lid twice: the copy (higher seq) supersedes the original. */
    uint32_t o = fs->lmap[sc->lid], loser = s;
    if (o != FS_NOLID) {
      if (fs->sec[o].seq < sc->seq || (fs->sec[o].seq == sc->seq && o > s)) {
        loser = o;
        fs->lmap[sc->lid] = (uint16_t)s;
      }
      fs->sec[loser].state = FS_SEC_DIRTY;
      fs->sec[loser].zombie = 1;
      fs->nzombie++;
      fs->nfree++;
      continue;
    }
    fs->lmap[sc->lid] = (uint16_t)s;
    used++;
  }
  if (used == 0) {
    rc = MOSS_ERR_CORRUPT;
    goto fail;
  }
  /* Replay in log order: (seq, index) ascending.  O(N^2) but N is small
   * and it needs no extra RAM. */
  uint64_t prev = 0;
  bool first = true;
  for (uint32_t k = 0; k < used; k++) {
    uint64_t best = UINT64_MAX;
    for (uint32_t s = 0; s < fs->N; s++) {
      if (fs->sec[s].state != FS_SEC_USED)
        continue;
      uint64_t key = ((uint64_t)fs->sec[s].seq << 32) | s;
      if ((first || key > prev) && key < best)
        best = key;
    }
    first = false;
    prev = best;
    rc = replay_sector(fs, (uint32_t)(best & 0xFFFFFFFFu));
    if (rc < 0)
      goto fail;
  }
  rc = validate_index(fs);
  if (rc < 0)
    goto fail;
  if (fs->next_seq == 0)
    fs->next_seq = 1; /* wrapped: corrupt but safe */
  *out = fs;
  return MOSS_OK;
fail:
  if (rc == MOSS_ERR_CORRUPT)
    MOSS_LOG_W(TAG, "mount: not a valid filesystem");
  moss_free(fs);
  return rc;
}

void moss_fs_unmount(struct moss_fs *fs) {
  if (fs == NULL)
    return;
  while (fs->files != NULL)
    moss_fs_discard(fs->files);
  moss_free(fs);
}

/* ---- check ------------------------------------------------------------ */

/* Find the record containing logical [a, a+len) and verify it. */
static int check_data(struct moss_fs *fs, uint32_t fid, uint32_t a,
                      uint32_t len) {
  uint32_t p = fs->lmap[fs_lid_of(fs, a)];
  if (p == FS_NOLID || fs->sec[p].state != FS_SEC_USED)
    return MOSS_ERR_CORRUPT;
  uint32_t lb = fs_lid_of(fs, a) * fs->P, off = fs->sec[p].first;
  while (off < fs->sec[p].end) {
    uint8_t h[FS_RH], type;
    uint32_t rfid, rlen, pcrc, crc, size;
    int rc = moss_flash_read(fs->fl, p * fs->P + off, h, FS_RH);
    if (rc < 0)
      return rc;
    if (moss_fsi_parse_rh(fs, h, off, &type, &rfid, &rlen, &pcrc, &size) < 0)
      return MOSS_ERR_CORRUPT;
    uint32_t ps = lb + off + FS_RH;
    if (a >= ps && a + len <= ps + rlen) {
      if (type != FS_REC_DATA || rfid != fid)
        return MOSS_ERR_CORRUPT;
      rc = moss_fsi_crc_flash(fs, ps, rlen, &crc);
      if (rc < 0)
        return rc;
      return crc == pcrc ? MOSS_OK : MOSS_ERR_CORRUPT;
    }
    off += size;
  }
  return MOSS_ERR_CORRUPT;
}

int moss_fs_check(struct moss_fs *fs) {
  uint64_t live = 0;
  uint32_t nfree = 0;
  for (uint32_t s = 0; s < fs->N; s++) {
    if (fs->sec[s].state != FS_SEC_USED)
      nfree++;
    else if (fs->lmap[fs->sec[s].lid] != s)
      return MOSS_ERR_CORRUPT;
  }
  if (nfree != fs->nfree)
    return MOSS_ERR_CORRUPT;
  for (uint32_t i = 0; i < fs->nent; i++) {
    const struct fs_ent *e = &fs->ent[i];
    uint8_t h[FS_RH], type;
    uint32_t fid, len, pcrc, crc, size;
    char name[MOSS_FS_NAME_MAX + 1], other[MOSS_FS_NAME_MAX + 1];
    int rc = moss_fsi_read(fs, e->caddr, h, FS_RH);
    if (rc < 0)
      return rc;
    if (moss_fsi_parse_rh(fs, h, e->caddr % fs->P, &type, &fid, &len, &pcrc,
                          &size) < 0 ||
        type != FS_REC_COMMIT || fid != e->fid ||
        len != fs_cpaylen(e->namelen, e->n_ext))
      return MOSS_ERR_CORRUPT;
    rc = moss_fsi_crc_flash(fs, e->caddr + FS_RH, len, &crc);
    if (rc < 0)
      return rc;
    if (crc != pcrc)
      return MOSS_ERR_CORRUPT;
    rc = moss_fsi_load_table(fs, e, fs->scratch);
    if (rc < 0)
      return rc;
    uint64_t sum = 0;
    for (uint32_t k = 0; k < e->n_ext; k++) {
      const struct fs_ext *x = &fs->scratch[k];
      sum += x->len;
      if (x->addr == FS_HOLE)
        continue;
      rc = check_data(fs, e->fid, x->addr, x->len);
      if (rc < 0)
        return rc;
    }
    if (sum != e->size)
      return MOSS_ERR_CORRUPT;
    rc = moss_fsi_read_name(fs, e, name);
    if (rc < 0)
      return rc;
    if (e->hash != moss_fsi_name_hash(name, e->namelen))
      return MOSS_ERR_CORRUPT;
    for (uint32_t j = i + 1; j < fs->nent; j++) {
      if (fs->ent[j].namelen != e->namelen)
        continue;
      rc = moss_fsi_read_name(fs, &fs->ent[j], other);
      if (rc < 0)
        return rc;
      if (memcmp(name, other, e->namelen) == 0)
        return MOSS_ERR_CORRUPT;
      if (fs->ent[j].fid == e->fid)
        return MOSS_ERR_CORRUPT;
    }
    live += moss_fsi_ent_live(fs, e);
  }
  if (live != fs->live)
    return MOSS_ERR_CORRUPT;
  return MOSS_OK;
}
