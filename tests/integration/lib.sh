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
