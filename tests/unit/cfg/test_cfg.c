/* Unit tests of cfg/: defaults, layers, conf_acl, Config.Get/Set/Save. */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "memfs.h"
#include "moss/alloc.h"
#include "moss/cfg.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/priv/cfg_json.h"
#include "moss/util.h"

static struct memfs fs;
static const uint8_t mac[6] = {0x24, 0x0a, 0xc4, 0x00, 0x31, 0xbc};

/* Log lines seen through the sink, "<LEVEL>|msg\n" each. */
static char logbuf[8192];
static void sink(void *arg, enum moss_log_level lvl, const char *mod,
                 const char *msg) {
  (void)arg;
  (void)mod;
  size_t n = strlen(logbuf);
  snprintf(logbuf + n, sizeof(logbuf) - n, "%d|%s\n", (int)lvl, msg);
}
static bool logged(enum moss_log_level lvl, const char *msg) {
  char want[512];
  snprintf(want, sizeof(want), "%d|%s\n", (int)lvl, msg);
  return strstr(logbuf, want) != NULL;
}

static struct moss_cfg_env env(void) {
  struct moss_cfg_env e = {.fs = memfs_ops(&fs), .mac = mac};
  return e;
}

static void fresh(void) {
  memfs_reset(&fs);
  logbuf[0] = '\0';
  moss_log_set_level(MOSS_LL_DEBUG);
}

/* Parse JSON text with the moss hooks (caller deletes). */
static cJSON *js(const char *text) {
  moss_cfg_json_init();
  cJSON *j = cJSON_Parse(text);
  MOSS_ASSERT(j != NULL);
  return j;
}

/* Config.Set with params given as JSON text; returns st.code. */
static int rpc_set(struct moss_cfg *cfg, const struct moss_cfg_env *e,
                   const char *params, struct moss_cfg_status *st,
                   bool *saved) {
  cJSON *p = js(params), *res = NULL;
  bool reboot;
  moss_cfg_rpc_set(cfg, e, p, &res, &reboot, st);
  if (saved != NULL)
    *saved = cJSON_IsTrue(cJSON_GetObjectItem(res, "saved"));
  cJSON_Delete(res);
  cJSON_Delete(p);
  return st->code;
}

static bool str_eq(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* ---- defaults ---------------------------------------------------------- */

/* mossd --set: text parsed by the key's type; errors name the key. */
static void test_set_text(void) {
  struct moss_cfg c;
  char why[192];
  moss_cfg_init(&c);
  MT_CHECK_EQ(
      moss_cfg_set_text(&c, "rpc.max_frame_size=0x2000", why, sizeof(why)),
      MOSS_OK);
  MT_CHECK_EQ(c.rpc.max_frame_size, 8192);
  MT_CHECK_EQ(moss_cfg_set_text(&c, "http.enable=false", why, sizeof(why)),
              MOSS_OK);
  MT_CHECK(!c.http.enable);
  MT_CHECK_EQ(moss_cfg_set_text(&c, "rpc.auth_domain=a=b", why, sizeof(why)),
              MOSS_OK);
  MT_CHECK_STR(c.rpc.auth_domain, "a=b");
  MT_CHECK_EQ(moss_cfg_set_text(&c, "nope.key=1", why, sizeof(why)),
              MOSS_ERR_INVAL);
  MT_CHECK_STR(why, "nope.key: no such config key");
  MT_CHECK_EQ(moss_cfg_set_text(&c, "rpc.max_frame_size=big", why, sizeof(why)),
              MOSS_ERR_INVAL);
  MT_CHECK_STR(why, "rpc.max_frame_size: invalid value \"big\"");
  MT_CHECK_EQ(
      moss_cfg_set_text(&c, "rpc.max_frame_size=99999999999", why, sizeof(why)),
      MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_cfg_set_text(&c, "http.enable=yes", why, sizeof(why)),
              MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_cfg_set_text(&c, "http.enable", why, sizeof(why)),
              MOSS_ERR_INVAL);
  MT_CHECK_STR(why, "http.enable: expected key=value");
  MT_CHECK_EQ(moss_cfg_set_text(&c, "http=1", why, sizeof(why)),
              MOSS_ERR_INVAL);
  MT_CHECK_STR(why, "http: is an object");
  moss_cfg_free(&c);
}

static void test_defaults_match_spec(void) {
  struct moss_cfg c;
  moss_cfg_init(&c);
  /* rpc (rpc.md §3) */
  MT_CHECK(c.rpc.enable && c.rpc.http_enable && c.rpc.service_sys_enable);
  MT_CHECK(moss_cfg_get_bool(&c, "rpc.http.enable"));
  MT_CHECK_EQ(c.rpc.max_frame_size, 4096);
  MT_CHECK_EQ(c.rpc.max_queue_length, 25);
  MT_CHECK_EQ(c.rpc.max_non_persistent_channels, 20);
  MT_CHECK_EQ(c.rpc.default_out_channel_idle_close_timeout, 10);
  MT_CHECK_STR(c.rpc.auth_domain, "RPC");
  MT_CHECK(c.rpc.acl == NULL && c.rpc.acl_file == NULL);
  MT_CHECK_EQ(c.rpc.auth_nonce_ttl, 300);
  MT_CHECK_EQ(c.rpc.uart.baud_rate, 115200);
  MT_CHECK_EQ(c.rpc.uart.fc_type, 2);
  MT_CHECK_EQ(c.rpc.ws.reconnect_interval_max, 60);
  MT_CHECK_STR(c.rpc.mqtt.sub_topic, "%.*s/rpc");
  MT_CHECK_EQ(c.rpc.mqtt.qos, 1);
  /* http (config.md §2.2, http.md §1) */
  MT_CHECK(c.http.enable);
  MT_CHECK_STR(c.http.listen_addr, "80");
  MT_CHECK_STR(moss_cfg_get_str(&c, "http.document_root"), "/");
  MT_CHECK_STR(c.http.upload_acl, "*");
  MT_CHECK(c.http.ssl_cert == NULL && c.http.index_files == NULL);
  MT_CHECK_EQ(c.http.auth_algo, 0);
  /* device, sys, i2c */
  MT_CHECK_STR(c.device.id, "esp32_??????");
  MT_CHECK(c.device.mac == NULL);
  MT_CHECK_EQ(c.sys.wdt_timeout, 30);
  MT_CHECK(c.sys.atca.enable);
  MT_CHECK_EQ(c.sys.atca.i2c_addr, 0x60);
  MT_CHECK_EQ(moss_cfg_get_int(&c, "sys.atca.ecdh_slots_mask"), 0x0c);
  MT_CHECK(c.i2c.enable);
  MT_CHECK_EQ(c.i2c.freq, 100000);
  MT_CHECK_EQ(c.i2c.sda_gpio, 21);
  MT_CHECK_EQ(c.i2c.scl_gpio, 22);
  /* debug */
  MT_CHECK_EQ(c.debug.level, 2);
  MT_CHECK_EQ(c.debug.event_level, 2);
  MT_CHECK_EQ(c.debug.factory_reset_gpio, -1);
  MT_CHECK_EQ(c.debug.mbedtls_level, 1);
  /* wifi */
  MT_CHECK(c.wifi.ap.enable && !c.wifi.sta.enable);
  MT_CHECK_STR(c.wifi.ap.ssid, "Mongoose_??????");
  MT_CHECK_STR(c.wifi.ap.pass, "Mongoose");
  MT_CHECK_EQ(c.wifi.ap.channel, 6);
  MT_CHECK_STR(c.wifi.ap.netmask, "255.255.255.0");
  MT_CHECK_STR(c.wifi.ap.gw, "192.168.4.1");
  MT_CHECK(c.wifi.sta.ssid == NULL);
  /* mqtt */
  MT_CHECK(!c.mqtt.enable);
  MT_CHECK_STR(c.mqtt.server, "iot.eclipse.org:1883");
  MT_CHECK(c.mqtt.reconnect_timeout_min == 2.0);
  MT_CHECK(moss_cfg_get_double(&c, "mqtt.reconnect_timeout_max") == 60.0);
  MT_CHECK(c.mqtt.clean_session && c.mqtt.cloud_events && !c.mqtt.ws_enable);
  MT_CHECK_EQ(c.mqtt.keep_alive, 60);
  MT_CHECK_EQ(c.mqtt.max_qos, 2);
  MT_CHECK_EQ(c.mqtt.recv_mbuf_limit, 3072);
  MT_CHECK_EQ(c.mqtt.max_queue_length, 5);
  MT_CHECK_STR(c.mqtt.ws_path, "/mqtt");
  MT_CHECK_STR(c.conf_acl, "*");
  moss_cfg_free(&c);
}

static void test_typed_access(void) {
  struct moss_cfg c;
  moss_cfg_init(&c);
  MT_CHECK_EQ(moss_cfg_set_str(&c, "http.listen_addr", ":443"), MOSS_OK);
  MT_CHECK_STR(c.http.listen_addr, ":443");
  MT_CHECK_EQ(moss_cfg_set_str(&c, "debug.level", "3"), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_cfg_set_int(&c, "http.listen_addr", 1), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_cfg_set_int(&c, "http", 1), MOSS_ERR_NOENT);
  MT_CHECK_EQ(moss_cfg_set_bool(&c, "no.such", true), MOSS_ERR_NOENT);
  MT_CHECK_EQ(moss_cfg_set_bool(&c, "rpc.http.enable", false), MOSS_OK);
  MT_CHECK(!c.rpc.http_enable);
  MT_CHECK_EQ(moss_cfg_set_double(&c, "mqtt.reconnect_timeout_min", 1.5),
              MOSS_OK);
  MT_CHECK(c.mqtt.reconnect_timeout_min == 1.5);
  MT_CHECK_EQ(moss_cfg_set_str(&c, "http.document_root", ""), MOSS_OK);
  MT_CHECK(c.http.document_root == NULL);
  /* Copy owns its strings: freeing the original must not touch it. */
  struct moss_cfg d;
  moss_cfg_init(&d);
  MT_REQUIRE(moss_cfg_copy(&d, &c) == MOSS_OK);
  MT_CHECK(d.http.listen_addr != c.http.listen_addr);
  moss_cfg_free(&c);
  MT_CHECK_STR(d.http.listen_addr, ":443");
  MT_CHECK_STR(c.http.listen_addr, "80");
  moss_cfg_free(&d);
  MT_CHECK_EQ(moss_cfg_find("rpc.http.enable", 15) >= 0, 1);
  MT_CHECK_EQ(moss_cfg_find("rpc.http.enabl", 14), -1);
  MT_CHECK_EQ(moss_cfg_find("http.listen_addr.x", 18), -1);
}

/* ---- Config.Get -------------------------------------------------------- */

static void test_get_subtree_and_scalar(void) {
  fresh();
  struct moss_cfg c;
  moss_cfg_init(&c);
  struct moss_cfg_env e = env();
  struct moss_cfg_status st;
  cJSON *res = NULL, *p = js("{\"key\":\"http\"}");
  MT_REQUIRE(moss_cfg_rpc_get(&c, &e, p, &res, &st) == MOSS_OK);
  /* http.md §1: what a fresh device shows for http. */
  cJSON *want =
      js("{\"auth_algo\":0,\"auth_domain\":\"\",\"auth_file\":\"\","
         "\"document_root\":\"/\",\"enable\":true,\"extra_headers\":\"\","
         "\"hidden_files\":\"\",\"index_files\":\"\",\"listen_addr\":\"80\","
         "\"ssl_ca_cert\":\"\",\"ssl_cert\":\"\",\"ssl_key\":\"\","
         "\"upload_acl\":\"*\"}");
  MT_CHECK(cJSON_Compare(res, want, true));
  /* schema order: enable first, extra_headers last */
  MT_CHECK_STR(res->child->string, "enable");
  cJSON_Delete(want);
  cJSON_Delete(res);
  cJSON_Delete(p);

  p = js("{\"key\":\"http.listen_addr\"}");
  MT_REQUIRE(moss_cfg_rpc_get(&c, &e, p, &res, &st) == MOSS_OK);
  MT_CHECK(cJSON_IsString(res) && strcmp(res->valuestring, "80") == 0);
  cJSON_Delete(res);
  cJSON_Delete(p);

  /* rpc shows both spellings of the alias */
  p = js("{\"key\":\"rpc\"}");
  MT_REQUIRE(moss_cfg_rpc_get(&c, &e, p, &res, &st) == MOSS_OK);
  MT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(res, "http_enable")));
  MT_CHECK(cJSON_IsTrue(
      cJSON_GetObjectItem(cJSON_GetObjectItem(res, "http"), "enable")));
  cJSON_Delete(res);
  cJSON_Delete(p);

  p = js("{\"key\":\"http.nope\"}");
  MT_CHECK(moss_cfg_rpc_get(&c, &e, p, &res, &st) < 0);
  MT_CHECK_EQ(st.code, 404);
  MT_CHECK_STR(st.msg, "invalid config key");
  MT_CHECK(res == NULL);
  cJSON_Delete(p);

  /* whole tree: top level in schema order */
  MT_REQUIRE(moss_cfg_rpc_get(&c, &e, NULL, &res, &st) == MOSS_OK);
  MT_CHECK_STR(res->child->string, "device");
  MT_CHECK(cJSON_GetObjectItem(res, "conf_acl") != NULL);
  cJSON_Delete(res);
  moss_cfg_free(&c);
}

static void test_get_level(void) {
  fresh();
  memfs_put(&fs, "conf1.json", "{\"debug\":{\"level\":3}}");
  memfs_put(&fs, "conf9.json", "{\"debug\":{\"level\":4}}");
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  struct moss_cfg_status st;
  moss_cfg_init(&c);
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  MT_CHECK_EQ(c.debug.level, 4);
  cJSON *res = NULL, *p = js("{\"key\":\"debug.level\",\"level\":1}");
  MT_REQUIRE(moss_cfg_rpc_get(&c, &e, p, &res, &st) == MOSS_OK);
  MT_CHECK_EQ(res->valueint, 3);
  cJSON_Delete(res);
  cJSON_Delete(p);
  p = js("{\"key\":\"debug.level\",\"level\":0}");
  MT_REQUIRE(moss_cfg_rpc_get(&c, &e, p, &res, &st) == MOSS_OK);
  MT_CHECK_EQ(res->valueint, 2);
  cJSON_Delete(res);
  cJSON_Delete(p);
  /* A broken file in the requested stack: 400. */
  memfs_put(&fs, "conf2.json", "{\"debug\":");
  p = js("{\"level\":2}");
  MT_CHECK(moss_cfg_rpc_get(&c, &e, p, &res, &st) < 0);
  MT_CHECK_EQ(st.code, 400);
  MT_CHECK_STR(st.msg, "failed to load config");
  cJSON_Delete(p);
  moss_cfg_free(&c);
}

/* ---- layers ------------------------------------------------------------ */

static void test_layer_order(void) {
  fresh();
  memfs_put(&fs, "conf1.json", "{\"http\":{\"listen_addr\":\"81\"}}");
  memfs_put(&fs, "conf5.json",
            "{\"http\":{\"listen_addr\":\"82\"},\"debug\":{\"level\":3}}");
  memfs_put(&fs, "conf_vendor.json", "{\"http\":{\"listen_addr\":\"83\"}}");
  memfs_put(&fs, "conf8.json", "{\"sys\":{\"wdt_timeout\":9}}");
  memfs_put(&fs, "conf9.json", "{\"http\":{\"listen_addr\":\"443\"}}");
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  moss_cfg_init(&c);
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  MT_CHECK_STR(c.http.listen_addr, "443");
  MT_CHECK_EQ(c.debug.level, 3);
  MT_CHECK_EQ(c.sys.wdt_timeout, 9);
  MT_CHECK_EQ(moss_cfg_load_levels(&c, &e, 4, 0, NULL, 0), MOSS_OK);
  MT_CHECK_STR(c.http.listen_addr, "81");
  MT_CHECK_EQ(c.debug.level, 2);
  MT_CHECK_EQ(moss_cfg_load_levels(&c, &e, 5, 0, NULL, 0), MOSS_OK);
  MT_CHECK_STR(c.http.listen_addr, "82");
  MT_CHECK_EQ(moss_cfg_load_levels(&c, &e, 6, 0, NULL, 0), MOSS_OK);
  MT_CHECK_STR(c.http.listen_addr, "83"); /* conf_vendor = level 5.5 */
  MT_CHECK_EQ(moss_cfg_load_levels(&c, &e, 0, 0, NULL, 0), MOSS_OK);
  MT_CHECK_STR(c.http.listen_addr, "80");
  moss_cfg_free(&c);
}

static void test_try_once_files(void) {
  fresh();
  memfs_put(&fs, "conf3.json", "{\"debug\":{\"level\":3}}");
  memfs_put(&fs, "conf3.json.try", "{\"debug\":{\"level\":4}}");
  memfs_put(&fs, "conf9.json", "{\"http\":{\"listen_addr\":\"1\"}}");
  memfs_put(&fs, "conf9.json.try", "{\"http\":{\"listen_addr\":\"2\"}}");
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  moss_cfg_init(&c);
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  MT_CHECK_STR(c.http.listen_addr, "2");
  MT_CHECK_EQ(c.debug.level, 4);
  MT_CHECK(!memfs_has(&fs, "conf9.json.try")); /* one boot only */
  MT_CHECK(memfs_has(&fs, "conf3.json.try"));  /* vendor .try stays */
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  MT_CHECK_STR(c.http.listen_addr, "1");
  /* load_levels has no side effects */
  memfs_put(&fs, "conf9.json.try", "{\"http\":{\"listen_addr\":\"3\"}}");
  MT_CHECK_EQ(moss_cfg_load_levels(&c, &e, 9, 0, NULL, 0), MOSS_OK);
  MT_CHECK_STR(c.http.listen_addr, "3");
  MT_CHECK(memfs_has(&fs, "conf9.json.try"));
  moss_cfg_free(&c);
}

static void test_legacy_conf_json(void) {
  fresh();
  memfs_put(&fs, "conf.json", "{\"sys\":{\"tz_spec\":\"UTC0\"}}");
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  moss_cfg_init(&c);
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  MT_CHECK_STR(c.sys.tz_spec, "UTC0");
  MT_CHECK(!memfs_has(&fs, "conf.json"));
  MT_CHECK_STR(memfs_get(&fs, "conf9.json"),
               "{\"sys\":{\"tz_spec\":\"UTC0\"}}");
  moss_cfg_free(&c);
}

static void test_placeholders(void) {
  fresh();
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  moss_cfg_init(&c);
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  MT_CHECK_STR(c.device.id, "esp32_0031BC");
  MT_CHECK_STR(c.wifi.ap.ssid, "Mongoose_0031BC");
  /* A user value with placeholders is expanded as well. */
  memfs_put(&fs, "conf9.json", "{\"device\":{\"id\":\"dev-???\"}}");
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  MT_CHECK_STR(c.device.id, "dev-1BC");
  /* More '?' than MAC digits: the extra ones stay. */
  MT_REQUIRE(moss_cfg_set_str(&c, "device.id", "??????????????") == MOSS_OK);
  MT_REQUIRE(moss_cfg_expand_placeholders(&c, mac) == MOSS_OK);
  MT_CHECK_STR(c.device.id, "??240AC40031BC");
  moss_cfg_free(&c);
}

static void test_conf_acl_while_loading(void) {
  fresh();
  memfs_put(&fs, "conf1.json",
            "{\"conf_acl\":\"wifi.*,debug.level,-rpc.http.enable\","
            "\"http\":{\"listen_addr\":\"81\"}}");
  memfs_put(&fs, "conf9.json",
            "{\"http\":{\"listen_addr\":\"443\"},\"debug\":{\"level\":4},"
            "\"wifi\":{\"sta\":{\"ssid\":\"home\"}},"
            "\"rpc\":{\"http_enable\":false},\"conf_acl\":\"*\"}");
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  moss_cfg_init(&c);
  moss_log_set_sink(sink, NULL);
  moss_log_set_stderr(0);
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  moss_log_set_sink(NULL, NULL);
  moss_log_set_stderr(1);
  /* conf1 itself was loaded under "*": its own listen_addr applies */
  MT_CHECK_STR(c.http.listen_addr, "81");
  MT_CHECK_EQ(c.debug.level, 4);
  MT_CHECK_STR(c.wifi.sta.ssid, "home");
  MT_CHECK(c.rpc.http_enable); /* -rpc.http.enable protects both spellings */
  MT_CHECK_STR(c.conf_acl, "wifi.*,debug.level,-rpc.http.enable");
  MT_CHECK(logged(MOSS_LL_ERROR, "Not allowed to set [http.listen_addr]"));
  MT_CHECK(logged(MOSS_LL_ERROR, "Not allowed to set [rpc.http_enable]"));
  MT_CHECK(logged(MOSS_LL_ERROR, "Not allowed to set [conf_acl]"));
  moss_cfg_free(&c);
}

static void test_acl_matching(void) {
  int ssid = moss_cfg_find("wifi.sta.ssid", 13);
  int lvl = moss_cfg_find("debug.level", 11);
  int he = moss_cfg_find("rpc.http_enable", 15);
  int alias = moss_cfg_find("rpc.http.enable", 15);
  MT_CHECK(moss_cfg_acl_allows("*", ssid));
  MT_CHECK(moss_cfg_acl_allows("wifi.*,debug.level", ssid));
  MT_CHECK(moss_cfg_acl_allows("wifi.*,debug.level", lvl));
  MT_CHECK(!moss_cfg_acl_allows("wifi.*,debug.level", he));
  MT_CHECK(!moss_cfg_acl_allows("-debug.*,*", lvl));
  MT_CHECK(moss_cfg_acl_allows("-debug.*,*", ssid));
  MT_CHECK(!moss_cfg_acl_allows("", ssid));
  MT_CHECK(!moss_cfg_acl_allows("-rpc.http_enable,*", alias));
  MT_CHECK(!moss_cfg_acl_allows("-rpc.http.enable,*", he));
  MT_CHECK(moss_cfg_acl_allows("+rpc.http.enable", he));
  MT_CHECK(
      !moss_cfg_acl_allows("-rpc.*,-conf_acl,*", moss_cfg_find("conf_acl", 8)));
}

static void parse_err(const char *text, const char *want) {
  struct moss_cfg c;
  char err[MOSS_CFG_MSG_MAX];
  moss_cfg_init(&c);
  int r = moss_cfg_apply_layer(&c, "conf9.json", text, strlen(text), NULL, err,
                               sizeof(err));
  MT_CHECK_EQ(r, MOSS_ERR_PARSE);
  if (strcmp(err, want) != 0)
    mt_fail(__FILE__, __LINE__, "got \"%s\", want \"%s\"", err, want);
  /* nothing of the file applied */
  MT_CHECK(c.http.enable);
  MT_CHECK_STR(c.http.listen_addr, "80");
  moss_cfg_free(&c);
}

static void test_parse_errors_line_col(void) {
  parse_err(
      "{\n  \"http\": {\n    \"enable\": false,\n"
      "    \"listen_addr\": 443\n  }\n}\n",
      "conf9.json:4:20: config parse error: http.listen_addr: "
      "expected string");
  parse_err("{\"http\": {\"enable\": false}, \"debug\": {\"level\": 1.5}}",
            "conf9.json:1:48: config parse error: debug.level: expected int");
  parse_err("{\"http\": {\"enable\": false}, \"debug\": 3}",
            "conf9.json:1:38: config parse error: debug: expected object");
  parse_err("{\"http\": {\"enable\": false} \"x\": 1}",
            "conf9.json:1:28: config parse error: unexpected '\"'");
  parse_err("{\"http\": {\"enable\": false,\n",
            "conf9.json:2:1: config parse error: unexpected end of input");
  parse_err("{\"http\": {\"enable\": false, \"listen_addr\": \"8",
            "conf9.json:1:45: config parse error: unexpected end of input");
  parse_err("{\"http\": [1, 2}",
            "conf9.json:1:15: config parse error: unexpected '}'");
  parse_err("  [1]",
            "conf9.json:1:3: config parse error: the root must be "
            "an object");
  parse_err("{\"http\": {\"enable\": false}} x",
            "conf9.json:1:29: config parse error: unexpected data after "
            "the JSON value");
  parse_err("{\"a\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}",
            "conf9.json:1:21: config parse error: nesting too deep");
  /* unknown keys are fine (skipped), null unsets a string */
  struct moss_cfg c;
  moss_cfg_init(&c);
  const char *ok =
      "{\"nope\":{\"x\":1},\"http\":{\"document_root\":null,"
      "\"zzz\":1,\"enable\":false}}";
  MT_CHECK_EQ(moss_cfg_apply_layer(&c, "f", ok, strlen(ok), NULL, NULL, 0),
              MOSS_OK);
  MT_CHECK(c.http.document_root == NULL && !c.http.enable);
  moss_cfg_free(&c);
}

static void test_broken_layer_skipped_at_boot(void) {
  fresh();
  memfs_put(&fs, "conf2.json", "{\"debug\":{\"level\":3}}");
  memfs_put(&fs, "conf9.json",
            "{\n  \"debug\": {\"level\": 4},\n  \"http\": {\"enable\": 1}\n}");
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  moss_cfg_init(&c);
  moss_log_set_sink(sink, NULL);
  moss_log_set_stderr(0);
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  moss_log_set_sink(NULL, NULL);
  moss_log_set_stderr(1);
  MT_CHECK_EQ(c.debug.level, 3); /* conf9 skipped entirely */
  MT_CHECK(c.http.enable);
  MT_CHECK(logged(MOSS_LL_ERROR,
                  "conf9.json:3:22: config parse error: "
                  "http.enable: expected bool"));
  moss_cfg_free(&c);
}

/* ---- Config.Set -------------------------------------------------------- */

static void test_set_types_and_errors(void) {
  fresh();
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  struct moss_cfg_status st;
  moss_cfg_init(&c);
  static const struct {
    const char *params;
    int code;
    const char *msg;
  } cases[] = {
      {"{\"config\":{\"http\":{\"listen_addr\":443}}}", 400,
       "invalid config value: http.listen_addr: expected string"},
      {"{\"config\":{\"debug\":{\"level\":\"3\"}}}", 400,
       "invalid config value: debug.level: expected int"},
      {"{\"config\":{\"debug\":{\"level\":1.5}}}", 400,
       "invalid config value: debug.level: expected int"},
      {"{\"config\":{\"debug\":{\"level\":4294967296}}}", 400,
       "invalid config value: debug.level: expected int"},
      {"{\"config\":{\"http\":{\"enable\":1}}}", 400,
       "invalid config value: http.enable: expected bool"},
      {"{\"config\":{\"mqtt\":{\"reconnect_timeout_min\":\"x\"}}}", 400,
       "invalid config value: mqtt.reconnect_timeout_min: expected number"},
      {"{\"config\":{\"http\":\"x\"}}", 400,
       "invalid config value: http: expected object"},
      {"{\"config\":{\"http\":{\"enable\":false,\"foo\":1}}}", 400,
       "invalid config value: unknown key http.foo"},
      {"{\"key\":\"http.nope\",\"value\":1}", 404, "invalid config key"},
      {"{\"key\":\"http\"}", 400, "value is required"},
      {"{\"config\":{\"debug\":{\"level\":3}},\"level\":0}", 400,
       "not allowed"},
      {"{\"key\":\"debug.level\",\"value\":true}", 400,
       "invalid config value: debug.level: expected int"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int code = rpc_set(&c, &e, cases[i].params, &st, NULL);
    if (code != cases[i].code || strcmp(st.msg, cases[i].msg) != 0)
      mt_fail(__FILE__, __LINE__, "%s: got %d \"%s\"", cases[i].params, code,
              st.msg);
  }
  /* atomic: the valid http.enable of a failed request was not applied */
  MT_CHECK(c.http.enable);
  /* successes: nested, key + scalar, key + object, double from int */
  bool saved = true;
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"config\":{\"http\":{\"listen_addr\":\":443\","
                      "\"ssl_key\":\"ATCA:0\"},"
                      "\"mqtt\":{\"reconnect_timeout_min\":5}}}",
                      &st, &saved),
              0);
  MT_CHECK(!saved);
  MT_CHECK_STR(c.http.listen_addr, ":443");
  MT_CHECK_STR(c.http.ssl_key, "ATCA:0");
  MT_CHECK(c.mqtt.reconnect_timeout_min == 5.0);
  MT_CHECK_EQ(
      rpc_set(&c, &e, "{\"key\":\"debug.level\",\"value\":3}", &st, NULL), 0);
  MT_CHECK_EQ(c.debug.level, 3);
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"key\":\"wifi.sta\",\"config\":{\"enable\":true,"
                      "\"ssid\":\"x\"}}",
                      &st, NULL),
              0);
  MT_CHECK(c.wifi.sta.enable);
  MT_CHECK_STR(c.wifi.sta.ssid, "x");
  MT_CHECK_EQ(
      rpc_set(&c, &e, "{\"config\":{\"http\":{\"ssl_key\":\"\"}}}", &st, NULL),
      0);
  MT_CHECK(c.http.ssl_key == NULL);
  moss_cfg_free(&c);
}

static void test_set_alias(void) {
  fresh();
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  struct moss_cfg_status st;
  moss_cfg_init(&c);
  MT_CHECK_EQ(
      rpc_set(&c, &e, "{\"config\":{\"rpc\":{\"http\":{\"enable\":false}}}}",
              &st, NULL),
      0);
  MT_CHECK(!c.rpc.http_enable);
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"config\":{\"rpc\":{\"http_enable\":true,"
                      "\"http\":{\"enable\":true}}}}",
                      &st, NULL),
              0);
  MT_CHECK(c.rpc.http_enable);
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"config\":{\"rpc\":{\"http_enable\":true,"
                      "\"http\":{\"enable\":false}}}}",
                      &st, NULL),
              400);
  MT_CHECK_STR(st.msg,
               "invalid config value: rpc.http.enable and "
               "rpc.http_enable differ");
  MT_CHECK(c.rpc.http_enable);
  MT_CHECK_EQ(rpc_set(&c, &e, "{\"key\":\"rpc.http.enable\",\"value\":false}",
                      &st, NULL),
              0);
  MT_CHECK(!c.rpc.http_enable);
  moss_cfg_free(&c);
}

static void test_set_conf_acl_refusal(void) {
  fresh();
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  struct moss_cfg_status st;
  moss_cfg_init(&c);
  MT_REQUIRE(moss_cfg_set_str(&c, "conf_acl", "-rpc.*,-conf_acl,*") == 0);
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"config\":{\"http\":{\"listen_addr\":\"1\"},"
                      "\"rpc\":{\"auth_file\":\"x\"}}}",
                      &st, NULL),
              403);
  MT_CHECK_STR(st.msg, "not allowed to set rpc.auth_file");
  MT_CHECK_STR(c.http.listen_addr, "80"); /* whole request refused */
  MT_CHECK_EQ(
      rpc_set(&c, &e, "{\"key\":\"conf_acl\",\"value\":\"*\"}", &st, NULL),
      403);
  MT_CHECK_STR(st.msg, "not allowed to set conf_acl");
  /* alias: -rpc.* denies rpc.http.enable too */
  MT_CHECK_EQ(rpc_set(&c, &e, "{\"key\":\"rpc.http.enable\",\"value\":false}",
                      &st, NULL),
              403);
  MT_CHECK_STR(st.msg, "not allowed to set rpc.http.enable");
  /* the running ACL applies for vendor levels too */
  MT_CHECK_EQ(
      rpc_set(&c, &e, "{\"config\":{\"rpc\":{\"enable\":false}},\"level\":3}",
              &st, NULL),
      403);
  MT_CHECK(!memfs_has(&fs, "conf3.json"));
  /* an unchanged value is not a change: allowed */
  MT_CHECK_EQ(
      rpc_set(&c, &e, "{\"config\":{\"rpc\":{\"enable\":true}}}", &st, NULL),
      0);
  MT_CHECK_EQ(rpc_set(&c, &e, "{\"config\":{\"http\":{\"listen_addr\":\"1\"}}}",
                      &st, NULL),
              0);
  MT_CHECK_STR(c.http.listen_addr, "1");
  moss_cfg_free(&c);
}

static int validations;
static bool validator(void *arg, const struct moss_cfg *cand, const char *path,
                      const char *value, char *reason, size_t n) {
  (void)arg;
  validations++;
  if (strcmp(path, "http.ssl_key") == 0 &&
      !str_eq(cand->http.ssl_cert, "good.pem")) {
    snprintf(reason, n, "%s: key does not match the certificate", value);
    return false;
  }
  if (strcmp(value, "bad.pem") == 0) {
    snprintf(reason, n, "bad.pem: no certificate found");
    return false;
  }
  return true;
}

static void test_set_validation(void) {
  fresh();
  struct moss_cfg_env e = env();
  e.validate = validator;
  struct moss_cfg c;
  struct moss_cfg_status st;
  moss_cfg_init(&c);
  validations = 0;
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"config\":{\"http\":{\"ssl_cert\":\"bad.pem\","
                      "\"listen_addr\":\":443\"}}}",
                      &st, NULL),
              400);
  MT_CHECK_STR(st.msg,
               "invalid config value: http.ssl_cert: bad.pem: no "
               "certificate found");
  MT_CHECK_STR(c.http.listen_addr, "80");
  /* the key is checked against the certificate of the same request */
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"config\":{\"http\":{\"ssl_cert\":\"good.pem\","
                      "\"ssl_key\":\"k.pem\"}}}",
                      &st, NULL),
              0);
  MT_CHECK_EQ(validations, 3);
  /* clearing a key is not validated; non-security keys never are */
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"config\":{\"http\":{\"ssl_cert\":\"\","
                      "\"document_root\":\"bad.pem\"}}}",
                      &st, NULL),
              0);
  MT_CHECK_EQ(validations, 3);
  moss_cfg_free(&c);
}

/* ---- Config.Save ------------------------------------------------------- */

static void test_save_diff_only(void) {
  fresh();
  memfs_put(&fs, "conf1.json", "{\"debug\":{\"level\":3}}");
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  struct moss_cfg_status st;
  bool saved = false;
  moss_cfg_init(&c);
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"config\":{\"http\":{\"listen_addr\":\":443\"},"
                      "\"debug\":{\"level\":3},"
                      "\"rpc\":{\"http\":{\"enable\":false}}},\"save\":true}",
                      &st, &saved),
              0);
  MT_CHECK(saved);
  /* device.id (expanded) and debug.level (= conf1) are not written; the
   * alias is written with the Mongoose OS spelling only. */
  MT_CHECK_STR(memfs_get(&fs, "conf9.json"),
               "{\"rpc\":{\"http_enable\":false},"
               "\"http\":{\"listen_addr\":\":443\"}}");
  /* try_once: the .try file only */
  MT_CHECK_EQ(rpc_set(&c, &e,
                      "{\"config\":{\"http\":{\"listen_addr\":\"8\"}},"
                      "\"save\":true,\"try_once\":true}",
                      &st, NULL),
              0);
  MT_CHECK_STR(memfs_get(&fs, "conf9.json.try"),
               "{\"rpc\":{\"http_enable\":false},"
               "\"http\":{\"listen_addr\":\"8\"}}");
  MT_CHECK_STR(memfs_get(&fs, "conf9.json"),
               "{\"rpc\":{\"http_enable\":false},"
               "\"http\":{\"listen_addr\":\":443\"}}");
  /* Config.Save: a normal save removes the stale .try */
  cJSON *res = NULL, *p = js("{\"reboot\":true}");
  bool reboot = false;
  MT_REQUIRE(moss_cfg_rpc_save(&c, &e, p, &res, &reboot, &st) == MOSS_OK);
  MT_CHECK(reboot);
  MT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(res, "saved")));
  MT_CHECK(!memfs_has(&fs, "conf9.json.try"));
  MT_CHECK_STR(memfs_get(&fs, "conf9.json"),
               "{\"rpc\":{\"http_enable\":false},"
               "\"http\":{\"listen_addr\":\"8\"}}");
  cJSON_Delete(res);
  /* a failing write: -1 with the reason */
  fs.fail_write = MOSS_ERR_NOSPC;
  MT_CHECK(moss_cfg_rpc_save(&c, &e, p, &res, &reboot, &st) < 0);
  MT_CHECK_EQ(st.code, -1);
  MT_CHECK_STR(st.msg,
               "error saving config: cannot write conf9.json: "
               "no space left");
  MT_CHECK(res == NULL);
  fs.fail_write = 0;
  cJSON_Delete(p);
  moss_cfg_free(&c);
}

static void test_save_vendor_level(void) {
  fresh();
  memfs_put(&fs, "conf2.json", "{\"debug\":{\"level\":3}}");
  memfs_put(&fs, "conf3.json", "{\"sys\":{\"wdt_timeout\":5}}");
  struct moss_cfg_env e = env();
  struct moss_cfg c;
  struct moss_cfg_status st;
  bool saved = false;
  moss_cfg_init(&c);
  MT_REQUIRE(moss_cfg_load_boot(&c, &e) == MOSS_OK);
  MT_CHECK_EQ(
      rpc_set(&c, &e, "{\"config\":{\"mqtt\":{\"enable\":true}},\"level\":3}",
              &st, &saved),
      0);
  MT_CHECK(saved);
  MT_CHECK(!c.mqtt.enable); /* the running tree is not changed */
  MT_CHECK_STR(memfs_get(&fs, "conf3.json"),
               "{\"sys\":{\"wdt_timeout\":5},\"mqtt\":{\"enable\":true}}");
  MT_CHECK_STR(memfs_get(&fs, "conf2.json"), "{\"debug\":{\"level\":3}}");
  moss_cfg_free(&c);
}

static void test_round_trip(void) {
  fresh();
  struct moss_cfg_env e = env();
  struct moss_cfg a, b;
  struct moss_cfg_status st;
  moss_cfg_init(&a);
  moss_cfg_init(&b);
  MT_REQUIRE(moss_cfg_load_boot(&a, &e) == MOSS_OK);
  MT_CHECK_EQ(rpc_set(&a, &e,
                      "{\"config\":{\"http\":{\"document_root\":\"\","
                      "\"listen_addr\":\"127.0.0.1:8080\"},"
                      "\"wifi\":{\"ap\":{\"pass\":\"s3cr\\\"et\\\\\"},"
                      "\"sta\":{\"enable\":true}},"
                      "\"mqtt\":{\"reconnect_timeout_max\":12.25},"
                      "\"debug\":{\"factory_reset_gpio\":-2147483648},"
                      "\"device\":{\"id\":\"my-dev\"}},\"save\":true}",
                      &st, NULL),
              0);
  MT_REQUIRE(moss_cfg_load_boot(&b, &e) == MOSS_OK);
  cJSON *ja = moss_cfg_to_json(&a, NULL, NULL);
  cJSON *jb = moss_cfg_to_json(&b, NULL, NULL);
  MT_CHECK(ja != NULL && cJSON_Compare(ja, jb, true));
  MT_CHECK(b.http.document_root == NULL);
  MT_CHECK_STR(b.wifi.ap.pass, "s3cr\"et\\");
  MT_CHECK_EQ(b.debug.factory_reset_gpio, INT32_MIN);
  MT_CHECK(b.mqtt.reconnect_timeout_max == 12.25);
  cJSON_Delete(ja);
  cJSON_Delete(jb);
  moss_cfg_free(&a);
  moss_cfg_free(&b);
}

/* Out of memory at every allocation of a Set + save + boot: an error or
 * success, never a crash or a leak (the harness checks leaks). */
static void test_nomem_everywhere(void) {
  for (size_t n = 1; n < 200; n++) {
    fresh();
    memfs_put(&fs, "conf1.json", "{\"http\":{\"listen_addr\":\"81\"}}");
    struct moss_cfg_env e = env();
    struct moss_cfg c;
    struct moss_cfg_status st;
    moss_cfg_init(&c);
    cJSON *p =
        js("{\"config\":{\"wifi\":{\"sta\":{\"ssid\":\"abc\"}}},"
           "\"save\":true}");
    cJSON *res = NULL;
    moss_log_set_stderr(0);
    moss_alloc_fail_after(n);
    moss_cfg_load_boot(&c, &e);
    moss_cfg_rpc_set(&c, &e, p, &res, NULL, &st);
    moss_alloc_fail_after(0);
    moss_log_set_stderr(1);
    cJSON_Delete(res);
    cJSON_Delete(p);
    moss_cfg_free(&c);
  }
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  MT_RUN(test_defaults_match_spec);
  MT_RUN(test_set_text);
  MT_RUN(test_typed_access);
  MT_RUN(test_get_subtree_and_scalar);
  MT_RUN(test_get_level);
  MT_RUN(test_layer_order);
  MT_RUN(test_try_once_files);
  MT_RUN(test_legacy_conf_json);
  MT_RUN(test_placeholders);
  MT_RUN(test_conf_acl_while_loading);
  MT_RUN(test_acl_matching);
  MT_RUN(test_parse_errors_line_col);
  MT_RUN(test_broken_layer_skipped_at_boot);
  MT_RUN(test_set_types_and_errors);
  MT_RUN(test_set_alias);
  MT_RUN(test_set_conf_acl_refusal);
  MT_RUN(test_set_validation);
  MT_RUN(test_save_diff_only);
  MT_RUN(test_save_vendor_level);
  MT_RUN(test_round_trip);
  MT_RUN(test_nomem_everywhere);
  return mt_done();
}
