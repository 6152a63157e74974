/*
 * moss/priv/cfg_json.h - the configuration as cJSON trees, and the logic
 * of Config.Get / Config.Set / Config.Save over cJSON params (spec
 * config.md §5).
 *
 * Private (see moss/priv/rpc_json.h for why cJSON stays out of public
 * headers): src/cfg, the Config service (src/rpc/svc_config.c), tests and
 * fuzzers.  Everything else about the configuration is in moss/cfg.h.
 */
#ifndef MOSS_PRIV_CFG_JSON_H
#define MOSS_PRIV_CFG_JSON_H

#include <cJSON.h>

#include "moss/cfg.h"

/* ---- JSON ---------------------------------------------------------------- */

/* The subtree or scalar at key (NULL or "" = whole tree) as a new cJSON
 * value the caller frees with cJSON_Delete; schema order; unset strings as
 * "".  NULL if key is unknown or on NOMEM (*err says which when err is not
 * NULL: MOSS_ERR_NOENT / MOSS_ERR_NOMEM). */
struct cJSON *moss_cfg_to_json(const struct moss_cfg *cfg, const char *key,
                               int *err);
/* Only the leaves of cfg that differ from base, as a sparse object (the
 * content of a saved layer).  Aliases are never written.  NULL on NOMEM. */
struct cJSON *moss_cfg_diff_json(const struct moss_cfg *cfg,
                                 const struct moss_cfg *base);

/* ---- Config.* RPC logic (§5) ------------------------------------------- */

/* Config.Get {key?, level?}: *result = new cJSON (caller deletes) on
 * success.  level absent or -1 (or 9) = running tree; 0..8 = layers only.
 * Returns MOSS_OK, or <0 with st filled (404 invalid config key,
 * 400 failed to load config, 500 out of memory). */
int moss_cfg_rpc_get(const struct moss_cfg *running,
                     const struct moss_cfg_env *env, const struct cJSON *params,
                     struct cJSON **result, struct moss_cfg_status *st);

/* Config.Set {config|value, key?, level?, save?, try_once?, reboot?}.
 * Applies all keys or none; *result = {"saved":bool}; *reboot (may be
 * NULL) = the caller should reboot 500 ms after replying (reboot with
 * save).  Errors per config.md §5.2 in st. */
int moss_cfg_rpc_set(struct moss_cfg *running, const struct moss_cfg_env *env,
                     const struct cJSON *params, struct cJSON **result,
                     bool *reboot, struct moss_cfg_status *st);

/* Config.Save {try_once?, reboot?}: *result = {"saved":true}; logs
 * "Saved to conf9.json".  Failure: code -1 "error saving config: <why>". */
int moss_cfg_rpc_save(const struct moss_cfg *running,
                      const struct moss_cfg_env *env,
                      const struct cJSON *params, struct cJSON **result,
                      bool *reboot, struct moss_cfg_status *st);

/* The core of Config.Set without RPC parameter parsing: apply value
 * (relative to key, NULL/"" = root) to cfg atomically, checking unknown
 * keys, types, alias consistency, conf_acl (acl; NULL = allow all) and,
 * with env->validate, security files. */
int moss_cfg_apply_set(struct moss_cfg *cfg, const struct moss_cfg_env *env,
                       const char *key, const struct cJSON *value,
                       const char *acl, struct moss_cfg_status *st);

#endif
