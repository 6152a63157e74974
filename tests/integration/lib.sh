# Shared helpers for integration tests (sourced by test_*.sh).
#
#   source "$(dirname "$0")/lib.sh"
#   check "name" cmd...        # runs cmd, ok/FAIL line
#   check_eq "name" got want
#   finish                     # prints "N passed, N failed", exits
#
# Every process a test starts is registered with `track PID` and killed at
# exit, even when the test fails; temp dirs from `mktemp_dir` are removed.
set -u
MOSS_BUILD=${MOSS_BUILD:-build}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$TOP/$MOSS_BUILD/bin
_pass=0
_fail=0
_pids=()
_dirs=()

_cleanup() {
  local p
  for p in "${_pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  sleep 0.1
  for p in "${_pids[@]}"; do
    kill -9 "$p" 2>/dev/null
  done
  for p in "${_dirs[@]}"; do
    rm -rf "$p"
  done
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

track() { _pids+=("$1"); }
mktemp_dir() {
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/moss-it-XXXXXX")
  _dirs+=("$d")
  echo "$d"
}

ok() {
  _pass=$((_pass + 1))
  echo "ok $1"
}
fail() {
  _fail=$((_fail + 1))
  echo "FAIL $1${2:+: $2}"
}
check() {
  local name=$1
  shift
  local out
  if out=$("$@" 2>&1); then
    ok "$name"
  else
    fail "$name" "$(printf '%s' "$out" | tail -n 5)"
  fi
}
check_eq() {
  if [[ "$2" == "$3" ]]; then
    ok "$1"
  else
    fail "$1" "got [$2], want [$3]"
  fi
}
finish() {
  echo "$_pass passed, $_fail failed"
  [[ $_fail -eq 0 ]]
  exit $?
}

# ---- mossd ------------------------------------------------------------------

# Each test gets its own port registry, so `mos` without --port finds
# only the devices this test started.
XDG_RUNTIME_DIR=$(mktemp_dir)
export XDG_RUNTIME_DIR
unset MOS_PORT

# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# start_mossd STATE_DIR [mossd args...]
# Starts mossd with HTTP on a free 127.0.0.1 port (unless the args set
# http.listen_addr) and waits until it printed its endpoints.  Sets
# MOSSD_PID, MOSSD_UART (the state/uart link), MOSSD_HTTP (host:port),
# MOSSD_LOG (its stderr).  Returns non-zero if it did not come up.
start_mossd() {
  local state=$1
  shift
  local port
  port=$(free_port)
  MOSSD_LOG=$state.log
  MOSSD_OUT=$state.out
  "$BIN/mossd" --state "$state" --set "http.listen_addr=127.0.0.1:$port" \
    "$@" >"$MOSSD_OUT" 2>"$MOSSD_LOG" &
  MOSSD_PID=$!
  track "$MOSSD_PID"
  MOSSD_UART=$state/uart
  local i
  for i in $(seq 1 100); do
    if grep -q '^HTTP: ' "$MOSSD_OUT" 2>/dev/null; then
      MOSSD_HTTP=$(grep '^HTTP: ' "$MOSSD_OUT" | tail -n 1 | cut -d' ' -f2)
      return 0
    fi
    if ! kill -0 "$MOSSD_PID" 2>/dev/null; then
      echo "mossd exited early:" >&2
      tail -n 20 "$MOSSD_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "mossd did not come up" >&2
  return 1
}

# stop_mossd [signal]: stops the last started mossd and waits for it.
stop_mossd() {
  kill "-${1:-TERM}" "$MOSSD_PID" 2>/dev/null
  wait "$MOSSD_PID" 2>/dev/null
  return 0
}

MOS=$BIN/mos
