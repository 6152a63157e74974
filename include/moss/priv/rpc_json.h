/*
 * moss/priv/rpc_json.h - the cJSON side of the RPC core: frames as cJSON
 * trees, the method registry and cJSON replies (spec rpc.md §1, §4).
 *
 * Private: for code under src/, the unit tests, fuzzers, benchmarks and
 * tools, never for an integrator's public API.  moss/rpc.h, which every
 * transport uses, names no cJSON type; what needs one lives here:
 *
 *   - frames: moss_rpc_frame_parse() (bytes -> struct moss_rpc_frame, no
 *     I/O, no logging) and moss_rpc_reply_serialize() (reply fields ->
 *     JSON text with the key order of §1.2);
 *   - handlers: moss_rpc_add_handler() with a moss_rpc_handler_fn taking
 *     the params tree, and moss_rpc_send_response() taking a result tree.
 *
 * Why a private header and not an opaque params view: handlers read
 * nested params (Config.Set's "config" subtree goes whole into the
 * configuration module) and build nested results; a view general enough
 * for that would be cJSON again under other names, with a copy or a
 * re-parse per call.  The boundary that matters is the transport's:
 * channels, challenges and authorizer decisions carry no JSON library
 * type.
 *
 * Ownership as in moss/rpc.h; cJSON's heap is moss_alloc (MOSS_SUB_JSON)
 * once moss_json_init() ran, which every entry point here does.
 */
#ifndef MOSS_PRIV_RPC_JSON_H
#define MOSS_PRIV_RPC_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "moss/rpc.h"

/* ---- Frames ------------------------------------------------------------ */

enum moss_rpc_id_type {
  MOSS_RPC_ID_NONE = 0, /* no "id": a notification */
  MOSS_RPC_ID_NUMBER,
  MOSS_RPC_ID_STRING,
};

/* A parsed frame.  Owns root and id; every other pointer points into root
 * and lives until moss_rpc_frame_free().  The input bytes are not
 * referenced after parsing. */
struct moss_rpc_frame {
  cJSON *root;
  enum moss_rpc_id_type id_type;
  /* The id as JSON text, exactly as received when that text is a plain
   * JSON number or string ("7", "\"abc\"", "1e3"), so replies keep its
   * type and spelling; NULL when id_type is NONE. */
  char *id;
  /* NULL when absent; "" is kept as "" (callers treat both as unset). */
  const char *src, *dst, *tag, *method;
  const cJSON *params;  /* "params", else "args"; NULL when absent */
  bool params_and_args; /* both were present ("params" won) */
  const cJSON *auth;    /* "auth" of any type, checked by auth code */
  const cJSON *result;  /* responses (no "method") */
  const cJSON *error;
};

/* Parse one frame of len bytes (need not be NUL-terminated).
 * Returns MOSS_OK, MOSS_ERR_TOOBIG (len > max_size; nothing parsed),
 * MOSS_ERR_PARSE (not JSON, trailing bytes, NUL byte, not an object, id
 * neither number nor string, src/dst/tag/method present but not strings)
 * or MOSS_ERR_NOMEM.  On error f is left empty (safe to free). */
int moss_rpc_frame_parse(const char *buf, size_t len, size_t max_size,
                         struct moss_rpc_frame *f);
/* NULL-safe; leaves f empty. */
void moss_rpc_frame_free(struct moss_rpc_frame *f);

/* Fields of a reply (§1.2).  Borrowed for the duration of the call. */
struct moss_rpc_reply {
  const char *id;  /* JSON text of the id (number or quoted string) */
  const char *src; /* required */
  const char *dst; /* NULL or "" = omitted */
  const char *tag; /* NULL = omitted ("" is echoed) */
  bool is_error;
  const cJSON *result; /* success; NULL = null */
  int code;            /* error */
  const char *message; /* error; NULL = no "message" key */
};

/* Serialize to compact JSON, keys in the order id, src, dst, tag,
 * result|error.  *out is allocated (moss_free it), NUL-terminated,
 * *out_len excludes the NUL.  MOSS_ERR_INVAL (no id/src) or
 * MOSS_ERR_NOMEM. */
int moss_rpc_reply_serialize(const struct moss_rpc_reply *r, char **out,
                             size_t *out_len);

/* ---- Handlers ---------------------------------------------------------- */

/* A method handler.  params is the frame's "params" (or "args"), NULL
 * when absent; it and everything in it die when the handler returns, so
 * an asynchronous handler copies what it needs.  The handler must
 * eventually call exactly one moss_rpc_send_* on req (now or later);
 * until then req stays valid even if the channel goes away. */
typedef void moss_rpc_handler_fn(struct moss_rpc_req *req, const cJSON *params,
                                 void *userdata);

/* Register name (a method name or a glob, moss/glob.h, matched
 * case-insensitively) with its args_fmt (shown by RPC.Describe; NULL =
 * "").  Both strings are copied; userdata is borrowed and must outlive
 * rpc.  Lookup tries exact names first, then globs, each in registration
 * order.  MOSS_ERR_INVAL (empty name, NULL fn), MOSS_ERR_EXIST (same
 * name, ignoring case), MOSS_ERR_NOSPC (MOSS_RPC_MAX_HANDLERS),
 * MOSS_ERR_NOMEM. */
int moss_rpc_add_handler(struct moss_rpc *rpc, const char *name,
                         moss_rpc_handler_fn *fn, const char *args_fmt,
                         void *userdata);

/* Completes req like the moss_rpc_send_* of moss/rpc.h.  result: taken
 * over (freed here) even on error; NULL sends null. */
int moss_rpc_send_response(struct moss_rpc_req *req, cJSON *result);

#endif
