/*
 * mossd - the moss device runtime on Linux.
 *
 *   mossd [--board esp32-sim] [--state DIR] [--set key=value]...
 *         [--port-map DEV=HOST,...] [--log-level N] [--fw BUNDLE]
 *         [--flash-size BYTES] [--mac HEX12] [--ram BYTES]
 *
 * Prints one line per endpoint on stdout at start and again after every
 * reboot ("UART: /dev/pts/N", then "HTTP: 127.0.0.1:8000", "HTTP:
 * failed: <reason>" or "HTTP: disabled"); logs go to stderr.  Registers
 * its UART in the per-user port directory so that `mos` with no --port
 * finds it.  SIGINT/SIGTERM exit cleanly; Sys.Reboot restarts the runtime
 * in-process from the state directory.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moss/alloc.h"
#include "moss/esp32_sim.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/log.h"
#include "moss/port_registry.h"
#include "moss/rt.h"

#define MAX_SETS 64

static char reg_path[1200];
static char uart_abs[PATH_MAX + 16];

static void usage(void) {
  fprintf(
      stderr,
      "usage: mossd [--board esp32-sim] [--state DIR] [--set key=value]...\n"
      "             [--port-map DEV=HOST,...] [--log-level N] [--fw BUNDLE]\n"
      "             [--flash-size BYTES] [--mac HEX12] [--ram BYTES]\n");
}

static void registry_write(const char *http) {
  if (reg_path[0] == '\0')
    return;
  char tmp[1300];
  snprintf(tmp, sizeof(tmp), "%s.tmp", reg_path);
  FILE *f = fopen(tmp, "w");
  if (f == NULL)
    return;
  fprintf(f, "uart=%s\nhttp=%s\n", uart_abs, http ? http : "");
  fclose(f);
  rename(tmp, reg_path);
}

static void on_endpoint(void *arg, const struct moss_rt_endpoint *ep) {
  (void)arg;
  bool up = ep->state == MOSS_RT_SRV_RUNNING;
  if (up)
    printf("%s: %s\n", ep->what, ep->addr);
  else if (ep->state == MOSS_RT_SRV_FAILED)
    printf("%s: failed: %s\n", ep->what, ep->error);
  else
    printf("%s: disabled\n", ep->what);
  fflush(stdout);
  if (strcmp(ep->what, "HTTP") == 0)
    registry_write(up ? ep->addr : "");
}

int main(int argc, char **argv) {
  const char *board_name = "esp32-sim", *state = "state", *port_map = NULL;
  const char *fw = NULL, *mac = NULL;
  const char *sets[MAX_SETS + 1];
  size_t nsets = 0;
  char loglvl[32];
  unsigned long flash_size = 4ul << 20, ram = MOSS_ALLOC_DEFAULT_BUDGET;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v != NULL && ++i)
    if (ARG("--board"))
      board_name = v;
    else if (ARG("--state"))
      state = v;
    else if (ARG("--port-map"))
      port_map = v;
    else if (ARG("--fw"))
      fw = v;
    else if (ARG("--mac"))
      mac = v;
    else if (ARG("--flash-size"))
      flash_size = strtoul(v, NULL, 0);
    else if (ARG("--ram"))
      ram = strtoul(v, NULL, 0);
    else if (ARG("--set")) {
      if (nsets == MAX_SETS) {
        fprintf(stderr, "mossd: too many --set\n");
        return 2;
      }
      sets[nsets++] = v;
    } else if (ARG("--log-level")) {
      if (nsets == MAX_SETS)
        return 2;
      snprintf(loglvl, sizeof(loglvl), "debug.level=%s", v);
      sets[nsets++] = loglvl;
      moss_log_set_level((enum moss_log_level)atoi(v));
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      return 0;
    } else {
      fprintf(stderr, "mossd: unknown or incomplete option %s\n", a);
      usage();
      return 2;
    }
#undef ARG
  }
  if (strcmp(board_name, "esp32-sim") != 0) {
    fprintf(stderr, "mossd: unknown board %s (supported: esp32-sim)\n",
            board_name);
    return 2;
  }
  /* The firmware shipped with moss: next to the binary (build/fw.zip),
   * else $MOSS_FW_DIR/esp32.zip. */
  char fwbuf[PATH_MAX + 32];
  if (fw == NULL) {
    const char *dir = getenv("MOSS_FW_DIR");
    if (dir != NULL && *dir != '\0') {
      snprintf(fwbuf, sizeof(fwbuf), "%s/esp32.zip", dir);
    } else {
      char exe[PATH_MAX];
      ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
      exe[n > 0 ? n : 0] = '\0';
      char *slash = strrchr(exe, '/');
      if (slash)
        *slash = '\0';
      snprintf(fwbuf, sizeof(fwbuf), "%s/../fw.zip", exe);
    }
    fw = fwbuf;
  }

  moss_alloc_set_budget(ram);
  struct moss_ev *ev = NULL;
  int rc = moss_ev_new(&ev, NULL);
  if (rc == MOSS_OK)
    rc = moss_ev_catch_signals(ev, NULL, NULL);
  if (rc != MOSS_OK) {
    fprintf(stderr, "mossd: event loop: %s\n", moss_strerror(rc));
    moss_ev_free(ev);
    return 1;
  }
  struct moss_esp32_sim sim;
  struct moss_esp32_sim_opts bo = {state, fw, (uint32_t)flash_size, mac, true};
  rc = moss_esp32_sim_open(&sim, ev, &bo, ram);
  if (rc != MOSS_OK) {
    fprintf(stderr, "mossd: cannot start the board: %s\n", moss_strerror(rc));
    moss_esp32_sim_close(&sim);
    moss_ev_free(ev);
    return 1;
  }
  char link[1200];
  snprintf(link, sizeof(link), "%s/uart", state);
  if (realpath(link, uart_abs) == NULL)
    snprintf(uart_abs, sizeof(uart_abs), "%s", sim.pty.name);
  /* Register the link (stable across restarts), not the pts node. */
  char sd[PATH_MAX];
  if (realpath(state, sd) != NULL)
    snprintf(uart_abs, sizeof(uart_abs), "%s/uart", sd);
  if (moss_port_registry_dir(reg_path, sizeof(reg_path) - 16, true) ==
      MOSS_OK) {
    size_t l = strlen(reg_path);
    snprintf(reg_path + l, sizeof(reg_path) - l, "/%ld", (long)getpid());
    registry_write("");
  } else {
    reg_path[0] = '\0';
  }

  struct moss_rt_opts ro = {sets, nsets, port_map, on_endpoint, NULL};
  int exit_code = 0;
  for (;;) {
    /* Every boot tells where the device is: the UART first (it is up
     * before any server), then each server as it starts. */
    printf("UART: %s\n", sim.pty.name);
    fflush(stdout);
    struct moss_rt *rt = NULL;
    rc = moss_rt_start(&rt, ev, &sim.board, &ro);
    if (rc != MOSS_OK) {
      fprintf(stderr, "mossd: cannot start: %s\n", moss_strerror(rc));
      exit_code = 1;
      break;
    }
    moss_ev_run(ev);
    bool reboot = moss_rt_reboot_pending(rt);
    moss_rt_stop(rt);
    if (!reboot)
      break;
    /* Let the loop finish closing what the runtime closed. */
    moss_ev_restart(ev);
    moss_ev_run_once(ev, 0);
  }
  if (moss_ev_last_signal(ev) != 0)
    MOSS_LOG_I("mossd", "exiting on signal %d", moss_ev_last_signal(ev));
  moss_esp32_sim_close(&sim);
  moss_ev_free(ev);
  if (reg_path[0] != '\0')
    unlink(reg_path);
  return exit_code;
}
