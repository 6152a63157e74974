/*
 * cfg_int.h - shared internals of src/cfg (not a public header).
 */
#ifndef MOSS_CFG_INT_H
#define MOSS_CFG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "moss/cfg.h"
#include "moss/priv/cfg_json.h"

#define CFG_MOD "cfg"
/* Longest dotted path reported in a message (longer ones are cut). */
#define CFG_PATH_MAX 128
/* Deepest JSON nesting accepted in a layer file or a Config.Set value;
 * the schema is 3 levels deep, so this only stops hostile input from
 * driving cJSON's recursion deep into a small device stack. */
#define CFG_JSON_DEPTH_MAX 16

/* Index of the stored key behind idx (itself unless an alias). */
static inline int cfg_store_idx(int idx) {
  return moss_cfg_schema[idx].alias_of >= 0 ? moss_cfg_schema[idx].alias_of
                                            : idx;
}
/* Child of object entry parent (-1 = root) named name, or -1. */
int moss_cfg_find_child(int parent, const char *name);

/* Value access by schema index (leaves; aliases resolve). */
bool moss_cfg_leaf_eq(const struct moss_cfg *a, const struct moss_cfg *b,
                      int idx);
/* The string at idx as stored (NULL when unset). */
const char *moss_cfg_str_at(const struct moss_cfg *cfg, int idx);
int moss_cfg_set_str_at(struct moss_cfg *cfg, int idx, const char *v);
void moss_cfg_set_bool_at(struct moss_cfg *cfg, int idx, bool v);
void moss_cfg_set_int_at(struct moss_cfg *cfg, int idx, int32_t v);
void moss_cfg_set_double_at(struct moss_cfg *cfg, int idx, double v);
bool moss_cfg_bool_at(const struct moss_cfg *cfg, int idx);
int32_t moss_cfg_int_at(const struct moss_cfg *cfg, int idx);
double moss_cfg_double_at(const struct moss_cfg *cfg, int idx);

/* A JSON value's fitness for a leaf of type t (cJSON item). */
bool moss_cfg_json_type_ok(const struct cJSON *item, enum moss_cfg_type t);
/* Store a JSON value already checked by moss_cfg_json_type_ok. */
int moss_cfg_set_from_json(struct moss_cfg *cfg, int idx,
                           const struct cJSON *item);
/* Whether storing item at idx would change cfg. */
bool moss_cfg_json_differs(const struct moss_cfg *cfg, int idx,
                           const struct cJSON *item);

/* Positions in JSON text (cfg_pos.c), no heap. */
void moss_cfg_pos_line_col(const char *text, size_t off, int *line, int *col);
/* Offset of the value reached by following member indexes idx[0..n) from
 * the root object of text (which cJSON accepted); stops at the deepest
 * reachable value. */
size_t moss_cfg_pos_locate(const char *text, size_t len, const int *idx,
                           size_t n);
/* Bracket structure of text, strings skipped: the first closer that
 * does not match, nesting deeper than max (<= CFG_JSON_DEPTH_MAX), or an
 * unterminated bracket (*off = len) or string.  Sharper positions than
 * cJSON's error pointer for these cases. */
enum cfg_scan {
  CFG_SCAN_OK = 0,
  CFG_SCAN_TOO_DEEP,
  CFG_SCAN_MISMATCH,
  CFG_SCAN_EOF,     /* brackets left open at the end */
  CFG_SCAN_EOF_STR, /* a string left open; *off is its opening quote */
};
enum cfg_scan moss_cfg_pos_scan(const char *text, size_t len, int max,
                                size_t *off);
/* What is wrong at off, for a cJSON syntax error: "unexpected '}'". */
void moss_cfg_pos_describe(const char *text, size_t len, size_t off, char *out,
                           size_t outsz);

/* Append ".name" (or "name" at the root) to a path buffer, cutting at
 * CFG_PATH_MAX - 1. */
void moss_cfg_path_join(char *dst, const char *prefix, const char *name);

#endif
