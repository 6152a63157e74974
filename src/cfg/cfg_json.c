/*
 * The configuration tree as JSON (cJSON): emit a subtree, emit the diff
 * against a lower tree, check and store JSON values into leaves.
 */
#include <cJSON.h>
#include <string.h>

#include "cfg_int.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/json.h"

void moss_cfg_json_init(void) {
  moss_json_init();
}

static cJSON *leaf_json(const struct moss_cfg *cfg, int idx) {
  switch (moss_cfg_schema[idx].type) {
    case MOSS_CFG_T_BOOL:
      return cJSON_CreateBool(moss_cfg_bool_at(cfg, idx));
    case MOSS_CFG_T_INT:
      return cJSON_CreateNumber(moss_cfg_int_at(cfg, idx));
    case MOSS_CFG_T_DOUBLE:
      return cJSON_CreateNumber(moss_cfg_double_at(cfg, idx));
    case MOSS_CFG_T_STR: {
      const char *s = moss_cfg_str_at(cfg, idx);
      return cJSON_CreateString(s ? s : "");
    }
    default:
      return NULL;
  }
}

/* Object entry idx (-1 = root) with all its keys, schema order. With base,
 * only leaves differing from base, skipping aliases and empty objects. */
static cJSON *obj_json(const struct moss_cfg *cfg, const struct moss_cfg *base,
                       int idx) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  size_t from = idx < 0 ? 0 : (size_t)idx + 1;
  size_t to = idx < 0 ? moss_cfg_schema_len : moss_cfg_schema[idx].end;
  for (size_t j = from; j < to;) {
    const struct moss_cfg_desc *d = &moss_cfg_schema[j];
    size_t next = d->type == MOSS_CFG_T_OBJ ? d->end : j + 1;
    cJSON *v = NULL;
    if (d->type == MOSS_CFG_T_OBJ) {
      v = obj_json(cfg, base, (int)j);
      if (v == NULL)
        goto fail;
      if (base != NULL && v->child == NULL) {
        cJSON_Delete(v);
        v = NULL;
      }
    } else if (base == NULL ||
               (d->alias_of < 0 && !moss_cfg_leaf_eq(cfg, base, (int)j))) {
      v = leaf_json(cfg, (int)j);
      if (v == NULL)
        goto fail;
    }
    if (v != NULL && !cJSON_AddItemToObject(o, d->path + d->name_off, v)) {
      cJSON_Delete(v);
      goto fail;
    }
    j = next;
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

cJSON *moss_cfg_to_json(const struct moss_cfg *cfg, const char *key, int *err) {
  moss_cfg_json_init();
  int idx = -1;
  if (key != NULL && key[0] != '\0') {
    idx = moss_cfg_find(key, strlen(key));
    if (idx < 0) {
      if (err)
        *err = MOSS_ERR_NOENT;
      return NULL;
    }
  }
  cJSON *j = (idx < 0 || moss_cfg_schema[idx].type == MOSS_CFG_T_OBJ)
                 ? obj_json(cfg, NULL, idx)
                 : leaf_json(cfg, idx);
  if (err)
    *err = j ? MOSS_OK : MOSS_ERR_NOMEM;
  return j;
}

cJSON *moss_cfg_diff_json(const struct moss_cfg *cfg,
                          const struct moss_cfg *base) {
  moss_cfg_json_init();
  return obj_json(cfg, base, -1);
}

/* An integral JSON number within 32 bits (cJSON keeps numbers as
 * doubles; "1.0" is accepted as 1, "1.5" and 1e10 are not). */
static bool json_int(const cJSON *item, int32_t *out) {
  double d = item->valuedouble;
  if (!(d >= -2147483648.0 && d <= 2147483647.0))
    return false;
  int32_t v = (int32_t)d;
  if ((double)v != d)
    return false;
  *out = v;
  return true;
}

bool moss_cfg_json_type_ok(const cJSON *item, enum moss_cfg_type t) {
  int32_t v;
  switch (t) {
    case MOSS_CFG_T_OBJ:
      return cJSON_IsObject(item);
    case MOSS_CFG_T_BOOL:
      return cJSON_IsBool(item);
    case MOSS_CFG_T_INT:
      return cJSON_IsNumber(item) && json_int(item, &v);
    case MOSS_CFG_T_DOUBLE:
      return cJSON_IsNumber(item);
    /* null unsets a string, as "" does. */
    case MOSS_CFG_T_STR:
      return cJSON_IsString(item) || cJSON_IsNull(item);
    default:
      return false;
  }
}

int moss_cfg_set_from_json(struct moss_cfg *cfg, int idx, const cJSON *item) {
  int32_t v = 0;
  switch (moss_cfg_schema[idx].type) {
    case MOSS_CFG_T_BOOL:
      moss_cfg_set_bool_at(cfg, idx, cJSON_IsTrue(item));
      return MOSS_OK;
    case MOSS_CFG_T_INT:
      if (!json_int(item, &v))
        return MOSS_ERR_INVAL;
      moss_cfg_set_int_at(cfg, idx, v);
      return MOSS_OK;
    case MOSS_CFG_T_DOUBLE:
      moss_cfg_set_double_at(cfg, idx, item->valuedouble);
      return MOSS_OK;
    case MOSS_CFG_T_STR:
      return moss_cfg_set_str_at(
          cfg, idx, cJSON_IsString(item) ? item->valuestring : NULL);
    default:
      return MOSS_ERR_INVAL;
  }
}

bool moss_cfg_json_differs(const struct moss_cfg *cfg, int idx,
                           const cJSON *item) {
  int32_t v = 0;
  switch (moss_cfg_schema[idx].type) {
    case MOSS_CFG_T_BOOL:
      return moss_cfg_bool_at(cfg, idx) != (bool)cJSON_IsTrue(item);
    case MOSS_CFG_T_INT:
      return !json_int(item, &v) || moss_cfg_int_at(cfg, idx) != v;
    case MOSS_CFG_T_DOUBLE:
      return moss_cfg_double_at(cfg, idx) != item->valuedouble;
    case MOSS_CFG_T_STR: {
      const char *cur = moss_cfg_str_at(cfg, idx);
      const char *nv = cJSON_IsString(item) ? item->valuestring : NULL;
      if (nv != NULL && nv[0] == '\0')
        nv = NULL;
      if (cur == NULL || nv == NULL)
        return cur != nv;
      return strcmp(cur, nv) != 0;
    }
    default:
      return true;
  }
}
