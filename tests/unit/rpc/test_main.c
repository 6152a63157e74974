/* Unit tests of rpc/: entry point and shared fixtures. */
#include <string.h>

#include "harness.h"
#include "moss/log.h"
#include "moss/rpc.h"
#include "rpc_test.h"

char log_lines[LOG_LINES][512];
int log_n;

static void sink(void *arg, enum moss_log_level lvl, const char *module,
                 const char *msg) {
  (void)arg;
  (void)lvl;
  (void)module;
  if (log_n < LOG_LINES) {
    snprintf(log_lines[log_n++], sizeof(log_lines[0]), "%s", msg);
  }
}

void log_capture_start(void) {
  log_n = 0;
  moss_log_set_level(MOSS_LL_DEBUG);
  moss_log_set_sink(sink, NULL);
  moss_log_set_stderr(0);
}

void log_capture_stop(void) {
  moss_log_set_sink(NULL, NULL);
  moss_log_set_stderr(1);
  moss_log_set_level(MOSS_LL_INFO);
}

bool log_has(const char *s) {
  for (int i = 0; i < log_n; i++) {
    if (strcmp(log_lines[i], s) == 0)
      return true;
  }
  return false;
}

bool log_has_prefix(const char *prefix) {
  for (int i = 0; i < log_n; i++) {
    if (strncmp(log_lines[i], prefix, strlen(prefix)) == 0)
      return true;
  }
  return false;
}

static int fk_send(struct moss_rpc_channel *ch, struct moss_str frame) {
  struct fake_ch *f = moss_rpc_channel_ctx(ch);
  if (f->n_out < FAKE_MAX_OUT) {
    moss_str_copy(f->out[f->n_out++], FAKE_OUT_SIZE, frame);
  }
  if (f->close_on_send) {
    f->closed = true;
    moss_rpc_channel_closed(ch);
  }
  return 0;
}

static const char *fk_type(struct moss_rpc_channel *ch) {
  return ((struct fake_ch *)moss_rpc_channel_ctx(ch))->type;
}

static void fk_info(struct moss_rpc_channel *ch, char *buf, size_t size) {
  struct fake_ch *f = moss_rpc_channel_ctx(ch);
  snprintf(buf, size, "%s", f->info ? f->info : "");
}

static bool fk_persistent(struct moss_rpc_channel *ch) {
  return !((struct fake_ch *)moss_rpc_channel_ctx(ch))->non_persistent;
}

static void fk_close(struct moss_rpc_channel *ch) {
  struct fake_ch *f = moss_rpc_channel_ctx(ch);
  f->close_requests++;
  if (f->defer_close)
    return;
  f->closed = true;
  moss_rpc_channel_closed(ch);
}

static const struct moss_rpc_channel_ops fk_ops = {
    .send_frame = fk_send,
    .get_type = fk_type,
    .get_info = fk_info,
    .is_persistent = fk_persistent,
    .close = fk_close,
};

void fake_open(struct moss_rpc *rpc, struct fake_ch *f, const char *type) {
  f->type = type;
  f->ch = moss_rpc_channel_open(rpc, &fk_ops, f);
}

int fake_recv(struct fake_ch *f, const char *frame, bool *will_reply) {
  return moss_rpc_channel_recv(f->ch, moss_str_c(frame), will_reply);
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  rpc_frame_tests();
  rpc_dispatch_tests();
  rpc_uart_tests();
  return mt_done();
}
