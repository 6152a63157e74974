/*
 * The nonce table (rpc.md §5.6) and the per-peer failure throttle.
 *
 * Nonces come only from here: a client cannot make one up (Mongoose OS
 * accepted any recent Unix time), each lives rpc.auth_nonce_ttl seconds,
 * and each (nonce, nc) passes once because nc must grow.  64 entries:
 * when full, expired entries go first, then the oldest live one, so a
 * flood of challenges can at worst make a slow client ask again.
 */
#include <string.h>

#include "auth_int.h"
#include "moss/err.h"
#include "moss/port.h"

static int os_random(void *arg, void *buf, size_t n) {
  (void)arg;
  return moss_port_random(buf, n);
}

void moss_nonce_init(struct moss_nonce_table *t, moss_nonce_random_fn *rnd,
                     void *rnd_arg) {
  memset(t, 0, sizeof(*t));
  t->ttl_s = MOSS_NONCE_TTL_DEFAULT_S;
  t->rnd = rnd != NULL ? rnd : os_random;
  t->rnd_arg = rnd_arg;
}

uint32_t moss_nonce_set_ttl(struct moss_nonce_table *t, int ttl_s) {
  if (ttl_s < (int)MOSS_NONCE_TTL_MIN_S)
    ttl_s = (int)MOSS_NONCE_TTL_MIN_S;
  if (ttl_s > (int)MOSS_NONCE_TTL_MAX_S)
    ttl_s = (int)MOSS_NONCE_TTL_MAX_S;
  t->ttl_s = (uint32_t)ttl_s;
  return t->ttl_s;
}

void moss_nonce_clear(struct moss_nonce_table *t) {
  memset(t->e, 0, sizeof(t->e));
}

static bool expired(const struct moss_nonce_table *t,
                    const struct moss_nonce_entry *e, uint64_t now_ms) {
  /* A clock that went back (it should not: monotonic) keeps the entry
   * rather than underflowing into "very old". */
  return now_ms >= e->issued_ms &&
         now_ms - e->issued_ms >= (uint64_t)t->ttl_s * 1000u;
}

static struct moss_nonce_entry *find(struct moss_nonce_table *t, uint64_t v) {
  if (v == 0)
    return NULL;
  for (size_t i = 0; i < MOSS_NONCE_TABLE_SIZE; i++)
    if (t->e[i].value == v)
      return &t->e[i];
  return NULL;
}

int moss_nonce_issue(struct moss_nonce_table *t, uint64_t now_ms,
                     uint64_t *nonce) {
  uint64_t v = 0;
  /* A collision (or 0) is astronomically rare at 53 bits; retry a few
   * times rather than ever handing out a nonce twice. */
  for (int tries = 0; tries < 8 && (v == 0 || find(t, v) != NULL); tries++) {
    uint8_t b[8];
    if (t->rnd(t->rnd_arg, b, sizeof(b)) != MOSS_OK)
      return MOSS_ERR_CRYPTO;
    v = 0;
    for (int i = 0; i < 8; i++)
      v = (v << 8) | b[i];
    v &= MOSS_NONCE_MAX;
  }
  if (v == 0 || find(t, v) != NULL)
    return MOSS_ERR_CRYPTO;

  struct moss_nonce_entry *slot = NULL, *oldest = NULL;
  for (size_t i = 0; i < MOSS_NONCE_TABLE_SIZE && slot == NULL; i++) {
    struct moss_nonce_entry *e = &t->e[i];
    if (e->value == 0 || expired(t, e, now_ms))
      slot = e;
    else if (oldest == NULL || e->issued_ms < oldest->issued_ms)
      oldest = e;
  }
  if (slot == NULL) {
    slot = oldest;
    t->evictions++;
  }
  slot->value = v;
  slot->issued_ms = now_ms;
  slot->max_nc = 0;
  *nonce = v;
  return MOSS_OK;
}

enum moss_nonce_state moss_nonce_check(struct moss_nonce_table *t,
                                       uint64_t nonce, uint32_t nc,
                                       uint64_t now_ms) {
  struct moss_nonce_entry *e = find(t, nonce);
  if (e == NULL)
    return MOSS_NONCE_UNKNOWN;
  if (expired(t, e, now_ms)) {
    memset(e, 0, sizeof(*e));
    return MOSS_NONCE_EXPIRED;
  }
  if (nc <= e->max_nc)
    return MOSS_NONCE_REPLAY;
  return MOSS_NONCE_VALID;
}

enum moss_nonce_state moss_nonce_accept(struct moss_nonce_table *t,
                                        uint64_t nonce, uint32_t nc,
                                        uint64_t now_ms) {
  enum moss_nonce_state st = moss_nonce_check(t, nonce, nc, now_ms);
  if (st == MOSS_NONCE_VALID)
    find(t, nonce)->max_nc = nc;
  return st;
}

/* ---- failure throttle ---------------------------------------------------- */

void moss_auth_throttle_init(struct moss_auth_throttle *t) {
  memset(t, 0, sizeof(*t));
}

static struct moss_auth_throttle_slot *tfind(const struct moss_auth_throttle *t,
                                             const char *peer) {
  char key[MOSS_AUTH_THROTTLE_PEER_MAX];
  size_t n = strlen(peer);
  if (n >= sizeof(key))
    n = sizeof(key) - 1;
  memcpy(key, peer, n);
  key[n] = '\0';
  if (key[0] == '\0')
    return NULL;
  for (size_t i = 0; i < MOSS_AUTH_THROTTLE_SLOTS; i++)
    if (strcmp(t->s[i].peer, key) == 0)
      return (struct moss_auth_throttle_slot *)&t->s[i];
  return NULL;
}

static uint32_t delay_for(uint32_t fails) {
  if (fails <= MOSS_AUTH_THROTTLE_FREE)
    return 0;
  uint32_t shift = fails - MOSS_AUTH_THROTTLE_FREE - 1;
  if (shift > 16)
    return MOSS_AUTH_THROTTLE_MAX_MS;
  uint32_t d = MOSS_AUTH_THROTTLE_BASE_MS << shift;
  return d > MOSS_AUTH_THROTTLE_MAX_MS ? MOSS_AUTH_THROTTLE_MAX_MS : d;
}

static bool forgotten(const struct moss_auth_throttle_slot *s,
                      uint64_t now_ms) {
  return now_ms >= s->last_ms &&
         now_ms - s->last_ms >= MOSS_AUTH_THROTTLE_FORGET_MS;
}

uint32_t moss_auth_throttle_delay(const struct moss_auth_throttle *t,
                                  const char *peer, uint64_t now_ms) {
  if (peer == NULL)
    peer = "";
  const struct moss_auth_throttle_slot *s = tfind(t, peer);
  uint32_t fails = s == NULL || forgotten(s, now_ms) ? 0 : s->fails;
  return delay_for(fails + 1);
}

uint32_t moss_auth_throttle_wait(const struct moss_auth_throttle *t,
                                 const char *peer, uint64_t now_ms) {
  if (peer == NULL || peer[0] == '\0')
    peer = "?";
  const struct moss_auth_throttle_slot *s = tfind(t, peer);
  if (s == NULL || forgotten(s, now_ms))
    return 0;
  /* The first MOSS_AUTH_THROTTLE_FREE failures cost nothing; after that
   * the next attempt waits delay_for(fails + 1). */
  uint64_t until = s->last_ms + delay_for(s->fails + 1);
  return now_ms >= until ? 0 : (uint32_t)(until - now_ms);
}

uint32_t moss_auth_throttle_fail(struct moss_auth_throttle *t, const char *peer,
                                 uint64_t now_ms, uint32_t *count) {
  if (peer == NULL || peer[0] == '\0')
    peer = "?";
  struct moss_auth_throttle_slot *s = tfind(t, peer);
  if (s == NULL) {
    s = &t->s[0];
    for (size_t i = 0; i < MOSS_AUTH_THROTTLE_SLOTS; i++) {
      if (t->s[i].peer[0] == '\0') {
        s = &t->s[i];
        break;
      }
      if (t->s[i].last_ms < s->last_ms)
        s = &t->s[i];
    }
    memset(s, 0, sizeof(*s));
    size_t n = strlen(peer);
    if (n >= sizeof(s->peer))
      n = sizeof(s->peer) - 1;
    memcpy(s->peer, peer, n);
  } else if (forgotten(s, now_ms)) {
    s->fails = 0;
  }
  if (s->fails < UINT32_MAX)
    s->fails++;
  s->last_ms = now_ms;
  if (count != NULL)
    *count = s->fails;
  return delay_for(s->fails);
}

void moss_auth_throttle_success(struct moss_auth_throttle *t,
                                const char *peer) {
  if (peer == NULL || peer[0] == '\0')
    peer = "?";
  struct moss_auth_throttle_slot *s = tfind(t, peer);
  if (s != NULL)
    memset(s, 0, sizeof(*s));
}
