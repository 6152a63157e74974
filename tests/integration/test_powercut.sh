#!/usr/bin/env bash
# Power cuts: mossd is killed with SIGKILL in the middle of `mos put` of a
# large multi-chunk file and in the middle of a stream of config saves,
# then restarted on the same state directory.  The device must boot, mount
# its filesystem, and show either the old or the complete new file (never
# no file: the old one was stored before the cut), and either the last
# acknowledged or the in-flight config value.
#
# The kill is triggered by the device's own log (the N-th FS.Put call, the
# FS.Rename that ends a put, the K-th "Saved to conf9.json"), because over
# a PTY a 60 KB put takes only tens of milliseconds: a wall-clock delay
# would land before or after the transfer, not inside it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"

d=$(mktemp_dir)

# kill_on LOG PATTERN N PID DELAY_US: SIGKILL PID as soon as LOG (from its
# current end) has N more lines containing PATTERN, after DELAY_US
# microseconds.  Exit 0 if it killed, 1 on a 15 s timeout.
kill_on() {
  "$PY" -c '
import os, sys, time, signal
log, pat, n, pid, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
f = open(log, "rb")
f.seek(0, 2)
seen, buf, end = 0, b"", time.time() + 15
print("armed", flush=True)
while time.time() < end:
    b = f.read()
    if not b:
        time.sleep(0.0002)
        continue
    buf += b
    lines = buf.split(b"\n")
    buf = lines.pop()
    seen += sum(1 for l in lines if pat.encode() in l)
    if seen >= n:
        time.sleep(delay / 1e6)
        os.kill(pid, signal.SIGKILL)
        sys.exit(0)
sys.exit(1)' "$@"
}

# Starts kill_on in the background and waits until it watches the log.
arm() {
  kill_on "$@" >"$d/armed" &
  KILLER=$!
  track "$KILLER"
  local i
  for i in $(seq 1 100); do
    grep -q armed "$d/armed" 2>/dev/null && return 0
    sleep 0.02
  done
  return 1
}

fs_free() {
  "$MOS" --port "$MOSSD_UART" call Sys.GetInfo 2>/dev/null | jget 'j["fs_free"]'
}

# ---- kill -9 during mos put -------------------------------------------------------------
# trigger: "put:<percent of chunks>" or "rename"
rep=0
for trigger in put:10 put:60 rename; do
  rep=$((rep + 1))
  st=$d/put$rep
  start_mossd "$st" || { fail "put $rep: mossd starts"; continue; }
  # Room for the old file, the new one's temporary copy and slack, in
  # whatever firmware bundle this build has.
  "$MOS" --port "$MOSSD_UART" rm ca.pem >/dev/null 2>&1
  free=$(fs_free)
  size=61440
  ((free / 4 < size)) && size=$((free / 4))
  head -c "$size" /dev/urandom >"$d/old$rep"
  head -c $((size + 1000)) /dev/urandom >"$d/new$rep"
  chunks=$(((size + 1000 + 511) / 512))
  "$MOS" --port "$MOSSD_UART" put "$d/old$rep" big.bin 2>"$d/err"
  check_eq "put $rep: old content stored (${size} bytes)" "$?:$(cat "$d/err")" "0:"

  delay=$((RANDOM % 1500))
  case $trigger in
    put:*) arm "$MOSSD_LOG" "'FS.Put'" $((chunks * ${trigger#put:} / 100)) \
      "$MOSSD_PID" "$delay" ;;
    rename) arm "$MOSSD_LOG" "'FS.Rename'" 1 "$MOSSD_PID" "$delay" ;;
  esac
  "$MOS" --port "$MOSSD_UART" --chunk-size 512 --timeout 3s \
    put "$d/new$rep" big.bin >/dev/null 2>"$d/put.err" &
  mospid=$!
  track "$mospid"
  # (braces: keep bash's "Killed" job notice out of the output)
  { wait "$KILLER"; killed=$?; wait "$MOSSD_PID"; } 2>/dev/null
  check_eq "put $rep: mossd killed during the put ($trigger, +${delay}us)" \
    "$killed" 0
  kill "$mospid" 2>/dev/null
  wait "$mospid" 2>/dev/null
  cp "$MOSSD_LOG" "$st.log.1"

  start_mossd "$st" || { fail "put $rep: mossd restarts after the kill"; continue; }
  ok "put $rep: mossd restarts after the kill"
  wait_rpc "$MOSSD_UART"
  check_eq "put $rep: device answers RPC" "$?" 0
  grep -q 'mounted fs_' "$MOSSD_LOG"
  check_eq "put $rep: filesystem mounted" "$?" 0
  ls=$("$MOS" --port "$MOSSD_UART" ls -l 2>"$d/err" | tr -d '\r')
  check_eq "put $rep: mos ls works" "$?:$(cat "$d/err")" "0:"
  if printf '%s\n' "$ls" | grep -q '^big.bin '; then
    "$MOS" --port "$MOSSD_UART" get big.bin >"$d/back" 2>"$d/err"
    if cmp -s "$d/back" "$d/old$rep"; then
      ok "put $rep: big.bin is the old content"
    elif cmp -s "$d/back" "$d/new$rep"; then
      ok "put $rep: big.bin is the complete new content"
    else
      fail "put $rep: big.bin is neither old nor new" \
        "$(stat -c %s "$d/back") bytes; old ${size}, new $((size + 1000)); ls: $(printf '%s' "$ls" | tr '\n' ' ')"
    fi
  else
    # The old content was stored and acknowledged before the cut: an
    # atomic replace leaves the old or the new file, never no file.
    fail "put $rep: big.bin is the old or the new content" \
      "big.bin absent after the cut ($trigger, +${delay}us); ls: $(printf '%s' "$ls" | tr '\n' ' ')"
  fi
  # The filesystem is usable after the cut: a new file round-trips.
  head -c 3000 /dev/urandom >"$d/after"
  "$MOS" --port "$MOSSD_UART" put "$d/after" after.bin 2>"$d/err" &&
    "$MOS" --port "$MOSSD_UART" get after.bin >"$d/after.back" 2>>"$d/err"
  check "put $rep: filesystem writable after the cut" cmp "$d/after" "$d/after.back"
  # A second complete put over the leftovers succeeds.
  "$MOS" --port "$MOSSD_UART" put "$d/new$rep" big.bin 2>"$d/err" &&
    "$MOS" --port "$MOSSD_UART" get big.bin >"$d/back" 2>>"$d/err"
  check "put $rep: a new put after the cut completes" cmp "$d/new$rep" "$d/back"
  stop_mossd
  check_log_clean "put $rep: restarted mossd"
done

# ---- kill -9 during config saves --------------------------------------------------------------
st=$d/cfg
start_mossd "$st" || { fail "cfg: mossd starts"; finish; }
next=1
for rep in 1 2 3; do
  : >"$d/last_ok"
  k=$((3 + RANDOM % 8))
  delay=$((RANDOM % 3000))
  arm "$MOSSD_LOG" "Saved to conf9.json" "$k" "$MOSSD_PID" "$delay"
  (
    for i in $(seq "$next" $((next + 200))); do
      "$MOS" --port "$MOSSD_UART" --timeout 2s config-set --no-reboot \
        "http.hidden_files=v$i" >/dev/null 2>&1 || exit 0
      echo "$i" >"$d/last_ok"
    done
  ) &
  loop=$!
  track "$loop"
  { wait "$KILLER"; killed=$?; wait "$MOSSD_PID"; } 2>/dev/null
  check_eq "cfg $rep: mossd killed after $k saves (+${delay}us)" "$killed" 0
  wait "$loop" 2>/dev/null
  last=$(cat "$d/last_ok")
  [[ -z $last ]] && last=$((next - 1))

  start_mossd "$st" || { fail "cfg $rep: mossd restarts"; break; }
  wait_rpc "$MOSSD_UART"
  check_eq "cfg $rep: device answers after the cut" "$?" 0
  v=$("$MOS" --port "$MOSSD_UART" config-get http.hidden_files 2>"$d/err")
  check_eq "cfg $rep: config-get works" "$?:$(cat "$d/err")" "0:"
  prev=""
  ((last > 0)) && prev="v$last"
  if [[ $v == "$prev" || $v == "v$((last + 1))" ]]; then
    ok "cfg $rep: value is the last acknowledged or the in-flight one ($v)"
  else
    fail "cfg $rep: value after the cut" \
      "got [$v], want [$prev] or [v$((last + 1))]"
  fi
  out=$("$MOS" --port "$MOSSD_UART" ls 2>"$d/err")
  check_eq "cfg $rep: mos ls works" "$?:$(cat "$d/err")" "0:"
  check_log_clean "cfg $rep: log so far"
  next=$((last + 2))
done
# Saving still works after the cuts, and survives a clean restart.
"$MOS" --port "$MOSSD_UART" config-set --no-reboot http.hidden_files=final \
  >/dev/null 2>&1
stop_mossd
check_log_clean "cfg: mossd after the cuts"
start_mossd "$st" || fail "cfg: mossd restarts cleanly"
check_eq "cfg: a save after the cuts persists" \
  "$("$MOS" --port "$MOSSD_UART" config-get http.hidden_files 2>/dev/null)" final
stop_mossd
check_log_clean "cfg: final mossd"
finish
