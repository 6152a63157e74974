/*
 * moss/json.h - JSON glue: cJSON on moss's counting allocator, and the
 * one position helper for JSON text.
 *
 * Allocator.  moss_json_init() routes every cJSON allocation through
 * moss_alloc (MOSS_SUB_JSON).  Idempotent; every module that uses cJSON
 * calls it before its first cJSON call, so no block is ever allocated by
 * one allocator and freed by the other.
 *
 * Positions.  cJSON parses, but keeps no positions and alters what it
 * stores (numbers become doubles).  Modules that must point back into the
 * text (a config error's line:column, an RPC id's exact spelling) walk it
 * again with the skippers below.  They are locators, not parsers: they
 * decide no validity, so call them on text a parser has accepted.  On any
 * other text they still terminate and stay within [0, n), but where they
 * land is unspecified.  Pure: no heap, no I/O, no global state.
 *
 * Every skipper takes the text s of n bytes (not NUL-terminated, borrowed
 * for the call) and an offset i <= n, and returns an offset in [i, n].
 * Whitespace is exactly what RFC 8259 allows: space, tab, CR, LF.  cJSON
 * also skips other bytes <= 0x20; at such a byte the skippers stop, and a
 * caller finds an unexpected byte there and gives up, which is the safe
 * way to disagree with the parser.
 */
#ifndef MOSS_JSON_H
#define MOSS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "moss/util.h"

void moss_json_init(void);

/* Space, tab, CR or LF (RFC 8259 "ws"). */
bool moss_json_is_ws(char c);

/* The first non-whitespace offset at or after i (n if none). */
size_t moss_json_skip_ws(const char *s, size_t n, size_t i);

/* s[i] is the opening '"' of a string: the offset of its closing '"',
 * stepping over backslash escapes; n if the string does not end before
 * n. */
size_t moss_json_string_end(const char *s, size_t n, size_t i);

/* s[i] is the opening '"': the offset just past the closing '"' (n if
 * the string does not end). */
size_t moss_json_skip_string(const char *s, size_t n, size_t i);

/* s[i] is the first byte of a value: the offset just past it.  Strings
 * and brackets (with everything nested, strings included) are skipped as a
 * whole; anything else (number, true, false, null) runs up to the next
 * ',', '}', ']' or whitespace. */
size_t moss_json_skip_value(const char *s, size_t n, size_t i);

/* Walking the members of an object.  Start with *i just past its '{':
 *
 *   for (;;) {
 *     if (!moss_json_member(s, n, &i, &key)) break;   -- i: the value
 *     ...
 *     if (!moss_json_member_next(s, n, &i)) break;    -- i: next key
 *   }
 *
 * moss_json_member(): skips whitespace, a key string, whitespace, ':' and
 * whitespace.  true: *key is the key as written between its quotes
 * (escapes not decoded; borrowed from s) and *i is the first byte of the
 * value.  false: no member starts there (an empty object, or text no
 * parser accepted); *i is then unspecified. */
bool moss_json_member(const char *s, size_t n, size_t *i, struct moss_str *key);

/* *i is the first byte of a member's value: skips the value and
 * whitespace.  true: a ',' follows and *i is just past it.  false: the
 * object ends there ('}'), or the text is not an object. */
bool moss_json_member_next(const char *s, size_t n, size_t *i);

#endif
