/*
 * Positions in configuration JSON text, for error messages of the form
 * "conf9.json:4:17: config parse error: ...".
 *
 * cJSON does the parsing but records no positions for the values it
 * builds.  So once cJSON has accepted a text, a wrong-typed value is found
 * again here by walking the text along the member indexes of its path.
 * This is a locator over already-validated JSON, not a parser: it skips
 * with the JSON position helper of moss/json.h and never decides
 * validity.  No heap.
 */
#include <stdio.h>

#include "cfg_int.h"
#include "moss/json.h"
#include "moss/log.h"

void moss_cfg_pos_line_col(const char *text, size_t off, int *line, int *col) {
  int l = 1, c = 1;
  for (size_t i = 0; i < off; i++) {
    if (text[i] == '\n') {
      l++;
      c = 1;
    } else {
      c++;
    }
  }
  *line = l;
  *col = c;
}

size_t moss_cfg_pos_locate(const char *text, size_t len, const int *idx,
                           size_t n) {
  size_t i = moss_json_skip_ws(text, len, 0);
  for (size_t k = 0; k < n; k++) {
    if (i >= len || text[i] != '{')
      return i;
    size_t obj = i;
    i++;
    for (int m = 0;; m++) {
      struct moss_str key;
      if (!moss_json_member(text, len, &i, &key))
        return obj;
      if (m == idx[k])
        break;
      if (!moss_json_member_next(text, len, &i))
        return obj;
    }
  }
  return i;
}

enum cfg_scan moss_cfg_pos_scan(const char *text, size_t len, int max,
                                size_t *off) {
  char stack[CFG_JSON_DEPTH_MAX];
  int depth = 0;
  if (max > CFG_JSON_DEPTH_MAX)
    max = CFG_JSON_DEPTH_MAX;
  for (size_t i = 0; i < len;) {
    char c = text[i];
    if (c == '"') {
      *off = i;
      i = moss_json_string_end(text, len, i);
      if (i >= len) {
        return CFG_SCAN_EOF_STR; /* *off: where that string opens */
      }
      i++;
      continue;
    }
    if (c == '{' || c == '[') {
      if (depth >= max) {
        *off = i;
        return CFG_SCAN_TOO_DEEP;
      }
      stack[depth++] = c == '{' ? '}' : ']';
    } else if (c == '}' || c == ']') {
      if (depth == 0 || stack[depth - 1] != c) {
        *off = i;
        return CFG_SCAN_MISMATCH;
      }
      depth--;
    }
    i++;
  }
  *off = len;
  return depth > 0 ? CFG_SCAN_EOF : CFG_SCAN_OK;
}

void moss_cfg_pos_describe(const char *text, size_t len, size_t off, char *out,
                           size_t outsz) {
  off = moss_json_skip_ws(text, len, off);
  if (off >= len || text[off] == '\0') {
    snprintf(out, outsz, "unexpected end of input");
  } else {
    /* The byte is the news here: shown as itself when a log line can
     * carry it, else in hex (never the '?' of moss_log_sanitize). */
    unsigned char c = (unsigned char)text[off];
    if (moss_log_printable(c))
      snprintf(out, outsz, "unexpected '%c'", c);
    else
      snprintf(out, outsz, "unexpected byte 0x%02x", c);
  }
}
