/*
 * mos config-get, config-set, wifi (spec mos-cli.md §4.2-4.4, config.md §6).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/* Walks a dotted path in tree; NULL if absent. */
static cJSON *lookup(cJSON *tree, const char *path) {
  char buf[256];
  if (strlen(path) >= sizeof(buf))
    return NULL;
  snprintf(buf, sizeof(buf), "%s", path);
  cJSON *cur = tree;
  char *save = NULL;
  for (char *tok = strtok_r(buf, ".", &save); tok;
       tok = strtok_r(NULL, ".", &save)) {
    if (!cJSON_IsObject(cur))
      return NULL;
    cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    if (cur == NULL)
      return NULL;
  }
  return cur;
}

/* rpc.http.enable (the guide's spelling) and rpc.http_enable (Mongoose
 * OS's) name the same setting: use whichever the device has. */
static const char *alias_of(const char *path) {
  if (strcmp(path, "rpc.http.enable") == 0)
    return "rpc.http_enable";
  if (strcmp(path, "rpc.http_enable") == 0)
    return "rpc.http.enable";
  return NULL;
}

static cJSON *lookup_alias(cJSON *tree, const char *path, const char **used) {
  *used = path;
  cJSON *v = lookup(tree, path);
  if (v == NULL && alias_of(path) != NULL) {
    v = lookup(tree, alias_of(path));
    if (v != NULL)
      *used = alias_of(path);
  }
  return v;
}

static cJSON *get_config(struct tool_conn *c) {
  cJSON *params = NULL;
  if (tool_int("level") >= 0) {
    params = cJSON_CreateObject();
    cJSON_AddNumberToObject(params, "level", (double)tool_int("level"));
  }
  cJSON *res = NULL;
  int rc = tool_call_or_fail(c, "Config.Get", params, &res);
  cJSON_Delete(params);
  return rc == 0 ? res : NULL;
}

int cmd_config_get(int argc, char **argv) {
  if (argc > 1)
    return tool_fail("only one path to value is allowed");
  char err[1024];
  struct tool_conn *c = tool_connect(err, sizeof(err));
  if (c == NULL)
    return tool_fail("%s", err);
  cJSON *tree = get_config(c);
  tool_disconnect(c);
  if (tree == NULL)
    return 1;
  int ret = 0;
  const char *used;
  cJSON *v = argc == 1 ? lookup_alias(tree, argv[0], &used) : tree;
  if (v == NULL) {
    ret = tool_fail("no config value at path \"%s\"", argv[0]);
  } else if (cJSON_IsString(v)) {
    printf("%s\n", v->valuestring);
  } else if (cJSON_IsObject(v) || cJSON_IsArray(v) || cJSON_IsNumber(v) ||
             cJSON_IsBool(v) || cJSON_IsNull(v)) {
    tool_print_json(v, true);
  }
  cJSON_Delete(tree);
  return ret;
}

/* Adds value at a dotted path inside obj, creating objects. */
static int set_path(cJSON *obj, const char *path, cJSON *value) {
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", path);
  char *p = buf, *dot;
  while ((dot = strchr(p, '.')) != NULL) {
    *dot = '\0';
    cJSON *next = cJSON_GetObjectItemCaseSensitive(obj, p);
    if (next == NULL)
      next = cJSON_AddObjectToObject(obj, p);
    if (next == NULL || !cJSON_IsObject(next))
      return -1;
    obj = next;
    p = dot + 1;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(obj, p);
  cJSON_AddItemToObject(obj, p, value);
  return 0;
}

/* Converts text to the type of cur.  Returns NULL after printing. */
static cJSON *convert(const cJSON *cur, const char *path, const char *v) {
  if (cJSON_IsString(cur))
    return cJSON_CreateString(v);
  if (cJSON_IsNumber(cur)) {
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(d)) {
      tool_fail("invalid number \"%s\" for %s", v, path);
      return NULL;
    }
    return cJSON_CreateNumber(d);
  }
  if (cJSON_IsBool(cur)) {
    if (strcmp(v, "true") == 0)
      return cJSON_CreateTrue();
    if (strcmp(v, "false") == 0)
      return cJSON_CreateFalse();
    tool_fail("can't convert \"%s\" to a boolean", v);
    return NULL;
  }
  if (cJSON_IsObject(cur)) {
    tool_fail(
        "only strings, numbers and booleans can be set, but path "
        "\"%s\" refers to an object",
        path);
    return NULL;
  }
  tool_fail("cannot set \"%s\": unsupported value type", path);
  return NULL;
}

/* Waits until the device answers again after a reboot, for up to
 * limit_ms.  The device reboots 500 ms after its reply (config.md
 * §5.4): wait past that so the answer comes from the new instance.
 * Returns the connection that got the answer, or NULL. */
static struct tool_conn *wait_for_device(long long limit_ms) {
  usleep(700 * 1000);
  for (long long waited = 0; waited < limit_ms; waited += 300) {
    char err[1024];
    struct tool_conn *c = tool_connect(err, sizeof(err));
    if (c != NULL) {
      cJSON *res = NULL;
      int code = 0;
      int rc = tool_call(c, "RPC.Ping", NULL, &res, &code, err, sizeof(err));
      cJSON_Delete(res);
      /* Any answer means the device is up, also a login request. */
      if (rc >= 0 || code == 401)
        return c;
      tool_disconnect(c);
    }
    usleep(300 * 1000);
  }
  return NULL;
}

/* Whether a setting decides where and how the device serves HTTP and
 * WebSocket: after changing it the device may be up but no longer at
 * the --port mos used. */
static bool moves_endpoint(const char *path) {
  static const char *const keys[] = {"http.enable",      "http.listen_addr",
                                     "http.ssl_cert",    "http.ssl_key",
                                     "http.ssl_ca_cert", "rpc.http.enable",
                                     "rpc.http_enable",  "rpc.ws.enable"};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    if (strcmp(path, keys[i]) == 0)
      return true;
  }
  return false;
}

static bool port_is_network(void) {
  const char *p = tool_str("port");
  return strncmp(p, "ws://", 5) == 0 || strncmp(p, "wss://", 6) == 0 ||
         strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0;
}

/* After the reboot: the device must answer again, and its HTTP server
 * must have started.  The device reports its servers in Sys.GetInfo as
 * "servers": {"http": {"state": "running"|"failed"|"disabled", "addr",
 * "error"}}; a device without that field (or that refuses the call) is
 * trusted.  0 ok, 1 after printing the error. */
static int check_after_reboot(bool moved) {
  /* A device that comes back at all does so within a second or two; a
   * change that moves it away from --port would only make mos wait for
   * nothing. */
  bool may_move = moved && port_is_network();
  long long limit = tool_int("timeout");
  if (may_move && limit > 3000)
    limit = 3000;
  struct tool_conn *c = wait_for_device(limit);
  if (c == NULL && may_move) {
    /* The change itself may have moved the device away from --port. */
    fprintf(stderr,
            "Warning: the device did not answer at %s after the reboot; "
            "with its new HTTP settings it may listen elsewhere (check it "
            "over the UART)\n",
            tool_str("port"));
    return 0;
  }
  if (c == NULL)
    return tool_fail(
        "the device did not answer at %s within %s after "
        "the reboot",
        tool_str("port"), tool_flag("timeout")->sval);
  cJSON *res = NULL;
  char err[1024];
  int code = 0;
  int rc = tool_call(c, "Sys.GetInfo", NULL, &res, &code, err, sizeof(err));
  tool_disconnect(c);
  cJSON *http =
      rc == 0 ? cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(res, "servers"), "http")
              : NULL;
  const char *state =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(http, "state"));
  int ret = 0;
  if (state != NULL && strcmp(state, "failed") == 0) {
    const char *addr =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(http, "addr"));
    const char *why =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(http, "error"));
    if (why == NULL || *why == '\0')
      why = "no reason given";
    /* The address, unless the device's reason already names it. */
    bool say_addr = addr != NULL && *addr != '\0' && strstr(why, addr) == NULL;
    ret = tool_fail(
        "the device rebooted, but its HTTP server did not start%s"
        "%s: %s",
        say_addr ? " on " : "", say_addr ? addr : "", why);
  }
  cJSON_Delete(res);
  return ret;
}

static int config_set(int argc, char **argv) {
  if (argc < 1)
    return tool_fail("at least one path.to.value=value pair should be given");
  char err[1024];
  struct tool_conn *c = tool_connect(err, sizeof(err));
  if (c == NULL)
    return tool_fail("%s", err);
  int ret = 1;
  cJSON *diff = cJSON_CreateObject(), *params = NULL, *res = NULL;
  fprintf(stderr, "Getting configuration...\n");
  cJSON *tree = get_config(c);
  bool moved = false;
  if (tree == NULL)
    goto out;
  for (int i = 0; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (eq == NULL) {
      tool_fail("missing value for \"%s\"", argv[i]);
      goto out;
    }
    char path[256];
    size_t plen = (size_t)(eq - argv[i]);
    if (plen >= sizeof(path))
      plen = sizeof(path) - 1;
    memcpy(path, argv[i], plen);
    path[plen] = '\0';
    const char *used;
    cJSON *cur = lookup_alias(tree, path, &used);
    if (cur == NULL) {
      tool_fail("no config value at path \"%s\"", path);
      goto out;
    }
    cJSON *v = convert(cur, used, eq + 1);
    if (v == NULL)
      goto out;
    set_path(diff, used, v);
    if (moves_endpoint(used))
      moved = true;
  }
  bool save = !tool_bool("no-save");
  bool reboot = save && !tool_bool("no-reboot");
  params = cJSON_CreateObject();
  cJSON_AddItemToObject(params, "config", diff);
  diff = NULL;
  cJSON_AddBoolToObject(params, "save", save);
  cJSON_AddBoolToObject(params, "reboot", reboot);
  if (tool_bool("try-once"))
    cJSON_AddBoolToObject(params, "try_once", true);
  if (tool_int("level") >= 0) {
    cJSON_AddNumberToObject(params, "level", (double)tool_int("level"));
    fprintf(stderr, "Setting new configuration (level %lld)...\n",
            tool_int("level"));
  } else {
    fprintf(stderr, "Setting new configuration...\n");
  }
  if (tool_call_or_fail(c, "Config.Set", params, &res) != 0)
    goto out;
  if (save) {
    cJSON *saved = cJSON_GetObjectItemCaseSensitive(res, "saved");
    fprintf(stderr, reboot ? "Saving and rebooting...\n" : "Saving...\n");
    if (!cJSON_IsTrue(saved)) {
      /* Old firmware: save explicitly. */
      cJSON *sp = cJSON_CreateObject();
      cJSON_AddBoolToObject(sp, "reboot", reboot);
      cJSON_AddBoolToObject(sp, "try_once", tool_bool("try-once"));
      cJSON *sr = NULL;
      int src = 1;
      for (int t = 0; t < 3 && src != 0; t++)
        src = tool_call_or_fail(c, "Config.Save", sp, &sr);
      cJSON_Delete(sp);
      cJSON_Delete(sr);
      if (src != 0)
        goto out;
    }
  }
  if (tool_bool("try-once"))
    fprintf(stderr,
            "Note: --try-once is set, config is valid for one reboot only\n");
  ret = 0;
  if (reboot) {
    tool_disconnect(c);
    c = NULL;
    ret = check_after_reboot(moved);
  }
out:
  cJSON_Delete(diff);
  cJSON_Delete(params);
  cJSON_Delete(res);
  cJSON_Delete(tree);
  tool_disconnect(c);
  return ret;
}

int cmd_config_set(int argc, char **argv) {
  return config_set(argc, argv);
}

int cmd_wifi(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "Usage: mos wifi WIFI_NETWORK_NAME WIFI_PASSWORD\n");
    return 1;
  }
  char ssid[300], pass[300];
  snprintf(ssid, sizeof(ssid), "wifi.sta.ssid=%s", argv[0]);
  snprintf(pass, sizeof(pass), "wifi.sta.pass=%s", argv[1]);
  char *args[] = {"wifi.ap.enable=false", "wifi.sta.enable=true", ssid, pass};
  return config_set(4, args);
}
