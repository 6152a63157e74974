/*
 * RPC core: the instance, the method registry, channels, dispatch and
 * request completion (spec rpc.md §1.1-§1.4, §2, §4).
 *
 * Ownership: the instance owns handlers, channels and pending requests.
 * A request (struct moss_rpc_req) is one heap block holding every string
 * its reply needs, so it is independent of the frame it came from and of
 * its channel: when a channel closes first, pending requests just lose
 * their channel pointer and their reply is dropped when it is sent.
 *
 * Re-entrancy: ops->send_frame may close (and free) its channel.  After
 * anything that can send, dispatch returns without touching the channel.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/glob.h"
#include "moss/log.h"
#include "moss/priv/rpc_json.h"
#include "moss/rpc.h"
#include "rpc_int.h"

#define LOG_MOD "rpc"
/* Method names quoted in log lines are cut here. */
#define LOG_METHOD_MAX 96u

struct handler {
  char *name;
  char *args_fmt;
  moss_rpc_handler_fn *fn;
  void *userdata;
  bool glob;
};

struct moss_rpc_channel {
  struct moss_rpc *rpc;
  const struct moss_rpc_channel_ops *ops;
  void *ctx;
  struct moss_rpc_channel *prev, *next;
  /* Transport-authenticated user, NULL when none: most channels have
   * none, so it is not kept inline (it would be 64 B per idle channel). */
  char *user;
  bool persistent;
  bool closing; /* ops->close called; waiting for moss_rpc_channel_closed */
};

struct moss_rpc_req {
  struct moss_rpc *rpc;
  struct moss_rpc_channel *ch; /* NULL once the channel closed */
  struct moss_rpc_req *prev, *next;
  const char *id; /* NULL: notification */
  const char *reply_src;
  const char *reply_dst; /* NULL: request had no src */
  const char *tag;
  const char *method;
  const char *ch_type;
  char user[MOSS_RPC_USER_MAX];
  char strings[]; /* the strings above, back to back */
};

struct moss_rpc {
  char ids[MOSS_RPC_MAX_LOCAL_IDS][MOSS_RPC_LOCAL_ID_MAX + 1];
  size_t n_ids;
  size_t max_frame;
  unsigned max_np;
  struct handler *h;
  size_t nh, h_cap;
  moss_rpc_authorize_fn *authz_fn;
  void *authz_arg;
  struct moss_rpc_channel *ch_head, *ch_tail;
  struct moss_rpc_req *req_head;
};

void moss_rpc_log_sanitize(char *dst, size_t dstsz, struct moss_str s,
                           size_t max) {
  moss_log_sanitize(dst, dstsz, s.buf, MOSS_MIN(s.len, max));
}

static char *dup_c(const char *s) {
  size_t n = strlen(s);
  char *p = moss_alloc(MOSS_SUB_RPC, n + 1);
  if (p != NULL)
    memcpy(p, s, n + 1);
  return p;
}

/* ---- instance --------------------------------------------------------- */

struct moss_rpc *moss_rpc_new(const struct moss_rpc_cfg *cfg) {
  moss_json_init();
  const char *dev = cfg != NULL && cfg->device_id != NULL ? cfg->device_id : "";
  if (strlen(dev) > MOSS_RPC_LOCAL_ID_MAX)
    return NULL;
  struct moss_rpc *rpc = moss_calloc(MOSS_SUB_RPC, 1, sizeof(*rpc));
  if (rpc == NULL)
    return NULL;
  memcpy(rpc->ids[0], dev, strlen(dev) + 1);
  rpc->n_ids = 1;
  rpc->max_frame = cfg != NULL && cfg->max_frame_size != 0
                       ? cfg->max_frame_size
                       : MOSS_RPC_MAX_FRAME_SIZE_DEFAULT;
  rpc->max_np = cfg != NULL && cfg->max_non_persistent_channels != 0
                    ? cfg->max_non_persistent_channels
                    : MOSS_RPC_MAX_NP_CHANNELS_DEFAULT;
  if (moss_rpc_builtin_register(rpc) != MOSS_OK) {
    moss_rpc_free(rpc);
    return NULL;
  }
  return rpc;
}

static void req_free(struct moss_rpc_req *req) {
  struct moss_rpc *rpc = req->rpc;
  if (req->prev != NULL) {
    req->prev->next = req->next;
  } else {
    rpc->req_head = req->next;
  }
  if (req->next != NULL)
    req->next->prev = req->prev;
  moss_free(req);
}

void moss_rpc_free(struct moss_rpc *rpc) {
  if (rpc == NULL)
    return;
  while (rpc->ch_head != NULL) {
    struct moss_rpc_channel *ch = rpc->ch_head;
    if (!ch->closing) {
      ch->closing = true;
      ch->ops->close(ch);
    }
    /* Glue that closes later would find a dead handle: the header says
     * handles die with the instance, so finish the job here. */
    if (rpc->ch_head == ch)
      moss_rpc_channel_closed(ch);
  }
  size_t n = 0;
  while (rpc->req_head != NULL) {
    req_free(rpc->req_head);
    n++;
  }
  if (n > 0)
    MOSS_LOG_W(LOG_MOD, "%zu requests never answered", n);
  for (size_t i = 0; i < rpc->nh; i++) {
    moss_free(rpc->h[i].name);
    moss_free(rpc->h[i].args_fmt);
  }
  moss_free(rpc->h);
  moss_free(rpc);
}

int moss_rpc_add_local_id(struct moss_rpc *rpc, const char *id) {
  if (id == NULL || id[0] == '\0')
    return MOSS_ERR_INVAL;
  if (strlen(id) > MOSS_RPC_LOCAL_ID_MAX)
    return MOSS_ERR_TOOBIG;
  if (rpc->n_ids >= MOSS_RPC_MAX_LOCAL_IDS)
    return MOSS_ERR_NOSPC;
  memcpy(rpc->ids[rpc->n_ids++], id, strlen(id) + 1);
  return MOSS_OK;
}

const char *moss_rpc_device_id(const struct moss_rpc *rpc) {
  return rpc->ids[0];
}

size_t moss_rpc_max_frame_size(const struct moss_rpc *rpc) {
  return rpc->max_frame;
}

void moss_rpc_set_authorizer(struct moss_rpc *rpc, moss_rpc_authorize_fn *fn,
                             void *arg) {
  rpc->authz_fn = fn;
  rpc->authz_arg = arg;
}

/* ---- registry ------------------------------------------------------- */

int moss_rpc_add_handler(struct moss_rpc *rpc, const char *name,
                         moss_rpc_handler_fn *fn, const char *args_fmt,
                         void *userdata) {
  if (name == NULL || name[0] == '\0' || fn == NULL)
    return MOSS_ERR_INVAL;
  for (size_t i = 0; i < rpc->nh; i++) {
    if (strcasecmp(rpc->h[i].name, name) == 0)
      return MOSS_ERR_EXIST;
  }
  if (rpc->nh >= MOSS_RPC_MAX_HANDLERS)
    return MOSS_ERR_NOSPC;
  if (rpc->nh == rpc->h_cap) {
    size_t cap = rpc->h_cap ? rpc->h_cap * 2 : 16;
    cap = MOSS_MIN(cap, (size_t)MOSS_RPC_MAX_HANDLERS);
    struct handler *nh;
    if (rpc->h == NULL) {
      nh = moss_alloc(MOSS_SUB_RPC, cap * sizeof(*nh));
    } else {
      nh = moss_realloc(rpc->h, cap * sizeof(*nh));
    }
    if (nh == NULL)
      return MOSS_ERR_NOMEM;
    rpc->h = nh;
    rpc->h_cap = cap;
  }
  struct handler h = {dup_c(name), dup_c(args_fmt ? args_fmt : ""), fn,
                      userdata, strpbrk(name, "*?|,$") != NULL};
  if (h.name == NULL || h.args_fmt == NULL) {
    moss_free(h.name);
    moss_free(h.args_fmt);
    return MOSS_ERR_NOMEM;
  }
  rpc->h[rpc->nh++] = h;
  return MOSS_OK;
}

static const struct handler *find_handler(const struct moss_rpc *rpc,
                                          const char *method) {
  for (size_t i = 0; i < rpc->nh; i++) {
    if (strcasecmp(rpc->h[i].name, method) == 0)
      return &rpc->h[i];
  }
  for (size_t i = 0; i < rpc->nh; i++) {
    if (rpc->h[i].glob &&
        moss_glob_match(moss_str_c(rpc->h[i].name), moss_str_c(method)))
      return &rpc->h[i];
  }
  return NULL;
}

int moss_rpc_lookup(const struct moss_rpc *rpc, const char *method,
                    const char **name, const char **args_fmt) {
  const struct handler *h = method != NULL ? find_handler(rpc, method) : NULL;
  if (h == NULL)
    return MOSS_ERR_NOENT;
  if (name != NULL)
    *name = h->name;
  if (args_fmt != NULL)
    *args_fmt = h->args_fmt;
  return MOSS_OK;
}

size_t moss_rpc_handler_count(const struct moss_rpc *rpc) {
  return rpc->nh;
}

const char *moss_rpc_handler_name(const struct moss_rpc *rpc, size_t i) {
  return i < rpc->nh ? rpc->h[i].name : NULL;
}

/* ---- requests ------------------------------------------------------- */

/* Appends s (NULL stays NULL) to the request's string area. */
static const char *put_str(char **p, const char *s) {
  if (s == NULL)
    return NULL;
  size_t n = strlen(s) + 1;
  char *at = *p;
  memcpy(at, s, n);
  *p += n;
  return at;
}

static size_t str_size(const char *s) {
  return s != NULL ? strlen(s) + 1 : 0;
}

static struct moss_rpc_req *req_new(struct moss_rpc_channel *ch,
                                    const struct moss_rpc_frame *f) {
  struct moss_rpc *rpc = ch->rpc;
  const char *src = f->dst != NULL && f->dst[0] != '\0' ? f->dst : rpc->ids[0];
  const char *ch_type = moss_rpc_channel_type(ch);
  size_t n = str_size(f->id) + str_size(src) + str_size(f->src) +
             str_size(f->tag) + str_size(f->method) + str_size(ch_type);
  struct moss_rpc_req *req = moss_alloc(MOSS_SUB_RPC, sizeof(*req) + n);
  if (req == NULL)
    return NULL;
  memset(req, 0, sizeof(*req));
  char *p = req->strings;
  req->id = put_str(&p, f->id);
  req->reply_src = put_str(&p, src);
  req->reply_dst = put_str(&p, f->src);
  req->tag = put_str(&p, f->tag);
  req->method = put_str(&p, f->method);
  req->ch_type = put_str(&p, ch_type);
  moss_str_copy(req->user, sizeof(req->user),
                moss_str_c(moss_rpc_channel_user(ch)));
  req->rpc = rpc;
  req->ch = ch;
  req->next = rpc->req_head;
  if (req->next != NULL)
    req->next->prev = req;
  rpc->req_head = req;
  return req;
}

/* The outcome alone, for ops->send_result: the result (null when none)
 * or the error object, compact, as the frame would carry it. */
static int outcome_serialize(const struct moss_rpc_reply *r, char **out,
                             size_t *out_len) {
  int ret = MOSS_ERR_NOMEM;
  cJSON *e = NULL;
  char *s = NULL;
  moss_json_init();
  if (r->is_error) {
    e = cJSON_CreateObject();
    if (e == NULL || cJSON_AddNumberToObject(e, "code", r->code) == NULL)
      goto out;
    if (r->message != NULL &&
        cJSON_AddStringToObject(e, "message", r->message) == NULL)
      goto out;
    s = cJSON_PrintUnformatted(e);
  } else if (r->result != NULL) {
    s = cJSON_PrintUnformatted(r->result);
  } else if ((e = cJSON_CreateNull()) != NULL) {
    s = cJSON_PrintUnformatted(e);
  }
  if (s == NULL)
    goto out;
  *out = s;
  *out_len = strlen(s);
  ret = MOSS_OK;
out:
  cJSON_Delete(e);
  return ret;
}

/* Sends the reply (if any is due) and frees req in every case. */
static int complete(struct moss_rpc_req *req, struct moss_rpc_reply *r) {
  int ret = MOSS_OK;
  if (req->id == NULL)
    goto out;
  if (req->ch == NULL) {
    MOSS_LOG_D(LOG_MOD, "channel closed, reply to %s dropped", req->id);
    ret = MOSS_ERR_CLOSED;
    goto out;
  }
  r->id = req->id;
  r->src = req->reply_src;
  r->dst = req->reply_dst;
  r->tag = req->tag;
  struct moss_rpc_channel *ch = req->ch;
  bool bare = ch->ops->send_result != NULL;
  char *s = NULL;
  size_t n = 0;
  ret =
      bare ? outcome_serialize(r, &s, &n) : moss_rpc_reply_serialize(r, &s, &n);
  if (ret != MOSS_OK) {
    MOSS_LOG_E(LOG_MOD, "reply to %s dropped: %s", req->id, moss_strerror(ret));
    goto out;
  }
  if (bare) {
    ret = ch->ops->send_result(ch, r->is_error, r->code, moss_str_n(s, n));
  } else {
    ret = ch->ops->send_frame(ch, moss_str_n(s, n));
  }
  moss_free(s);
out:
  req_free(req);
  return ret;
}

/* Completes req with a Digest challenge the channel sends itself. */
static int complete_challenge(struct moss_rpc_req *req,
                              const struct moss_rpc_challenge *c) {
  int ret = MOSS_OK;
  if (req->id == NULL)
    goto out;
  if (req->ch == NULL) {
    ret = MOSS_ERR_CLOSED;
    goto out;
  }
  ret = req->ch->ops->send_challenge(req->ch, c);
out:
  req_free(req);
  return ret;
}

int moss_rpc_send_response(struct moss_rpc_req *req, cJSON *result) {
  struct moss_rpc_reply r = {0};
  r.result = result;
  int ret = complete(req, &r);
  cJSON_Delete(result);
  return ret;
}

int moss_rpc_send_response_json(struct moss_rpc_req *req, const char *json) {
  cJSON *raw = NULL;
  if (json != NULL) {
    moss_json_init();
    raw = cJSON_CreateRaw(json);
    if (raw == NULL) {
      MOSS_LOG_E(LOG_MOD, "reply to %s dropped: %s", req->id ? req->id : "-",
                 moss_strerror(MOSS_ERR_NOMEM));
      req_free(req);
      return MOSS_ERR_NOMEM;
    }
  }
  return moss_rpc_send_response(req, raw);
}

int moss_rpc_send_error(struct moss_rpc_req *req, int code,
                        const char *message) {
  struct moss_rpc_reply r = {0};
  r.is_error = true;
  r.code = code;
  r.message = message;
  return complete(req, &r);
}

int moss_rpc_send_errorf(struct moss_rpc_req *req, int code, const char *fmt,
                         ...) {
  if (fmt == NULL)
    return moss_rpc_send_error(req, code, NULL);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *msg = n >= 0 ? moss_alloc(MOSS_SUB_RPC, (size_t)n + 1) : NULL;
  if (msg != NULL) {
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  /* Without memory for the text the client still gets the code. */
  int ret = moss_rpc_send_error(req, code, msg);
  moss_free(msg);
  return ret;
}

const char *moss_rpc_req_method(const struct moss_rpc_req *req) {
  return req->method;
}

const char *moss_rpc_req_ch_type(const struct moss_rpc_req *req) {
  return req->ch_type;
}

const char *moss_rpc_req_user(const struct moss_rpc_req *req) {
  return req->user;
}

bool moss_rpc_req_is_notification(const struct moss_rpc_req *req) {
  return req->id == NULL;
}

struct moss_rpc *moss_rpc_req_rpc(const struct moss_rpc_req *req) {
  return req->rpc;
}

struct moss_rpc_channel *moss_rpc_req_channel(const struct moss_rpc_req *req) {
  return req->ch;
}

/* ---- channels ------------------------------------------------------- */

struct moss_rpc_channel *moss_rpc_channel_open(
    struct moss_rpc *rpc, const struct moss_rpc_channel_ops *ops,
    void *glue_ctx) {
  struct moss_rpc_channel *ch = moss_calloc(MOSS_SUB_RPC, 1, sizeof(*ch));
  if (ch == NULL)
    return NULL;
  ch->rpc = rpc;
  ch->ops = ops;
  ch->ctx = glue_ctx;
  ch->persistent = ops->is_persistent ? ops->is_persistent(ch) : true;
  ch->prev = rpc->ch_tail;
  if (rpc->ch_tail != NULL) {
    rpc->ch_tail->next = ch;
  } else {
    rpc->ch_head = ch;
  }
  rpc->ch_tail = ch;
  MOSS_LOG_D(LOG_MOD, "channel open: %s", moss_rpc_channel_type(ch));
  if (ch->persistent)
    return ch;

  /* Non-persistent channels (HTTP) are cheap to make: cap them, evicting
   * the oldest, so a flood of requests cannot pin unbounded memory. */
  unsigned live = 0;
  struct moss_rpc_channel *oldest = NULL;
  for (struct moss_rpc_channel *c = rpc->ch_head; c != NULL; c = c->next) {
    if (c->persistent || c->closing)
      continue;
    if (oldest == NULL)
      oldest = c;
    live++;
  }
  if (live > rpc->max_np && oldest != NULL && oldest != ch) {
    MOSS_LOG_W(LOG_MOD, "too many non-persistent channels, closing oldest");
    oldest->closing = true;
    oldest->ops->close(oldest);
  }
  return ch;
}

void moss_rpc_channel_closed(struct moss_rpc_channel *ch) {
  if (ch == NULL)
    return;
  struct moss_rpc *rpc = ch->rpc;
  for (struct moss_rpc_req *r = rpc->req_head; r != NULL; r = r->next) {
    if (r->ch == ch)
      r->ch = NULL;
  }
  if (ch->prev != NULL) {
    ch->prev->next = ch->next;
  } else {
    rpc->ch_head = ch->next;
  }
  if (ch->next != NULL) {
    ch->next->prev = ch->prev;
  } else {
    rpc->ch_tail = ch->prev;
  }
  MOSS_LOG_D(LOG_MOD, "channel closed");
  moss_free(ch->user);
  moss_free(ch);
}

int moss_rpc_channel_set_user(struct moss_rpc_channel *ch, const char *user) {
  /* Cleared first, so a failed set leaves no user (as "" would). */
  moss_free(ch->user);
  ch->user = NULL;
  size_t n = user != NULL ? strlen(user) : 0;
  if (n == 0)
    return MOSS_OK;
  if (n >= MOSS_RPC_USER_MAX)
    return MOSS_ERR_TOOBIG;
  ch->user = moss_alloc(MOSS_SUB_RPC, n + 1);
  if (ch->user == NULL)
    return MOSS_ERR_NOMEM;
  memcpy(ch->user, user, n + 1);
  return MOSS_OK;
}

const char *moss_rpc_channel_user(const struct moss_rpc_channel *ch) {
  return ch->user != NULL ? ch->user : "";
}

void *moss_rpc_channel_ctx(const struct moss_rpc_channel *ch) {
  return ch->ctx;
}

struct moss_rpc *moss_rpc_channel_rpc(const struct moss_rpc_channel *ch) {
  return ch->rpc;
}

const char *moss_rpc_channel_type(struct moss_rpc_channel *ch) {
  const char *t = ch->ops->get_type ? ch->ops->get_type(ch) : NULL;
  return t != NULL ? t : "";
}

bool moss_rpc_channel_is_persistent(const struct moss_rpc_channel *ch) {
  return ch->persistent;
}

void moss_rpc_channel_info(struct moss_rpc_channel *ch, char *buf,
                           size_t size) {
  if (size == 0)
    return;
  buf[0] = '\0';
  if (ch->ops->get_info != NULL)
    ch->ops->get_info(ch, buf, size);
  buf[size - 1] = '\0';
}

/* ---- dispatch ------------------------------------------------------- */

static bool is_local_dst(const struct moss_rpc *rpc, const char *dst) {
  for (size_t i = 0; i < rpc->n_ids; i++) {
    if (strcmp(rpc->ids[i], dst) == 0)
      return true;
  }
  return false;
}

static void authorize(struct moss_rpc *rpc, struct moss_rpc_req *req,
                      const struct moss_rpc_frame *f,
                      struct moss_rpc_authz *az) {
  memset(az, 0, sizeof(*az));
  if (rpc->authz_fn == NULL) {
    /* No ACL configured: spec §2 shows '*' in the log line. */
    az->acl[0] = '*';
    return;
  }
  int ret = rpc->authz_fn(rpc->authz_arg, req, f, az);
  if (ret != MOSS_OK) {
    /* A failing security check never lets the call through. */
    memset(az, 0, sizeof(*az));
    az->code = 500;
    moss_str_copy(az->message, sizeof(az->message),
                  moss_str_c(moss_strerror(ret)));
  }
  az->message[sizeof(az->message) - 1] = '\0';
  az->acl[sizeof(az->acl) - 1] = '\0';
  az->user[sizeof(az->user) - 1] = '\0';
}

/* The text of az's challenge in the channel's form, into az->message (""
 * when it does not fit).  true: the channel sends the challenge itself
 * (ops->send_challenge; the text is then only for the log line). */
static bool challenge_text(const struct moss_rpc_channel *ch,
                           struct moss_rpc_authz *az) {
  const struct moss_rpc_challenge *c = &az->challenge;
  bool own = ch->ops->send_challenge != NULL;
  int n = c->realm == NULL ? MOSS_ERR_INVAL
          : own ? moss_digest_challenge_header(az->message, sizeof(az->message),
                                               c->nonce, c->realm, c->algo,
                                               c->stale)
                : moss_digest_challenge_json(az->message, sizeof(az->message),
                                             c->nonce, c->realm, c->algo);
  if (n < 0)
    az->message[0] = '\0';
  /* A challenge that cannot be written goes as a bare 401 frame. */
  return own && n >= 0;
}

static int dispatch(struct moss_rpc_channel *ch, const struct moss_rpc_frame *f,
                    bool *will_reply) {
  struct moss_rpc *rpc = ch->rpc;
  if (f->dst != NULL && f->dst[0] != '\0' && !is_local_dst(rpc, f->dst)) {
    char d[LOG_METHOD_MAX];
    moss_rpc_log_sanitize(d, sizeof(d), moss_str_c(f->dst), sizeof(d));
    MOSS_LOG_E(LOG_MOD, "Wrong dst: '%s'", d);
    return MOSS_OK;
  }
  if (f->method == NULL) {
    /* The device sends no requests of its own yet (§2.5), so every
     * response is unmatched. */
    MOSS_LOG_I(LOG_MOD, "unmatched reply, id %s: dropped",
               f->id != NULL ? f->id : "-");
    return MOSS_OK;
  }
  char m[LOG_METHOD_MAX];
  moss_rpc_log_sanitize(m, sizeof(m), moss_str_c(f->method), sizeof(m));
  if (f->params_and_args) {
    MOSS_LOG_W(LOG_MOD, "'%s': both params and args given, using params", m);
  }
  struct moss_rpc_req *req = req_new(ch, f);
  if (req == NULL) {
    MOSS_LOG_E(LOG_MOD, "'%s': out of memory, request dropped", m);
    return MOSS_ERR_NOMEM;
  }
  *will_reply = f->id != NULL;

  /* 404 comes before any ACL or authentication (§4): whether a method
   * exists is not a secret, and an unknown method needs no credentials. */
  const struct handler *h = find_handler(rpc, f->method);
  if (h == NULL) {
    moss_rpc_send_errorf(req, 404, "No handler for %s", f->method);
    return MOSS_OK;
  }

  struct moss_rpc_authz az;
  authorize(rpc, req, f, &az);
  if (az.code != 0) {
    bool own = az.has_challenge && challenge_text(ch, &az);
    MOSS_LOG_W(LOG_MOD, "Denied '%s' via '%s', ACL: '%s': %s", m, req->ch_type,
               az.acl, az.message);
    if (own) {
      complete_challenge(req, &az.challenge);
    } else {
      moss_rpc_send_error(req, az.code, az.message[0] ? az.message : NULL);
    }
    return MOSS_OK;
  }
  if (az.user[0] != '\0')
    memcpy(req->user, az.user, sizeof(req->user));
  if (req->user[0] != '\0') {
    char u[MOSS_RPC_USER_MAX];
    moss_rpc_log_sanitize(u, sizeof(u), moss_str_c(req->user), sizeof(u));
    MOSS_LOG_I(LOG_MOD, "Called '%s' via '%s', ACL: '%s', user: '%s'", m,
               req->ch_type, az.acl, u);
  } else {
    MOSS_LOG_I(LOG_MOD, "Called '%s' via '%s', ACL: '%s'", m, req->ch_type,
               az.acl);
  }
  h->fn(req, f->params, h->userdata);
  return MOSS_OK;
}

int moss_rpc_channel_recv(struct moss_rpc_channel *ch, struct moss_str frame,
                          bool *will_reply) {
  bool dummy;
  if (will_reply == NULL)
    will_reply = &dummy;
  *will_reply = false;
  struct moss_rpc *rpc = ch->rpc;
  struct moss_rpc_frame f;
  int ret = moss_rpc_frame_parse(frame.buf, frame.len, rpc->max_frame, &f);
  if (ret == MOSS_ERR_TOOBIG) {
    MOSS_LOG_E(LOG_MOD, "Incoming frame is too big, dropping.");
    return ret;
  }
  if (ret == MOSS_ERR_PARSE) {
    char q[MOSS_RPC_LOG_FRAME_MAX + 1];
    moss_rpc_log_sanitize(q, sizeof(q), frame, MOSS_RPC_LOG_FRAME_MAX);
    MOSS_LOG_E(LOG_MOD, "INVALID FRAME (%zu): '%s'", frame.len, q);
    return ret;
  }
  if (ret != MOSS_OK) {
    MOSS_LOG_E(LOG_MOD, "frame dropped: %s", moss_strerror(ret));
    return ret;
  }
  ret = dispatch(ch, &f, will_reply);
  moss_rpc_frame_free(&f);
  return ret;
}

static bool all_ws(struct moss_str s) {
  for (size_t i = 0; i < s.len; i++) {
    char c = s.buf[i];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
      return false;
  }
  return true;
}

int moss_rpc_channel_recv_call(struct moss_rpc_channel *ch,
                               struct moss_str method, struct moss_str params,
                               bool *will_reply) {
  int ret = MOSS_ERR_NOMEM;
  bool dummy;
  if (will_reply == NULL)
    will_reply = &dummy;
  *will_reply = false;
  if (method.len == 0 || memchr(method.buf, '\0', method.len) != NULL)
    return MOSS_ERR_PARSE;
  if (params.len > ch->rpc->max_frame) {
    MOSS_LOG_E(LOG_MOD, "Incoming frame is too big, dropping.");
    return MOSS_ERR_TOOBIG;
  }
  moss_json_init();
  /* The frame {"id":1,"method":<method>,"params":<params>} as parsing its
   * text would give it: params parsed with the same rules as a whole
   * frame (no NUL, nothing but whitespace after the value), the tree
   * owned by the frame. */
  struct moss_rpc_frame f;
  char *m = NULL;
  memset(&f, 0, sizeof(f));
  if (!all_ws(params)) {
    const char *end = NULL;
    if (memchr(params.buf, '\0', params.len) != NULL ||
        (f.root = cJSON_ParseWithLengthOpts(params.buf, params.len, &end, 0)) ==
            NULL ||
        !all_ws(moss_str_n(end, params.len - (size_t)(end - params.buf)))) {
      char q[MOSS_RPC_LOG_FRAME_MAX + 1];
      moss_rpc_log_sanitize(q, sizeof(q), params, MOSS_RPC_LOG_FRAME_MAX);
      MOSS_LOG_E(LOG_MOD, "INVALID FRAME (%zu): '%s'", params.len, q);
      ret = MOSS_ERR_PARSE;
      goto out;
    }
  }
  f.params = f.root;
  f.id_type = MOSS_RPC_ID_NUMBER;
  f.id = dup_c("1");
  m = moss_alloc(MOSS_SUB_RPC, method.len + 1);
  if (f.id == NULL || m == NULL)
    goto out;
  memcpy(m, method.buf, method.len);
  m[method.len] = '\0';
  f.method = m;
  ret = dispatch(ch, &f, will_reply);
out:
  moss_rpc_frame_free(&f);
  moss_free(m);
  return ret;
}
