/*
 * The logic of Config.Get / Config.Set / Config.Save (config.md §5) as
 * functions over a tree: parameters in as cJSON, result out as cJSON plus
 * an RPC error code and message.  The RPC layer only has to register
 * them and send what they return.
 *
 * Config.Set is atomic: the request is applied to a copy of the tree, and
 * the copy replaces the tree only when every key passed every check.
 */
#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cfg_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(struct moss_cfg_status *st, int code, const char *fmt, ...) {
  va_list ap;
  st->code = code;
  va_start(ap, fmt);
  vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
  va_end(ap);
  switch (code) {
    case 403:
      return MOSS_ERR_PERM;
    case 404:
      return MOSS_ERR_NOENT;
    case 500:
      return MOSS_ERR_NOMEM;
    case -1:
      return MOSS_ERR_IO;
    default:
      return MOSS_ERR_INVAL;
  }
}

static void ok(struct moss_cfg_status *st) {
  st->code = 0;
  st->msg[0] = '\0';
}

/* ---- Config.Set core -------------------------------------------------------
 */

struct set_ctx {
  struct moss_cfg *cand;
  const char *acl;
  struct moss_cfg_status *st;
  uint8_t seen[(MOSS_CFG_SCHEMA_LEN + 7) / 8];    /* stored idx set */
  uint8_t changed[(MOSS_CFG_SCHEMA_LEN + 7) / 8]; /* stored idx changed */
  int16_t first[MOSS_CFG_SCHEMA_LEN]; /* spelling that set it first */
};

#define BIT_GET(a, i) (((a)[(i) / 8] >> ((i) % 8)) & 1)
#define BIT_SET(a, i) ((a)[(i) / 8] |= (uint8_t)(1u << ((i) % 8)))

static int set_leaf(struct set_ctx *c, int idx, const cJSON *v,
                    const char *path) {
  const struct moss_cfg_desc *d = &moss_cfg_schema[idx];
  int sidx = cfg_store_idx(idx);
  if (!moss_cfg_json_type_ok(v, (enum moss_cfg_type)d->type))
    return fail(c->st, 400, "invalid config value: %s: expected %s", path,
                moss_cfg_type_name((enum moss_cfg_type)d->type));
  bool differs = moss_cfg_json_differs(c->cand, sidx, v);
  if (BIT_GET(c->seen, sidx)) {
    /* Both spellings of an aliased key in one request. */
    if (differs) {
      int a = c->first[sidx], b = idx;
      if (moss_cfg_schema[b].alias_of >= 0)
        a = idx, b = c->first[sidx];
      return fail(c->st, 400, "invalid config value: %s and %s differ",
                  moss_cfg_schema[a].path, moss_cfg_schema[b].path);
    }
    return MOSS_OK;
  }
  BIT_SET(c->seen, sidx);
  c->first[sidx] = (int16_t)idx;
  if (!differs)
    return MOSS_OK;
  /* moss: the full dotted path, and a refusal fails the whole request. */
  if (c->acl != NULL && !moss_cfg_acl_allows(c->acl, idx))
    return fail(c->st, 403, "not allowed to set %s", path);
  BIT_SET(c->changed, sidx);
  int r = moss_cfg_set_from_json(c->cand, sidx, v);
  if (r < 0)
    return fail(c->st, 500, "out of memory");
  return MOSS_OK;
}

static int set_obj(struct set_ctx *c, int parent, const cJSON *v,
                   const char *prefix, int depth) {
  if (!cJSON_IsObject(v))
    return fail(c->st, 400, "invalid config value: %s%sexpected object", prefix,
                prefix[0] ? ": " : "");
  if (depth > CFG_JSON_DEPTH_MAX)
    return fail(c->st, 400, "invalid config value: %s: too deep", prefix);
  for (const cJSON *it = v->child; it != NULL; it = it->next) {
    if (it->string == NULL)
      continue;
    char path[CFG_PATH_MAX];
    moss_cfg_path_join(path, prefix, it->string);
    int idx = moss_cfg_find_child(parent, it->string);
    if (idx < 0)
      return fail(c->st, 400, "invalid config value: unknown key %s", path);
    int r = moss_cfg_schema[idx].type == MOSS_CFG_T_OBJ
                ? set_obj(c, idx, it, path, depth + 1)
                : set_leaf(c, idx, it, path);
    if (r < 0)
      return r;
  }
  return MOSS_OK;
}

int moss_cfg_apply_set(struct moss_cfg *cfg, const struct moss_cfg_env *env,
                       const char *key, const cJSON *value, const char *acl,
                       struct moss_cfg_status *st) {
  int idx = -1, ret;
  char reason[MOSS_CFG_MSG_MAX];
  moss_cfg_json_init();
  ok(st);
  if (key != NULL && key[0] != '\0') {
    idx = moss_cfg_find(key, strlen(key));
    if (idx < 0)
      return fail(st, 404, "invalid config key");
  }
  struct set_ctx *c = moss_calloc(MOSS_SUB_CFG, 1, sizeof(*c));
  if (c == NULL)
    return fail(st, 500, "out of memory");
  c->cand = moss_alloc(MOSS_SUB_CFG, sizeof(*c->cand));
  if (c->cand == NULL) {
    ret = fail(st, 500, "out of memory");
    goto out;
  }
  moss_cfg_init(c->cand);
  if (moss_cfg_copy(c->cand, cfg) < 0) {
    ret = fail(st, 500, "out of memory");
    goto out;
  }
  c->acl = acl;
  c->st = st;
  if (idx < 0 || moss_cfg_schema[idx].type == MOSS_CFG_T_OBJ)
    ret = set_obj(c, idx, value, idx < 0 ? "" : moss_cfg_schema[idx].path, 0);
  else
    ret = set_leaf(c, idx, value, moss_cfg_schema[idx].path);
  if (ret < 0)
    goto out;
  /* Security files, against the complete candidate tree (§5.3). */
  for (size_t i = 0;
       env != NULL && env->validate != NULL && i < moss_cfg_schema_len; i++) {
    const struct moss_cfg_desc *d = &moss_cfg_schema[i];
    if (!(d->flags & MOSS_CFG_F_VALIDATE) || d->alias_of >= 0 ||
        !BIT_GET(c->changed, i))
      continue;
    const char *nv = moss_cfg_str_at(c->cand, (int)i);
    if (nv == NULL)
      continue;
    reason[0] = '\0';
    if (!env->validate(env->validate_arg, c->cand, d->path, nv, reason,
                       sizeof(reason))) {
      ret = fail(st, 400, "invalid config value: %s: %s", d->path,
                 reason[0] ? reason : "invalid");
      goto out;
    }
  }
  /* Commit: the candidate's strings move into cfg. */
  moss_cfg_free(cfg);
  memcpy(cfg, c->cand, sizeof(*cfg));
  moss_cfg_init(c->cand);
  ret = MOSS_OK;
out:
  if (c->cand != NULL)
    moss_cfg_free(c->cand);
  moss_free(c->cand);
  moss_free(c);
  return ret;
}

/* ---- RPC parameter helpers
 * --------------------------------------------------- */

static const cJSON *param(const cJSON *params, const char *name) {
  return cJSON_IsObject(params) ? cJSON_GetObjectItemCaseSensitive(params, name)
                                : NULL;
}

static bool param_bool(const cJSON *params, const char *name) {
  return cJSON_IsTrue(param(params, name));
}

/* level: -1 when absent or null; *bad when present but not an integer. */
static int param_level(const cJSON *params, bool *bad) {
  const cJSON *l = param(params, "level");
  *bad = false;
  if (l == NULL || cJSON_IsNull(l))
    return -1;
  if (!cJSON_IsNumber(l) || l->valuedouble != (double)(int)l->valuedouble ||
      l->valuedouble < -1 || l->valuedouble > 9) {
    *bad = true;
    return -1;
  }
  return (int)l->valuedouble;
}

static cJSON *saved_result(bool saved) {
  cJSON *r = cJSON_CreateObject();
  if (r != NULL && cJSON_AddBoolToObject(r, "saved", saved) == NULL) {
    cJSON_Delete(r);
    r = NULL;
  }
  return r;
}

/* ---- Config.Get
 * ---------------------------------------------------------------- */

int moss_cfg_rpc_get(const struct moss_cfg *running,
                     const struct moss_cfg_env *env, const cJSON *params,
                     cJSON **result, struct moss_cfg_status *st) {
  moss_cfg_json_init();
  ok(st);
  *result = NULL;
  const cJSON *k = param(params, "key");
  const char *key = cJSON_IsString(k) ? k->valuestring : NULL;
  if (k != NULL && !cJSON_IsNull(k) && key == NULL)
    return fail(st, 404, "invalid config key");
  if (key != NULL && key[0] != '\0' && moss_cfg_find(key, strlen(key)) < 0)
    return fail(st, 404, "invalid config key");
  bool bad;
  int level = param_level(params, &bad);
  if (bad)
    return fail(st, 400, "invalid level");
  int err = MOSS_OK;
  if (level < 0) {
    *result = moss_cfg_to_json(running, key, &err);
  } else {
    struct moss_cfg *t = moss_alloc(MOSS_SUB_CFG, sizeof(*t));
    if (t == NULL)
      return fail(st, 500, "out of memory");
    moss_cfg_init(t);
    int r = moss_cfg_load_levels(t, env, level, MOSS_CFG_LOAD_STRICT, NULL, 0);
    if (r == MOSS_OK)
      *result = moss_cfg_to_json(t, key, &err);
    moss_cfg_free(t);
    moss_free(t);
    if (r == MOSS_ERR_NOMEM)
      return fail(st, 500, "out of memory");
    if (r < 0)
      return fail(st, 400, "failed to load config");
  }
  if (*result == NULL)
    return fail(st, 500, "out of memory");
  return MOSS_OK;
}

/* ---- Config.Save
 * ---------------------------------------------------------------- */

int moss_cfg_rpc_save(const struct moss_cfg *running,
                      const struct moss_cfg_env *env, const cJSON *params,
                      cJSON **result, bool *reboot,
                      struct moss_cfg_status *st) {
  char why[MOSS_CFG_MSG_MAX];
  moss_cfg_json_init();
  ok(st);
  *result = NULL;
  if (reboot != NULL)
    *reboot = false;
  int r = moss_cfg_save(running, env, 9, param_bool(params, "try_once"), why,
                        sizeof(why));
  if (r < 0)
    return fail(st, -1, "error saving config: %s", why);
  *result = saved_result(true);
  if (*result == NULL)
    return fail(st, 500, "out of memory");
  if (reboot != NULL)
    *reboot = param_bool(params, "reboot");
  return MOSS_OK;
}

/* ---- Config.Set
 * ------------------------------------------------------------------ */

int moss_cfg_rpc_set(struct moss_cfg *running, const struct moss_cfg_env *env,
                     const cJSON *params, cJSON **result, bool *reboot,
                     struct moss_cfg_status *st) {
  char why[MOSS_CFG_MSG_MAX];
  moss_cfg_json_init();
  ok(st);
  *result = NULL;
  if (reboot != NULL)
    *reboot = false;
  const cJSON *value = param(params, "config");
  if (value == NULL)
    value = param(params, "value");
  if (value == NULL)
    return fail(st, 400, "value is required");
  const cJSON *k = param(params, "key");
  const char *key = cJSON_IsString(k) ? k->valuestring : NULL;
  if (k != NULL && !cJSON_IsNull(k) && key == NULL)
    return fail(st, 404, "invalid config key");
  bool bad;
  int level = param_level(params, &bad);
  if (bad)
    return fail(st, 400, "invalid level");
  if (level == 0)
    return fail(st, 400, "not allowed");
  bool save = param_bool(params, "save");
  bool try_once = param_bool(params, "try_once");
  /* conf_acl is always the running, merged one (§4). */
  const char *acl = running->conf_acl ? running->conf_acl : "";
  bool saved = false;
  int r;
  if (level < 0 || level == 9) {
    r = moss_cfg_apply_set(running, env, key, value, acl, st);
    if (r < 0)
      return r;
    if (save) {
      r = moss_cfg_save(running, env, 9, try_once, why, sizeof(why));
      if (r < 0)
        return fail(st, -1, "error saving config: %s", why);
      saved = true;
    }
  } else {
    /* A vendor layer: rebuilt from the files, changed, written back. */
    struct moss_cfg *t = moss_alloc(MOSS_SUB_CFG, sizeof(*t));
    if (t == NULL)
      return fail(st, 500, "out of memory");
    moss_cfg_init(t);
    r = moss_cfg_load_levels(t, env, level, MOSS_CFG_LOAD_STRICT, NULL, 0);
    if (r < 0) {
      r = r == MOSS_ERR_NOMEM ? fail(st, 500, "out of memory")
                              : fail(st, 400, "failed to load config");
    } else {
      r = moss_cfg_apply_set(t, env, key, value, acl, st);
      if (r == MOSS_OK) {
        r = moss_cfg_save(t, env, level, false, why, sizeof(why));
        if (r < 0)
          r = fail(st, -1, "error saving config: %s", why);
        else
          saved = true;
      }
    }
    moss_cfg_free(t);
    moss_free(t);
    if (r < 0)
      return r;
  }
  *result = saved_result(saved);
  if (*result == NULL)
    return fail(st, 500, "out of memory");
  if (reboot != NULL)
    *reboot = saved && param_bool(params, "reboot");
  return MOSS_OK;
}
