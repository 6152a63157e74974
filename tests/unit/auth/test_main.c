/*
 * Unit tests of src/auth: Digest, nonce table, htdigest, ACL.
 */
#include <stdio.h>
#include <string.h>

#include "auth_test.h"

long at_read_file(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return -1;
  size_t n = fread(buf, 1, size - 1, f);
  int bad = ferror(f) || !feof(f);
  fclose(f);
  if (bad)
    return -1;
  buf[n] = '\0';
  return (long)n;
}

int at_next_row(char **cursor, char sep, char **fields, int max) {
  char *p = *cursor;
  while (p != NULL && *p != '\0') {
    char *nl = strchr(p, '\n');
    char *next = nl != NULL ? nl + 1 : NULL;
    if (nl != NULL)
      *nl = '\0';
    if (*p == '\0' || *p == '#') {
      p = next;
      continue;
    }
    int n = 0;
    fields[n++] = p;
    while (n < max) {
      char *s = strchr(p, sep);
      if (s == NULL)
        break;
      *s = '\0';
      p = s + 1;
      fields[n++] = p;
    }
    *cursor = next;
    return n;
  }
  *cursor = NULL;
  return 0;
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  at_digest_tests();
  at_nonce_tests();
  at_htdigest_tests();
  at_acl_tests();
  return mt_done();
}
