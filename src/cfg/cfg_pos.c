/*
 * Positions in configuration JSON text, for error messages of the form
 * "conf9.json:4:17: config parse error: ...".
 *
 * cJSON does the parsing but records no positions for the values it
 * builds.  So once cJSON has accepted a text, a wrong-typed value is found
 * again here by walking the text along the member indexes of its path.
 * This is a locator over already-validated JSON, not a parser: it only
 * skips strings and brackets, and never decides validity.  No heap.
 */
#include <stdio.h>
#include <string.h>

#include "cfg_int.h"

void moss_cfg_pos_line_col(const char *text, size_t off, int *line,
                           int *col) {
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

static size_t skip_ws(const char *t, size_t len, size_t i) {
  while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' ||
                     t[i] == '\r'))
    i++;
  return i;
}

/* i at the opening quote; returns the index after the closing one. */
static size_t skip_string(const char *t, size_t len, size_t i) {
  for (i++; i < len && t[i] != '"'; i++)
    if (t[i] == '\\') i++;
  return i < len ? i + 1 : len;
}

static size_t skip_value(const char *t, size_t len, size_t i) {
  if (i >= len) return len;
  if (t[i] == '"') return skip_string(t, len, i);
  if (t[i] == '{' || t[i] == '[') {
    int depth = 0;
    while (i < len) {
      char c = t[i];
      if (c == '"') {
        i = skip_string(t, len, i);
        continue;
      }
      if (c == '{' || c == '[') depth++;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      i++;
    }
    return len;
  }
  while (i < len && t[i] != ',' && t[i] != '}' && t[i] != ']' &&
         t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r')
    i++;
  return i;
}

size_t moss_cfg_pos_locate(const char *text, size_t len, const int *idx,
                           size_t n) {
  size_t i = skip_ws(text, len, 0);
  for (size_t k = 0; k < n; k++) {
    if (i >= len || text[i] != '{') return i;
    size_t obj = i;
    i++;
    for (int m = 0;; m++) {
      i = skip_ws(text, len, i);
      if (i >= len || text[i] != '"') return obj;
      i = skip_string(text, len, i);
      i = skip_ws(text, len, i);
      if (i >= len || text[i] != ':') return obj;
      i = skip_ws(text, len, i + 1);
      if (m == idx[k]) break;
      i = skip_ws(text, len, skip_value(text, len, i));
      if (i >= len || text[i] != ',') return obj;
      i++;
    }
  }
  return i;
}

enum cfg_scan moss_cfg_pos_scan(const char *text, size_t len, int max,
                                size_t *off) {
  char stack[CFG_JSON_DEPTH_MAX];
  int depth = 0;
  if (max > CFG_JSON_DEPTH_MAX) max = CFG_JSON_DEPTH_MAX;
  for (size_t i = 0; i < len;) {
    char c = text[i];
    if (c == '"') {
      *off = i;
      for (i++; i < len && text[i] != '"'; i++)
        if (text[i] == '\\') i++;
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

void moss_cfg_pos_describe(const char *text, size_t len, size_t off,
                           char *out, size_t outsz) {
  off = skip_ws(text, len, off);
  if (off >= len || text[off] == '\0') {
    snprintf(out, outsz, "unexpected end of input");
  } else {
    unsigned char c = (unsigned char) text[off];
    if (c >= 0x20 && c < 0x7f)
      snprintf(out, outsz, "unexpected '%c'", c);
    else
      snprintf(out, outsz, "unexpected byte 0x%02x", c);
  }
}
