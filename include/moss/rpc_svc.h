/*
 * moss/rpc_svc.h - the device's RPC services: Sys.GetInfo, Sys.Reboot;
 * Config.Get/Set/Save; FS.List/ListExt/Get/Put/Remove/Rename (spec
 * rpc.md §4, config.md §5).
 *
 * Each service gets what it needs as a small struct of borrowed pointers
 * and callbacks that the runtime fills (it owns the configuration trees,
 * the filesystem, the reboot timer and the servers); a service reaches
 * nothing else.  Register functions add the methods to an RPC instance in
 * a fixed order (RPC.List shows them so); the struct passed must outlive
 * the instance, since handlers keep a pointer to it.
 *
 * Lifecycle: fill the structs, moss_rpc_svc_*_register() once per
 * instance, moss_rpc_free() drops the handlers.  Single-threaded.
 */
#ifndef MOSS_RPC_SVC_H
#define MOSS_RPC_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moss/cfg.h"
#include "moss/fs.h"
#include "moss/fwimg.h"
#include "moss/rpc.h"

/* The reboot timer, as Sys.Reboot, Config.Set/Save with reboot, and the
 * authorizer's 418 window (config.md §5.4) use it. */
struct moss_rpc_reboot {
  /* Reboot delay_ms from now, replacing a pending one.  Required. */
  void (*schedule)(void *arg, uint32_t delay_ms);
  /* Cancel a pending reboot (nothing when none).  Required. */
  void (*cancel)(void *arg);
  /* A reboot is pending: true with *left_ms the time until it (0 when
   * due).  Required. */
  bool (*pending)(void *arg, uint64_t *left_ms);
  void *arg;
};

/* ---- Sys ----------------------------------------------------------------- */

/* One server as Sys.GetInfo "servers" shows it.  Strings live until the
 * handler returns. */
struct moss_rpc_svc_server {
  const char *state;       /* "running", "failed" or "disabled" */
  const char *listen_addr; /* as configured (the device's address) */
  const char *addr;        /* host address bound or tried, else "" */
  const char *error;       /* why it failed, else "" */
  bool tls;
};

struct moss_rpc_svc_servers {
  struct moss_rpc_svc_server http;
  const char *uart_state; /* "running" or "disabled" */
};

struct moss_rpc_svc_sys {
  /* The running configuration: device.id, device.public_key, wifi.*. */
  const struct moss_cfg *cfg;
  struct moss_fs *fs;              /* fs_size, fs_free */
  const uint8_t *mac;              /* 6 bytes */
  const struct moss_app_desc *app; /* booted firmware, may be NULL */
  const char *arch;                /* may be NULL */
  size_t ram_size;                 /* heap budget when the allocator has none */
  uint64_t start_ms;               /* moss_port_time_ms() at start: uptime */
  /* What each server is doing now.  Required. */
  void (*servers)(void *arg, struct moss_rpc_svc_servers *out);
  void *servers_arg;
  const struct moss_rpc_reboot *reboot;
};

/* Sys.GetInfo, Sys.Reboot {delay_ms (default 100, 0..86400000), abort}.
 * MOSS_ERR_NOMEM, MOSS_ERR_EXIST, MOSS_ERR_NOSPC. */
int moss_rpc_svc_sys_register(struct moss_rpc *rpc,
                              const struct moss_rpc_svc_sys *s);

/* ---- Config -------------------------------------------------------------- */

struct moss_rpc_svc_config {
  /* What the layers say plus every Config.Set: changed by Config.Set,
   * written by Config.Save. */
  struct moss_cfg *persist;
  /* What the device uses (persist plus run-only overrides): Config.Get
   * reads it. */
  const struct moss_cfg *running;
  const struct moss_cfg_env *env;
  /* Rebuild running from persist after Config.Set changed it; an error
   * is logged ("cannot rebuild the running configuration").  Required. */
  int (*rebuild)(void *arg);
  void *rebuild_arg;
  /* Config.Set/Save with reboot: 500 ms after the reply. */
  const struct moss_rpc_reboot *reboot;
};

/* Config.Get, Config.Set, Config.Save (logic in moss/cfg.h). */
int moss_rpc_svc_config_register(struct moss_rpc *rpc,
                                 const struct moss_rpc_svc_config *s);

/* ---- FS ------------------------------------------------------------------ */

/* FS.List, FS.ListExt, FS.Get, FS.Put, FS.Remove, FS.Rename on the flat
 * namespace of fs (a leading '/' is dropped; empty names, ".." segments
 * and backslashes are refused).  fs is borrowed. */
int moss_rpc_svc_fs_register(struct moss_rpc *rpc, struct moss_fs *fs);

#endif
