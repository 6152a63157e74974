/*
 * Counting allocator.  The only place (with port/) that calls malloc/free.
 *
 * Each block carries a 16-byte header in front of the payload: requested
 * size and subsystem.  The header keeps the payload 16-byte aligned, as
 * malloc's is.  The budget is charged size + MOSS_ALLOC_OVERHEAD (a model
 * of the device heap's per-block cost), not the host header size.
 */
#include "moss/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "moss/util.h"

struct hdr {
  size_t size;
  uint32_t sub;
  uint32_t magic;
};
_Static_assert(sizeof(struct hdr) == 16, "header keeps 16-byte alignment");

#define HDR_MAGIC 0x6d6f7373u /* "moss" */
#define HDR_FREED 0x66726565u /* "free": catches double frees */

static struct moss_alloc_stats st;
static size_t fail_countdown;
static enum moss_subsys mbedtls_sub = MOSS_SUB_TLS;

static size_t charge(size_t n) {
  return n + MOSS_ALLOC_OVERHEAD;
}

static bool admit(size_t n) {
  if (fail_countdown > 0 && --fail_countdown == 0)
    return false;
  if (st.budget == 0)
    return true;
  if (st.in_use > st.budget)
    return false;
  return charge(n) <= st.budget - st.in_use;
}

static void account_add(enum moss_subsys sub, size_t n) {
  st.in_use += charge(n);
  st.by_sub[sub] += charge(n);
  st.blocks++;
  if (st.in_use > st.peak)
    st.peak = st.in_use;
  if (st.budget > 0) {
    size_t fr = st.in_use >= st.budget ? 0 : st.budget - st.in_use;
    if (fr < st.min_free)
      st.min_free = fr;
  }
}

static void account_sub(enum moss_subsys sub, size_t n) {
  st.in_use -= charge(n);
  st.by_sub[sub] -= charge(n);
  st.blocks--;
}

void *moss_alloc(enum moss_subsys sub, size_t n) {
  if (n == 0 || (unsigned)sub >= MOSS_SUB_COUNT)
    return NULL;
  if (n > SIZE_MAX / 2 || !admit(n)) {
    st.failures++;
    return NULL;
  }
  struct hdr *h = malloc(sizeof(*h) + n);
  if (h == NULL) {
    st.failures++;
    return NULL;
  }
  h->size = n;
  h->sub = (uint32_t)sub;
  h->magic = HDR_MAGIC;
  account_add(sub, n);
  return h + 1;
}

void *moss_calloc(enum moss_subsys sub, size_t nmemb, size_t size) {
  if (size != 0 && nmemb > SIZE_MAX / size)
    return NULL;
  void *p = moss_alloc(sub, nmemb * size);
  if (p != NULL)
    memset(p, 0, nmemb * size);
  return p;
}

static struct hdr *hdr_of(const void *p) {
  struct hdr *h = (struct hdr *)p - 1;
  MOSS_ASSERT(h->magic == HDR_MAGIC);
  return h;
}

void *moss_realloc(void *p, size_t n) {
  if (p == NULL)
    return NULL; /* subsystem unknown: callers use alloc */
  struct hdr *h = hdr_of(p);
  if (n == 0)
    return NULL;
  if (n > h->size) {
    size_t grow = n - h->size;
    if (fail_countdown > 0 && --fail_countdown == 0)
      goto fail;
    if (st.budget != 0 &&
        (st.in_use > st.budget || grow > st.budget - st.in_use))
      goto fail;
  }
  enum moss_subsys sub = (enum moss_subsys)h->sub;
  size_t old = h->size;
  struct hdr *nh = realloc(h, sizeof(*nh) + n);
  if (nh == NULL)
    goto fail;
  account_sub(sub, old);
  nh->size = n;
  account_add(sub, n);
  return nh + 1;
fail:
  st.failures++;
  return NULL;
}

void moss_free(void *p) {
  if (p == NULL)
    return;
  struct hdr *h = hdr_of(p);
  account_sub((enum moss_subsys)h->sub, h->size);
  h->magic = HDR_FREED;
  free(h);
}

void moss_free_secret(void *p) {
  if (p == NULL)
    return;
  moss_zeroize(p, hdr_of(p)->size);
  moss_free(p);
}

size_t moss_alloc_size(const void *p) {
  return p == NULL ? 0 : hdr_of(p)->size;
}

void moss_alloc_set_budget(size_t bytes) {
  st.budget = bytes;
  st.min_free = bytes > st.in_use ? bytes - st.in_use : 0;
}

void moss_alloc_get_stats(struct moss_alloc_stats *out) {
  *out = st;
}

void moss_alloc_reset_peak(void) {
  st.peak = st.in_use;
  st.min_free = st.budget > st.in_use ? st.budget - st.in_use : 0;
}

void moss_alloc_fail_after(size_t n) {
  fail_countdown = n;
}

const char *moss_alloc_subsys_name(enum moss_subsys sub) {
  static const char *const names[MOSS_SUB_COUNT] = {
      "core", "flash", "fs",   "cfg", "conn", "tls", "http",
      "ws",   "rpc",   "mqtt", "se",  "json", "app",
  };
  return (unsigned)sub < MOSS_SUB_COUNT ? names[sub] : "?";
}

void *moss_alloc_mbedtls_calloc(size_t nmemb, size_t size) {
  return moss_calloc(mbedtls_sub, nmemb, size);
}

void moss_alloc_mbedtls_free(void *p) {
  moss_free(p);
}

enum moss_subsys moss_alloc_set_mbedtls_subsys(enum moss_subsys sub) {
  enum moss_subsys old = mbedtls_sub;
  mbedtls_sub = sub;
  return old;
}
