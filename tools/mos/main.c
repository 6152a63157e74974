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

static struct tool_flag flags[] = {
    {"port", 0, TF_STR, "auto", false, "device address (serial path, ws://, wss://, http://, https://, tcp://)", NULL, 0, false},
    {"baud-rate", 0, TF_INT, "115200", false, "serial speed for RPC", NULL, 0, false},
    {"timeout", 0, TF_DUR, "20s", false, "connect + call timeout", NULL, 0, false},
    {"rpc-creds", 0, TF_STR, "", false, "user:pass or @file for Digest auth", NULL, 0, false},
    {"cert-file", 0, TF_STR, "", false, "client certificate for TLS to the device", NULL, 0, false},
    {"key-file", 0, TF_STR, "", false, "client key for TLS to the device", NULL, 0, false},
    {"ca-cert-file", 0, TF_STR, "", false, "CA to verify the device's certificate", NULL, 0, false},
    {"tls-server-name", 0, TF_STR, "", false, "server name to expect in the device's certificate", NULL, 0, false},
    {"dry-run", 0, TF_BOOL, "true", false, "irreversible commands only print what they would do", NULL, 0, false},
    {"enable-extended", 'X', TF_BOOL, "false", false, "deprecated; accepted and ignored", NULL, 0, false},
    {"format", 0, TF_STR, "", false, "hex, json or yaml for ATCA config", NULL, 0, false},
    {"write-key", 0, TF_STR, "", false, "write-key file for atca-set-key / atca-gen-key", NULL, 0, false},
    {"level", 0, TF_INT, "-1", false, "config level for config-get/config-set (-1 = running config)", NULL, 0, false},
    {"no-reboot", 0, TF_BOOL, "false", false, "config-set: save but do not reboot", NULL, 0, false},
    {"no-save", 0, TF_BOOL, "false", false, "config-set: neither save nor reboot", NULL, 0, false},
    {"try-once", 0, TF_BOOL, "false", false, "config-set: config valid for one boot only", NULL, 0, false},
    {"chunk-size", 0, TF_INT, "512", false, "bytes per FS.Put/FS.Get", NULL, 0, false},
    {"fs-op-attempts", 0, TF_INT, "3", false, "tries per chunk", NULL, 0, false},
    {"platform", 0, TF_STR, "", false, "esp32 for flash-read", NULL, 0, false},
    {"arch", 0, TF_STR, "", true, "deprecated synonym of --platform", NULL, 0, false},
    {"firmware", 0, TF_STR, "", false, "firmware bundle for flash", NULL, 0, false},
    {"full", 0, TF_BOOL, "false", false, "help: show everything", NULL, 0, false},
    {"long", 'l', TF_BOOL, "false", false, "ls: sizes", NULL, 0, false},
    {"rpc-uart-no-delay", 0, TF_BOOL, "false", false, "no 16-byte/5 ms pacing on serial", NULL, 0, false},
    {"hw-flow-control", 0, TF_BOOL, "false", false, "RTS/CTS on serial", NULL, 0, false},
    {"esp32-encryption-key-file", 0, TF_STR, "", true, "flash encryption key file", NULL, 0, false},
    {"esp32-flash-crypt-conf", 0, TF_INT, "0xf", true, "flash_crypt_config used when encrypting", NULL, 0, false},
    {"esp32-enable-flash-encryption", 0, TF_BOOL, "false", true, "esp32-gen-key: also burn flash-encryption fuses", NULL, 0, false},
    {"esp32-protect-key", 0, TF_BOOL, "true", true, "esp32-gen-key: read- and write-protect the key", NULL, 0, false},
    {"esp32-flash-address", 0, TF_INT, "0", true, "esp32-encrypt-image address", NULL, 0, false},
    {"esp-baud-rate", 0, TF_INT, "921600", true, "loader speed after connecting", NULL, 0, false},
    {"esp-rom-baud-rate", 0, TF_INT, "115200", true, "ROM connect speed", NULL, 0, false},
    {"esp-erase-chip", 0, TF_BOOL, "false", true, "erase all before writing", NULL, 0, false},
    {"keep-fs", 0, TF_BOOL, "false", true, "skip filesystem parts", NULL, 0, false},
    {"esp-minimize-writes", 0, TF_BOOL, "false", true, "skip sectors whose MD5 already matches", NULL, 0, false},
    {"no-verify", 0, TF_BOOL, "false", true, "skip MD5 verification", NULL, 0, false},
    {"esp32-fake-fuses", 0, TF_BOOL, "false", true, "in-memory fake eFuse controller (tests)", NULL, 0, false},
    {"verbose", 'v', TF_BOOL, "false", true, "log protocol traffic to stderr", NULL, 0, false},
};

struct tool_cmd {
  const char *name;
  tool_cmd_fn *fn;
  const char *usage;
  const char *help;
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct tool_cmd cmds[] = {
    {"call", cmd_call, "<Method> [<params-json>]", "perform a device RPC call"},
    {"config-get", cmd_config_get, "[<path>]", "get device config"},
    {"config-set", cmd_config_set, "<path>=<value> ...", "set device config"},
    {"wifi", cmd_wifi, "<SSID> <PASSWORD>", "set WiFi credentials"},
    {"put", cmd_put, "<hostfile> [<devfile>]", "put file on the device"},
    {"get", cmd_get, "<devfile>", "read file from the device"},
    {"ls", cmd_ls, "[-l] [<path>]", "list files on the device"},
    {"rm", cmd_rm, "<devfile>", "delete a file on the device"},
    {"help", cmd_help, "[--full]", "show help"},
    {"version", cmd_version, "", "show version"},
};

struct tool_flag *tool_flag(const char *name) {
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
    if (strcmp(flags[i].name, name) == 0) return &flags[i];
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
  if (p == NULL) return "";
  memcpy(p, s, n);
  return p; /* lives until exit, like the other flag values */
}

long long tool_parse_duration(const char *s) {
  /* Go duration syntax: a sequence of <number><unit>, units ns us ms s m h.
   * A bare number is taken as seconds for convenience. */
  double total = 0;
  const char *p = s;
  if (*p == '\0') return -1;
  while (*p) {
    char *end;
    double v = strtod(p, &end);
    if (end == p) return -1;
    p = end;
    double mul;
    if (strncmp(p, "ms", 2) == 0) mul = 1, p += 2;
    else if (strncmp(p, "us", 2) == 0) mul = 0.001, p += 2;
    else if (strncmp(p, "ns", 2) == 0) mul = 0.000001, p += 2;
    else if (*p == 's') mul = 1000, p++;
    else if (*p == 'm') mul = 60000, p++;
    else if (*p == 'h') mul = 3600000, p++;
    else if (*p == '\0' && p == end) mul = 1000;
    else return -1;
    total += v * mul;
  }
  return total < 0 ? -1 : (long long) total;
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
        fprintf(stderr, "invalid boolean value \"%s\" for %s--%s\n", val,
                from, f->name);
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
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
    if (flags[i].shorthand == c) return &flags[i];
  }
  return NULL;
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
      if (a[2] != '\0' && a[2] != '=') goto unknown;
      f = find_short(a[1]);
      if (a[2] == '=') val = a + 3;
    } else {
      const char *n = a + 2;
      const char *eq = strchr(n, '=');
      size_t len = eq ? (size_t) (eq - n) : strlen(n);
      if (len >= sizeof(name)) goto unknown;
      memcpy(name, n, len);
      name[len] = '\0';
      f = tool_flag(name);
      if (eq) val = (char *) eq + 1;
    }
    if (f == NULL) goto unknown;
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
    if (set_flag(f, val, "") != 0) return -1;
    continue;
  unknown:
    fprintf(stderr, "unknown flag: %s\n", a);
    return -1;
  }
  return npos;
}

static int apply_env_and_defaults(void) {
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
    struct tool_flag *f = &flags[i];
    if (f->set) continue;
    char env[80] = "MOS_";
    size_t k = 4;
    for (const char *p = f->name; *p && k + 1 < sizeof(env); p++)
      env[k++] = *p == '-' ? '_' : (char) toupper((unsigned char) *p);
    env[k] = '\0';
    const char *v = getenv(env);
    if (v != NULL && *v != '\0') {
      if (set_flag(f, v, "$" /* env */) != 0) return -1;
      continue;
    }
    if (set_flag(f, f->def, "") != 0) return -1;
    f->set = false;
  }
  /* --arch is a deprecated synonym of --platform. */
  struct tool_flag *arch = tool_flag("arch"), *plat = tool_flag("platform");
  if (arch->set && !plat->set) set_flag(plat, arch->sval, "");
  return 0;
}

static int cmd_help(int argc, char **argv) {
  (void) argc;
  (void) argv;
  bool full = tool_bool("full");
  printf("The moss command line tool.\n\nUsage:\n  mos [flags] <command> [args...]\n\nCommands:\n");
  for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
    printf("  %-12s %-26s %s\n", cmds[i].name, cmds[i].usage, cmds[i].help);
  }
  printf("\nGlobal flags:\n");
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
    const struct tool_flag *f = &flags[i];
    if (f->hidden && !full) continue;
    char left[64];
    if (f->shorthand)
      snprintf(left, sizeof(left), "-%c, --%s", f->shorthand, f->name);
    else
      snprintf(left, sizeof(left), "--%s", f->name);
    printf("  %-34s %s (default \"%s\")\n", left, f->help, f->def);
  }
  printf("\nEvery flag can also be set as MOS_<NAME> in the environment "
         "(MOS_PORT, MOS_DRY_RUN, ...).\n");
  if (!full) printf("Run \"mos help --full\" to see all flags.\n");
  return 0;
}

static int cmd_version(int argc, char **argv) {
  (void) argc;
  (void) argv;
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
  if (tool_bool("verbose")) moss_log_set_level(MOSS_LL_DEBUG);
  if (npos == 0) return cmd_help(0, argv);
  const char *name = argv[0];
  for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
    if (strcmp(cmds[i].name, name) == 0) {
      tool_cmd_name = name;
      return cmds[i].fn(npos - 1, argv + 1) == 0 ? 0 : 1;
    }
  }
  fprintf(stderr, "Unknown command: %s. Run \"mos help\"\n", name);
  return 1;
}
