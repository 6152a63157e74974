/*
 * moss/rpc.h - the RPC core: instance, dispatch, requests, channels and
 * the authorisation hook (spec rpc.md §1, §2, §4, §5.1).
 *
 * One JSON object per request and per reply, over any channel (UART,
 * HTTP, WebSocket, MQTT).  This module knows nothing about transports: a
 * transport ("channel glue") creates a struct moss_rpc_channel with a
 * small ops table, hands every received frame to moss_rpc_channel_recv()
 * and gets every reply back through ops->send_frame() (or, for transports
 * with their own status line, typed: ops->send_result(),
 * ops->send_challenge()).
 *
 * This header is the transport's and the integrator's view and names no
 * JSON library type.  Method handlers, which take their params and build
 * their results as cJSON trees, register through moss/priv/rpc_json.h
 * (frames, the registry, cJSON replies): a private header for src/,
 * tests and tools, so that swapping the JSON library touches the code
 * that parses JSON and nothing that only moves frames.
 *
 * Lifecycle: rpc = moss_rpc_new(&cfg); handlers are added
 * (moss/priv/rpc_json.h, or a service's register function such as
 * moss/rpc_svc.h); channels come and go; moss_rpc_free(rpc) asks every
 * open channel to close and frees everything.  Single-threaded (the event
 * loop), not thread-safe, handlers run inside moss_rpc_channel_recv().
 *
 * Dispatch of one frame (moss_rpc_channel_recv):
 *   size cap -> parse (invalid: ERROR "INVALID FRAME (<len>): '<200 B>'")
 *   -> dst check (foreign: ERROR "Wrong dst: '<dst>'", dropped)
 *   -> no "method": a reply to a device request (logged, dropped)
 *   -> lookup (none: 404 "No handler for <Method>", before any auth)
 *   -> authorize hook (deny: WARN "Denied ..."; allow: INFO "Called ...")
 *   -> handler.
 * Requests without "id" are notifications: everything above runs, but
 * no reply (not even an error) is ever sent.
 *
 * A Digest challenge (the hook's 401) travels as data: the hook fills a
 * struct moss_rpc_challenge; the core gives it to the channel's
 * ops->send_challenge when the transport has its own (HTTP: a 401 with
 * WWW-Authenticate), and otherwise sends the error frame whose message is
 * the JSON challenge of §5.1 (UART, WebSocket, MQTT).
 */
#ifndef MOSS_RPC_H
#define MOSS_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/auth.h"
#include "moss/util.h"

/* Default of rpc.max_frame_size (bytes of one incoming frame). */
#define MOSS_RPC_MAX_FRAME_SIZE_DEFAULT 4096u
/* Default of rpc.max_non_persistent_channels (oldest evicted). */
#define MOSS_RPC_MAX_NP_CHANNELS_DEFAULT 20u
/* Registry capacity (handlers, globs included). */
#define MOSS_RPC_MAX_HANDLERS 128u
/* Local ids accepted in "dst" (device.id plus firmware-added ones). */
#define MOSS_RPC_MAX_LOCAL_IDS 4u
/* Longest local id / device id, bytes without NUL. */
#define MOSS_RPC_LOCAL_ID_MAX 63u
/* Buffers an authorizer fills (NUL included). */
#define MOSS_RPC_USER_MAX 64u
#define MOSS_RPC_ACL_TEXT_MAX 128u
#define MOSS_RPC_AUTHZ_MSG_MAX 256u
/* Peer description buffer for RPC.Ping (NUL included). */
#define MOSS_RPC_CHANNEL_INFO_MAX 128u
/* Bytes of an invalid frame quoted in the INVALID FRAME log line. */
#define MOSS_RPC_LOG_FRAME_MAX 200u

/* HTTP bodies for frames the core refused (§1.3); the HTTP glue sends
 * them with status 400 / 413 when moss_rpc_channel_recv() returns
 * MOSS_ERR_PARSE / MOSS_ERR_TOOBIG. */
#define MOSS_RPC_BODY_INVALID_FRAME \
  "{\"error\":{\"code\":400,\"message\":\"invalid frame\"}}"
#define MOSS_RPC_BODY_TOO_BIG \
  "{\"error\":{\"code\":413,\"message\":\"frame too large\"}}"

/* moss_json_init() (moss/json.h) routes cJSON through moss_alloc; every
 * moss_rpc_* entry point calls it. */
#include "moss/json.h"

/* ---- The RPC instance ---------------------------------------------------- */

struct moss_rpc;         /* opaque, library-owned */
struct moss_rpc_req;     /* opaque: one request awaiting its reply */
struct moss_rpc_channel; /* opaque: one transport endpoint */
/* A parsed frame, as the authorizer sees it: opaque here, its fields are
 * in moss/priv/rpc_json.h. */
struct moss_rpc_frame;

struct moss_rpc_cfg {
  const char *device_id; /* device.id: reply src, first local id */
  size_t max_frame_size; /* 0 = MOSS_RPC_MAX_FRAME_SIZE_DEFAULT */
  unsigned max_non_persistent_channels; /* 0 = default (20) */
};

/* Creates the instance and registers RPC.List, RPC.Describe, RPC.Ping (in
 * that order, so RPC.List starts with them).  cfg is copied.  NULL on
 * MOSS_ERR_NOMEM or a device_id longer than MOSS_RPC_LOCAL_ID_MAX. */
struct moss_rpc *moss_rpc_new(const struct moss_rpc_cfg *cfg);
/* Closes every open channel (ops->close), frees pending requests (their
 * later moss_rpc_send_* calls are not allowed: the handles die here) and
 * the registry.  Channel handles are invalid afterwards.  NULL-safe. */
void moss_rpc_free(struct moss_rpc *rpc);
/* One more id accepted in "dst".  MOSS_ERR_NOSPC, MOSS_ERR_TOOBIG. */
int moss_rpc_add_local_id(struct moss_rpc *rpc, const char *id);
const char *moss_rpc_device_id(const struct moss_rpc *rpc);
/* rpc.max_frame_size in effect (channel glue sizes its buffers by it). */
size_t moss_rpc_max_frame_size(const struct moss_rpc *rpc);

/* Name and args_fmt of the handler serving method, or MOSS_ERR_NOENT.
 * The pointers live as long as rpc. */
int moss_rpc_lookup(const struct moss_rpc *rpc, const char *method,
                    const char **name, const char **args_fmt);

/* ---- Authorisation hook ------------------------------------------------ */

/* A Digest challenge (rpc.md §5.1, §5.5) as data.  The authorizer issues
 * the nonce; the channel decides the wire form. */
struct moss_rpc_challenge {
  /* Borrowed from the authorizer's configuration: valid until the
   * dispatch that asked for it returns (the core and the channel use it
   * within that call). */
  const char *realm;
  uint64_t nonce;
  enum moss_digest_algo algo;
  bool stale; /* the credentials were right but their nonce was not */
};

/* Decision of an authorizer; zeroed by the core before the call. */
struct moss_rpc_authz {
  int code;                             /* 0 = run; else the error code */
  char message[MOSS_RPC_AUTHZ_MSG_MAX]; /* error message ("" = none) */
  char acl[MOSS_RPC_ACL_TEXT_MAX];      /* ACL text for the log line */
  char user[MOSS_RPC_USER_MAX];         /* authenticated user, "" none */
  /* code 401 asking for credentials: challenge holds the Digest
   * challenge and message is left to the core, which writes the text of
   * the channel's form there (JSON or WWW-Authenticate value). */
  bool has_challenge;
  struct moss_rpc_challenge challenge;
};

/* Called for every request whose handler exists, after lookup, before the
 * handler.  frame (its "auth", moss/priv/rpc_json.h) and req (method,
 * channel type, channel user) are valid during the call.  Return MOSS_OK
 * with out filled; any other return is treated as 500 with
 * moss_strerror's text.  The core then logs INFO "Called '<M>' via
 * '<type>', ACL: '<acl>'[, user: '<u>']" or WARN "Denied '<M>' via
 * '<type>', ACL: '<acl>': <message>", and records out->user in req.  The
 * default (none set) allows all with ACL '*'. */
typedef int moss_rpc_authorize_fn(void *arg, struct moss_rpc_req *req,
                                  const struct moss_rpc_frame *frame,
                                  struct moss_rpc_authz *out);
void moss_rpc_set_authorizer(struct moss_rpc *rpc, moss_rpc_authorize_fn *fn,
                             void *arg);

/* ---- Requests ---------------------------------------------------------- */

/* Each of these completes req: it sends the reply (unless req is a
 * notification or its channel has closed) and frees req, which must not
 * be used again.  Return MOSS_OK, MOSS_ERR_CLOSED (channel gone; reply
 * dropped), MOSS_ERR_NOMEM (reply dropped) or the send_frame error.
 * (moss_rpc_send_response(), a cJSON result, is in moss/priv/rpc_json.h.)
 *
 * json: trusted, valid JSON text inserted as-is (NULL sends null). */
int moss_rpc_send_response_json(struct moss_rpc_req *req, const char *json);
/* message NULL = error object without "message". */
int moss_rpc_send_error(struct moss_rpc_req *req, int code,
                        const char *message);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int moss_rpc_send_errorf(struct moss_rpc_req *req, int code,
                         const char *fmt, ...);

/* Request context.  Strings live as long as req. */
const char *moss_rpc_req_method(const struct moss_rpc_req *req);
const char *moss_rpc_req_ch_type(const struct moss_rpc_req *req);
const char *moss_rpc_req_user(const struct moss_rpc_req *req); /* "" */
bool moss_rpc_req_is_notification(const struct moss_rpc_req *req);
struct moss_rpc *moss_rpc_req_rpc(const struct moss_rpc_req *req);
/* NULL once the channel has closed. */
struct moss_rpc_channel *moss_rpc_req_channel(const struct moss_rpc_req *req);

/* ---- Channels ---------------------------------------------------------- */

/* What a transport implements.  All calls come from the event loop. */
struct moss_rpc_channel_ops {
  /* Send one reply frame (compact JSON, no framing, no trailing newline;
   * the glue adds its own: UART delimiters/CRC, HTTP headers, a WS text
   * message, an MQTT publish to the frame's "dst").  frame.buf lives for
   * the call only.  May call moss_rpc_channel_closed(ch) before
   * returning (HTTP after its one reply).  Required. */
  int (*send_frame)(struct moss_rpc_channel *ch, struct moss_str frame);
  /* Type name of §2: "UART", "HTTP", "WS_in", "WS_out", "WSS_out",
   * "MQTT", "loopback".  Static string.  Required. */
  const char *(*get_type)(struct moss_rpc_channel *ch);
  /* Peer description for RPC.Ping's channel_info (e.g. "1.2.3.4:5678"),
   * NUL-terminated into buf.  Optional (NULL = ""). */
  void (*get_info)(struct moss_rpc_channel *ch, char *buf, size_t size);
  /* false for channels that live for one request (HTTP).  Asked once, at
   * open.  Optional (NULL = persistent). */
  bool (*is_persistent)(struct moss_rpc_channel *ch);
  /* The core asks the transport to close (eviction of the oldest
   * non-persistent channel, moss_rpc_free).  The glue closes now or later
   * and then calls moss_rpc_channel_closed(), possibly from inside this
   * call.  Required. */
  void (*close)(struct moss_rpc_channel *ch);
  /* Optional: the transport answers a Digest challenge itself (HTTP: 401
   * with "WWW-Authenticate: <moss_digest_challenge_header()>", rpc.md
   * §5.5).  Called instead of send_frame for the 401 of an authorizer
   * that asked for credentials; c lives for the call.  NULL: the
   * challenge goes in an error frame (§5.1).  Same rules as send_frame. */
  int (*send_challenge)(struct moss_rpc_channel *ch,
                        const struct moss_rpc_challenge *c);
  /* Optional: the transport carries the outcome alone, not a frame (REST:
   * HTTP /rpc/<Method> answers with the result as its body and maps the
   * error code to its status).  Called instead of send_frame with
   * is_error false and json the result (compact JSON, "null" when none),
   * or is_error true, the error code and json the error object
   * ({"code":404,"message":"..."}).  json.buf lives for the call.  Same
   * rules as send_frame. */
  int (*send_result)(struct moss_rpc_channel *ch, bool is_error, int code,
                     struct moss_str json);
};

/* Open a channel for a transport; glue_ctx is the glue's own pointer
 * (moss_rpc_channel_ctx).  ops must outlive the channel.  May call
 * ops->close on the oldest non-persistent channel when more than
 * max_non_persistent_channels exist.  NULL on MOSS_ERR_NOMEM. */
struct moss_rpc_channel *moss_rpc_channel_open(
    struct moss_rpc *rpc, const struct moss_rpc_channel_ops *ops,
    void *glue_ctx);

/* One complete frame received.  frame.buf is borrowed for the call.
 * *will_reply (may be NULL) says whether a reply has been or will be sent
 * through the ops (send_frame, send_result or send_challenge) for it.
 * Returns:
 *   MOSS_OK         handled (dispatched, or dropped per spec and logged)
 *   MOSS_ERR_PARSE  invalid frame (§1.3), logged; the HTTP glue
 *                   answers 400 MOSS_RPC_BODY_INVALID_FRAME and closes
 *                   (non-persistent channels close); UART/WS/MQTT
 *                   glue sends nothing
 *   MOSS_ERR_TOOBIG over max_frame_size, logged; HTTP answers 413
 *   MOSS_ERR_NOMEM  request dropped
 * The channel may have been closed (and freed) when this returns if the
 * glue's send_frame closed it; the glue must know its own policy. */
int moss_rpc_channel_recv(struct moss_rpc_channel *ch, struct moss_str frame,
                          bool *will_reply);
/* REST-style call (HTTP /rpc/<Method>, MQTT <topic>/<Method>): method and
 * params JSON text (empty or blank = no params) are dispatched as the
 * frame {"id":1,"method":<method>,"params":<params>} would be (same
 * checks, log lines and reply), without building that text.  Neither is
 * referenced after the call.  Same returns as moss_rpc_channel_recv
 * (MOSS_ERR_PARSE: params not JSON, method empty or holding a NUL;
 * MOSS_ERR_TOOBIG: params over max_frame_size). */
int moss_rpc_channel_recv_call(struct moss_rpc_channel *ch,
                               struct moss_str method, struct moss_str params,
                               bool *will_reply);
/* The transport is gone: pending requests on it drop their replies, the
 * channel is freed.  ch is invalid afterwards.  NULL-safe. */
void moss_rpc_channel_closed(struct moss_rpc_channel *ch);

/* A user authenticated by the transport (HTTP Authorization, WS upgrade);
 * copied to the heap only when set ("" or NULL clears), freed with the
 * channel.  MOSS_ERR_TOOBIG over MOSS_RPC_USER_MAX, MOSS_ERR_NOMEM; on
 * either the channel is left with no user.  channel_user returns "" when
 * none; the string lives until the next set_user or the channel's end. */
int moss_rpc_channel_set_user(struct moss_rpc_channel *ch, const char *user);
const char *moss_rpc_channel_user(const struct moss_rpc_channel *ch);
void *moss_rpc_channel_ctx(const struct moss_rpc_channel *ch);
struct moss_rpc *moss_rpc_channel_rpc(const struct moss_rpc_channel *ch);
const char *moss_rpc_channel_type(struct moss_rpc_channel *ch);
bool moss_rpc_channel_is_persistent(const struct moss_rpc_channel *ch);
/* ops->get_info into buf (size >= 1), "" when the glue has none. */
void moss_rpc_channel_info(struct moss_rpc_channel *ch, char *buf, size_t size);

/* Copy s into dst (size dstsz >= 1) for a log line: at most max source
 * bytes, control and non-ASCII bytes replaced by '?', always
 * NUL-terminated.  Keeps peer text from forging log lines.  The same as
 * moss_log_sanitize() (moss/log.h) over the first max bytes of s. */
void moss_rpc_log_sanitize(char *dst, size_t dstsz, struct moss_str s,
                           size_t max);

#endif
