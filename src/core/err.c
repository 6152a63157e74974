/* moss_strerror: stable texts for enum moss_err. */
#include "moss/err.h"

const char *moss_strerror(int err) {
  switch (err) {
    case MOSS_OK:
      return "ok";
    case MOSS_ERR_INTERNAL:
      return "internal error";
    case MOSS_ERR_NOMEM:
      return "out of memory";
    case MOSS_ERR_INVAL:
      return "invalid argument";
    case MOSS_ERR_IO:
      return "I/O error";
    case MOSS_ERR_NOENT:
      return "not found";
    case MOSS_ERR_EXIST:
      return "already exists";
    case MOSS_ERR_NOSPC:
      return "no space left";
    case MOSS_ERR_CORRUPT:
      return "data corrupted";
    case MOSS_ERR_RANGE:
      return "out of range";
    case MOSS_ERR_ALIGN:
      return "misaligned";
    case MOSS_ERR_AGAIN:
      return "would block";
    case MOSS_ERR_TOOBIG:
      return "too big";
    case MOSS_ERR_PERM:
      return "not permitted";
    case MOSS_ERR_NOTSUP:
      return "not supported";
    case MOSS_ERR_BITSET:
      return "flash program would set a bit";
    case MOSS_ERR_FAULT:
      return "power cut";
    case MOSS_ERR_CLOSED:
      return "closed";
    case MOSS_ERR_TIMEOUT:
      return "timed out";
    case MOSS_ERR_PROTO:
      return "protocol error";
    case MOSS_ERR_BUSY:
      return "busy";
    case MOSS_ERR_NAMETOOLONG:
      return "name too long";
    case MOSS_ERR_ISDIR:
      return "not a regular file";
    case MOSS_ERR_AUTH:
      return "authentication failed";
    case MOSS_ERR_CRYPTO:
      return "crypto error";
    case MOSS_ERR_PARSE:
      return "parse error";
  }
  return "unknown error";
}
