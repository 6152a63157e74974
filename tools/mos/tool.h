/*
 * mos internals: options, the RPC client abstraction, output helpers.
 * CLI code: names are tool_* / cmd_*, never moss_*.
 */
#ifndef MOS_TOOL_H
#define MOS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#define TOOL_VERSION "0.1.0"

enum tool_flag_type { TF_BOOL, TF_STR, TF_INT, TF_DUR };

struct tool_flag {
  const char *name; /* long name without "--" */
  char shorthand;   /* 0 or a single-letter alias (-X, -l) */
  enum tool_flag_type type;
  const char *def; /* default as text */
  bool hidden;     /* shown only by help --full */
  const char *arg; /* name of the value in help ("FILE"); NULL: bool */
  const char *help;
  /* parsed value */
  const char *sval;
  long long ival; /* int, bool (0/1), duration in ms */
  bool set;       /* given on the command line or the environment */
};

/* Look a flag up by name; NULL if unknown (programming error). */
struct tool_flag *tool_flag(const char *name);
const char *tool_str(const char *name);
long long tool_int(const char *name);
bool tool_bool(const char *name);
/* Prints "Error: <cmd> failed: <msg>" and returns 1 (for `return`). */
int tool_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Name of the running command (for error lines). */
extern const char *tool_cmd_name;

/* An RPC connection to a device. */
struct tool_conn;
/* Opens the --port (resolving auto); on failure prints nothing and
 * returns NULL with *err set to a one-line reason. */
struct tool_conn *tool_connect(char *err, size_t errsz);
void tool_disconnect(struct tool_conn *c);
/* Calls method with params (may be NULL; not consumed).  On success
 * returns 0 and *result (caller frees with cJSON_Delete; may be a cJSON
 * NULL).  On a remote error returns 1 with *code set and the error message
 * in errbuf.  On a transport error returns -1 with the reason in errbuf;
 * *code is then 401 if the device asked for credentials that mos did not
 * have or the device did not take ("authentication failed for user ..."),
 * which still tells that the device is up. */
int tool_call(struct tool_conn *c, const char *method, const cJSON *params,
              cJSON **result, int *code, char *errbuf, size_t errsz);
/* tool_call that turns every failure into the standard error line
 * (returns non-zero after printing it).  *result must be freed. */
int tool_call_or_fail(struct tool_conn *c, const char *method,
                      const cJSON *params, cJSON **result);

/* Digest (tool_auth.c).  tool_auth_frame: answer an in-frame 401 whose
 * error.message is `message` by adding "auth" to frame; returns 0 done,
 * 1 not a Digest challenge, -1 error (err set, e.g. no --rpc-creds).
 * tool_auth_header: the Authorization value answering an HTTP 401. */
int tool_auth_frame(const char *message, cJSON *frame, char *err, size_t errsz);
/* err = "authentication failed for user '<user>'", the user of
 * --rpc-creds: the device refused our answer to its challenge. */
void tool_auth_failed(char *err, size_t errsz);
int tool_auth_header(const char *www_authenticate, const char *method,
                     const char *uri, char *out, size_t outsz, char *err,
                     size_t errsz);

/* Each command: argc/argv are the positional args after the command. */
typedef int tool_cmd_fn(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_config_get(int argc, char **argv);
int cmd_config_set(int argc, char **argv);
int cmd_wifi(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_rm(int argc, char **argv);

/* Pretty JSON (2-space indent) to stdout, keys in the given order. */
void tool_print_json(const cJSON *j, bool sort_keys);
/* A copy that lives until exit (flag values). */
const char *tool_strdup(const char *s);
/* Parses "20s", "500ms", "1m30s"; -1 on error. */
long long tool_parse_duration(const char *s);

#endif
