/*
 * moss/err.h - one error enum for the whole runtime.
 *
 * Every moss function that can fail returns an int: 0 (MOSS_OK) on success,
 * a negative enum moss_err value on failure.  Incremental parsers return >0
 * for bytes consumed, 0 for "need more input" and <0 for an error; they
 * never mix that convention with this one for other meanings.
 * moss_strerror() gives a short, stable, lower-case English text for a code;
 * the returned pointer is to static storage and never NULL.
 */
#ifndef MOSS_ERR_H
#define MOSS_ERR_H

enum moss_err {
  MOSS_OK = 0,
  MOSS_ERR_INTERNAL = -1,     /* a bug: an invariant did not hold */
  MOSS_ERR_NOMEM = -2,        /* allocation failed or RAM budget exhausted */
  MOSS_ERR_INVAL = -3,        /* invalid argument */
  MOSS_ERR_IO = -4,           /* host I/O failed (file, socket) */
  MOSS_ERR_NOENT = -5,        /* no such file / key / entry */
  MOSS_ERR_EXIST = -6,        /* already exists */
  MOSS_ERR_NOSPC = -7,        /* no space left (flash, filesystem, table) */
  MOSS_ERR_CORRUPT = -8,      /* stored data failed a check (CRC, magic) */
  MOSS_ERR_RANGE = -9,        /* offset or length out of bounds */
  MOSS_ERR_ALIGN = -10,       /* offset or length not aligned */
  MOSS_ERR_AGAIN = -11,       /* would block; try again later */
  MOSS_ERR_TOOBIG = -12,      /* exceeds a hard cap */
  MOSS_ERR_PERM = -13,        /* not permitted (ACL, protection, locked) */
  MOSS_ERR_NOTSUP = -14,      /* not supported */
  MOSS_ERR_BITSET = -15,      /* NOR program tried to turn a 0 bit into 1 */
  MOSS_ERR_FAULT = -16,       /* injected fault: simulated power cut */
  MOSS_ERR_CLOSED = -17,      /* peer closed / object closed */
  MOSS_ERR_TIMEOUT = -18,     /* timed out */
  MOSS_ERR_PROTO = -19,       /* protocol violation by the peer */
  MOSS_ERR_BUSY = -20,        /* resource busy (e.g. file open) */
  MOSS_ERR_NAMETOOLONG = -21, /* name exceeds its limit */
  MOSS_ERR_ISDIR = -22,       /* not a regular file */
  MOSS_ERR_AUTH = -23,        /* authentication required or failed */
  MOSS_ERR_CRYPTO = -24,      /* a crypto library call failed */
  MOSS_ERR_PARSE = -25,       /* malformed input */
};

const char *moss_strerror(int err);

#endif
