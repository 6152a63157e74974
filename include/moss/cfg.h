/*
 * moss/cfg.h - the device configuration: schema, defaults, layers,
 * conf_acl, and the logic of Config.Get / Config.Set / Config.Save
 * (spec config.md).
 *
 * The tree is a plain C struct generated from config/schema.yaml at build
 * time (struct moss_cfg in <moss/cfg_schema.h>, under $(BUILD)/gen), so code
 * reads settings as fields: cfg->http.listen_addr, cfg->rpc.max_frame_size.
 * A descriptor table (moss_cfg_schema[], schema order) gives each key's
 * dotted path, type, offset in the struct and default; everything dynamic
 * (JSON, layers, RPC) walks that table.
 *
 * Strings: a `const char *` field is NULL when unset (the empty string is
 * never stored), points at the schema's default literal until changed, and
 * otherwise at a moss_alloc'd copy (MOSS_SUB_CFG) owned by the tree.  Never
 * write through them or keep them across a change of the tree: any set,
 * load or free may release the old string.
 *
 * Lifecycle (the tree is a caller-owned plain struct):
 *   struct moss_cfg cfg;
 *   moss_cfg_init(&cfg);                      defaults, cannot fail
 *   moss_cfg_load_boot(&cfg, &env);           layers conf1..conf9 (§3)
 *   ... cfg.http.listen_addr, moss_cfg_get_int(&cfg, "rpc.auth_algo") ...
 *   moss_cfg_rpc_set(&cfg, &env, params, &res, &st);   Config.Set glue
 *                                  (moss/priv/cfg_json.h)
 *   moss_cfg_free(&cfg);                      back to defaults, no heap
 *
 * File access goes through struct moss_cfg_fs (callbacks), so the module
 * does not depend on a filesystem API; names are relative to the device
 * filesystem root ("conf9.json").
 *
 * JSON is cJSON with its allocation hooks routed to moss_alloc
 * (MOSS_SUB_JSON) by moss_cfg_json_init(), which every entry point below
 * that touches cJSON calls.  The hooks are process-global: call it (or
 * the core's JSON init, which installs the same hooks) before any other
 * cJSON use, so that no block is allocated by one allocator and freed by
 * the other.
 *
 * Single-threaded, like the rest of the runtime.
 */
#ifndef MOSS_CFG_H
#define MOSS_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/cfg_schema.h" /* generated: struct moss_cfg */

/* ---- schema ------------------------------------------------------------ */

enum moss_cfg_type {
  MOSS_CFG_T_OBJ = 0,
  MOSS_CFG_T_BOOL,
  MOSS_CFG_T_INT,
  MOSS_CFG_T_DOUBLE,
  MOSS_CFG_T_STR,
};

/* Descriptor flags. */
#define MOSS_CFG_F_VALIDATE 0x01u /* security file: Config.Set validates */

/* One schema entry (generated; const, lives in flash on a device). */
struct moss_cfg_desc {
  const char *path;  /* dotted: "http.listen_addr" */
  uint16_t name_off; /* path + name_off = last component */
  uint8_t type;      /* enum moss_cfg_type */
  uint8_t flags;     /* MOSS_CFG_F_* */
  uint16_t depth;    /* 0 for top-level keys */
  uint16_t end;      /* objects: index one past the last descendant */
  int16_t alias_of;  /* >= 0: no storage, the index of the real key */
  uint32_t offset;   /* of the field in struct moss_cfg (leaves) */
  union {
    bool b;
    int32_t i;
    double d;
    const char *s; /* NULL for "" */
  } def;
};

extern const struct moss_cfg_desc moss_cfg_schema[];
extern const size_t moss_cfg_schema_len;

/* Index of the entry with this dotted path (len bytes), or -1. */
int moss_cfg_find(const char *path, size_t len);
/* Name of a type for error texts: "bool", "int", "number", "string",
 * "object". */
const char *moss_cfg_type_name(enum moss_cfg_type t);

/* ---- the tree ------------------------------------------------------------ */

/* Defaults (level 0); no allocation.  Overwrites cfg without freeing. */
void moss_cfg_init(struct moss_cfg *cfg);
/* Releases every allocated string and returns cfg to the defaults.
 * NULL-safe.  Strings are wiped (they may hold passwords). */
void moss_cfg_free(struct moss_cfg *cfg);
/* dst = a deep copy of src; dst must be initialised (it is freed first).
 * MOSS_ERR_NOMEM leaves dst at the defaults. */
int moss_cfg_copy(struct moss_cfg *dst, const struct moss_cfg *src);

/* Typed getters by dotted path (aliases resolve).  A wrong path or type is
 * a programming error here: they return false / 0 / 0.0 / NULL. */
bool moss_cfg_get_bool(const struct moss_cfg *cfg, const char *path);
int32_t moss_cfg_get_int(const struct moss_cfg *cfg, const char *path);
double moss_cfg_get_double(const struct moss_cfg *cfg, const char *path);
/* NULL when unset; the pointer is valid until the next change of cfg. */
const char *moss_cfg_get_str(const struct moss_cfg *cfg, const char *path);

/* Typed setters for code (no conf_acl: that is for layers and RPC).
 * MOSS_ERR_NOENT unknown path (or an object), MOSS_ERR_INVAL wrong type,
 * MOSS_ERR_NOMEM.  A NULL or "" string unsets.  The value is copied. */
int moss_cfg_set_bool(struct moss_cfg *cfg, const char *path, bool v);
int moss_cfg_set_int(struct moss_cfg *cfg, const char *path, int32_t v);
int moss_cfg_set_double(struct moss_cfg *cfg, const char *path, double v);
int moss_cfg_set_str(struct moss_cfg *cfg, const char *path, const char *v);
/* Sets one "key=value" given as text (mossd --set): the value is parsed by
 * the key's type (true/false, an int32 in C syntax, a double, a string;
 * aliases resolve).  MOSS_ERR_INVAL with why (whylen bytes, one line
 * starting with the key: "nope.key: no such config key", "x: invalid
 * value \"big\"", "<kv>: expected key=value", "http: is an object"), or
 * the setter's MOSS_ERR_NOMEM. */
int moss_cfg_set_text(struct moss_cfg *cfg, const char *kv, char *why,
                      size_t whylen);

/* ---- conf_acl (§4) ------------------------------------------------------- */

/* Whether acl (a conf_acl value; NULL or "" denies all) allows setting
 * the key at schema index idx.  For an aliased key an entry naming either
 * spelling decides.  No heap. */
bool moss_cfg_acl_allows(const char *acl, int idx);
/* Same for an arbitrary dotted path (no alias handling). */
bool moss_cfg_acl_allows_path(const char *acl, const char *path, size_t len);

/* ---- JSON ---------------------------------------------------------------- */

/* Route cJSON's allocations to moss_alloc(MOSS_SUB_JSON).  Idempotent. */
void moss_cfg_json_init(void);

/* The tree as cJSON (moss_cfg_to_json, moss_cfg_diff_json) and the
 * Config.* logic over cJSON params are declared in moss/priv/cfg_json.h,
 * so that this header names no JSON library type. */

/* ---- layers (§3) --------------------------------------------------------- */

/* Largest configuration file read (bytes); bigger files are refused. */
#define MOSS_CFG_FILE_MAX 8192
/* Capacity of a status message (RPC error text, parse error). */
#define MOSS_CFG_MSG_MAX 192

/* Filesystem callbacks (the integrator plugs moss_fs in).  ctx is passed
 * back unchanged.  Names are NUL-terminated, relative to the root. */
struct moss_cfg_fs {
  void *ctx;
  /* Read the whole file into buf (cap bytes).  Returns the length (>= 0),
   * MOSS_ERR_NOENT if it does not exist, MOSS_ERR_TOOBIG if it is longer
   * than cap, another moss_err on failure. */
  int (*read)(void *ctx, const char *name, char *buf, size_t cap);
  /* Replace the file with data atomically (temporary file + rename): after
   * a power cut either the old or the new content is there. */
  int (*write)(void *ctx, const char *name, const void *data, size_t len);
  /* MOSS_OK, or MOSS_ERR_NOENT if there was no such file. */
  int (*remove)(void *ctx, const char *name);
  bool (*exists)(void *ctx, const char *name);
  /* Optional (NULL: read + write + remove).  Replaces dst. */
  int (*rename)(void *ctx, const char *src, const char *dst);
};

/* Security-file validator (§5.3), called by Config.Set for each key with
 * MOSS_CFG_F_VALIDATE that the request changes to a non-empty value,
 * before anything is applied.  cand is the tree as it would be after the
 * request (so ssl_key can be checked against a new ssl_cert); value is the
 * new value.  Return true to accept; false with a NUL-terminated reason
 * in reason[reasonsz] ("ecc.crt.pem: no certificate found"). */
typedef bool moss_cfg_validate_fn(void *arg, const struct moss_cfg *cand,
                                  const char *path, const char *value,
                                  char *reason, size_t reasonsz);

/* Everything the layer and RPC functions need besides the tree.  Plain
 * struct the integrator fills once; all pointers borrowed for the call. */
struct moss_cfg_env {
  const struct moss_cfg_fs *fs;
  const uint8_t *mac;             /* 6 bytes for '?' expansion, or NULL */
  moss_cfg_validate_fn *validate; /* NULL: no validation */
  void *validate_arg;
};

/* Load flags. */
#define MOSS_CFG_LOAD_STRICT 0x01u /* a broken or unreadable file fails */

/* Boot (§3): rename a legacy conf.json to conf9.json, load levels 1..9
 * (conf1..conf5, conf_vendor, conf6..conf8, conf9), each from
 * conf<N>.json.try when that exists, delete conf9.json.try after use,
 * apply conf_acl per level, expand '?' in device.id and wifi.ap.ssid.
 * Broken files are skipped with an ERROR log line
 * "conf9.json:4:17: config parse error: <what>"; denied keys with
 * "Not allowed to set [<path>]"; unknown keys with DEBUG
 * "Unknown key [<path>]".  cfg must be initialised; it is reset to the
 * defaults first.  Returns MOSS_OK, or MOSS_ERR_NOMEM. */
int moss_cfg_load_boot(struct moss_cfg *cfg, const struct moss_cfg_env *env);

/* The tree of levels 0..max_level (0..9) without side effects (no rename,
 * no .try deletion; .try files are read like at boot), '?' expanded.
 * With MOSS_CFG_LOAD_STRICT a file that exists but cannot be read or
 * parsed fails the load (MOSS_ERR_IO / MOSS_ERR_PARSE) and err (if not
 * NULL, errsz bytes) gets the text.  cfg must be initialised. */
int moss_cfg_load_levels(struct moss_cfg *cfg, const struct moss_cfg_env *env,
                         int max_level, unsigned flags, char *err,
                         size_t errsz);

/* Apply one layer file's text (len bytes, need not be NUL-terminated) to
 * cfg, as loading does: the whole layer is refused if it is not a JSON
 * object of the schema's types (MOSS_ERR_PARSE, err gets
 * "<fname>:<line>:<col>: config parse error: <what>"); otherwise every
 * known leaf allowed by acl (NULL = allow all) is set, others are logged
 * and skipped.  Pure: no file access. */
int moss_cfg_apply_layer(struct moss_cfg *cfg, const char *fname,
                         const char *text, size_t len, const char *acl,
                         char *err, size_t errsz);

/* Expand each '?' of device.id and wifi.ap.ssid, right to left, with the
 * upper-case hex digits of the MAC's last bytes (24:0a:c4:00:31:bc:
 * "esp32_??????" -> "esp32_0031BC").  MOSS_ERR_NOMEM. */
int moss_cfg_expand_placeholders(struct moss_cfg *cfg, const uint8_t mac[6]);

/* Write the values of cfg that differ from levels 0..level-1 to
 * conf<level>.json (level 1..9), or conf9.json.try with try_once (level 9
 * only).  Any stale conf9.json.try is removed first.  Atomic through
 * fs->write.  err gets the reason on failure. */
int moss_cfg_save(const struct moss_cfg *cfg, const struct moss_cfg_env *env,
                  int level, bool try_once, char *err, size_t errsz);

/* ---- Config.* RPC logic (§5) ------------------------------------------- */

/* Outcome of an RPC call: code 0 = success, otherwise the RPC error code
 * (400, 403, 404, -1) with msg the error message. */
struct moss_cfg_status {
  int code;
  char msg[MOSS_CFG_MSG_MAX];
};

/* The RPC logic itself, moss_cfg_rpc_get / _set / _save and
 * moss_cfg_apply_set, takes cJSON params: moss/priv/cfg_json.h. */

#endif
