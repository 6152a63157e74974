# Extra helpers for the mossd/mos integration tests (source after lib.sh).
#
#   jget EXPR            JSON on stdin; prints the Python expression EXPR
#                        over the parsed value `j` (strings raw, others JSON)
#   raw_http ADDR        sends stdin as-is to ADDR (host:port) over one TCP
#                        connection, prints everything received until the
#                        server closes or is idle for RAW_IDLE seconds
#   uart_frame PATH LINE writes LINE + "\n" to the PTY and prints the first
#                        JSON frame line that comes back (UART_WAIT seconds)
#   wait_rpc PORT        waits until `mos --port PORT call RPC.Ping` answers
#   wait_http ADDR       waits until GET /rpc/RPC.Ping answers on ADDR
#   run_node NAME.js ... runs a node client with the repo's node_modules
PY=/usr/bin/python3
RAW_IDLE=${RAW_IDLE:-1}
UART_WAIT=${UART_WAIT:-5}

jget() {
  "$PY" -c '
import json, sys
j = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

raw_http() {
  "$PY" -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
idle = float(sys.argv[2])
data = sys.stdin.buffer.read()
s = socket.create_connection((host, int(port)), timeout=5)
try:
    s.sendall(data)
except OSError:
    pass  # the server may reply and close before reading everything
out = b""
s.settimeout(idle if data else 5)
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    except OSError:
        break
    if not b:
        break
    out += b
sys.stdout.buffer.write(out)' "$1" "$RAW_IDLE"
}

# The status code of the first response in a raw_http answer.
raw_status() { head -n 1 | cut -d' ' -f2; }

uart_frame() {
  "$PY" -c '
import os, sys, select, time, tty, json
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
os.write(fd, sys.argv[2].encode() + b"\n")
buf = b""
end = time.time() + float(sys.argv[3])
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if not r:
        continue
    buf += os.read(fd, 4096)
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        # After mos has used the port the channel is in compat mode and
        # frames come wrapped in triple quotes (rpc.md §2.1).
        line = line.strip(b"\r")
        if line.startswith(b"\"\"\"") and line.endswith(b"\"\"\""):
            line = line[3:-3]
        if line.startswith(b"{"):
            print(line.decode())
            sys.exit(0)
sys.exit(1)' "$1" "$2" "$UART_WAIT"
}

wait_rpc() {
  local i
  for i in $(seq 1 50); do
    "$MOS" --port "$1" --timeout 2s call RPC.Ping >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# Same as wait_rpc for the device's HTTP endpoint (after a reboot the
# HTTP listener comes back a moment after the UART).
wait_http() {
  local i
  for i in $(seq 1 50); do
    curl -s -m 2 -o /dev/null "http://$1/rpc/RPC.Ping" && return 0
    sleep 0.2
  done
  return 1
}

# Runs an integration test's node client (tests/integration/NAME.js).
NODE_DIR=$TOP/tests/integration
run_node() {
  local js=$1
  shift
  NODE_PATH=$TOP/node_modules timeout 30 node "$NODE_DIR/$js" "$@"
}

# Reboots: `mos config-set` returns before the device restarts (it reboots
# 500 ms after the reply), so tests wait for the next boot in the log.
#   n=$(boot_count "$MOSSD_LOG"); mos config-set ...; wait_boot "$MOSSD_LOG" "$n" UART
boot_count() { grep -c 'mounted fs_' "$1"; }
wait_boot() {
  local i
  for i in $(seq 1 100); do
    (($(boot_count "$1") > $2)) && { wait_rpc "$3"; return; }
    sleep 0.1
  done
  return 1
}

# check_log_clean NAME [LOG]: after mossd stopped, its log (default
# $MOSSD_LOG) holds no sanitizer report (ASan/UBSan builds print them
# there; the temporary directory is gone after the test).
check_log_clean() {
  local log=${2:-$MOSSD_LOG}
  local pat='ERROR: (Address|Leak)Sanitizer|runtime error:'
  if grep -qE "$pat" "$log" 2>/dev/null; then
    fail "$1: no sanitizer report in the mossd log" \
      "$(grep -m 3 -E -A 4 "$pat" "$log")"
  else
    ok "$1: no sanitizer report in the mossd log"
  fi
}

# amos ERRFILE args...: mos with the port found automatically (the test
# sets U to the device's UART link); the "Using port" line is checked and
# dropped from stderr, which goes to ERRFILE; stdout passes through.
amos() {
  local ef=$1
  shift
  "$MOS" "$@" 2>"$ef.raw"
  local rc=$?
  local first
  first=$(head -n 1 "$ef.raw")
  if [[ $first != "Using port $U" && $first != "Using port $(readlink -f "$U")" ]]; then
    echo "(no 'Using port' line: [$first])" >"$ef"
    return 99
  fi
  tail -n +2 "$ef.raw" >"$ef"
  return $rc
}
