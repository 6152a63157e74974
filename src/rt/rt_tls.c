/*
 * The HTTP server's TLS context from the configuration (spec http.md
 * §1.2, §4); see moss_rt_tls_setup() in rt_int.h.  tls/ reads the files
 * and builds the context (moss_tls_ctx_from_creds); this file only says
 * which settings and how a failure is reported.
 */
#include <stdio.h>
#include <string.h>

#include "moss/err.h"
#include "moss/log.h"
#include "moss/tls.h"
#include "rt_int.h"

static const char *TAG = "http";

int moss_rt_tls_setup(struct moss_rt *rt, struct moss_tls_ctx **out, char *why,
                      size_t wn) {
  const struct moss_cfg *c = &rt->running;
  struct moss_tls_creds_env env;
  moss_rt_tls_env(rt, c, &env);
  struct moss_tls_creds_cfg cc;
  memset(&cc, 0, sizeof(cc));
  cc.opts.role = MOSS_TLS_SERVER;
  cc.cert = c->http.ssl_cert;
  cc.key = c->http.ssl_key;
  cc.ca = c->http.ssl_ca_cert;
  enum moss_tls_creds_item bad = MOSS_TLS_CREDS_NONE;
  char r[MOSS_RT_SRV_ERROR_MAX];
  int rc = moss_tls_ctx_from_creds(&cc, &env, out, &bad, r, sizeof(r));
  /* r names the file: "key.pem: <reason>" (tls/'s texts, http.md §4). */
  switch (rc == MOSS_OK ? MOSS_TLS_CREDS_NONE : bad) {
    case MOSS_TLS_CREDS_NONE:
      if (rc != MOSS_OK) {
        MOSS_LOG_E(TAG, "HTTP: cannot set up TLS: %s", moss_strerror(rc));
        snprintf(why, wn, "%s", r);
      }
      break;
    case MOSS_TLS_CREDS_CERT:
      MOSS_LOG_E(TAG, "HTTP: cannot use certificate %s", r);
      snprintf(why, wn, "http.ssl_cert %s", r);
      break;
    case MOSS_TLS_CREDS_KEY:
      MOSS_LOG_E(TAG, "HTTP: cannot use key %s", r);
      snprintf(why, wn, "http.ssl_key %s", r);
      break;
    case MOSS_TLS_CREDS_CA:
      MOSS_LOG_E(TAG, "HTTP: cannot open CA file %s", r);
      snprintf(why, wn, "http.ssl_ca_cert %s", r);
      break;
  }
  return rc;
}
