/*
 * moss/priv/auth_json.h - Digest credentials from an RPC frame's "auth"
 * value, a cJSON tree (spec rpc.md §5.2).
 *
 * Private (see moss/priv/rpc_json.h for why cJSON stays out of public
 * headers): the RPC authorizer (src/rpc/rpc_authz.c), tests and fuzzers
 * use it.  Pure like the rest of moss/auth.h: no I/O, no heap, no
 * logging.
 */
#ifndef MOSS_PRIV_AUTH_JSON_H
#define MOSS_PRIV_AUTH_JSON_H

#include <cJSON.h>

#include "moss/auth.h"

/* The frame's "auth" value (any cJSON, NULL = absent) -> c.  Rules of
 * §5.2: realm, username, nonce, cnonce, response required and non-empty;
 * nonce and cnonce integers (printed in decimal; integral, |v| <= 2^53)
 * or strings used verbatim; nc an integer 1..2^32-1, absent = 1;
 * algorithm a string; opaque ignored.  response must be hex (its length
 * is checked by moss_digest_check, which knows the configured algo).
 * auth is borrowed for the call.  Returns MOSS_OK, or MOSS_ERR_PARSE with
 * *why (static text, may be NULL) naming the problem, e.g. "missing
 * response".  c is always initialised. */
int moss_digest_creds_from_json(const cJSON *auth, struct moss_digest_creds *c,
                                const char **why);

#endif
