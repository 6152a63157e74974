/*
 * Config.Get, Config.Set, Config.Save (spec config.md §5): RPC glue over
 * the configuration module's logic.  See moss/rpc_svc.h.
 */
#include <string.h>

#include "moss/err.h"
#include "moss/log.h"
#include "moss/priv/cfg_json.h"
#include "moss/priv/rpc_json.h"
#include "moss/rpc_svc.h"

static const char *TAG = "svc";

static void reply(struct moss_rpc_req *req, int rc, cJSON *res,
                  const struct moss_cfg_status *st) {
  if (rc == MOSS_OK) {
    moss_rpc_send_response(req, res);
  } else {
    cJSON_Delete(res);
    moss_rpc_send_error(req, st->code ? st->code : 500,
                        st->msg[0] ? st->msg : moss_strerror(rc));
  }
}

static void config_get(struct moss_rpc_req *req, const cJSON *params,
                       void *ud) {
  const struct moss_rpc_svc_config *s = ud;
  cJSON *res = NULL;
  struct moss_cfg_status st;
  memset(&st, 0, sizeof(st));
  int rc = moss_cfg_rpc_get(s->running, s->env, params, &res, &st);
  reply(req, rc, res, &st);
}

static void config_set(struct moss_rpc_req *req, const cJSON *params,
                       void *ud) {
  const struct moss_rpc_svc_config *s = ud;
  cJSON *res = NULL;
  struct moss_cfg_status st;
  memset(&st, 0, sizeof(st));
  bool reboot = false;
  /* Changes go to the persistent tree (what Config.Save writes); the
   * running tree is rebuilt from it plus the run-only overrides. */
  int rc = moss_cfg_rpc_set(s->persist, s->env, params, &res, &reboot, &st);
  if (rc == MOSS_OK && s->rebuild(s->rebuild_arg) != MOSS_OK)
    MOSS_LOG_E(TAG, "cannot rebuild the running configuration");
  reply(req, rc, res, &st);
  if (rc == MOSS_OK && reboot)
    s->reboot->schedule(s->reboot->arg, 500);
}

static void config_save(struct moss_rpc_req *req, const cJSON *params,
                        void *ud) {
  const struct moss_rpc_svc_config *s = ud;
  cJSON *res = NULL;
  struct moss_cfg_status st;
  memset(&st, 0, sizeof(st));
  bool reboot = false;
  int rc = moss_cfg_rpc_save(s->persist, s->env, params, &res, &reboot, &st);
  reply(req, rc, res, &st);
  if (rc == MOSS_OK && reboot)
    s->reboot->schedule(s->reboot->arg, 500);
}

int moss_rpc_svc_config_register(struct moss_rpc *rpc,
                                 const struct moss_rpc_svc_config *s) {
  void *ud = (void *)s; /* handlers change what it points to, not it */
  int ret = moss_rpc_add_handler(rpc, "Config.Get", config_get,
                                 "{key: %Q, level: %d}", ud);
  if (ret == MOSS_OK)
    ret = moss_rpc_add_handler(
        rpc, "Config.Set", config_set,
        "{key: %Q, config: %T, value: %T, level: %d, save: %B, "
        "try_once: %B, reboot: %B}",
        ud);
  if (ret == MOSS_OK)
    ret = moss_rpc_add_handler(rpc, "Config.Save", config_save,
                               "{try_once: %B, reboot: %B}", ud);
  return ret;
}
