/*
 * moss/http_files.h - the device filesystem over HTTP: file serving under
 * http.document_root and POST /upload (spec http.md §3-5), behind
 * http.auth_* Digest.
 *
 * Serving: GET/HEAD of a decoded path under the document root; a
 * directory gets the first of http.index_files ("index.html,index.htm")
 * or 404, never a listing.  Never served (404, as if absent):
 * conf*.json(.try), *.key, the files the key, password and ACL settings
 * name, and http.hidden_files.  Bodies are streamed from the file
 * (MOSS_HTTP_STREAM_CHUNK at a time), with http.extra_headers.
 *
 * /upload: multipart/form-data; every part's file name is checked
 * against http.upload_acl (comma list of [+|-]glob, first match decides,
 * no match denies; a bare "*" does not open the protected files above)
 * before any part is written, so a refused name changes nothing.  Log:
 * WARN "upload of <name> refused", INFO "uploaded <name> (<n> bytes)"
 * (tag "http").
 *
 * Configuration is read at every request from the running tree, so
 * Config.Set takes effect at once.  Single-threaded.
 */
#ifndef MOSS_HTTP_FILES_H
#define MOSS_HTTP_FILES_H

#include "moss/cfg.h"
#include "moss/fs.h"
#include "moss/http_auth.h"
#include "moss/http_router.h"

/* The path of the upload endpoint. */
#define MOSS_HTTP_UPLOAD_PATH "/upload"

/* What the file server needs; a caller-owned plain struct whose members
 * are borrowed and must outlive the server it is mounted on. */
struct moss_http_files {
  struct moss_fs *fs;
  /* The running configuration: http.document_root, .index_files,
   * .hidden_files, .extra_headers, .upload_acl, .auth_*, and the
   * settings naming secret files (rpc.auth_file, rpc.acl, ...). */
  const struct moss_cfg *cfg;
  struct moss_http_auth *auth; /* http.auth_* Digest */
};

/* Mounts /upload and makes the file server the router's fallback.
 * MOSS_ERR_NOSPC (router full). */
int moss_http_files_mount(struct moss_http_files *f,
                          struct moss_http_router *r);

/* The two handlers (moss_http_handler_fn, arg = f), for a caller that
 * routes itself. */
void moss_http_files_serve(void *arg, struct moss_http_conn *hc,
                           const struct moss_http_req *req,
                           struct moss_str body);
void moss_http_files_upload(void *arg, struct moss_http_conn *hc,
                            const struct moss_http_req *req,
                            struct moss_str body);

#endif
