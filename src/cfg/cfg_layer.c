/*
 * Layers (config.md §3): applying one layer file, loading the stack
 * conf1..conf9 through struct moss_cfg_fs, '?' expansion, and saving the
 * diff of a level against the levels below it.
 *
 * A layer is all-or-nothing for shape errors (bad JSON, wrong types: the
 * file is skipped and named with line:column) but key-by-key for policy
 * (unknown keys and keys denied by conf_acl are skipped and logged), as
 * the spec asks.  Type checking is therefore a full pass before the first
 * value is stored.
 */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cfg_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/util.h"

/* Files of the stack in load order; lv2 is twice the level so that
 * conf_vendor.json sits at 5.5, just before level 6. */
static const struct {
  uint8_t lv2;
  const char *name;
} layers[] = {
    {2, "conf1.json"},  {4, "conf2.json"},  {6, "conf3.json"},
    {8, "conf4.json"},  {10, "conf5.json"}, {11, "conf_vendor.json"},
    {12, "conf6.json"}, {14, "conf7.json"}, {16, "conf8.json"},
    {18, "conf9.json"},
};

#define TRY_SUFFIX ".try"
#define NAME_MAX_ 24 /* longest layer name, conf_vendor.json */

/* ---- one layer ------------------------------------------------------------
 */

struct check {
  const char *text;
  size_t len;
  int members[CFG_JSON_DEPTH_MAX]; /* member index at each depth */
  size_t depth;
  char path[CFG_PATH_MAX];
  const char *expected;
  size_t off;
};

static bool check_obj(struct check *c, const cJSON *obj, int parent,
                      const char *prefix) {
  int m = 0;
  for (const cJSON *it = obj->child; it != NULL; it = it->next, m++) {
    if (it->string == NULL)
      continue;
    int idx = moss_cfg_find_child(parent, it->string);
    if (idx < 0)
      continue; /* unknown: skipped when applying */
    char path[CFG_PATH_MAX];
    moss_cfg_path_join(path, prefix, it->string);
    enum moss_cfg_type t = (enum moss_cfg_type)moss_cfg_schema[idx].type;
    if (c->depth >= CFG_JSON_DEPTH_MAX)
      return false;
    c->members[c->depth] = m;
    if (!moss_cfg_json_type_ok(it, t)) {
      memcpy(c->path, path, sizeof(path));
      c->expected = moss_cfg_type_name(t);
      c->off = moss_cfg_pos_locate(c->text, c->len, c->members, c->depth + 1);
      return false;
    }
    if (t == MOSS_CFG_T_OBJ) {
      c->depth++;
      bool ok = check_obj(c, it, idx, path);
      c->depth--;
      if (!ok)
        return false;
    }
  }
  return true;
}

static int apply_obj(struct moss_cfg *cfg, const cJSON *obj, int parent,
                     const char *prefix, const char *acl) {
  for (const cJSON *it = obj->child; it != NULL; it = it->next) {
    if (it->string == NULL)
      continue;
    char path[CFG_PATH_MAX];
    moss_cfg_path_join(path, prefix, it->string);
    int idx = moss_cfg_find_child(parent, it->string);
    if (idx < 0) {
      MOSS_LOG_D(CFG_MOD, "Unknown key [%s]", path);
    } else if (moss_cfg_schema[idx].type == MOSS_CFG_T_OBJ) {
      int r = apply_obj(cfg, it, idx, path, acl);
      if (r < 0)
        return r;
    } else if (acl != NULL && !moss_cfg_acl_allows(acl, idx)) {
      MOSS_LOG_E(CFG_MOD, "Not allowed to set [%s]", path);
    } else {
      int r = moss_cfg_set_from_json(cfg, idx, it);
      if (r < 0)
        return r;
    }
  }
  return MOSS_OK;
}

static int parse_error(const char *fname, const char *text, size_t off,
                       const char *what, char *err, size_t errsz) {
  int line, col;
  moss_cfg_pos_line_col(text, off, &line, &col);
  if (err != NULL && errsz > 0)
    snprintf(err, errsz, "%s:%d:%d: config parse error: %s", fname, line, col,
             what);
  return MOSS_ERR_PARSE;
}

int moss_cfg_apply_layer(struct moss_cfg *cfg, const char *fname,
                         const char *text, size_t len, const char *acl,
                         char *err, size_t errsz) {
  char what[CFG_PATH_MAX + 40];
  moss_cfg_json_init();
  if (err != NULL && errsz > 0)
    err[0] = '\0';
  size_t soff = 0;
  enum cfg_scan scan = moss_cfg_pos_scan(text, len, CFG_JSON_DEPTH_MAX, &soff);
  if (scan == CFG_SCAN_TOO_DEEP)
    return parse_error(fname, text, soff, "nesting too deep", err, errsz);
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
  if (root == NULL) {
    size_t off = end != NULL && end >= text && end <= text + len
                     ? (size_t)(end - text)
                     : len;
    /* cJSON's pointer lags or leads for truncated input and bad
     * brackets; the structural scan knows better there. */
    if (scan == CFG_SCAN_MISMATCH && soff < off)
      off = soff;
    if (scan == CFG_SCAN_EOF_STR && off >= soff)
      off = len;
    if (scan == CFG_SCAN_EOF) {
      size_t k = off < len ? off + 1 : len;
      while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' ||
                         text[k] == '\r'))
        k++;
      if (k == len)
        off = len;
    }
    moss_cfg_pos_describe(text, len, off, what, sizeof(what));
    return parse_error(fname, text, off, what, err, errsz);
  }
  int ret = MOSS_ERR_PARSE;
  size_t off = end != NULL ? (size_t)(end - text) : len;
  while (off < len && (text[off] == ' ' || text[off] == '\t' ||
                       text[off] == '\n' || text[off] == '\r'))
    off++;
  if (off < len) {
    parse_error(fname, text, off, "unexpected data after the JSON value", err,
                errsz);
    goto out;
  }
  if (!cJSON_IsObject(root)) {
    off = 0;
    while (off < len && (text[off] == ' ' || text[off] == '\t' ||
                         text[off] == '\n' || text[off] == '\r'))
      off++;
    parse_error(fname, text, off, "the root must be an object", err, errsz);
    goto out;
  }
  struct check c = {.text = text, .len = len};
  if (!check_obj(&c, root, -1, "")) {
    if (c.expected == NULL) {
      parse_error(fname, text, 0, "nesting too deep", err, errsz);
    } else {
      snprintf(what, sizeof(what), "%s: expected %s", c.path, c.expected);
      parse_error(fname, text, c.off, what, err, errsz);
    }
    goto out;
  }
  ret = apply_obj(cfg, root, -1, "", acl);
  if (ret < 0 && err != NULL && errsz > 0)
    snprintf(err, errsz, "%s: %s", fname, moss_strerror(ret));
out:
  cJSON_Delete(root);
  return ret;
}

/* ---- '?' placeholders ------------------------------------------------------
 */

int moss_cfg_expand_placeholders(struct moss_cfg *cfg, const uint8_t mac[6]) {
  static const char *const keys[] = {"device.id", "wifi.ap.ssid"};
  static const char hex[] = "0123456789ABCDEF";
  for (size_t k = 0; k < MOSS_ARRAY_SIZE(keys); k++) {
    int idx = moss_cfg_find(keys[k], strlen(keys[k]));
    if (idx < 0)
      continue;
    const char *s = moss_cfg_str_at(cfg, idx);
    if (s == NULL || strchr(s, '?') == NULL)
      continue;
    size_t n = strlen(s);
    char *b = moss_alloc(MOSS_SUB_CFG, n + 1);
    if (b == NULL)
      return MOSS_ERR_NOMEM;
    memcpy(b, s, n + 1);
    /* Right to left: the last '?' takes the low nibble of the last MAC
     * byte; a MAC has 12 digits, further '?' stay. */
    unsigned digit = 0;
    for (size_t i = n; i-- > 0 && digit < 12;) {
      if (b[i] != '?')
        continue;
      uint8_t byte = mac[5 - digit / 2];
      b[i] = hex[(digit % 2 == 0) ? (byte & 0xf) : (byte >> 4)];
      digit++;
    }
    int r = moss_cfg_set_str_at(cfg, idx, b);
    moss_free(b);
    if (r < 0)
      return r;
  }
  return MOSS_OK;
}

/* ---- the stack --------------------------------------------------------------
 */

static int load_file(struct moss_cfg *cfg, const struct moss_cfg_env *env,
                     const char *name, char *buf, bool drop_try, unsigned flags,
                     char *err, size_t errsz) {
  const struct moss_cfg_fs *fs = env->fs;
  char tname[NAME_MAX_ + sizeof(TRY_SUFFIX)], msg[MOSS_CFG_MSG_MAX];
  snprintf(tname, sizeof(tname), "%s" TRY_SUFFIX, name);
  bool use_try = fs->exists(fs->ctx, tname);
  const char *fname = use_try ? tname : name;
  int ret = MOSS_OK;
  int n = fs->read(fs->ctx, fname, buf, MOSS_CFG_FILE_MAX);
  msg[0] = '\0';
  if (n == MOSS_ERR_NOENT) {
    /* Optional layer. */
  } else if (n == MOSS_ERR_TOOBIG) {
    snprintf(msg, sizeof(msg), "%s: file too large (max %d bytes)", fname,
             MOSS_CFG_FILE_MAX);
    ret = MOSS_ERR_TOOBIG;
  } else if (n < 0) {
    snprintf(msg, sizeof(msg), "%s: cannot read: %s", fname, moss_strerror(n));
    ret = MOSS_ERR_IO;
  } else {
    /* The ACL left by the lower levels; the layer may change conf_acl
     * itself, which then binds only the levels above it. */
    const char *cur = cfg->conf_acl;
    size_t al = cur ? strlen(cur) + 1 : 1;
    char *acl = moss_alloc(MOSS_SUB_CFG, al);
    if (acl == NULL)
      return MOSS_ERR_NOMEM;
    memcpy(acl, cur ? cur : "", al);
    ret =
        moss_cfg_apply_layer(cfg, fname, buf, (size_t)n, acl, msg, sizeof(msg));
    moss_free(acl);
    if (ret == MOSS_ERR_NOMEM)
      return ret;
  }
  if (use_try && drop_try) {
    int r = fs->remove(fs->ctx, tname);
    if (r < 0 && r != MOSS_ERR_NOENT)
      MOSS_LOG_E(CFG_MOD, "%s: cannot remove: %s", tname, moss_strerror(r));
  }
  if (ret < 0) {
    MOSS_LOG_E(CFG_MOD, "%s", msg);
    if (err != NULL && errsz > 0)
      snprintf(err, errsz, "%s", msg);
    if (flags & MOSS_CFG_LOAD_STRICT)
      return ret;
  }
  return MOSS_OK;
}

static int load_stack(struct moss_cfg *cfg, const struct moss_cfg_env *env,
                      int max_level, unsigned flags, bool boot, char *err,
                      size_t errsz) {
  moss_cfg_free(cfg);
  if (err != NULL && errsz > 0)
    err[0] = '\0';
  if (max_level < 0 || max_level > 9)
    return MOSS_ERR_RANGE;
  int ret = MOSS_OK;
  char *buf = NULL;
  if (max_level > 0) {
    buf = moss_alloc(MOSS_SUB_CFG, MOSS_CFG_FILE_MAX);
    if (buf == NULL)
      return MOSS_ERR_NOMEM;
  }
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(layers); i++) {
    if (layers[i].lv2 > 2 * max_level)
      break;
    bool user = layers[i].lv2 == 18;
    ret = load_file(cfg, env, layers[i].name, buf, boot && user, flags, err,
                    errsz);
    if (ret < 0)
      goto out;
  }
  if (env->mac != NULL)
    ret = moss_cfg_expand_placeholders(cfg, env->mac);
out:
  moss_free(buf);
  return ret;
}

int moss_cfg_load_levels(struct moss_cfg *cfg, const struct moss_cfg_env *env,
                         int max_level, unsigned flags, char *err,
                         size_t errsz) {
  return load_stack(cfg, env, max_level, flags, false, err, errsz);
}

static int rename_file(const struct moss_cfg_fs *fs, const char *src,
                       const char *dst) {
  if (fs->rename != NULL)
    return fs->rename(fs->ctx, src, dst);
  char *buf = moss_alloc(MOSS_SUB_CFG, MOSS_CFG_FILE_MAX);
  if (buf == NULL)
    return MOSS_ERR_NOMEM;
  int n = fs->read(fs->ctx, src, buf, MOSS_CFG_FILE_MAX);
  int r = n < 0 ? n : fs->write(fs->ctx, dst, buf, (size_t)n);
  if (r >= 0)
    r = fs->remove(fs->ctx, src);
  moss_free(buf);
  return r;
}

int moss_cfg_load_boot(struct moss_cfg *cfg, const struct moss_cfg_env *env) {
  moss_cfg_json_init();
  if (env->fs->exists(env->fs->ctx, "conf.json")) {
    int r = rename_file(env->fs, "conf.json", "conf9.json");
    if (r < 0)
      MOSS_LOG_E(CFG_MOD, "cannot rename conf.json to conf9.json: %s",
                 moss_strerror(r));
    else
      MOSS_LOG_I(CFG_MOD, "Renamed legacy conf.json to conf9.json");
  }
  return load_stack(cfg, env, 9, 0, true, NULL, 0);
}

/* ---- save -------------------------------------------------------------------
 */

int moss_cfg_save(const struct moss_cfg *cfg, const struct moss_cfg_env *env,
                  int level, bool try_once, char *err, size_t errsz) {
  const struct moss_cfg_fs *fs = env->fs;
  char name[NAME_MAX_], tname[NAME_MAX_ + sizeof(TRY_SUFFIX)];
  cJSON *diff = NULL;
  char *text = NULL;
  int ret = MOSS_ERR_NOMEM;
  moss_cfg_json_init();
  if (err != NULL && errsz > 0)
    err[0] = '\0';
  if (level < 1 || level > 9) {
    if (err)
      snprintf(err, errsz, "invalid level %d", level);
    return MOSS_ERR_RANGE;
  }
  snprintf(name, sizeof(name), "conf%d.json", level);
  snprintf(tname, sizeof(tname), "%s" TRY_SUFFIX, name);
  struct moss_cfg *base = moss_alloc(MOSS_SUB_CFG, sizeof(*base));
  if (base == NULL)
    goto out;
  moss_cfg_init(base);
  /* The levels below, as boot builds them (broken files skipped). */
  ret = moss_cfg_load_levels(base, env, level - 1, 0, NULL, 0);
  if (ret < 0)
    goto out;
  ret = MOSS_ERR_NOMEM;
  diff = moss_cfg_diff_json(cfg, base);
  if (diff == NULL)
    goto out;
  text = cJSON_PrintUnformatted(diff);
  if (text == NULL)
    goto out;
  size_t len = strlen(text);
  if (len > MOSS_CFG_FILE_MAX) {
    /* It could not be loaded back. */
    ret = MOSS_ERR_TOOBIG;
    if (err)
      snprintf(err, errsz, "%s would be %zu bytes (max %d)", name, len,
               MOSS_CFG_FILE_MAX);
    goto out;
  }
  /* A stale .try would shadow the new file at the next boot. */
  ret = fs->remove(fs->ctx, tname);
  if (ret < 0 && ret != MOSS_ERR_NOENT) {
    if (err)
      snprintf(err, errsz, "cannot remove %s: %s", tname, moss_strerror(ret));
    goto out;
  }
  const char *out_name = (try_once && level == 9) ? tname : name;
  ret = fs->write(fs->ctx, out_name, text, len);
  if (ret < 0) {
    if (err)
      snprintf(err, errsz, "cannot write %s: %s", out_name, moss_strerror(ret));
    goto out;
  }
  MOSS_LOG_I(CFG_MOD, "Saved to %s", out_name);
  ret = MOSS_OK;
out:
  if (ret == MOSS_ERR_NOMEM && err != NULL && errsz > 0 && err[0] == '\0')
    snprintf(err, errsz, "out of memory");
  cJSON_free(text);
  cJSON_Delete(diff);
  moss_cfg_free(base);
  moss_free(base);
  return ret;
}
