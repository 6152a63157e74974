/*
 * Shared bits of the auth unit tests: vector files and test lists.
 */
#ifndef MOSS_AUTH_TEST_H
#define MOSS_AUTH_TEST_H

#include <stddef.h>

#include "harness.h"
#include "moss/auth.h"
#include "moss/priv/auth_json.h"

/* Vectors live in tests/vectors/auth/ (tests run from the top dir). */
#define AUTH_VEC(name) "tests/vectors/auth/" name

/* Read a whole file into buf (NUL-terminated); returns its length or -1. */
long at_read_file(const char *path, char *buf, size_t size);
/* Split the next data line of text (skipping '#' and empty lines) at sep
 * into at most max fields (the last takes the rest).  Modifies text;
 * *cursor starts at text.  Returns the field count, 0 at the end. */
int at_next_row(char **cursor, char sep, char **fields, int max);

void at_digest_tests(void);
void at_nonce_tests(void);
void at_htdigest_tests(void);
void at_acl_tests(void);

#endif
