/*
 * mos - the moss host command line tool (spec mos-cli.md).
 *
 * `mos [flags] <command> [args...] [flags]`: flags may appear anywhere,
 * `--flag=value` and `--flag value` both work, booleans take `--flag`,
 * `--flag=true|false`.  Every flag can also come from MOS_<NAME> in the
 * environment; the command line wins.  Results go to stdout, progress and
 * errors to stderr; exit status 0 or 1.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moss/alloc.h"
#include "moss/json.h"
#include "moss/log.h"
#include "tool.h"

const char *tool_cmd_name = "mos";

/* Every flag mos has; each is read by at least one command below.  The
 * commands that use a flag say so in their table entry (cmds[]), and help
 * is built from both tables, so it lists nothing that does not exist. */
static struct tool_flag flags[] = {
    {.name = "port",
     .type = TF_STR,
     .def = "auto",
     .arg = "PORT",
     .help = "where the device is: a serial port (/dev/ttyUSB0, "
             "state/uart), tcp://HOST:PORT, ws://HOST:PORT/rpc, "
             "wss://..., http://HOST:PORT/rpc or https://...; auto: the "
             "newest mossd of this user, then /dev/ttyUSB*, /dev/ttyACM*"},
    {.name = "baud-rate",
     .type = TF_INT,
     .def = "115200",
     .arg = "N",
     .help = "serial speed"},
    {.name = "timeout",
     .type = TF_DUR,
     .def = "20s",
     .arg = "DURATION",
     .help = "limit for connecting and for each call (500ms, 20s, 1m); "
             "config-set also waits up to this long for the device to "
             "come back after its reboot"},
    {.name = "rpc-creds",
     .type = TF_STR,
     .def = "",
     .arg = "USER:PASS",
     .help = "credentials for Digest authentication: user:pass, or "
             "@FILE holding user:pass"},
    {.name = "cert-file",
     .type = TF_STR,
     .def = "",
     .arg = "FILE",
     .help = "client certificate (PEM) for TLS to the device; also turns "
             "TLS on; needs --key-file"},
    {.name = "key-file",
     .type = TF_STR,
     .def = "",
     .arg = "FILE",
     .help = "private key (PEM) of --cert-file"},
    {.name = "ca-cert-file",
     .type = TF_STR,
     .def = "",
     .arg = "FILE",
     .help = "CA certificate(s) to verify the device's certificate with; "
             "without it the device is not verified (a warning says so)"},
    {.name = "tls-server-name",
     .type = TF_STR,
     .def = "",
     .arg = "NAME",
     .help = "name the device's certificate must carry (default: the "
             "host of --port)"},
    {.name = "rpc-uart-no-delay",
     .type = TF_BOOL,
     .def = "false",
     .help = "serial: send without the 16-byte/5 ms pacing real UARTs "
             "need at 115200 without flow control"},
    {.name = "hw-flow-control",
     .type = TF_BOOL,
     .def = "false",
     .help = "serial: RTS/CTS flow control (no pacing needed)"},
    {.name = "level",
     .type = TF_INT,
     .def = "-1",
     .arg = "N",
     .help = "configuration level to read or write; -1 is the running "
             "configuration"},
    {.name = "no-reboot",
     .type = TF_BOOL,
     .def = "false",
     .help = "save but do not reboot"},
    {.name = "no-save",
     .type = TF_BOOL,
     .def = "false",
     .help = "change the running configuration only: neither save nor "
             "reboot"},
    {.name = "try-once",
     .type = TF_BOOL,
     .def = "false",
     .help = "the new configuration holds for one boot only"},
    {.name = "chunk-size",
     .type = TF_INT,
     .def = "512",
     .arg = "BYTES",
     .help = "bytes per FS.Put / FS.Get call"},
    {.name = "fs-op-attempts",
     .type = TF_INT,
     .def = "3",
     .arg = "N",
     .help = "tries per chunk when the connection fails"},
    {.name = "long",
     .shorthand = 'l',
     .type = TF_BOOL,
     .def = "false",
     .help = "with sizes"},
    {.name = "full",
     .type = TF_BOOL,
     .def = "false",
     .help = "also show the hidden flags"},
    {.name = "help",
     .shorthand = 'h',
     .type = TF_BOOL,
     .def = "false",
     .help = "show help (of the command, if one is given)"},
    {.name = "verbose",
     .shorthand = 'v',
     .type = TF_BOOL,
     .def = "false",
     .hidden = true,
     .help = "debug log of mos to stderr"},
    {.name = "enable-extended",
     .shorthand = 'X',
     .type = TF_BOOL,
     .def = "false",
     .hidden = true,
     .help = "accepted and ignored (Mongoose OS mos compatibility)"},
};

/* Flags of every command that talks to a device. */
static const char *const conn_flags[] = {"port",
                                         "baud-rate",
                                         "timeout",
                                         "rpc-creds",
                                         "cert-file",
                                         "key-file",
                                         "ca-cert-file",
                                         "tls-server-name",
                                         "rpc-uart-no-delay",
                                         "hw-flow-control",
                                         NULL};

struct tool_cmd {
  const char *name;
  tool_cmd_fn *fn;
  const char *usage;        /* arguments, after "mos <name>" */
  const char *summary;      /* one line for the command list */
  const char *desc;         /* the longer text of "mos help <name>" */
  const char *args;         /* "<arg>\tmeaning" lines, or NULL */
  const char *const *flags; /* its own flags, NULL-terminated */
  bool conn;                /* also takes conn_flags */
  const char *examples;     /* lines, or NULL */
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const char *const config_flags[] = {"level", "no-reboot", "no-save",
                                           "try-once", NULL};

static const struct tool_cmd cmds[] = {
    {"call", cmd_call, "<Method> [<params-json>]", "perform a device RPC call",
     "Calls <Method> on the device and prints its result on stdout as JSON "
     "(2-space indent, keys in the device's order), or null.  A refusal "
     "or failure on the device is one line on stderr, \"remote error "
     "<code>: <the device's message>\", and exit status 1.",
     "<Method>\tthe RPC method, e.g. Sys.GetInfo (RPC.List lists them)\n"
     "<params-json>\tthe params object as JSON text",
     (const char *const[]){NULL}, true,
     "mos call RPC.List\n"
     "mos call FS.List '{\"path\": \"/\"}'\n"
     "mos --port ws://127.0.0.1:8000/rpc call Sys.GetInfo"},
    {"config-get", cmd_config_get, "[<path>]",
     "print the device configuration or one value",
     "Reads the device configuration (Config.Get) and prints the value at "
     "the dotted <path>: strings as they are, numbers and booleans as "
     "text, objects as JSON with sorted keys.  Without <path>, the whole "
     "tree.",
     "<path>\ta dotted path, e.g. http or http.listen_addr",
     (const char *const[]){"level", NULL}, true,
     "mos config-get http\nmos config-get http.listen_addr"},
    {"config-set", cmd_config_set, "<path>=<value> ...",
     "set device configuration, save and reboot",
     "Reads the configuration, converts each <value> to the type of the "
     "setting at <path>, sends the changes (Config.Set), saves them and "
     "reboots the device.  After the reboot mos waits, up to --timeout, "
     "until the device answers again and checks that its HTTP server "
     "started; if it did not, mos prints the device's reason and exits "
     "1.",
     "<path>=<value>\ta setting that exists, and its new value (strings, "
     "numbers, true/false)",
     config_flags, true,
     "mos config-set http.listen_addr=443 http.ssl_cert=cert.pem\n"
     "mos config-set --no-reboot rpc.auth_domain=myproduct"},
    {"wifi", cmd_wifi, "<SSID> <PASSWORD>", "set WiFi station credentials",
     "Joins a WiFi network: the same as \"mos config-set "
     "wifi.ap.enable=false wifi.sta.enable=true wifi.sta.ssid=<SSID> "
     "wifi.sta.pass=<PASSWORD>\", with the same output and checks.",
     "<SSID>\tthe network name\n<PASSWORD>\tits password", config_flags, true,
     "mos wifi WIFI_NET WIFI_PASS"},
    {"put", cmd_put, "<hostfile> [<devfile>]", "upload a file to the device",
     "Uploads <hostfile> in --chunk-size pieces (FS.Put).  A file of more "
     "than one chunk is written to <devfile>.part~ and renamed at the "
     "end, so an interrupted upload never leaves a truncated file.  Prints "
     "nothing on success.",
     "<hostfile>\tthe file to send\n"
     "<devfile>\tits name on the device (default: the base name of "
     "<hostfile>)",
     (const char *const[]){"chunk-size", "fs-op-attempts", NULL}, true,
     "mos put cert.pem\nmos put build/index.html index.html"},
    {"get", cmd_get, "<devfile>", "print a device file on stdout",
     "Reads <devfile> from the device in --chunk-size pieces (FS.Get) and "
     "writes its bytes to stdout.",
     "<devfile>\tthe file on the device",
     (const char *const[]){"chunk-size", NULL}, true, "mos get conf9.json"},
    {"ls", cmd_ls, "[-l] [<path>]", "list files on the device",
     "Lists the files on the device (FS.List, or FS.ListExt with -l), "
     "sorted by name, one per line.",
     "<path>\tlist only the files under this directory (default: all)",
     (const char *const[]){"long", NULL}, true, "mos ls -l"},
    {"rm", cmd_rm, "<devfile>", "delete a file on the device",
     "Deletes <devfile> on the device (FS.Remove).  Prints nothing on "
     "success.",
     "<devfile>\tthe file on the device", (const char *const[]){NULL}, true,
     "mos rm old-cert.pem"},
    {"help", cmd_help, "[<command>]", "show help",
     "Without <command>: the commands and all flags.  With <command>: "
     "what it does, its arguments and the flags it takes (the same as "
     "\"mos <command> --help\").",
     "<command>\ta command name", (const char *const[]){"full", NULL}, false,
     "mos help config-set"},
    {"version", cmd_version, "", "show version",
     "Prints the version and build id of mos on stdout.", NULL,
     (const char *const[]){NULL}, false, NULL},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

struct tool_flag *tool_flag(const char *name) {
  for (size_t i = 0; i < NFLAGS; i++) {
    if (strcmp(flags[i].name, name) == 0)
      return &flags[i];
  }
  return NULL;
}

const char *tool_str(const char *name) {
  struct tool_flag *f = tool_flag(name);
  return f ? f->sval : "";
}

long long tool_int(const char *name) {
  struct tool_flag *f = tool_flag(name);
  return f ? f->ival : 0;
}

bool tool_bool(const char *name) {
  return tool_int(name) != 0;
}

int tool_fail(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "Error: %s failed: ", tool_cmd_name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

const char *tool_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = moss_alloc(MOSS_SUB_APP, n);
  if (p == NULL)
    return "";
  memcpy(p, s, n);
  return p; /* lives until exit, like the other flag values */
}

long long tool_parse_duration(const char *s) {
  /* Go duration syntax: a sequence of <number><unit>, units ns us ms s m h.
   * A bare number is taken as seconds for convenience. */
  double total = 0;
  const char *p = s;
  if (*p == '\0')
    return -1;
  while (*p) {
    char *end;
    double v = strtod(p, &end);
    if (end == p)
      return -1;
    p = end;
    double mul;
    if (strncmp(p, "ms", 2) == 0)
      mul = 1, p += 2;
    else if (strncmp(p, "us", 2) == 0)
      mul = 0.001, p += 2;
    else if (strncmp(p, "ns", 2) == 0)
      mul = 0.000001, p += 2;
    else if (*p == 's')
      mul = 1000, p++;
    else if (*p == 'm')
      mul = 60000, p++;
    else if (*p == 'h')
      mul = 3600000, p++;
    else if (*p == '\0' && p == end)
      mul = 1000;
    else
      return -1;
    total += v * mul;
  }
  return total < 0 ? -1 : (long long)total;
}

static int set_flag(struct tool_flag *f, const char *val, const char *from) {
  f->sval = val;
  f->set = true;
  switch (f->type) {
    case TF_STR:
      return 0;
    case TF_BOOL:
      if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0) {
        f->ival = 1;
      } else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0) {
        f->ival = 0;
      } else {
        fprintf(stderr, "invalid boolean value \"%s\" for %s--%s\n", val, from,
                f->name);
        return -1;
      }
      return 0;
    case TF_INT: {
      char *end;
      f->ival = strtoll(val, &end, 0);
      if (*val == '\0' || *end != '\0') {
        fprintf(stderr, "invalid value \"%s\" for %s--%s\n", val, from,
                f->name);
        return -1;
      }
      return 0;
    }
    case TF_DUR:
      f->ival = tool_parse_duration(val);
      if (f->ival < 0) {
        fprintf(stderr, "invalid duration \"%s\" for %s--%s\n", val, from,
                f->name);
        return -1;
      }
      return 0;
  }
  return -1;
}

static struct tool_flag *find_short(char c) {
  for (size_t i = 0; i < NFLAGS; i++) {
    if (flags[i].shorthand == c)
      return &flags[i];
  }
  return NULL;
}

/* Optimal string alignment distance (Levenshtein plus swapping two
 * neighbours, the usual typo) between a and b, capped at 9. */
static int distance(const char *a, const char *b) {
  enum { MAXL = 40 };
  size_t la = strlen(a), lb = strlen(b);
  if (la >= MAXL || lb >= MAXL)
    return 9;
  int d[MAXL][MAXL];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      int cost = a[i - 1] != b[j - 1];
      int v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v)
        v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v)
        v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  }
  return d[la][lb] > 9 ? 9 : d[la][lb];
}

/* The candidate closest to typed, if close enough to be a typo (at most
 * two edits, and fewer than half of what was typed) or if typed starts
 * exactly one candidate; NULL otherwise.  Candidates come from next(i)
 * for i = 0.. until it returns NULL. */
static const char *nearest(const char *typed, const char *(*next)(size_t i)) {
  const char *best = NULL, *prefixed = NULL, *c;
  int bestd = 3, nprefixed = 0;
  size_t tl = strlen(typed);
  for (size_t i = 0; (c = next(i)) != NULL; i++) {
    int dist = distance(typed, c);
    if (dist < bestd && (size_t)dist * 2 < tl) {
      bestd = dist;
      best = c;
    }
    if (tl >= 2 && strncmp(c, typed, tl) == 0) {
      prefixed = c;
      nprefixed++;
    }
  }
  if (best == NULL && nprefixed == 1)
    best = prefixed;
  return best;
}

static const char *cmd_name_at(size_t i) {
  return i < NCMDS ? cmds[i].name : NULL;
}

static const char *flag_name_at(size_t i) {
  while (i < NFLAGS && flags[i].hidden)
    i++;
  return i < NFLAGS ? flags[i].name : NULL;
}

static void unknown_flag(const char *a) {
  char name[64];
  const char *n = a[0] == '-' && a[1] == '-' ? a + 2 : NULL;
  const char *hint = NULL;
  if (n != NULL) {
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(n, "="), n);
    hint = nearest(name, flag_name_at);
  }
  if (hint != NULL)
    fprintf(stderr, "unknown flag: %s (did you mean --%s?)\n", a, hint);
  else
    fprintf(stderr, "unknown flag: %s\n", a);
}

/* The one line for a command mos does not have. */
static int unknown_command(const char *name) {
  const char *hint = nearest(name, cmd_name_at);
  if (hint != NULL)
    fprintf(stderr, "Unknown command \"%s\". Did you mean \"%s\"?\n", name,
            hint);
  else
    fprintf(stderr, "Unknown command: %s. Run \"mos help\"\n", name);
  return 1;
}

/* Parses flags out of argv; positional args are compacted to the front.
 * Returns the number of positional args, or -1 on a bad flag. */
static int parse_args(int argc, char **argv) {
  int npos = 0;
  bool only_pos = false;
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (only_pos || a[0] != '-' || a[1] == '\0') {
      argv[npos++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_pos = true;
      continue;
    }
    struct tool_flag *f = NULL;
    char *val = NULL;
    char name[64];
    if (a[1] != '-') {
      if (a[2] != '\0' && a[2] != '=')
        goto unknown;
      f = find_short(a[1]);
      if (a[2] == '=')
        val = a + 3;
    } else {
      const char *n = a + 2;
      const char *eq = strchr(n, '=');
      size_t len = eq ? (size_t)(eq - n) : strlen(n);
      if (len >= sizeof(name))
        goto unknown;
      memcpy(name, n, len);
      name[len] = '\0';
      f = tool_flag(name);
      if (eq)
        val = (char *)eq + 1;
    }
    if (f == NULL)
      goto unknown;
    if (val == NULL) {
      if (f->type == TF_BOOL) {
        val = "true";
      } else if (i + 1 < argc) {
        val = argv[++i];
      } else {
        fprintf(stderr, "flag needs an argument: %s\n", a);
        return -1;
      }
    }
    if (set_flag(f, val, "") != 0)
      return -1;
    continue;
  unknown:
    unknown_flag(a);
    return -1;
  }
  return npos;
}

static int apply_env_and_defaults(void) {
  for (size_t i = 0; i < NFLAGS; i++) {
    struct tool_flag *f = &flags[i];
    if (f->set)
      continue;
    if (strcmp(f->name, "help") == 0) { /* never from the environment */
      set_flag(f, f->def, "");
      f->set = false;
      continue;
    }
    char env[80] = "MOS_";
    size_t k = 4;
    for (const char *p = f->name; *p && k + 1 < sizeof(env); p++)
      env[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    env[k] = '\0';
    const char *v = getenv(env);
    if (v != NULL && *v != '\0') {
      if (set_flag(f, v, "$" /* env */) != 0)
        return -1;
      continue;
    }
    if (set_flag(f, f->def, "") != 0)
      return -1;
    f->set = false;
  }
  return 0;
}

/* Prints text wrapped at 79 columns; the first line continues a line
 * already `col` characters wide, the others are indented by `indent`. */
static void wrap(const char *text, int col, int indent) {
  bool fresh = true; /* nothing written since the margin */
  for (const char *p = text; *p != '\0';) {
    if (*p == ' ') {
      p++;
      continue;
    }
    int wl = (int)strcspn(p, " ");
    if (!fresh && col + 1 + wl > 79) {
      printf("\n%*s", indent, "");
      col = indent;
      fresh = true;
    }
    if (!fresh) {
      putchar(' ');
      col++;
    }
    printf("%.*s", wl, p);
    col += wl;
    fresh = false;
    p += wl;
  }
  putchar('\n');
}

/* Column where the help texts of flags and arguments start. */
#define HELP_COL 28

/* Pads a line `n` characters wide to HELP_COL (or starts a new one). */
static void to_help_col(int n) {
  if (n >= HELP_COL - 1)
    printf("\n%*s", HELP_COL, "");
  else
    printf("%*s", HELP_COL - n, "");
}

/* One flag: "  -l, --long" or "  --port PORT", then its help, after
 * "also: " when given. */
static void print_flag(const struct tool_flag *f, const char *also) {
  char left[64], text[600];
  int n;
  if (f->shorthand)
    n = snprintf(left, sizeof(left), "  -%c, --%s", f->shorthand, f->name);
  else
    n = snprintf(left, sizeof(left), "  --%s", f->name);
  if (f->arg != NULL && n > 0 && (size_t)n < sizeof(left))
    n += snprintf(left + n, sizeof(left) - (size_t)n, " %s", f->arg);
  bool show_def = f->type != TF_BOOL && f->def[0] != '\0';
  snprintf(text, sizeof(text), "%s%s%s%s%s%s", also ? also : "",
           also ? ": " : "", f->help, show_def ? " (default " : "",
           show_def ? f->def : "", show_def ? ")" : "");
  printf("%s", left);
  to_help_col(n);
  wrap(text, HELP_COL, HELP_COL);
}

static bool in_list(const char *const *list, const char *name) {
  for (; list != NULL && *list != NULL; list++) {
    if (strcmp(*list, name) == 0)
      return true;
  }
  return false;
}

/* "a, b, c": the commands that take flag `name` (other than through
 * conn_flags); empty if none. */
static void users_of(const char *name, char *out, size_t sz) {
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < NCMDS && o < sz; i++) {
    if (!in_list(cmds[i].flags, name))
      continue;
    int n = snprintf(out + o, sz - o, "%s%s", o ? ", " : "", cmds[i].name);
    if (n < 0)
      break;
    o += (size_t)n;
  }
}

static void print_general_help(bool full) {
  printf(
      "The moss command line tool.\n\nUsage:\n"
      "  mos [flags] <command> [args...] [flags]\n\nCommands:\n");
  for (size_t i = 0; i < NCMDS; i++) {
    char left[64];
    snprintf(left, sizeof(left), "%s %s", cmds[i].name, cmds[i].usage);
    printf("  %-31s %s\n", left, cmds[i].summary);
  }
  printf("\nConnection flags (every command that talks to the device):\n");
  for (size_t i = 0; conn_flags[i] != NULL; i++)
    print_flag(tool_flag(conn_flags[i]), NULL);
  printf("\nCommand flags:\n");
  for (size_t i = 0; i < NFLAGS; i++) {
    const struct tool_flag *f = &flags[i];
    char users[128];
    if (in_list(conn_flags, f->name) || (f->hidden && !full))
      continue;
    users_of(f->name, users, sizeof(users));
    print_flag(f, users[0] ? users : NULL);
  }
  printf(
      "\nEvery flag can also be set as MOS_<NAME> in the environment "
      "(MOS_PORT,\nMOS_RPC_CREDS, ...); the command line wins.\n"
      "Run \"mos help <command>\" or \"mos <command> --help\" for what "
      "a command does.\n");
  if (!full)
    printf("Run \"mos help --full\" to also see the hidden flags.\n");
}

static void print_cmd_help(const struct tool_cmd *c) {
  bool own = c->flags[0] != NULL;
  printf("Usage: mos %s%s%s%s\n\n", c->name, c->usage[0] ? " " : "", c->usage,
         own || c->conn ? " [flags]" : "");
  wrap(c->desc, 0, 0);
  if (c->args != NULL) {
    printf("\nArguments:\n");
    for (const char *p = c->args; *p != '\0';) {
      size_t ll = strcspn(p, "\n");
      const char *tab = memchr(p, '\t', ll);
      int nl = tab ? (int)(tab - p) : (int)ll;
      char text[300];
      snprintf(text, sizeof(text), "%.*s", tab ? (int)(ll - (size_t)nl - 1) : 0,
               tab ? tab + 1 : "");
      printf("  %.*s", nl, p);
      to_help_col(nl + 2);
      wrap(text, HELP_COL, HELP_COL);
      p += ll;
      if (*p == '\n')
        p++;
    }
  }
  if (own)
    printf("\nFlags:\n");
  for (size_t i = 0; c->flags[i] != NULL; i++)
    print_flag(tool_flag(c->flags[i]), NULL);
  if (c->conn) {
    printf("\nConnection flags:\n");
    for (size_t i = 0; conn_flags[i] != NULL; i++)
      print_flag(tool_flag(conn_flags[i]), NULL);
  }
  if (c->examples != NULL) {
    printf("\nExamples:\n");
    for (const char *p = c->examples; *p != '\0';) {
      size_t ll = strcspn(p, "\n");
      printf("  %.*s\n", (int)ll, p);
      p += ll;
      if (*p == '\n')
        p++;
    }
  }
}

static const struct tool_cmd *find_cmd(const char *name) {
  for (size_t i = 0; i < NCMDS; i++) {
    if (strcmp(cmds[i].name, name) == 0)
      return &cmds[i];
  }
  return NULL;
}

static int cmd_help(int argc, char **argv) {
  if (argc > 1)
    return tool_fail("extra arguments");
  if (argc == 0) {
    print_general_help(tool_bool("full"));
    return 0;
  }
  const struct tool_cmd *c = find_cmd(argv[0]);
  if (c == NULL)
    return unknown_command(argv[0]);
  print_cmd_help(c);
  return 0;
}

static int cmd_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("moss command line tool\nVersion: %s\nBuild ID: %s\n", TOOL_VERSION,
         MOS_BUILD_ID);
  return 0;
}

int main(int argc, char **argv) {
  /* Before any cJSON use: the device code mos shares (auth, rpc) frees
   * cJSON blocks through moss_free. */
  moss_json_init();
  moss_log_set_level(MOSS_LL_WARN);
  int npos = parse_args(argc, argv);
  if (npos < 0 || apply_env_and_defaults() != 0) {
    fprintf(stderr, "Run \"mos help\" for usage.\n");
    return 1;
  }
  if (tool_bool("verbose"))
    moss_log_set_level(MOSS_LL_DEBUG);
  if (npos == 0) {
    print_general_help(tool_bool("full"));
    return 0;
  }
  const struct tool_cmd *c = find_cmd(argv[0]);
  if (c == NULL)
    return unknown_command(argv[0]);
  tool_cmd_name = c->name;
  if (tool_bool("help")) {
    /* "mos help --help" is the help of help, as for any command. */
    print_cmd_help(c);
    return 0;
  }
  return c->fn(npos - 1, argv + 1) == 0 ? 0 : 1;
}
