/* The RPC core's own methods (spec rpc.md §4): RPC.List, RPC.Describe,
 * RPC.Ping.  They use the public registry API like any other handler. */
#include <string.h>

#include "moss/err.h"
#include "moss/priv/rpc_json.h"
#include "moss/rpc.h"
#include "rpc_int.h"

static void rpc_list(struct moss_rpc_req *req, const cJSON *params,
                     void *userdata) {
  (void)params;
  (void)userdata;
  const struct moss_rpc *rpc = moss_rpc_req_rpc(req);
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a != NULL && i < moss_rpc_handler_count(rpc); i++) {
    cJSON *s = cJSON_CreateString(moss_rpc_handler_name(rpc, i));
    if (s == NULL || !cJSON_AddItemToArray(a, s)) {
      cJSON_Delete(s);
      cJSON_Delete(a);
      a = NULL;
    }
  }
  if (a == NULL) {
    moss_rpc_send_error(req, 500, "out of memory");
    return;
  }
  moss_rpc_send_response(req, a);
}

static void rpc_describe(struct moss_rpc_req *req, const cJSON *params,
                         void *userdata) {
  (void)userdata;
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
  if (!cJSON_IsString(name) || name->valuestring == NULL) {
    moss_rpc_send_error(req, 400, "name is required");
    return;
  }
  const char *n, *fmt;
  if (moss_rpc_lookup(moss_rpc_req_rpc(req), name->valuestring, &n, &fmt) !=
      MOSS_OK) {
    moss_rpc_send_error(req, 404, "name not found");
    return;
  }
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || cJSON_AddStringToObject(o, "name", n) == NULL ||
      cJSON_AddStringToObject(o, "args_fmt", fmt) == NULL) {
    cJSON_Delete(o);
    moss_rpc_send_error(req, 500, "out of memory");
    return;
  }
  moss_rpc_send_response(req, o);
}

static void rpc_ping(struct moss_rpc_req *req, const cJSON *params,
                     void *userdata) {
  (void)params;
  (void)userdata;
  char info[MOSS_RPC_CHANNEL_INFO_MAX] = "";
  struct moss_rpc_channel *ch = moss_rpc_req_channel(req);
  if (ch != NULL)
    moss_rpc_channel_info(ch, info, sizeof(info));
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || cJSON_AddStringToObject(o, "channel_info", info) == NULL) {
    cJSON_Delete(o);
    moss_rpc_send_error(req, 500, "out of memory");
    return;
  }
  moss_rpc_send_response(req, o);
}

int moss_rpc_builtin_register(struct moss_rpc *rpc) {
  int ret = moss_rpc_add_handler(rpc, "RPC.List", rpc_list, "", NULL);
  if (ret == MOSS_OK) {
    ret = moss_rpc_add_handler(rpc, "RPC.Describe", rpc_describe, "{name: %T}",
                               NULL);
  }
  if (ret == MOSS_OK) {
    ret = moss_rpc_add_handler(rpc, "RPC.Ping", rpc_ping, "", NULL);
  }
  return ret;
}
