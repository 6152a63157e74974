/*
 * The CA file, loaded on demand (http.md §4.7).
 *
 * The file (ca.pem: ~140 PEM certificates with comment lines) is never
 * parsed whole.  The first lookup scans it once and keeps an index entry
 * per certificate: CRC-32 of the DER subject Name, the offset of its PEM
 * block and the DER length (12 bytes each).  A lookup hashes the wanted
 * issuer Name, re-reads only the blocks whose hash matches, parses each
 * one alone and returns those whose subject really matches; mbedTLS
 * verifies and frees them.  The file's version is its size plus a CRC of
 * its last 256 bytes (checked at every lookup: one small read); the index
 * is rebuilt when it changes, or when an indexed block no longer holds
 * the expected subject.
 *
 * Scanning is streaming: 256-byte reads, base64 decoded as it arrives,
 * only the first bytes of each line kept (to spot the BEGIN/END lines).
 * Heap: the index while idle; during a lookup one read chunk plus the DER
 * of one certificate and its parsed form.
 */
#include <stdio.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/fs.h"
#include "moss/log.h"
#include "moss/util.h"
#include "tls_int.h"

static const char *TAG = "tls";

#define CHUNK 256u
#define HEAD 40u /* bytes of a line kept for marker detection */
#define MAX_ENTRIES 4096u

struct ca_ent {
  uint32_t hash; /* CRC-32 of the subject Name TLV */
  uint32_t off;  /* offset of the BEGIN line */
  uint16_t der_len;
  uint16_t line; /* line number of the BEGIN line (messages) */
};

struct moss_tls_ca {
  const struct moss_tls_file_ops *ops;
  void *arg;
  struct ca_ent *idx;
  uint32_t n, cap;
  uint32_t fsize; /* file size the index was built for */
  uint32_t ftail; /* CRC-32 of its last CHUNK bytes */
  bool built;
  char name[MOSS_FS_NAME_MAX + 1];
};

/* ---- moss filesystem adapter
 * ------------------------------------------------- */

static int fs_open(void *arg, const char *name, void **fh) {
  struct moss_fs_file *f;
  /* Flat namespace: "/ca.pem" names "ca.pem" (as FS.Get and the
   * config of the guide write it). */
  while (*name == '/')
    name++;
  int rc = moss_fs_open(arg, name, MOSS_FS_O_RDONLY, &f);
  *fh = rc == MOSS_OK ? f : NULL;
  return rc;
}
static int fs_read(void *fh, void *buf, size_t len) {
  return moss_fs_read(fh, buf, len);
}
static int fs_seek(void *fh, uint32_t off) {
  int32_t r = moss_fs_seek(fh, (int32_t)off, MOSS_FS_SEEK_SET);
  return r < 0 ? (int)r : MOSS_OK;
}
static uint32_t fs_size(void *fh) {
  return moss_fs_size(fh);
}
static void fs_close(void *fh) {
  if (fh != NULL)
    moss_fs_close(fh);
}
const struct moss_tls_file_ops moss_tls_fs_ops = {fs_open, fs_read, fs_seek,
                                                  fs_size, fs_close};

/* ---- store
 * ------------------------------------------------------------------------ */

int moss_tls_ca_new(const struct moss_tls_file_ops *ops, void *arg,
                    const char *name, struct moss_tls_ca **out) {
  *out = NULL;
  void *fh;
  int rc = ops->open(arg, name, &fh);
  if (rc != MOSS_OK)
    return rc;
  ops->close(fh);
  struct moss_tls_ca *ca = moss_calloc(MOSS_SUB_TLS, 1, sizeof(*ca));
  if (ca == NULL)
    return MOSS_ERR_NOMEM;
  ca->ops = ops;
  ca->arg = arg;
  moss_str_copy(ca->name, sizeof(ca->name), moss_str_c(name));
  *out = ca;
  return MOSS_OK;
}

void moss_tls_ca_free(struct moss_tls_ca *ca) {
  if (ca == NULL)
    return;
  moss_free(ca->idx);
  moss_free(ca);
}

const char *moss_tls_ca_name(const struct moss_tls_ca *ca) {
  return ca->name;
}

size_t moss_tls_ca_idle_bytes(const struct moss_tls_ca *ca) {
  size_t n = sizeof(*ca) + MOSS_ALLOC_OVERHEAD;
  if (ca->idx != NULL)
    n += ca->cap * sizeof(struct ca_ent) + MOSS_ALLOC_OVERHEAD;
  return n;
}

/* The subject Name TLV of a DER certificate (no heap). */
static int der_subject(const uint8_t *der, size_t len, const uint8_t **s,
                       size_t *sl) {
  unsigned char *p = (unsigned char *)der, *end = p + len, *tend;
  size_t l;
  const int seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
  if (mbedtls_asn1_get_tag(&p, end, &l, seq) != 0)
    return MOSS_ERR_PARSE;
  if (mbedtls_asn1_get_tag(&p, end, &l, seq) != 0)
    return MOSS_ERR_PARSE;
  tend = p + l;
  if (p < tend &&
      *p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
    if (mbedtls_asn1_get_tag(&p, tend, &l, *p) != 0)
      return MOSS_ERR_PARSE;
    p += l;
  }
  static const int skip[] = {MBEDTLS_ASN1_INTEGER, seq, seq, seq};
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(skip); i++) {
    if (mbedtls_asn1_get_tag(&p, tend, &l, skip[i]) != 0)
      return MOSS_ERR_PARSE;
    p += l;
  }
  unsigned char *start = p;
  if (mbedtls_asn1_get_tag(&p, tend, &l, seq) != 0)
    return MOSS_ERR_PARSE;
  *s = start;
  *sl = (size_t)(p + l - start);
  return MOSS_OK;
}

/* Streaming PEM scanner.  emit() gets each complete certificate; a
 * non-zero return stops the scan with that value. */
struct scan {
  struct moss_tls_ca *ca;
  uint8_t *der;
  size_t der_cap, der_len;
  uint32_t off, line; /* position of the current byte */
  uint32_t line_off, line_len, line_no;
  uint32_t blk_off, blk_line;
  char head[HEAD];
  uint8_t quad[4];
  unsigned nquad;
  bool in_block, skip_block, marker_line;
  bool quiet; /* no WARN per bad block (Config.Set's check) */
  int (*emit)(struct scan *s);
  void *arg;
};

static bool head_is(const struct scan *s, const char *m) {
  size_t ml = strlen(m);
  size_t hl = s->line_len < HEAD ? s->line_len : HEAD;
  return hl >= ml && memcmp(s->head, m, ml) == 0;
}

static void block_fail(struct scan *s, const char *why) {
  if (!s->quiet)
    MOSS_LOG_W(TAG, "%s:%u: %s", s->ca->name, (unsigned)s->blk_line, why);
  s->skip_block = true;
}

static void quad_feed(struct scan *s, uint8_t ch) {
  if (ch == ' ' || ch == '\t' || ch == '\r')
    return;
  s->quad[s->nquad++] = ch;
  if (s->nquad < 4)
    return;
  s->nquad = 0;
  uint8_t out[3];
  size_t ol = 0;
  if (mbedtls_base64_decode(out, sizeof(out), &ol, s->quad, 4) != 0) {
    block_fail(s, "cannot parse certificate: bad base64");
    return;
  }
  if (s->der_len + ol > s->der_cap) {
    block_fail(s, "cannot parse certificate: too large");
    return;
  }
  memcpy(s->der + s->der_len, out, ol);
  s->der_len += ol;
}

static int end_of_line(struct scan *s) {
  int r = 0;
  if (s->marker_line || !s->in_block) {
    if (head_is(s, "-----BEGIN CERTIFICATE-----")) {
      s->in_block = true;
      s->skip_block = false;
      s->der_len = 0;
      s->nquad = 0;
      s->blk_off = s->line_off;
      s->blk_line = s->line_no;
    } else if (s->in_block && head_is(s, "-----END CERTIFICATE-----")) {
      s->in_block = false;
      if (!s->skip_block && s->nquad != 0)
        block_fail(s, "cannot parse certificate: truncated base64");
      if (!s->skip_block)
        r = s->emit(s);
    } else if (s->in_block) {
      block_fail(s, "cannot parse certificate: unexpected line");
    }
  } else if (s->line_len > MOSS_TLS_CA_LINE_MAX && !s->skip_block) {
    if (!s->quiet)
      MOSS_LOG_W(TAG, "%s:%u: line too long, certificate skipped", s->ca->name,
                 (unsigned)s->line_no);
    s->skip_block = true;
  }
  s->line_no++;
  s->line_len = 0;
  s->marker_line = false;
  return r;
}

static int scan_byte(struct scan *s, uint8_t ch) {
  if (ch == '\n')
    return end_of_line(s);
  if (s->line_len == 0) {
    s->line_off = s->off;
    s->marker_line = ch == '-';
  }
  if (s->line_len < HEAD)
    s->head[s->line_len] = (char)ch;
  if (s->line_len < UINT32_MAX)
    s->line_len++;
  if (s->in_block && !s->marker_line && !s->skip_block)
    quad_feed(s, ch);
  return 0;
}

/* Scan from offset `from` (line number `line`) to the end of the file
 * or until emit stops it.  Returns emit's value, 0, or an error. */
static int scan_file(struct scan *s, void *fh, uint32_t from, uint32_t line) {
  uint8_t *chunk = moss_alloc(MOSS_SUB_TLS, CHUNK);
  if (chunk == NULL)
    return MOSS_ERR_NOMEM;
  int r = s->ca->ops->seek(fh, from);
  s->off = from;
  s->line_no = line;
  while (r == 0) {
    int n = s->ca->ops->read(fh, chunk, CHUNK);
    if (n < 0) {
      r = n;
      break;
    }
    if (n == 0) {
      if (s->line_len > 0)
        r = end_of_line(s);
      break;
    }
    for (int i = 0; i < n && r == 0; i++, s->off++)
      r = scan_byte(s, chunk[i]);
  }
  moss_free(chunk);
  return r;
}

static int index_emit(struct scan *s) {
  struct moss_tls_ca *ca = s->ca;
  const uint8_t *subj;
  size_t sl;
  if (der_subject(s->der, s->der_len, &subj, &sl) != MOSS_OK) {
    MOSS_LOG_W(TAG, "%s:%u: cannot parse certificate: bad DER", ca->name,
               (unsigned)s->blk_line);
    return 0;
  }
  if (ca->n == ca->cap) {
    if (ca->cap >= MAX_ENTRIES)
      return MOSS_ERR_TOOBIG;
    uint32_t nc = ca->cap ? ca->cap * 2 : 32;
    void *ni = ca->idx ? moss_realloc(ca->idx, nc * sizeof(*ca->idx))
                       : moss_alloc(MOSS_SUB_TLS, nc * sizeof(*ca->idx));
    if (ni == NULL)
      return MOSS_ERR_NOMEM;
    ca->idx = ni;
    ca->cap = nc;
  }
  struct ca_ent *e = &ca->idx[ca->n++];
  e->hash = moss_crc32(0, subj, sl);
  e->off = s->blk_off;
  e->der_len = (uint16_t)s->der_len;
  e->line = s->blk_line > UINT16_MAX ? UINT16_MAX : (uint16_t)s->blk_line;
  return 0;
}

/* Version stamp of the open file: CRC of its tail. */
static int tail_crc(struct moss_tls_ca *ca, void *fh, uint32_t *crc) {
  uint8_t buf[CHUNK];
  uint32_t size = ca->ops->size(fh);
  uint32_t off = size > CHUNK ? size - CHUNK : 0;
  int rc = ca->ops->seek(fh, off);
  if (rc != MOSS_OK)
    return rc;
  int n = ca->ops->read(fh, buf, size - off);
  if (n < 0)
    return n;
  *crc = moss_crc32(0, buf, (size_t)n);
  return MOSS_OK;
}

/* True when the index is missing or was built for another version. */
static bool index_stale(struct moss_tls_ca *ca, void *fh) {
  uint32_t crc;
  if (!ca->built || ca->fsize != ca->ops->size(fh))
    return true;
  return tail_crc(ca, fh, &crc) != MOSS_OK || crc != ca->ftail;
}

static int build_index(struct moss_tls_ca *ca, void *fh) {
  ca->n = 0;
  ca->built = false;
  struct scan s;
  memset(&s, 0, sizeof(s));
  s.ca = ca;
  s.der_cap = MOSS_TLS_CA_DER_MAX;
  s.der = moss_alloc(MOSS_SUB_TLS, s.der_cap);
  if (s.der == NULL)
    return MOSS_ERR_NOMEM;
  s.emit = index_emit;
  int r = scan_file(&s, fh, 0, 1);
  moss_free(s.der);
  if (r < 0)
    return r;
  /* Shrink the index to what is used: it is what stays in RAM. */
  if (ca->n > 0 && ca->n < ca->cap) {
    void *ni = moss_realloc(ca->idx, ca->n * sizeof(*ca->idx));
    if (ni != NULL) {
      ca->idx = ni;
      ca->cap = ca->n;
    }
  }
  ca->fsize = ca->ops->size(fh);
  r = tail_crc(ca, fh, &ca->ftail);
  if (r != MOSS_OK)
    return r;
  ca->built = true;
  MOSS_LOG_D(TAG, "TLS: %s: %u certificates indexed (%zu bytes)", ca->name,
             (unsigned)ca->n, (size_t)ca->n * sizeof(*ca->idx));
  return MOSS_OK;
}

struct fetch {
  const uint8_t *want;
  size_t want_len;
  mbedtls_x509_crt **list;
  int found;
  bool stale;
};

static int fetch_emit(struct scan *s) {
  struct fetch *f = s->arg;
  /* One block only: the scan stops after it (return 1). */
  mbedtls_x509_crt *crt = mbedtls_calloc(1, sizeof(*crt));
  if (crt == NULL)
    return MOSS_ERR_NOMEM;
  mbedtls_x509_crt_init(crt);
  int r = mbedtls_x509_crt_parse_der(crt, s->der, s->der_len);
  if (r != 0) {
    char why[100];
    moss_tls_strerror(r, why, sizeof(why));
    MOSS_LOG_W(TAG, "%s:%u: cannot parse certificate: %s", s->ca->name,
               (unsigned)s->blk_line, why);
    mbedtls_x509_crt_free(crt);
    mbedtls_free(crt);
    return r == MBEDTLS_ERR_X509_ALLOC_FAILED ? MOSS_ERR_NOMEM : 1;
  }
  if (crt->subject_raw.len != f->want_len ||
      memcmp(crt->subject_raw.p, f->want, f->want_len) != 0) {
    /* Either a CRC collision or the file changed under the index. */
    f->stale = true;
    mbedtls_x509_crt_free(crt);
    mbedtls_free(crt);
    return 1;
  }
  crt->next = *f->list;
  *f->list = crt;
  f->found++;
  return 1;
}

static int lookup_once(struct moss_tls_ca *ca, void *fh, struct fetch *f) {
  uint32_t h = moss_crc32(0, f->want, f->want_len);
  for (uint32_t i = 0; i < ca->n; i++) {
    const struct ca_ent *e = &ca->idx[i];
    if (e->hash != h)
      continue;
    struct scan s;
    memset(&s, 0, sizeof(s));
    s.ca = ca;
    s.der_cap = e->der_len;
    s.der = moss_alloc(MOSS_SUB_TLS, s.der_cap ? s.der_cap : 1);
    if (s.der == NULL)
      return MOSS_ERR_NOMEM;
    s.emit = fetch_emit;
    s.arg = f;
    int r = scan_file(&s, fh, e->off, e->line);
    moss_free(s.der);
    if (r < 0)
      return r;
    if (r == 0) /* the block is gone: the file changed */
      f->stale = true;
  }
  return MOSS_OK;
}

static void free_list(mbedtls_x509_crt *l) {
  while (l != NULL) {
    mbedtls_x509_crt *next = l->next;
    l->next = NULL;
    mbedtls_x509_crt_free(l);
    mbedtls_free(l);
    l = next;
  }
}

int moss_tls_ca_lookup(struct moss_tls_ca *ca, const uint8_t *subj, size_t n,
                       mbedtls_x509_crt **out) {
  *out = NULL;
  void *fh;
  int rc = ca->ops->open(ca->arg, ca->name, &fh);
  if (rc != MOSS_OK) {
    MOSS_LOG_E(TAG, "TLS: cannot open CA file %s: %s", ca->name,
               moss_strerror(rc));
    return rc;
  }
  struct fetch f = {subj, n, out, 0, false};
  if (index_stale(ca, fh))
    rc = build_index(ca, fh);
  if (rc == MOSS_OK)
    rc = lookup_once(ca, fh, &f);
  if (rc == MOSS_OK && f.stale && f.found == 0) {
    /* Rebuild once and retry: the file was replaced with the same size. */
    rc = build_index(ca, fh);
    f.stale = false;
    if (rc == MOSS_OK)
      rc = lookup_once(ca, fh, &f);
  }
  ca->ops->close(fh);
  if (rc != MOSS_OK) {
    free_list(*out);
    *out = NULL;
    return rc;
  }
  return f.found;
}

int moss_tls_ca_count(struct moss_tls_ca *ca) {
  void *fh;
  int rc = ca->ops->open(ca->arg, ca->name, &fh);
  if (rc != MOSS_OK)
    return rc;
  if (index_stale(ca, fh))
    rc = build_index(ca, fh);
  ca->ops->close(fh);
  return rc == MOSS_OK ? (int)ca->n : rc;
}

/* Stops the scan (1) at the first block that parses as a certificate. */
static int parses_emit(struct scan *s) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  int r = mbedtls_x509_crt_parse_der(&crt, s->der, s->der_len);
  mbedtls_x509_crt_free(&crt);
  if (r == MBEDTLS_ERR_X509_ALLOC_FAILED)
    return MOSS_ERR_NOMEM;
  return r == 0 ? 1 : 0;
}

int moss_tlsi_ca_has_cert(struct moss_tls_ca *ca) {
  void *fh;
  int r = ca->ops->open(ca->arg, ca->name, &fh);
  if (r != MOSS_OK)
    return r;
  struct scan s;
  memset(&s, 0, sizeof(s));
  s.ca = ca;
  s.quiet = true;
  s.der_cap = MOSS_TLS_CA_DER_MAX;
  s.der = moss_alloc(MOSS_SUB_TLS, s.der_cap);
  s.emit = parses_emit;
  r = s.der != NULL ? scan_file(&s, fh, 0, 1) : MOSS_ERR_NOMEM;
  moss_free(s.der);
  ca->ops->close(fh);
  return r;
}

int moss_tlsi_ca_cb(void *p, const mbedtls_x509_crt *child,
                    mbedtls_x509_crt **candidates) {
  struct moss_tls_ctx *ctx = p;
  *candidates = NULL;
  if (ctx->ca == NULL)
    return 0;
  int n = moss_tls_ca_lookup(ctx->ca, child->issuer_raw.p,
                             child->issuer_raw.len, candidates);
  /* An unreadable CA file fails the verification (never allows). */
  return n < 0 ? -1 : 0;
}
