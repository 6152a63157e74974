/* JSON output for mos: 2-space indent, optional sorted keys. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moss/alloc.h"
#include "tool.h"

static void print_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"':
        fputs("\\\"", stdout);
        break;
      case '\\':
        fputs("\\\\", stdout);
        break;
      case '\n':
        fputs("\\n", stdout);
        break;
      case '\r':
        fputs("\\r", stdout);
        break;
      case '\t':
        fputs("\\t", stdout);
        break;
      case '\b':
        fputs("\\b", stdout);
        break;
      case '\f':
        fputs("\\f", stdout);
        break;
      default:
        if (*p < 0x20)
          printf("\\u%04x", *p);
        else
          putchar(*p);
    }
  }
  putchar('"');
}

static void print_num(double d) {
  if (isfinite(d) && d == (double)(long long)d && fabs(d) < 1e17) {
    printf("%lld", (long long)d);
    return;
  }
  /* Shortest form that reads back to the same double. */
  char buf[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof(buf), "%.*g", prec, d);
    if (strtod(buf, NULL) == d)
      break;
  }
  fputs(buf, stdout);
}

static int cmp_keys(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  return strcmp(x->string, y->string);
}

static void indent(int n) {
  for (int i = 0; i < n; i++)
    fputs("  ", stdout);
}

static void print_val(const cJSON *j, int depth, bool sort) {
  if (cJSON_IsNull(j) || j == NULL) {
    fputs("null", stdout);
  } else if (cJSON_IsTrue(j)) {
    fputs("true", stdout);
  } else if (cJSON_IsFalse(j)) {
    fputs("false", stdout);
  } else if (cJSON_IsNumber(j)) {
    print_num(j->valuedouble);
  } else if (cJSON_IsString(j)) {
    print_str(j->valuestring);
  } else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
    bool obj = cJSON_IsObject(j);
    int n = cJSON_GetArraySize(j);
    if (n == 0) {
      fputs(obj ? "{}" : "[]", stdout);
      return;
    }
    const cJSON **items = moss_alloc(MOSS_SUB_APP, sizeof(*items) * (size_t)n);
    if (items == NULL)
      return;
    int k = 0;
    for (const cJSON *c = j->child; c; c = c->next)
      items[k++] = c;
    if (obj && sort)
      qsort(items, (size_t)n, sizeof(*items), cmp_keys);
    puts(obj ? "{" : "[");
    for (int i = 0; i < n; i++) {
      indent(depth + 1);
      if (obj) {
        print_str(items[i]->string);
        fputs(": ", stdout);
      }
      print_val(items[i], depth + 1, sort);
      puts(i + 1 < n ? "," : "");
    }
    moss_free(items);
    indent(depth);
    putchar(obj ? '}' : ']');
  }
}

void tool_print_json(const cJSON *j, bool sort_keys) {
  print_val(j, 0, sort_keys);
  putchar('\n');
}
