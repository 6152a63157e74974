# Source lists, one block per module (lwIP Filelists.mk style).
# Each module owns its block; the Makefile never lists sources itself.

CORE_SRCS := src/core/err.c src/core/alloc.c src/core/log.c src/core/util.c \
  src/core/buf.c src/core/base64.c src/core/glob.c src/core/json.c

FLASH_SRCS := src/flash/flash.c

# Partition table, app image, firmware bundle parsing (device side).
PART_SRCS := src/part/part.c src/part/otadata.c src/part/fwimg.c

# esp32-sim board, device side: the boot checks of the flash contents.
BOARD_SRCS := board/esp32_sim_boot.c

# ESP32 flash encryption: the algorithm and its flash-ops layer.
FENC_SRCS := src/fenc/fenc.c src/fenc/fenc_flash.c

FS_SRCS := src/fs/fs_log.c src/fs/fs_mount.c src/fs/fs_file.c

# Event loop, connections, POSIX port (epoll/poll, sockets, time, signals).
EV_SRCS := src/ev/ev.c src/ev/timer.c
CONN_SRCS := src/conn/conn.c src/conn/tcp.c src/conn/addr.c
PORT_SRCS := port/posix/time.c port/posix/poller.c port/posix/sock.c \
  port/posix/signal.c port/posix/registry.c

# Configuration tree; cfg_schema.c is generated from config/schema.yaml
# (mk/cfg.part.mk).
CFG_SRCS := src/cfg/cfg.c src/cfg/cfg_json.c src/cfg/cfg_layer.c \
  src/cfg/cfg_rpc.c src/cfg/cfg_pos.c $(BUILD)/gen/cfg_schema.c

# HTTP request parser and helpers (pure, no I/O); the server, its router,
# Digest on the device's side, files and /upload.  WebSocket frames.
HTTP_SRCS := src/http/http_parse.c src/http/http_util.c src/http/multipart.c \
  src/http/http_server.c src/http/http_router.c src/http/http_auth.c \
  src/http/http_files.c
WS_SRCS := src/ws/ws_frame.c

# RPC core: frames, registry/dispatch, UART framing (cJSON glue); the
# channels (UART, HTTP, WebSocket), the authorizer, the services.
RPC_SRCS := src/rpc/frame.c src/rpc/rpc.c src/rpc/builtin.c \
  src/rpc/uart.c src/rpc/uart_chan.c src/rpc/rpc_http.c src/rpc/rpc_ws.c \
  src/rpc/rpc_authz.c src/rpc/svc_sys.c src/rpc/svc_config.c \
  src/rpc/svc_fs.c

# Digest authentication, nonce table, htdigest files, RPC ACLs (pure).
AUTH_SRCS := src/auth/digest.c src/auth/digest_parse.c src/auth/nonce.c \
  src/auth/htdigest.c src/auth/acl.c

# The runtime above the board: the composition root (config trees,
# services, servers, reboot).
RT_SRCS := src/rt/rt.c src/rt/rt_http.c src/rt/rt_tls.c src/rt/rt_validate.c \
  port/posix/pty.c

# TLS layer over conn (mbedTLS), on-demand CA store, credentials from
# configuration.
TLS_SRCS := src/tls/tls_ctx.c src/tls/tls_conn.c src/tls/tls_ca.c \
  src/tls/tls_creds.c

# Everything that goes into build/lib/libmoss.a (the device runtime).
MOSS_LIB_SRCS := $(CORE_SRCS) $(FLASH_SRCS) $(PART_SRCS) $(FS_SRCS) \
  $(BOARD_SRCS) \
  $(CFG_SRCS) \
  $(HTTP_SRCS) $(WS_SRCS) \
  $(RPC_SRCS) $(AUTH_SRCS) \
  $(EV_SRCS) $(CONN_SRCS) $(PORT_SRCS) $(RT_SRCS) \
  $(TLS_SRCS) $(FENC_SRCS)

# Host-only hardware models and the simulated board's host-side wiring
# (state directory, factory flash from a bundle with libzip):
# build/lib/libmoss_emu.a.
EMU_SRCS := emu/flash_emu.c board/esp32_sim.c board/esp32_sim_factory.c

# Programs.
MOSSD_SRCS := app/mossd/main.c
MOS_SRCS := tools/mos/main.c tools/mos/tool_json.c tools/mos/tool_conn.c \
  tools/mos/tool_http.c tools/mos/tool_ws.c tools/mos/cmd_rpc.c \
  tools/mos/cmd_config.c tools/mos/cmd_fs.c tools/mos/tool_auth.c tools/mos/tool_tls.c
