/*
 * The "WS_in" RPC channel: RPC over a WebSocket accepted on /rpc (spec
 * rpc.md §2.3).  One text message per frame each way; the channel lives
 * as long as the connection.  The connection and channel link each other
 * as described in moss/rpc_http.h; the /rpc route's on_conn_close
 * (rpc_http.c) ends the channel with the connection.
 */
#include "moss/err.h"
#include "moss/ws_frame.h"
#include "rpc_http_int.h"

static int ws_send_frame(struct moss_rpc_channel *ch, struct moss_str frame) {
  return moss_http_ws_send(moss_rpc_channel_ctx(ch), MOSS_WS_OP_TEXT, frame.buf,
                           frame.len);
}

static const char *ch_type_ws(struct moss_rpc_channel *ch) {
  (void)ch;
  return "WS_in";
}

/* Persistent, challenged in frames (no send_challenge). */
static const struct moss_rpc_channel_ops ws_ch_ops = {
    .send_frame = ws_send_frame,
    .get_type = ch_type_ws,
    .get_info = moss_rpc_http_ch_info,
    .close = moss_rpc_http_ch_close,
};

static void ws_message(struct moss_http_conn *hc, int opcode,
                       const uint8_t *data, size_t len) {
  (void)opcode;
  struct moss_rpc_channel *ch = moss_http_conn_user(hc);
  if (ch == NULL)
    return;
  bool will_reply;
  moss_rpc_channel_recv(ch, moss_str_n((const char *)data, len), &will_reply);
}

static void ws_closed(struct moss_http_conn *hc) {
  (void)hc; /* the route's on_conn_close does the work */
}

static const struct moss_http_ws_handlers ws_handlers = {ws_message, ws_closed};

void moss_rpc_ws_upgrade(const struct moss_rpc_http *h,
                         struct moss_http_conn *hc,
                         const struct moss_http_req *req) {
  /* A valid Authorization on the upgrade binds the user to the whole
   * connection; a present but invalid one fails the upgrade with the 401
   * (rpc.md §2.3); none lets frames authenticate themselves. */
  char user[MOSS_RPC_USER_MAX];
  struct moss_http_auth_realm r = moss_rpc_http_realm(h->cfg);
  if (moss_http_auth_check(h->auth, &r, hc, req, false, user, sizeof(user)) !=
      0)
    return;
  if (moss_http_ws_upgrade(hc, req, &ws_handlers) != MOSS_OK)
    return;
  struct moss_rpc_channel *ch = moss_rpc_channel_open(h->rpc, &ws_ch_ops, hc);
  if (ch != NULL && moss_rpc_channel_set_user(ch, user) != MOSS_OK) {
    /* Never as nobody when the Authorization said who. */
    moss_rpc_channel_closed(ch);
    ch = NULL;
  }
  if (ch == NULL) {
    moss_http_close(hc);
    return;
  }
  moss_http_conn_set_user(hc, ch);
}
