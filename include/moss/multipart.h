/*
 * moss/multipart.h - multipart/form-data bodies (RFC 7578) for the
 * device's /upload endpoint (spec http.md §5).  Pure: no I/O, no heap;
 * every result is a view into the caller's body buffer, valid as long as
 * that buffer.
 *
 *   struct moss_str b;
 *   if (moss_multipart_boundary(content_type, &b) != MOSS_OK) -> 400
 *   size_t pos = 0; struct moss_multipart_part p; int rc;
 *   while ((rc = moss_multipart_next(body, b, &pos, &p)) > 0) ... use p
 *   rc == 0: clean end ("--boundary--"); rc < 0: malformed body (400).
 */
#ifndef MOSS_MULTIPART_H
#define MOSS_MULTIPART_H

#include <stddef.h>

#include "moss/util.h"

/* RFC 2046: at most 70 characters. */
#define MOSS_MULTIPART_BOUNDARY_MAX 70u
/* Headers of one part (bytes up to the blank line). */
#define MOSS_MULTIPART_HEAD_MAX 1024u

struct moss_multipart_part {
  struct moss_str name;     /* form field name ("" if none) */
  struct moss_str filename; /* "" when the part is not a file; raw, as
                             * sent between the quotes */
  struct moss_str content_type;
  struct moss_str data; /* the part's bytes */
};

/* The boundary parameter of a Content-Type value
 * "multipart/form-data; boundary=XYZ" (token or quoted-string).
 * MOSS_ERR_NOTSUP for another media type, MOSS_ERR_PARSE for a missing or
 * invalid boundary. */
int moss_multipart_boundary(struct moss_str content_type,
                            struct moss_str *boundary);

/* Next part of body at *pos (start with 0).  Returns 1 with *part filled
 * and *pos advanced, 0 at the closing delimiter, MOSS_ERR_PARSE when the
 * body is not well-formed (missing delimiter, headers too long, no blank
 * line, truncated). */
int moss_multipart_next(struct moss_str body, struct moss_str boundary,
                        size_t *pos, struct moss_multipart_part *part);

#endif
