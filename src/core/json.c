/*
 * JSON glue: every cJSON allocation is charged to MOSS_SUB_JSON; the one
 * position helper that walks JSON text a parser has accepted.
 */
#include <stdbool.h>

#include <cJSON.h>

#include "moss/alloc.h"
#include "moss/json.h"

static bool hooks_installed;

static void *json_malloc(size_t n) {
  /* moss_alloc refuses 0 bytes; cJSON never asks for 0 but a NULL here
   * would read as out-of-memory, so round up rather than surprise it. */
  return moss_alloc(MOSS_SUB_JSON, n ? n : 1);
}

/* cJSON's free hook gets no size; moss_free finds it in the block. */
static void json_free(void *p) {
  moss_free(p);
}

void moss_json_init(void) {
  if (hooks_installed)
    return;
  /* With custom hooks cJSON stops using realloc and copies instead, which
   * keeps every block on the moss accounts. */
  cJSON_Hooks h = {json_malloc, json_free};
  cJSON_InitHooks(&h);
  hooks_installed = true;
}

/* ---- positions in JSON text (see moss/json.h) -------------------------- */

bool moss_json_is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t moss_json_skip_ws(const char *s, size_t n, size_t i) {
  while (i < n && moss_json_is_ws(s[i]))
    i++;
  return i;
}

size_t moss_json_string_end(const char *s, size_t n, size_t i) {
  for (i++; i < n; i++) {
    if (s[i] == '\\') {
      i++; /* the escaped byte, whatever it is (\" above all) */
    } else if (s[i] == '"') {
      return i;
    }
  }
  return n;
}

size_t moss_json_skip_string(const char *s, size_t n, size_t i) {
  size_t e = moss_json_string_end(s, n, i);
  return e < n ? e + 1 : n;
}

size_t moss_json_skip_value(const char *s, size_t n, size_t i) {
  if (i >= n)
    return n;
  if (s[i] == '"')
    return moss_json_skip_string(s, n, i);
  if (s[i] == '{' || s[i] == '[') {
    /* Valid text nests properly, so one counter serves both kinds. */
    size_t depth = 0;
    while (i < n) {
      char c = s[i];
      if (c == '"') {
        i = moss_json_skip_string(s, n, i);
        continue;
      }
      if (c == '{' || c == '[')
        depth++;
      if ((c == '}' || c == ']') && --depth == 0)
        return i + 1;
      i++;
    }
    return n;
  }
  while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
         !moss_json_is_ws(s[i]))
    i++;
  return i;
}

bool moss_json_member(const char *s, size_t n, size_t *i,
                      struct moss_str *key) {
  size_t k = moss_json_skip_ws(s, n, *i);
  if (k >= n || s[k] != '"')
    return false;
  size_t e = moss_json_string_end(s, n, k);
  if (e >= n)
    return false;
  size_t j = moss_json_skip_ws(s, n, e + 1);
  if (j >= n || s[j] != ':')
    return false;
  *key = moss_str_n(s + k + 1, e - k - 1);
  *i = moss_json_skip_ws(s, n, j + 1);
  return true;
}

bool moss_json_member_next(const char *s, size_t n, size_t *i) {
  size_t j = moss_json_skip_ws(s, n, moss_json_skip_value(s, n, *i));
  if (j >= n || s[j] != ',')
    return false;
  *i = j + 1;
  return true;
}
