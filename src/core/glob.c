/*
 * Glob matching by NFA simulation: the set of pattern positions still alive
 * is a bitset, advanced one input character at a time.  Time is
 * O(len(pattern) * len(s)) whatever the pattern, so a hostile pattern in an
 * ACL or config file cannot make matching exponential, and no heap is used.
 */
#include "moss/glob.h"

#include <ctype.h>
#include <string.h>

#define MAXPAT 256 /* longer single patterns never match */
#define WORDS (MAXPAT / 64 + 1)

struct set {
  uint64_t w[WORDS];
};

static void set_add(struct set *s, size_t i) {
  s->w[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool set_has(const struct set *s, size_t i) {
  return (s->w[i / 64] >> (i % 64)) & 1;
}

static bool set_empty(const struct set *s) {
  for (size_t i = 0; i < WORDS; i++)
    if (s->w[i])
      return false;
  return true;
}

/* Length of the token at p[i]: 2 for "**", else 1. */
static size_t tok_len(struct moss_str p, size_t i) {
  return (p.buf[i] == '*' && i + 1 < p.len && p.buf[i + 1] == '*') ? 2 : 1;
}

/* Epsilon closure: a star may match nothing; '$' is passable only at the
 * end of the input. */
static void closure(struct moss_str p, struct set *s, bool at_end) {
  for (size_t i = 0; i < p.len; i++) {
    if (!set_has(s, i))
      continue;
    char c = p.buf[i];
    if (c == '*' || (c == '$' && at_end))
      set_add(s, i + tok_len(p, i));
  }
}

bool moss_glob_match1(struct moss_str p, struct moss_str s) {
  if (p.len == 0 || p.len >= MAXPAT)
    return false;
  struct set cur;
  memset(&cur, 0, sizeof(cur));
  set_add(&cur, 0);
  closure(p, &cur, s.len == 0);
  for (size_t k = 0; k < s.len; k++) {
    unsigned char c = (unsigned char)s.buf[k];
    struct set nxt;
    memset(&nxt, 0, sizeof(nxt));
    for (size_t i = 0; i < p.len; i++) {
      if (!set_has(&cur, i))
        continue;
      unsigned char t = (unsigned char)p.buf[i];
      size_t tl = tok_len(p, i);
      if (t == '*') {
        if (tl == 2 || c != '/')
          set_add(&nxt, i);
      } else if (t == '?') {
        set_add(&nxt, i + 1);
      } else if (t == '$') {
        /* only at end: consumes nothing */
      } else if (tolower(t) == tolower(c)) {
        set_add(&nxt, i + 1);
      }
    }
    closure(p, &nxt, k + 1 == s.len);
    if (set_empty(&nxt))
      return false;
    cur = nxt;
  }
  return set_has(&cur, p.len);
}

bool moss_glob_match(struct moss_str p, struct moss_str s) {
  size_t start = 0;
  for (size_t i = 0; i <= p.len; i++) {
    if (i == p.len || p.buf[i] == '|' || p.buf[i] == ',') {
      struct moss_str alt = {p.buf + start, i - start};
      if (moss_glob_match1(alt, s))
        return true;
      start = i + 1;
    }
  }
  return false;
}
