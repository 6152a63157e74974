/* mos call <Method> [<params-json>] */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

int cmd_call(int argc, char **argv) {
  if (argc < 1)
    return tool_fail("method required");
  if (argc > 2)
    return tool_fail("extra arguments");
  const char *method = argv[0];
  cJSON *params = NULL;
  if (argc == 2 && argv[1][0] != '\0') {
    params = cJSON_Parse(argv[1]);
    if (params == NULL)
      return tool_fail("Args [%s] is not a valid JSON string", argv[1]);
  }
  char err[1024];
  struct tool_conn *c = tool_connect(err, sizeof(err));
  if (c == NULL) {
    cJSON_Delete(params);
    return tool_fail("%s", err);
  }
  cJSON *res = NULL;
  int rc = tool_call_or_fail(c, method, params, &res);
  cJSON_Delete(params);
  if (rc == 0) {
    tool_print_json(res, false);
    fflush(stdout);
    if (strcasecmp(method, "Sys.Reboot") == 0)
      usleep(200 * 1000);
  }
  cJSON_Delete(res);
  tool_disconnect(c);
  return rc;
}
