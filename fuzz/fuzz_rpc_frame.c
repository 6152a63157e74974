/*
 * Fuzz target: one RPC frame from the network.  Parses it, dispatches it
 * to the built-in methods (plus a glob handler that answers
 * asynchronously) over a fake channel, and checks that every reply the
 * core produced is itself a valid frame carrying the request's id.
 * Also drives the REST-style entry (first line = method, rest = params).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/log.h"
#include "moss/priv/rpc_json.h"
#include "moss/rpc.h"

static struct moss_rpc_req *held;

static int fz_send(struct moss_rpc_channel *ch, struct moss_str frame) {
  (void)ch;
  struct moss_rpc_frame f;
  /* Our own replies must parse, be responses and carry an id. */
  if (moss_rpc_frame_parse(frame.buf, frame.len, (size_t)-1, &f) != MOSS_OK ||
      f.method != NULL || f.id == NULL || (f.result == NULL && f.error == NULL))
    abort();
  moss_rpc_frame_free(&f);
  return 0;
}

static const char *fz_type(struct moss_rpc_channel *ch) {
  (void)ch;
  return "WS_in";
}

static void fz_close(struct moss_rpc_channel *ch) {
  moss_rpc_channel_closed(ch);
}

static const struct moss_rpc_channel_ops fz_ops = {
    .send_frame = fz_send, .get_type = fz_type, .close = fz_close};

static void h_later(struct moss_rpc_req *req, const cJSON *params,
                    void *userdata) {
  (void)params;
  (void)userdata;
  if (held != NULL)
    moss_rpc_send_error(held, 500, "superseded");
  held = req;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  moss_log_set_level(MOSS_LL_NONE);
  struct moss_rpc_cfg cfg = {.device_id = "dev", .max_frame_size = 2048};
  struct moss_rpc *rpc = moss_rpc_new(&cfg);
  if (rpc == NULL)
    return 0;
  moss_rpc_add_handler(rpc, "Later.*", h_later, "{x: %d}", NULL);
  struct moss_rpc_channel *ch = moss_rpc_channel_open(rpc, &fz_ops, NULL);
  if (ch != NULL) {
    struct moss_str in = {(const char *)data, size};
    moss_rpc_channel_recv(ch, in, NULL);
    const char *nl = memchr(data, '\n', size);
    if (nl != NULL) {
      size_t mlen = (size_t)(nl - (const char *)data);
      moss_rpc_channel_recv_call(ch, moss_str_n(in.buf, mlen),
                                 moss_str_n(nl + 1, size - mlen - 1), NULL);
    }
    if (held != NULL) {
      moss_rpc_send_response_json(held, "[1,\"two\"]");
      held = NULL;
    }
  }
  moss_rpc_free(rpc);
  held = NULL;
  return 0;
}
