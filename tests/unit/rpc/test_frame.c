/* Frame parsing and reply serialisation (spec rpc.md §1). */
#include <string.h>

#include "harness.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/rpc.h"
#include "rpc_test.h"

static int parse_c(const char *s, struct moss_rpc_frame *f) {
  return moss_rpc_frame_parse(s, strlen(s), 4096, f);
}

static void test_parse_request(void) {
  struct moss_rpc_frame f;
  const char *s =
      "{\"id\":1,\"src\":\"mos\",\"dst\":\"d1\",\"tag\":\"t\","
      "\"method\":\"RPC.Ping\",\"params\":{\"a\":2},\"v\":2,"
      "\"auth\":{\"realm\":\"r\"},\"key\":1,\"trace\":[]}";
  MT_REQUIRE(parse_c(s, &f) == MOSS_OK);
  MT_CHECK_EQ(f.id_type, MOSS_RPC_ID_NUMBER);
  MT_CHECK_STR(f.id, "1");
  MT_CHECK_STR(f.src, "mos");
  MT_CHECK_STR(f.dst, "d1");
  MT_CHECK_STR(f.tag, "t");
  MT_CHECK_STR(f.method, "RPC.Ping");
  MT_CHECK(cJSON_IsObject(f.params));
  MT_CHECK_EQ(cJSON_GetObjectItem(f.params, "a")->valueint, 2);
  MT_CHECK(!f.params_and_args);
  MT_CHECK(cJSON_IsObject(f.auth));
  moss_rpc_frame_free(&f);
  MT_CHECK(f.root == NULL && f.id == NULL);
  moss_rpc_frame_free(&f); /* twice is fine */
}

/* The reply must carry the id exactly as sent, type and spelling. */
static void test_id_preserved(void) {
  static const struct {
    const char *frame, *id;
    enum moss_rpc_id_type type;
  } cases[] = {
      {"{\"id\":7,\"method\":\"X\"}", "7", MOSS_RPC_ID_NUMBER},
      {"{\"id\":\"7\",\"method\":\"X\"}", "\"7\"", MOSS_RPC_ID_STRING},
      {"{\"id\":\"abc\",\"method\":\"X\"}", "\"abc\"", MOSS_RPC_ID_STRING},
      /* beyond double precision: must not become ...992 */
      {"{\"id\":9007199254740993,\"method\":\"X\"}", "9007199254740993",
       MOSS_RPC_ID_NUMBER},
      {"{\"id\":9223372036854775807}", "9223372036854775807",
       MOSS_RPC_ID_NUMBER},
      {"{\"id\":-1.5e3}", "-1.5e3", MOSS_RPC_ID_NUMBER},
      {" { \"x\" : [1,{\"id\":5}], \"id\" : 42 } ", "42", MOSS_RPC_ID_NUMBER},
      {"{\"x\":\"\\\"id\\\":3\",\"id\":\"q\\\"r\"}", "\"q\\\"r\"",
       MOSS_RPC_ID_STRING},
      {"{\"id\":\"\\u00e9\"}", "\"\\u00e9\"", MOSS_RPC_ID_STRING},
      /* escaped key: falls back to cJSON's own (type-preserving) print */
      {"{\"\\u0069d\":12}", "12", MOSS_RPC_ID_NUMBER},
      /* cJSON accepts "01" and "2."; echoed raw they would be invalid
       * JSON, so these get cJSON's spelling */
      {"{\"id\":01}", "1", MOSS_RPC_ID_NUMBER},
      {"{\"id\":2.}", "2", MOSS_RPC_ID_NUMBER},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct moss_rpc_frame f;
    int ret = parse_c(cases[i].frame, &f);
    if (ret != MOSS_OK) {
      mt_fail(__FILE__, __LINE__, "case %zu: %d", i, ret);
      continue;
    }
    MT_CHECK_EQ(f.id_type, cases[i].type);
    MT_CHECK_STR(f.id, cases[i].id);
    moss_rpc_frame_free(&f);
  }
}

/* §1.3: not JSON / not an object / bad id type; moss also refuses wrong
 * types for the string keys and bytes the JSON text cannot hold. */
static void test_parse_invalid(void) {
  static const char *bad[] = {
      "",
      " ",
      "{",
      "}",
      "nonsense",
      "{\"id\":1,}",
      "[1,2]",
      "\"str\"",
      "42",
      "null",
      "{\"id\":1} x",
      "{\"id\":1}{\"id\":2}",
      "{\"id\":null}",
      "{\"id\":true}",
      "{\"id\":{}}",
      "{\"id\":[1]}",
      "{\"id\":1,\"method\":5}",
      "{\"id\":1,\"src\":[]}",
      "{\"id\":1,\"dst\":1}",
      "{\"id\":1,\"tag\":{}}",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct moss_rpc_frame f;
    int ret = parse_c(bad[i], &f);
    if (ret != MOSS_ERR_PARSE)
      mt_fail(__FILE__, __LINE__, "'%s' gave %d", bad[i], ret);
    MT_CHECK(f.root == NULL && f.id == NULL);
  }
  struct moss_rpc_frame f;
  MT_CHECK_EQ(moss_rpc_frame_parse("{\"id\":1}\0", 9, 100, &f), MOSS_ERR_PARSE);
  MT_CHECK_EQ(moss_rpc_frame_parse("{\"method\":\"a\0b\"}", 16, 100, &f),
              MOSS_ERR_PARSE);
  /* Trailing whitespace and a missing id are fine. */
  MT_CHECK_EQ(parse_c("{\"method\":\"X\"}\r\n ", &f), MOSS_OK);
  MT_CHECK_EQ(f.id_type, MOSS_RPC_ID_NONE);
  MT_CHECK(f.id == NULL);
  moss_rpc_frame_free(&f);
}

static void test_parse_size_cap(void) {
  char buf[200];
  memset(buf, ' ', sizeof(buf));
  memcpy(buf, "{\"id\":1}", 8);
  struct moss_rpc_frame f;
  MT_CHECK_EQ(moss_rpc_frame_parse(buf, 101, 100, &f), MOSS_ERR_TOOBIG);
  MT_CHECK_EQ(moss_rpc_frame_parse(buf, 100, 100, &f), MOSS_OK);
  moss_rpc_frame_free(&f);
}

static void test_params_args(void) {
  struct moss_rpc_frame f;
  MT_REQUIRE(parse_c("{\"method\":\"X\",\"args\":{\"a\":1}}", &f) == MOSS_OK);
  MT_CHECK(cJSON_GetObjectItem(f.params, "a") != NULL);
  MT_CHECK(!f.params_and_args);
  moss_rpc_frame_free(&f);
  MT_REQUIRE(
      parse_c("{\"method\":\"X\",\"args\":{\"a\":1},\"params\":{\"b\":2}}",
              &f) == MOSS_OK);
  MT_CHECK(cJSON_GetObjectItem(f.params, "b") != NULL);
  MT_CHECK(f.params_and_args);
  moss_rpc_frame_free(&f);
}

static void test_parse_response_frame(void) {
  struct moss_rpc_frame f;
  MT_REQUIRE(parse_c("{\"id\":3,\"result\":[1]}", &f) == MOSS_OK);
  MT_CHECK(f.method == NULL);
  MT_CHECK(cJSON_IsArray(f.result));
  moss_rpc_frame_free(&f);
  MT_REQUIRE(parse_c("{\"id\":3,\"error\":{\"code\":404}}", &f) == MOSS_OK);
  MT_CHECK(cJSON_IsObject(f.error));
  moss_rpc_frame_free(&f);
}

static void test_reply_serialize(void) {
  cJSON *res = cJSON_CreateObject();
  cJSON_AddStringToObject(res, "channel_info", "");
  struct moss_rpc_reply r = {
      .id = "1", .src = "esp32_0031BC", .dst = "mos", .result = res};
  char *s;
  size_t n;
  MT_REQUIRE(moss_rpc_reply_serialize(&r, &s, &n) == MOSS_OK);
  MT_CHECK_STR(s,
               "{\"id\":1,\"src\":\"esp32_0031BC\",\"dst\":\"mos\","
               "\"result\":{\"channel_info\":\"\"}}");
  MT_CHECK_EQ(n, strlen(s));
  moss_free(s);
  cJSON_Delete(res);

  struct moss_rpc_reply e = {.id = "\"x\"",
                             .src = "d",
                             .tag = "T",
                             .is_error = true,
                             .code = 404,
                             .message = "No handler for Foo.Bar"};
  MT_REQUIRE(moss_rpc_reply_serialize(&e, &s, &n) == MOSS_OK);
  MT_CHECK_STR(s,
               "{\"id\":\"x\",\"src\":\"d\",\"tag\":\"T\",\"error\":"
               "{\"code\":404,\"message\":\"No handler for Foo.Bar\"}}");
  moss_free(s);
  struct moss_rpc_reply z = {
      .id = "2", .src = "d", .dst = "", .is_error = true, .code = 0};
  MT_REQUIRE(moss_rpc_reply_serialize(&z, &s, &n) == MOSS_OK);
  MT_CHECK_STR(s, "{\"id\":2,\"src\":\"d\",\"error\":{\"code\":0}}");
  moss_free(s);
  struct moss_rpc_reply nul = {.id = "2", .src = "d"};
  MT_REQUIRE(moss_rpc_reply_serialize(&nul, &s, &n) == MOSS_OK);
  MT_CHECK_STR(s, "{\"id\":2,\"src\":\"d\",\"result\":null}");
  moss_free(s);
  struct moss_rpc_reply bad = {.src = "d"};
  MT_CHECK_EQ(moss_rpc_reply_serialize(&bad, &s, &n), MOSS_ERR_INVAL);
}

static void test_parse_oom(void) {
  const char *s =
      "{\"id\":1,\"src\":\"mos\",\"method\":\"A.B\","
      "\"params\":{\"a\":[1,2,3],\"b\":\"ccc\"}}";
  int ok = 0;
  for (size_t k = 1; k < 40; k++) {
    struct moss_rpc_frame f;
    moss_alloc_fail_after(k);
    int ret = parse_c(s, &f);
    moss_alloc_fail_after(0);
    MT_CHECK(ret == MOSS_OK || ret == MOSS_ERR_NOMEM);
    if (ret == MOSS_OK)
      ok++;
    moss_rpc_frame_free(&f);
  }
  MT_CHECK(ok > 0);
}

void rpc_frame_tests(void) {
  MT_RUN(test_parse_request);
  MT_RUN(test_id_preserved);
  MT_RUN(test_parse_invalid);
  MT_RUN(test_parse_size_cap);
  MT_RUN(test_params_args);
  MT_RUN(test_parse_response_frame);
  MT_RUN(test_reply_serialize);
  MT_RUN(test_parse_oom);
}
