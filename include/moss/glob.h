/*
 * moss/glob.h - the glob matcher of RPC ACLs, http.hidden_files and
 * upload_acl (spec rpc.md §6.3).
 *
 * Case-insensitive; must match the whole string.
 *   *   any run of characters except '/'
 *   **  any run of characters
 *   ?   exactly one character
 *   a|b, a,b   alternatives
 *   $   end anchor (redundant at the end, since matches are whole)
 * An empty pattern (or an empty alternative) matches nothing.
 * No heap, no recursion deeper than the number of '*' tokens.
 */
#ifndef MOSS_GLOB_H
#define MOSS_GLOB_H

#include <stdbool.h>

#include "moss/util.h"

bool moss_glob_match(struct moss_str pattern, struct moss_str s);
/* Same without the alternative separators: one pattern only. */
bool moss_glob_match1(struct moss_str pattern, struct moss_str s);

#endif
