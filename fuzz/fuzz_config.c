/*
 * Fuzz target: arbitrary bytes as a configuration layer file (conf9.json)
 * and, when they parse, as a Config.Set value.  Exercises the type pass,
 * the line:column locator, conf_acl, the atomic set and the diff writer.
 */
#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/cfg.h"
#include "moss/log.h"
#include "moss/priv/cfg_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int once;
  char err[MOSS_CFG_MSG_MAX];
  if (!once) {
    moss_log_set_level(MOSS_LL_NONE);
    moss_cfg_json_init();
    once = 1;
  }
  if (size > MOSS_CFG_FILE_MAX)
    return 0;
  struct moss_cfg cfg, base;
  moss_cfg_init(&cfg);
  moss_cfg_init(&base);
  moss_cfg_apply_layer(&cfg, "conf9.json", (const char *)data, size,
                       "-debug.*,-rpc.http.enable,*", err, sizeof(err));
  cJSON *diff = moss_cfg_diff_json(&cfg, &base);
  cJSON_Delete(diff);
  cJSON *v = cJSON_ParseWithLength((const char *)data, size);
  if (v != NULL) {
    struct moss_cfg_status st;
    moss_cfg_apply_set(&cfg, NULL, NULL, v, "-conf_acl,*", &st);
    moss_cfg_apply_set(&cfg, NULL, "http", v, NULL, &st);
    cJSON_Delete(v);
  }
  cJSON *all = moss_cfg_to_json(&cfg, NULL, NULL);
  cJSON_Delete(all);
  moss_cfg_free(&cfg);
  return 0;
}
