/*
 * moss/rpc_authz.h - the device's RPC authorizer (spec rpc.md §5-6,
 * config.md §5.4, docs/security.md): the moss_rpc_authorize_fn that sits
 * between handler lookup and the handler.
 *
 * Per request, with the settings of the running configuration at that
 * moment (rpc.acl / rpc.acl_file / rpc.auth_*, re-read every time):
 *   1. a reboot due within 100 ms: 418 "shutting down in <N> ms";
 *   2. the ACL (inline or read from its file; broken or conflicting: 500
 *      naming it) decides for (method, channel type, user); the user is
 *      the channel's (HTTP Authorization, WS upgrade) or, when the ACL
 *      wants one and the frame has "auth", the one Digest verifies
 *      (moss/http_auth.h: shared nonces, throttle, password file);
 *   3. a refusal is 403 naming the ACL entry ("unauthorized: <M>: denied
 *      by <acl> entry <n>: <entry>"), a missing or failed login a 401
 *      challenge handed to the core as data (struct moss_rpc_challenge:
 *      the channel picks the wire form), too many failures 429;
 *   4. on the UART a few recovery methods (Config.*, FS.*, Sys.Reboot,
 *      Sys.GetInfo) run even when the ACL refuses them, after a login
 *      when a password file is configured, with a WARN saying so.
 * Log lines have the tag "auth".
 *
 * Lifecycle: moss_rpc_authorizer_new() installs it on an RPC instance;
 * moss_rpc_authorizer_free() after moss_rpc_free() of that instance.
 * Library-owned (MOSS_SUB_RPC, ~4 KB: one parsed ACL).  Single-threaded.
 */
#ifndef MOSS_RPC_AUTHZ_H
#define MOSS_RPC_AUTHZ_H

#include "moss/cfg.h"
#include "moss/fs.h"
#include "moss/http_auth.h"
#include "moss/rpc.h"
#include "moss/rpc_svc.h"

/* What the authorizer reads; copied, the pointers borrowed (they must
 * outlive the authorizer). */
struct moss_rpc_authz_cfg {
  const struct moss_cfg *cfg;           /* the running configuration */
  struct moss_fs *fs;                   /* rpc.acl_file */
  struct moss_http_auth *auth;          /* nonces, throttle, passwords */
  const struct moss_rpc_reboot *reboot; /* the 418 window; may be NULL */
};

struct moss_rpc_authorizer; /* opaque */

/* Creates the authorizer and sets it on rpc (moss_rpc_set_authorizer).
 * MOSS_ERR_NOMEM (*out NULL, rpc unchanged). */
int moss_rpc_authorizer_new(struct moss_rpc *rpc,
                            const struct moss_rpc_authz_cfg *cfg,
                            struct moss_rpc_authorizer **out);
/* Wipes and frees.  NULL-safe. */
void moss_rpc_authorizer_free(struct moss_rpc_authorizer *a);

#endif
