/* cJSON glue: every cJSON allocation is charged to MOSS_SUB_JSON. */
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
  if (hooks_installed) return;
  /* With custom hooks cJSON stops using realloc and copies instead, which
   * keeps every block on the moss accounts. */
  cJSON_Hooks h = {json_malloc, json_free};
  cJSON_InitHooks(&h);
  hooks_installed = true;
}
