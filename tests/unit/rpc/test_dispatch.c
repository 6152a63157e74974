/* Registry, dispatch, built-in methods, channels (spec rpc.md §1-§4). */
#include <string.h>

#include "harness.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/rpc.h"
#include "rpc_test.h"

#define DEV "esp32_0031BC"

static struct moss_rpc *new_rpc(void) {
  struct moss_rpc_cfg cfg = {.device_id = DEV};
  return moss_rpc_new(&cfg);
}

static int echo_calls;

static void h_echo(struct moss_rpc_req *req, const cJSON *params,
                   void *userdata) {
  (void)userdata;
  echo_calls++;
  moss_rpc_send_response(req, params ? cJSON_Duplicate(params, 1) : NULL);
}

static void test_spec_examples(void) {
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0};
  MT_REQUIRE(rpc != NULL);
  fake_open(rpc, &f, "UART");
  log_capture_start();
  bool wr = false;
  MT_CHECK_EQ(
      fake_recv(&f, "{\"id\":1,\"src\":\"mos\",\"method\":\"RPC.Ping\"}", &wr),
      MOSS_OK);
  MT_CHECK(wr);
  MT_CHECK_EQ(
      fake_recv(&f, "{\"id\":2,\"src\":\"mos\",\"method\":\"Foo.Bar\"}", &wr),
      MOSS_OK);
  MT_CHECK(wr);
  log_capture_stop();
  MT_REQUIRE(f.n_out == 2);
  MT_CHECK_STR(f.out[0],
               "{\"id\":1,\"src\":\"esp32_0031BC\",\"dst\":\"mos\","
               "\"result\":{\"channel_info\":\"\"}}");
  MT_CHECK_STR(f.out[1],
               "{\"id\":2,\"src\":\"esp32_0031BC\",\"dst\":\"mos\","
               "\"error\":{\"code\":404,\"message\":"
               "\"No handler for Foo.Bar\"}}");
  MT_CHECK(log_has("Called 'RPC.Ping' via 'UART', ACL: '*'"));
  /* 404 is decided before authorisation: no "Called" line for it. */
  MT_CHECK(!log_has_prefix("Called 'Foo.Bar'"));
  moss_rpc_free(rpc);
  MT_CHECK(f.closed);
}

static void test_builtins(void) {
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0};
  MT_REQUIRE(rpc != NULL);
  MT_CHECK_EQ(moss_rpc_add_handler(rpc, "Foo.Bar", h_echo, "{a: %d}", NULL),
              MOSS_OK);
  MT_CHECK_EQ(moss_rpc_add_handler(rpc, "Sys.*", h_echo, NULL, NULL), MOSS_OK);
  fake_open(rpc, &f, "WS_in");
  f.info = "127.0.0.1:5555";
  log_capture_start();
  fake_recv(&f, "{\"id\":1,\"method\":\"RPC.List\"}", NULL);
  fake_recv(&f,
            "{\"id\":2,\"method\":\"rpc.describe\","
            "\"params\":{\"name\":\"foo.bar\"}}",
            NULL);
  fake_recv(&f, "{\"id\":3,\"method\":\"RPC.Describe\"}", NULL);
  fake_recv(&f,
            "{\"id\":4,\"method\":\"RPC.Describe\","
            "\"params\":{\"name\":\"Nope.X\"}}",
            NULL);
  fake_recv(&f,
            "{\"id\":5,\"method\":\"RPC.Describe\","
            "\"args\":{\"name\":\"RPC.List\"}}",
            NULL);
  fake_recv(&f, "{\"id\":6,\"method\":\"RPC.Ping\"}", NULL);
  fake_recv(&f,
            "{\"id\":7,\"method\":\"RPC.Describe\","
            "\"params\":{\"name\":\"SYS.GetInfo\"}}",
            NULL);
  log_capture_stop();
  MT_REQUIRE(f.n_out == 7);
  MT_CHECK_STR(f.out[0], "{\"id\":1,\"src\":\"" DEV
                         "\",\"result\":"
                         "[\"RPC.List\",\"RPC.Describe\",\"RPC.Ping\","
                         "\"Foo.Bar\",\"Sys.*\"]}");
  MT_CHECK_STR(f.out[1], "{\"id\":2,\"src\":\"" DEV
                         "\",\"result\":"
                         "{\"name\":\"Foo.Bar\",\"args_fmt\":\"{a: %d}\"}}");
  MT_CHECK_STR(f.out[2], "{\"id\":3,\"src\":\"" DEV
                         "\",\"error\":"
                         "{\"code\":400,\"message\":\"name is required\"}}");
  MT_CHECK_STR(f.out[3], "{\"id\":4,\"src\":\"" DEV
                         "\",\"error\":"
                         "{\"code\":404,\"message\":\"name not found\"}}");
  MT_CHECK_STR(f.out[4], "{\"id\":5,\"src\":\"" DEV
                         "\",\"result\":"
                         "{\"name\":\"RPC.List\",\"args_fmt\":\"\"}}");
  MT_CHECK_STR(f.out[5], "{\"id\":6,\"src\":\"" DEV
                         "\",\"result\":"
                         "{\"channel_info\":\"127.0.0.1:5555\"}}");
  MT_CHECK_STR(f.out[6], "{\"id\":7,\"src\":\"" DEV
                         "\",\"result\":"
                         "{\"name\":\"Sys.*\",\"args_fmt\":\"\"}}");
  MT_CHECK(log_has("Called 'rpc.describe' via 'WS_in', ACL: '*'"));
  moss_rpc_free(rpc);
}

static void test_registry(void) {
  struct moss_rpc *rpc = new_rpc();
  MT_REQUIRE(rpc != NULL);
  MT_CHECK_EQ(moss_rpc_add_handler(rpc, "rpc.list", h_echo, "", NULL),
              MOSS_ERR_EXIST);
  MT_CHECK_EQ(moss_rpc_add_handler(rpc, "", h_echo, "", NULL), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_rpc_add_handler(rpc, "A.B", NULL, "", NULL), MOSS_ERR_INVAL);
  MT_CHECK_EQ(moss_rpc_add_handler(rpc, "FS.*", h_echo, "g", NULL), MOSS_OK);
  MT_CHECK_EQ(moss_rpc_add_handler(rpc, "FS.Get", h_echo, "x", NULL), MOSS_OK);
  const char *n, *fmt;
  /* Exact name beats an earlier glob. */
  MT_CHECK_EQ(moss_rpc_lookup(rpc, "fs.get", &n, &fmt), MOSS_OK);
  MT_CHECK_STR(n, "FS.Get");
  MT_CHECK_EQ(moss_rpc_lookup(rpc, "FS.Put", &n, &fmt), MOSS_OK);
  MT_CHECK_STR(fmt, "g");
  MT_CHECK_EQ(moss_rpc_lookup(rpc, "FSX.Put", &n, &fmt), MOSS_ERR_NOENT);
  char name[16];
  int i = 0, ret = MOSS_OK;
  while (ret == MOSS_OK) {
    snprintf(name, sizeof(name), "M.%d", i++);
    ret = moss_rpc_add_handler(rpc, name, h_echo, "", NULL);
  }
  MT_CHECK_EQ(ret, MOSS_ERR_NOSPC);
  MT_CHECK_EQ(i - 1 + 5, MOSS_RPC_MAX_HANDLERS);
  moss_rpc_free(rpc);
}

static void test_src_dst_tag(void) {
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0};
  MT_REQUIRE(rpc != NULL);
  MT_CHECK_EQ(moss_rpc_add_local_id(rpc, "alias"), MOSS_OK);
  fake_open(rpc, &f, "MQTT");
  log_capture_start();
  bool wr = true;
  fake_recv(&f,
            "{\"id\":\"7\",\"src\":\"c1\",\"dst\":\"alias\",\"tag\":\"tg\","
            "\"method\":\"RPC.Ping\"}",
            &wr);
  MT_CHECK(wr);
  fake_recv(&f, "{\"id\":8,\"dst\":\"\",\"tag\":\"\",\"method\":\"RPC.Ping\"}",
            &wr);
  fake_recv(&f,
            "{\"id\":9,\"src\":\"c1\",\"dst\":\"other\","
            "\"method\":\"RPC.Ping\"}",
            &wr);
  MT_CHECK(!wr);
  /* a response to a device request that is not pending */
  fake_recv(&f, "{\"id\":10,\"result\":1}", &wr);
  MT_CHECK(!wr);
  log_capture_stop();
  MT_REQUIRE(f.n_out == 2);
  MT_CHECK_STR(f.out[0],
               "{\"id\":\"7\",\"src\":\"alias\",\"dst\":\"c1\","
               "\"tag\":\"tg\",\"result\":{\"channel_info\":\"\"}}");
  MT_CHECK_STR(f.out[1], "{\"id\":8,\"src\":\"" DEV
                         "\",\"tag\":\"\","
                         "\"result\":{\"channel_info\":\"\"}}");
  MT_CHECK(log_has("Wrong dst: 'other'"));
  moss_rpc_free(rpc);
}

static void test_invalid_frames(void) {
  static const char *bad[] = {
      "not json",
      "[1]",
      "{\"id\":null,\"method\":\"RPC.Ping\"}",
      "{\"id\":[],\"method\":\"RPC.Ping\"}",
      "\"x\"",
  };
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0};
  MT_REQUIRE(rpc != NULL);
  fake_open(rpc, &f, "UART");
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    log_capture_start();
    bool wr = true;
    MT_CHECK_EQ(fake_recv(&f, bad[i], &wr), MOSS_ERR_PARSE);
    MT_CHECK(!wr);
    log_capture_stop();
    char want[300];
    snprintf(want, sizeof(want), "INVALID FRAME (%zu): '%s'", strlen(bad[i]),
             bad[i]);
    if (!log_has(want))
      mt_fail(__FILE__, __LINE__, "no log: %s", want);
  }
  MT_CHECK_EQ(f.n_out, 0);
  /* Long frames are quoted up to 200 bytes, control bytes defused. */
  char big[400];
  memset(big, 'a', sizeof(big));
  big[0] = '\n';
  big[sizeof(big) - 1] = '\0';
  log_capture_start();
  fake_recv(&f, big, NULL);
  log_capture_stop();
  char want[300] = "INVALID FRAME (399): '?";
  memset(want + strlen(want), 'a', 199);
  want[23 + 199] = '\'';
  want[23 + 200] = '\0';
  MT_CHECK(log_has(want));
  /* Over the size cap. */
  char *huge = moss_alloc(MOSS_SUB_APP, 5000);
  MT_REQUIRE(huge != NULL);
  memset(huge, ' ', 4999);
  huge[0] = '{';
  huge[4997] = '}';
  huge[4999] = '\0';
  log_capture_start();
  MT_CHECK_EQ(fake_recv(&f, huge, NULL), MOSS_ERR_TOOBIG);
  log_capture_stop();
  MT_CHECK(log_has("Incoming frame is too big, dropping."));
  moss_free(huge);
  MT_CHECK_EQ(f.n_out, 0);
  moss_rpc_free(rpc);
}

static void test_notification(void) {
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0};
  MT_REQUIRE(rpc != NULL);
  moss_rpc_add_handler(rpc, "E.Cho", h_echo, "", NULL);
  fake_open(rpc, &f, "UART");
  echo_calls = 0;
  bool wr = true;
  MT_CHECK_EQ(fake_recv(&f, "{\"method\":\"E.Cho\",\"params\":1}", &wr),
              MOSS_OK);
  MT_CHECK(!wr);
  MT_CHECK_EQ(echo_calls, 1);
  fake_recv(&f, "{\"method\":\"No.Such\"}", &wr);
  MT_CHECK(!wr);
  MT_CHECK_EQ(f.n_out, 0);
  moss_rpc_free(rpc);
}

static struct moss_rpc_req *held;

static void h_hold(struct moss_rpc_req *req, const cJSON *params,
                   void *userdata) {
  (void)params;
  (void)userdata;
  held = req;
}

static void test_async(void) {
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0}, g = {0};
  MT_REQUIRE(rpc != NULL);
  moss_rpc_add_handler(rpc, "Slow.Op", h_hold, "", NULL);
  fake_open(rpc, &f, "WS_in");
  held = NULL;
  fake_recv(&f,
            "{\"id\":\"a1\",\"src\":\"c\",\"tag\":\"t\","
            "\"method\":\"Slow.Op\"}",
            NULL);
  MT_REQUIRE(held != NULL);
  MT_CHECK_EQ(f.n_out, 0);
  MT_CHECK_STR(moss_rpc_req_method(held), "Slow.Op");
  MT_CHECK_STR(moss_rpc_req_ch_type(held), "WS_in");
  MT_CHECK_STR(moss_rpc_req_user(held), "");
  MT_CHECK(moss_rpc_req_channel(held) == f.ch);
  MT_CHECK_EQ(moss_rpc_send_errorf(held, 500, "took %d ms", 12), MOSS_OK);
  MT_REQUIRE(f.n_out == 1);
  MT_CHECK_STR(f.out[0], "{\"id\":\"a1\",\"src\":\"" DEV
                         "\",\"dst\":\"c\","
                         "\"tag\":\"t\",\"error\":{\"code\":500,\"message\":"
                         "\"took 12 ms\"}}");
  /* The channel goes away before the reply: dropped, no crash. */
  fake_open(rpc, &g, "WS_in");
  held = NULL;
  fake_recv(&g, "{\"id\":2,\"method\":\"slow.op\"}", NULL);
  MT_REQUIRE(held != NULL);
  moss_rpc_channel_closed(g.ch);
  MT_CHECK(moss_rpc_req_channel(held) == NULL);
  MT_CHECK_EQ(moss_rpc_send_response_json(held, "{\"x\":1}"), MOSS_ERR_CLOSED);
  MT_CHECK_EQ(g.n_out, 0);
  /* A request never answered is freed with the instance. */
  fake_recv(&f, "{\"id\":3,\"method\":\"Slow.Op\"}", NULL);
  moss_rpc_free(rpc);
}

static void test_http_like_channel(void) {
  struct moss_rpc *rpc = moss_rpc_new(&(struct moss_rpc_cfg){
      .device_id = DEV, .max_non_persistent_channels = 2});
  MT_REQUIRE(rpc != NULL);
  struct fake_ch h[4];
  memset(h, 0, sizeof(h));
  /* Closes itself inside send_frame, as an HTTP reply does. */
  h[0].non_persistent = true;
  h[0].close_on_send = true;
  fake_open(rpc, &h[0], "HTTP");
  MT_CHECK(!moss_rpc_channel_is_persistent(h[0].ch));
  fake_recv(&h[0], "{\"id\":1,\"method\":\"RPC.Ping\"}", NULL);
  MT_CHECK(h[0].closed);
  MT_CHECK_EQ(h[0].n_out, 1);
  /* Eviction: a third live non-persistent channel closes the oldest. */
  for (int i = 1; i < 4; i++) {
    h[i].non_persistent = true;
    fake_open(rpc, &h[i], "HTTP");
  }
  MT_CHECK(h[1].closed);
  MT_CHECK(!h[2].closed && !h[3].closed);
  /* REST style call. */
  bool wr = false;
  MT_CHECK_EQ(
      moss_rpc_channel_recv_call(h[2].ch, moss_str_c("RPC.Describe"),
                                 moss_str_c(" {\"name\":\"RPC.Ping\"}"), &wr),
      MOSS_OK);
  MT_CHECK(wr);
  MT_REQUIRE(h[2].n_out == 1);
  MT_CHECK_STR(h[2].out[0], "{\"id\":1,\"src\":\"" DEV
                            "\",\"result\":"
                            "{\"name\":\"RPC.Ping\",\"args_fmt\":\"\"}}");
  MT_CHECK_EQ(moss_rpc_channel_recv_call(h[2].ch, moss_str_c("RPC.List"),
                                         moss_str_c("{bad"), &wr),
              MOSS_ERR_PARSE);
  MT_CHECK_EQ(moss_rpc_channel_recv_call(h[2].ch, moss_str_c("RPC.Ping"),
                                         moss_str_c(""), &wr),
              MOSS_OK);
  MT_CHECK_EQ(h[2].n_out, 2);
  moss_rpc_free(rpc);
  MT_CHECK(h[2].closed && h[3].closed);
}

struct authz_state {
  int calls;
  const char *deny_acl;
};

static int authz(void *arg, struct moss_rpc_req *req,
                 const struct moss_rpc_frame *frame,
                 struct moss_rpc_authz *out) {
  struct authz_state *st = arg;
  st->calls++;
  const char *u = moss_rpc_req_user(req);
  if (frame->auth != NULL)
    u = "joe";
  if (strcmp(moss_rpc_req_method(req), "RPC.List") == 0) {
    out->code = 403;
    snprintf(out->message, sizeof(out->message), "unauthorized");
    snprintf(out->acl, sizeof(out->acl), "%s", st->deny_acl);
    return 0;
  }
  if (strcmp(moss_rpc_req_method(req), "RPC.Describe") == 0)
    return MOSS_ERR_IO;
  snprintf(out->acl, sizeof(out->acl), "+user1,-user2");
  snprintf(out->user, sizeof(out->user), "%s", u);
  return 0;
}

static void h_user(struct moss_rpc_req *req, const cJSON *params,
                   void *userdata) {
  (void)params;
  (void)userdata;
  moss_rpc_send_response(req, cJSON_CreateString(moss_rpc_req_user(req)));
}

static void test_authorize_hook(void) {
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0};
  MT_REQUIRE(rpc != NULL);
  struct authz_state st = {0, "-*"};
  moss_rpc_set_authorizer(rpc, authz, &st);
  moss_rpc_add_handler(rpc, "Config.Get", h_user, "", NULL);
  fake_open(rpc, &f, "UART");
  log_capture_start();
  fake_recv(&f, "{\"id\":1,\"method\":\"Config.Get\",\"auth\":{}}", NULL);
  fake_recv(&f, "{\"id\":2,\"method\":\"RPC.List\"}", NULL);
  fake_recv(&f, "{\"id\":3,\"method\":\"No.Thing\"}", NULL);
  fake_recv(&f, "{\"id\":4,\"method\":\"RPC.Describe\"}", NULL);
  MT_CHECK_EQ(moss_rpc_channel_set_user(f.ch, "ws_user"), MOSS_OK);
  fake_recv(&f, "{\"id\":5,\"method\":\"Config.Get\"}", NULL);
  log_capture_stop();
  MT_CHECK_EQ(st.calls, 4); /* not for the 404 */
  MT_REQUIRE(f.n_out == 5);
  MT_CHECK_STR(f.out[0], "{\"id\":1,\"src\":\"" DEV "\",\"result\":\"joe\"}");
  MT_CHECK_STR(f.out[1], "{\"id\":2,\"src\":\"" DEV
                         "\",\"error\":"
                         "{\"code\":403,\"message\":\"unauthorized\"}}");
  MT_CHECK_STR(f.out[2], "{\"id\":3,\"src\":\"" DEV
                         "\",\"error\":"
                         "{\"code\":404,\"message\":\"No handler for "
                         "No.Thing\"}}");
  char want[200];
  snprintf(want, sizeof(want),
           "{\"id\":4,\"src\":\"" DEV
           "\",\"error\":"
           "{\"code\":500,\"message\":\"%s\"}}",
           moss_strerror(MOSS_ERR_IO));
  MT_CHECK_STR(f.out[3], want);
  MT_CHECK_STR(f.out[4], "{\"id\":5,\"src\":\"" DEV
                         "\",\"result\":"
                         "\"ws_user\"}");
  MT_CHECK(
      log_has("Called 'Config.Get' via 'UART', ACL: '+user1,-user2', "
              "user: 'joe'"));
  MT_CHECK(log_has("Denied 'RPC.List' via 'UART', ACL: '-*': unauthorized"));
  moss_rpc_free(rpc);
}

static void test_log_injection(void) {
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0};
  MT_REQUIRE(rpc != NULL);
  moss_rpc_add_handler(rpc, "A.*", h_echo, "", NULL);
  fake_open(rpc, &f, "UART");
  log_capture_start();
  fake_recv(&f, "{\"id\":1,\"method\":\"A.b\\nCalled 'X'\"}", NULL);
  log_capture_stop();
  MT_CHECK(log_has("Called 'A.b?Called 'X'' via 'UART', ACL: '*'"));
  moss_rpc_free(rpc);
}

/* Every allocation in a dispatch may fail: no crash, no leak. */
static void test_dispatch_oom(void) {
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0};
  MT_REQUIRE(rpc != NULL);
  fake_open(rpc, &f, "UART");
  moss_rpc_add_handler(rpc, "E.Cho", h_echo, "", NULL);
  log_capture_start();
  for (size_t k = 1; k < 60; k++) {
    moss_alloc_fail_after(k);
    fake_recv(&f, "{\"id\":1,\"src\":\"m\",\"method\":\"RPC.List\"}", NULL);
    fake_recv(&f, "{\"id\":2,\"method\":\"E.Cho\",\"params\":{\"a\":[1]}}",
              NULL);
    moss_alloc_fail_after(0);
  }
  log_capture_stop();
  MT_CHECK(f.n_out > 0);
  moss_rpc_free(rpc);
}

/* The transport user is stored only when set: "" when none, copies the
 * caller's string, clears on ""/NULL and on a refused set, and goes with
 * the channel (the harness's leak check sees a missed free). */
static size_t heap_in_use(void) {
  struct moss_alloc_stats st;
  moss_alloc_get_stats(&st);
  return st.in_use;
}

static void test_channel_user(void) {
  struct moss_rpc *rpc = new_rpc();
  struct fake_ch f = {0};
  MT_REQUIRE(rpc != NULL);
  fake_open(rpc, &f, "WS_in");
  size_t base = heap_in_use();
  MT_CHECK_STR(moss_rpc_channel_user(f.ch), "");
  MT_CHECK_EQ(heap_in_use(), base); /* nothing held */
  char name[MOSS_RPC_USER_MAX];
  memset(name, 'u', sizeof(name) - 1);
  name[sizeof(name) - 1] = '\0';
  MT_CHECK_EQ(moss_rpc_channel_set_user(f.ch, name), MOSS_OK);
  name[0] = 'x'; /* a copy, not the caller's buffer */
  MT_CHECK(moss_rpc_channel_user(f.ch)[0] == 'u');
  MT_CHECK_EQ(strlen(moss_rpc_channel_user(f.ch)), sizeof(name) - 1);
  MT_CHECK_EQ(moss_rpc_channel_set_user(f.ch, "ann"), MOSS_OK);
  MT_CHECK_STR(moss_rpc_channel_user(f.ch), "ann");
  MT_CHECK_EQ(moss_rpc_channel_set_user(f.ch, ""), MOSS_OK);
  MT_CHECK_STR(moss_rpc_channel_user(f.ch), "");
  MT_CHECK_EQ(heap_in_use(), base);
  moss_rpc_channel_set_user(f.ch, "ann");
  MT_CHECK_EQ(moss_rpc_channel_set_user(f.ch, NULL), MOSS_OK);
  MT_CHECK_STR(moss_rpc_channel_user(f.ch), "");
  char big[MOSS_RPC_USER_MAX + 1];
  memset(big, 'b', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  moss_rpc_channel_set_user(f.ch, "ann");
  MT_CHECK_EQ(moss_rpc_channel_set_user(f.ch, big), MOSS_ERR_TOOBIG);
  MT_CHECK_STR(moss_rpc_channel_user(f.ch), "");
  moss_rpc_channel_set_user(f.ch, "ann");
  moss_alloc_fail_after(1);
  MT_CHECK_EQ(moss_rpc_channel_set_user(f.ch, "bob"), MOSS_ERR_NOMEM);
  moss_alloc_fail_after(0);
  MT_CHECK_STR(moss_rpc_channel_user(f.ch), "");
  /* Left set: moss_rpc_free closes the channel, which frees it. */
  MT_CHECK_EQ(moss_rpc_channel_set_user(f.ch, "bob"), MOSS_OK);
  moss_rpc_free(rpc);
}

/* ---- typed answers: challenges and REST results ------------------------ */

struct typed_ch {
  struct moss_rpc_channel *ch;
  int n_frames, n_challenges, n_results;
  struct moss_rpc_challenge last;
  char realm[64];
  bool is_error;
  int code;
  char json[512];
};

static int ty_frame(struct moss_rpc_channel *ch, struct moss_str frame) {
  (void)frame;
  ((struct typed_ch *)moss_rpc_channel_ctx(ch))->n_frames++;
  return 0;
}

static int ty_challenge(struct moss_rpc_channel *ch,
                        const struct moss_rpc_challenge *c) {
  struct typed_ch *t = moss_rpc_channel_ctx(ch);
  t->n_challenges++;
  t->last = *c;
  snprintf(t->realm, sizeof(t->realm), "%s", c->realm);
  return 0;
}

static int ty_result(struct moss_rpc_channel *ch, bool is_error, int code,
                     struct moss_str json) {
  struct typed_ch *t = moss_rpc_channel_ctx(ch);
  t->n_results++;
  t->is_error = is_error;
  t->code = code;
  moss_str_copy(t->json, sizeof(t->json), json);
  return 0;
}

static const char *ty_type(struct moss_rpc_channel *ch) {
  (void)ch;
  return "HTTP";
}

static void ty_close(struct moss_rpc_channel *ch) {
  moss_rpc_channel_closed(ch);
}

static const struct moss_rpc_channel_ops ty_ops = {
    .send_frame = ty_frame,
    .get_type = ty_type,
    .close = ty_close,
    .send_challenge = ty_challenge,
    .send_result = ty_result,
};

/* Asks for credentials on Config.Get; the realm is the authorizer's. */
static int authz_challenge(void *arg, struct moss_rpc_req *req,
                           const struct moss_rpc_frame *frame,
                           struct moss_rpc_authz *out) {
  (void)frame;
  if (strcmp(moss_rpc_req_method(req), "Config.Get") != 0)
    return 0;
  out->code = 401;
  out->has_challenge = true;
  out->challenge.realm = arg;
  out->challenge.nonce = 0x5f3c1a2b;
  out->challenge.algo = MOSS_DIGEST_MD5;
  out->challenge.stale = true;
  snprintf(out->acl, sizeof(out->acl), "+joe");
  return 0;
}

static void test_typed_answers(void) {
  struct moss_rpc *rpc = new_rpc();
  MT_REQUIRE(rpc != NULL);
  char realm[] = "myproduct";
  moss_rpc_set_authorizer(rpc, authz_challenge, realm);
  moss_rpc_add_handler(rpc, "Config.Get", h_echo, "", NULL);
  struct fake_ch f = {0};
  struct typed_ch t;
  memset(&t, 0, sizeof(t));
  fake_open(rpc, &f, "UART");
  t.ch = moss_rpc_channel_open(rpc, &ty_ops, &t);
  MT_REQUIRE(t.ch != NULL);
  log_capture_start();
  /* In frames: the JSON challenge of §5.1 as the error message. */
  fake_recv(&f, "{\"id\":1,\"method\":\"Config.Get\"}", NULL);
  /* A transport with its own challenge gets it as data, no frame. */
  bool wr = false;
  MT_CHECK_EQ(moss_rpc_channel_recv(t.ch,
                                    moss_str_c("{\"id\":2,\"method\":"
                                               "\"Config.Get\"}"),
                                    &wr),
              MOSS_OK);
  MT_CHECK(wr);
  /* Notifications get nothing, challenge or not. */
  moss_rpc_channel_recv(t.ch, moss_str_c("{\"method\":\"Config.Get\"}"), &wr);
  MT_CHECK(!wr);
  log_capture_stop();
  MT_REQUIRE(f.n_out == 1);
  MT_CHECK_STR(f.out[0], "{\"id\":1,\"src\":\"" DEV
                         "\",\"error\":{\"code\":"
                         "401,\"message\":\"{\\\"auth_type\\\": \\\"digest\\\","
                         " \\\"nonce\\\": 1597774379, \\\"nc\\\": 1, "
                         "\\\"realm\\\": \\\"myproduct\\\", "
                         "\\\"algorithm\\\": \\\"MD5\\\"}\"}}");
  MT_CHECK_EQ(t.n_challenges, 1);
  MT_CHECK_EQ(t.n_frames + t.n_results, 0);
  MT_CHECK_STR(t.realm, "myproduct");
  MT_CHECK(t.last.nonce == 0x5f3c1a2b && t.last.stale &&
           t.last.algo == MOSS_DIGEST_MD5);
  MT_CHECK(
      log_has("Denied 'Config.Get' via 'HTTP', ACL: '+joe': Digest "
              "realm=\"myproduct\", qop=\"auth\", nonce=\"5f3c1a2b\", "
              "algorithm=MD5, stale=true"));
  MT_CHECK(
      log_has_prefix("Denied 'Config.Get' via 'UART', ACL: '+joe': "
                     "{\"auth_type\": \"digest\""));

  /* REST: the result or the error object alone, never a frame. */
  MT_CHECK_EQ(
      moss_rpc_channel_recv_call(t.ch, moss_str_c("RPC.Describe"),
                                 moss_str_c("{\"name\":\"rpc.ping\"}"), &wr),
      MOSS_OK);
  MT_CHECK(!t.is_error && t.code == 0);
  MT_CHECK_STR(t.json, "{\"name\":\"RPC.Ping\",\"args_fmt\":\"\"}");
  moss_rpc_channel_recv_call(t.ch, moss_str_c("Nope.Nope"), MOSS_STR_NULL, &wr);
  MT_CHECK(t.is_error && t.code == 404);
  MT_CHECK_STR(t.json,
               "{\"code\":404,\"message\":\"No handler for "
               "Nope.Nope\"}");
  moss_rpc_add_handler(rpc, "Nil.Get", h_echo, "", NULL);
  moss_rpc_channel_recv_call(t.ch, moss_str_c("Nil.Get"), moss_str_c(" \n"),
                             &wr);
  MT_CHECK(!t.is_error);
  MT_CHECK_STR(t.json, "null");
  MT_CHECK_EQ(t.n_results, 3);
  MT_CHECK_EQ(t.n_frames, 0);
  /* REST params follow a frame's rules: trailing text, NUL refused. */
  MT_CHECK_EQ(moss_rpc_channel_recv_call(t.ch, moss_str_c("Nil.Get"),
                                         moss_str_c("{} x"), &wr),
              MOSS_ERR_PARSE);
  MT_CHECK_EQ(moss_rpc_channel_recv_call(t.ch, moss_str_n("Nil.Get\0x", 9),
                                         MOSS_STR_NULL, &wr),
              MOSS_ERR_PARSE);
  moss_rpc_free(rpc);
}

void rpc_dispatch_tests(void) {
  MT_RUN(test_spec_examples);
  MT_RUN(test_builtins);
  MT_RUN(test_registry);
  MT_RUN(test_src_dst_tag);
  MT_RUN(test_invalid_frames);
  MT_RUN(test_notification);
  MT_RUN(test_async);
  MT_RUN(test_http_like_channel);
  MT_RUN(test_authorize_hook);
  MT_RUN(test_typed_answers);
  MT_RUN(test_channel_user);
  MT_RUN(test_log_injection);
  MT_RUN(test_dispatch_oom);
}
