/*
 * The configuration tree: defaults, typed access by schema index or path,
 * copy and free, conf_acl matching.
 *
 * A string field points either at the schema's default literal (no heap)
 * or at a moss_alloc'd copy owned by the tree; release() tells them apart
 * by comparing with the default pointer, which is why a value equal to the
 * default is stored as the literal again rather than as a copy.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/glob.h"
#include "moss/util.h"

static void *field(struct moss_cfg *cfg, int idx) {
  return (char *)cfg + moss_cfg_schema[cfg_store_idx(idx)].offset;
}

static const void *cfield(const struct moss_cfg *cfg, int idx) {
  return (const char *)cfg + moss_cfg_schema[cfg_store_idx(idx)].offset;
}

static void release(const struct moss_cfg_desc *d, const char *s) {
  /* Strings may be passwords: wipe them. */
  if (s != NULL && s != d->def.s)
    moss_free_secret((void *)(uintptr_t)s);
}

int moss_cfg_find_child(int parent, const char *name) {
  size_t from = parent < 0 ? 0 : (size_t)parent + 1;
  size_t to = parent < 0 ? moss_cfg_schema_len : moss_cfg_schema[parent].end;
  for (size_t j = from; j < to;) {
    const struct moss_cfg_desc *d = &moss_cfg_schema[j];
    if (strcmp(d->path + d->name_off, name) == 0)
      return (int)j;
    j = d->type == MOSS_CFG_T_OBJ ? d->end : j + 1;
  }
  return -1;
}

int moss_cfg_find(const char *path, size_t len) {
  /* Walk component by component: O(depth * siblings), no string copies. */
  int parent = -1;
  size_t i = 0;
  if (path == NULL || len == 0)
    return -1;
  for (;;) {
    size_t j = i;
    while (j < len && path[j] != '.')
      j++;
    size_t from = parent < 0 ? 0 : (size_t)parent + 1;
    size_t to = parent < 0 ? moss_cfg_schema_len : moss_cfg_schema[parent].end;
    int found = -1;
    for (size_t k = from; k < to;) {
      const struct moss_cfg_desc *d = &moss_cfg_schema[k];
      const char *nm = d->path + d->name_off;
      if (strlen(nm) == j - i && memcmp(nm, path + i, j - i) == 0) {
        found = (int)k;
        break;
      }
      k = d->type == MOSS_CFG_T_OBJ ? d->end : k + 1;
    }
    if (found < 0 || j == len)
      return found;
    if (moss_cfg_schema[found].type != MOSS_CFG_T_OBJ)
      return -1;
    parent = found;
    i = j + 1;
  }
}

const char *moss_cfg_type_name(enum moss_cfg_type t) {
  switch (t) {
    case MOSS_CFG_T_BOOL:
      return "bool";
    case MOSS_CFG_T_INT:
      return "int";
    case MOSS_CFG_T_DOUBLE:
      return "number";
    case MOSS_CFG_T_STR:
      return "string";
    default:
      return "object";
  }
}

void moss_cfg_init(struct moss_cfg *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  for (size_t i = 0; i < moss_cfg_schema_len; i++) {
    const struct moss_cfg_desc *d = &moss_cfg_schema[i];
    if (d->type == MOSS_CFG_T_OBJ || d->alias_of >= 0)
      continue;
    void *f = field(cfg, (int)i);
    switch (d->type) {
      case MOSS_CFG_T_BOOL:
        *(bool *)f = d->def.b;
        break;
      case MOSS_CFG_T_INT:
        *(int32_t *)f = d->def.i;
        break;
      case MOSS_CFG_T_DOUBLE:
        *(double *)f = d->def.d;
        break;
      case MOSS_CFG_T_STR:
        *(const char **)f = d->def.s;
        break;
      default:
        break;
    }
  }
}

void moss_cfg_free(struct moss_cfg *cfg) {
  if (cfg == NULL)
    return;
  for (size_t i = 0; i < moss_cfg_schema_len; i++) {
    const struct moss_cfg_desc *d = &moss_cfg_schema[i];
    if (d->type == MOSS_CFG_T_STR && d->alias_of < 0)
      release(d, *(const char **)field(cfg, (int)i));
  }
  moss_cfg_init(cfg);
}

int moss_cfg_copy(struct moss_cfg *dst, const struct moss_cfg *src) {
  if (dst == src)
    return MOSS_OK;
  moss_cfg_free(dst);
  memcpy(dst, src, sizeof(*dst));
  /* Re-own every heap string; on failure the rest still point into src,
   * so clear those before freeing. */
  for (size_t i = 0; i < moss_cfg_schema_len; i++) {
    const struct moss_cfg_desc *d = &moss_cfg_schema[i];
    if (d->type != MOSS_CFG_T_STR || d->alias_of >= 0)
      continue;
    const char **f = field(dst, (int)i);
    if (*f == NULL || *f == d->def.s)
      continue;
    size_t n = strlen(*f) + 1;
    char *p = moss_alloc(MOSS_SUB_CFG, n);
    if (p == NULL) {
      for (size_t k = i; k < moss_cfg_schema_len; k++) {
        const struct moss_cfg_desc *e = &moss_cfg_schema[k];
        if (e->type == MOSS_CFG_T_STR && e->alias_of < 0)
          *(const char **)field(dst, (int)k) = e->def.s;
      }
      moss_cfg_free(dst);
      return MOSS_ERR_NOMEM;
    }
    memcpy(p, *f, n);
    *f = p;
  }
  return MOSS_OK;
}

/* ---- access by index ---------------------------------------------------- */

const char *moss_cfg_str_at(const struct moss_cfg *cfg, int idx) {
  return *(const char *const *)cfield(cfg, idx);
}
bool moss_cfg_bool_at(const struct moss_cfg *cfg, int idx) {
  return *(const bool *)cfield(cfg, idx);
}
int32_t moss_cfg_int_at(const struct moss_cfg *cfg, int idx) {
  return *(const int32_t *)cfield(cfg, idx);
}
double moss_cfg_double_at(const struct moss_cfg *cfg, int idx) {
  return *(const double *)cfield(cfg, idx);
}
void moss_cfg_set_bool_at(struct moss_cfg *cfg, int idx, bool v) {
  *(bool *)field(cfg, idx) = v;
}
void moss_cfg_set_int_at(struct moss_cfg *cfg, int idx, int32_t v) {
  *(int32_t *)field(cfg, idx) = v;
}
void moss_cfg_set_double_at(struct moss_cfg *cfg, int idx, double v) {
  *(double *)field(cfg, idx) = v;
}

int moss_cfg_set_str_at(struct moss_cfg *cfg, int idx, const char *v) {
  const struct moss_cfg_desc *d = &moss_cfg_schema[cfg_store_idx(idx)];
  const char **f = field(cfg, idx);
  const char *nv = NULL;
  if (v != NULL && v[0] != '\0') {
    if (d->def.s != NULL && strcmp(v, d->def.s) == 0) {
      nv = d->def.s; /* back to the literal: no heap */
    } else if (*f != NULL && strcmp(v, *f) == 0) {
      return MOSS_OK;
    } else {
      size_t n = strlen(v) + 1;
      char *p = moss_alloc(MOSS_SUB_CFG, n);
      if (p == NULL)
        return MOSS_ERR_NOMEM;
      memcpy(p, v, n);
      nv = p;
    }
  }
  if (nv != *f) {
    release(d, *f);
    *f = nv;
  }
  return MOSS_OK;
}

bool moss_cfg_leaf_eq(const struct moss_cfg *a, const struct moss_cfg *b,
                      int idx) {
  switch (moss_cfg_schema[idx].type) {
    case MOSS_CFG_T_BOOL:
      return moss_cfg_bool_at(a, idx) == moss_cfg_bool_at(b, idx);
    case MOSS_CFG_T_INT:
      return moss_cfg_int_at(a, idx) == moss_cfg_int_at(b, idx);
    case MOSS_CFG_T_DOUBLE:
      return moss_cfg_double_at(a, idx) == moss_cfg_double_at(b, idx);
    case MOSS_CFG_T_STR: {
      const char *x = moss_cfg_str_at(a, idx), *y = moss_cfg_str_at(b, idx);
      if (x == NULL || y == NULL)
        return x == y;
      return strcmp(x, y) == 0;
    }
    default:
      return true;
  }
}

/* ---- access by path ----------------------------------------------------- */

static int leaf(const char *path, enum moss_cfg_type t) {
  int idx = path ? moss_cfg_find(path, strlen(path)) : -1;
  if (idx < 0 || moss_cfg_schema[idx].type == MOSS_CFG_T_OBJ)
    return MOSS_ERR_NOENT;
  if (moss_cfg_schema[idx].type != t)
    return MOSS_ERR_INVAL;
  return idx;
}

bool moss_cfg_get_bool(const struct moss_cfg *cfg, const char *path) {
  int idx = leaf(path, MOSS_CFG_T_BOOL);
  return idx >= 0 ? moss_cfg_bool_at(cfg, idx) : false;
}
int32_t moss_cfg_get_int(const struct moss_cfg *cfg, const char *path) {
  int idx = leaf(path, MOSS_CFG_T_INT);
  return idx >= 0 ? moss_cfg_int_at(cfg, idx) : 0;
}
double moss_cfg_get_double(const struct moss_cfg *cfg, const char *path) {
  int idx = leaf(path, MOSS_CFG_T_DOUBLE);
  return idx >= 0 ? moss_cfg_double_at(cfg, idx) : 0.0;
}
const char *moss_cfg_get_str(const struct moss_cfg *cfg, const char *path) {
  int idx = leaf(path, MOSS_CFG_T_STR);
  return idx >= 0 ? moss_cfg_str_at(cfg, idx) : NULL;
}

int moss_cfg_set_bool(struct moss_cfg *cfg, const char *path, bool v) {
  int idx = leaf(path, MOSS_CFG_T_BOOL);
  if (idx < 0)
    return idx;
  moss_cfg_set_bool_at(cfg, idx, v);
  return MOSS_OK;
}
int moss_cfg_set_int(struct moss_cfg *cfg, const char *path, int32_t v) {
  int idx = leaf(path, MOSS_CFG_T_INT);
  if (idx < 0)
    return idx;
  moss_cfg_set_int_at(cfg, idx, v);
  return MOSS_OK;
}
int moss_cfg_set_double(struct moss_cfg *cfg, const char *path, double v) {
  int idx = leaf(path, MOSS_CFG_T_DOUBLE);
  if (idx < 0)
    return idx;
  moss_cfg_set_double_at(cfg, idx, v);
  return MOSS_OK;
}
int moss_cfg_set_str(struct moss_cfg *cfg, const char *path, const char *v) {
  int idx = leaf(path, MOSS_CFG_T_STR);
  if (idx < 0)
    return idx;
  return moss_cfg_set_str_at(cfg, idx, v);
}

/* ---- conf_acl ------------------------------------------------------------ */

/* First matching entry decides; p2 (may be NULL) is another spelling of
 * the same key, so an entry naming either applies to both. */
static bool acl_allows2(const char *acl, struct moss_str p1,
                        struct moss_str p2) {
  if (acl == NULL)
    return false;
  const char *s = acl;
  for (;;) {
    const char *e = strchr(s, ',');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    while (n > 0 && (*s == ' ' || *s == '\t'))
      s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
      n--;
    bool allow = true;
    if (n > 0 && (*s == '+' || *s == '-')) {
      allow = *s == '+';
      s++, n--;
    }
    struct moss_str pat = moss_str_n(s, n);
    if (n > 0 && (moss_glob_match(pat, p1) ||
                  (p2.buf != NULL && moss_glob_match(pat, p2))))
      return allow;
    if (e == NULL)
      return false;
    s = e + 1;
  }
}

bool moss_cfg_acl_allows_path(const char *acl, const char *path, size_t len) {
  return acl_allows2(acl, moss_str_n(path, len), MOSS_STR_NULL);
}

bool moss_cfg_acl_allows(const char *acl, int idx) {
  const struct moss_cfg_desc *d = &moss_cfg_schema[idx];
  struct moss_str other = MOSS_STR_NULL;
  if (d->alias_of >= 0) {
    other = moss_str_c(moss_cfg_schema[d->alias_of].path);
  } else {
    for (size_t i = 0; i < moss_cfg_schema_len; i++)
      if (moss_cfg_schema[i].alias_of == idx)
        other = moss_str_c(moss_cfg_schema[i].path);
  }
  return acl_allows2(acl, moss_str_c(d->path), other);
}

void moss_cfg_path_join(char *dst, const char *prefix, const char *name) {
  size_t n = 0;
  if (prefix != NULL && prefix[0] != '\0') {
    n = strnlen(prefix, CFG_PATH_MAX - 1);
    memmove(dst, prefix, n);
    if (n < CFG_PATH_MAX - 1)
      dst[n++] = '.';
  }
  size_t m = strnlen(name, CFG_PATH_MAX - 1 - n);
  memcpy(dst + n, name, m);
  dst[n + m] = '\0';
}

/* ---- text values (mossd --set) ------------------------------------------ */

int moss_cfg_set_text(struct moss_cfg *cfg, const char *kv, char *why,
                      size_t whylen) {
  const char *eq = strchr(kv, '=');
  char path[128];
  if (eq == NULL || (size_t)(eq - kv) >= sizeof(path)) {
    snprintf(why, whylen, "%s: expected key=value", kv);
    return MOSS_ERR_INVAL;
  }
  memcpy(path, kv, (size_t)(eq - kv));
  path[eq - kv] = '\0';
  const char *v = eq + 1;
  int idx = moss_cfg_find(path, strlen(path));
  if (idx < 0) {
    snprintf(why, whylen, "%s: no such config key", path);
    return MOSS_ERR_INVAL;
  }
  const struct moss_cfg_desc *d = &moss_cfg_schema[idx];
  if (d->alias_of >= 0)
    d = &moss_cfg_schema[d->alias_of];
  char *end = NULL;
  int rc;
  switch (d->type) {
    case MOSS_CFG_T_BOOL:
      if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
        goto bad;
      rc = moss_cfg_set_bool(cfg, d->path, strcmp(v, "true") == 0);
      break;
    case MOSS_CFG_T_INT: {
      errno = 0;
      long n = strtol(v, &end, 0);
      if (*v == '\0' || *end != '\0' || errno || n < INT32_MIN || n > INT32_MAX)
        goto bad;
      rc = moss_cfg_set_int(cfg, d->path, (int32_t)n);
      break;
    }
    case MOSS_CFG_T_DOUBLE: {
      double x = strtod(v, &end);
      if (*v == '\0' || *end != '\0')
        goto bad;
      rc = moss_cfg_set_double(cfg, d->path, x);
      break;
    }
    case MOSS_CFG_T_STR:
      rc = moss_cfg_set_str(cfg, d->path, v);
      break;
    default:
      snprintf(why, whylen, "%s: is an object", path);
      return MOSS_ERR_INVAL;
  }
  return rc;
bad:
  snprintf(why, whylen, "%s: invalid value \"%s\"", path, v);
  return MOSS_ERR_INVAL;
}
