#!/usr/bin/env bash
# What the device says about itself ("first run ... a CLI that tells the
# truth"): ATCA: keys refused without a secure element; Sys.GetInfo
# "servers" (running, failed with the reason, disabled); the endpoint lines
# printed again after every reboot; the WARN about RPC served to the
# network without authentication; 403 messages naming the ACL entry; and
# the way back in over the UART after an ACL that locks everyone out
# (docs/security.md "Locked out? Recovery").
#
# The warning needs a server on a non-loopback address: that device runs
# in its own network namespace (unshare -n), where 0.0.0.0 reaches no
# network, so the test still binds nothing outside 127.0.0.1.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
qjget() { jget "$1" 2>/dev/null; } # empty output on bad JSON

d=$(mktemp_dir)
mkdir "$d/work"
cd "$d/work" || exit 1
WARNTXT="without authentication: anyone on the network can manage this device; see docs/security.md"

# restart STATE [mossd args...]: stops the current mossd (if any), checks
# its log, starts the next one with start_mossd.
restart() {
  if [[ -n ${MOSSD_PID:-} ]]; then
    stop_mossd
    check_log_clean "mossd on $(basename "$MOSSD_LOG" .log)"
  fi
  start_mossd "$@" || return 1
  U=$MOSSD_UART
  H=$MOSSD_HTTP
}
# umos ERRFILE args...: mos over the UART; stderr to ERRFILE.
umos() {
  local ef=$1
  shift
  "$MOS" --port "$U" "$@" 2>"$ef"
}
wmos() {
  local ef=$1
  shift
  "$MOS" --port "ws://$H/rpc" "$@" 2>"$ef"
}
info() { "$MOS" --port "$U" call Sys.GetInfo 2>/dev/null | qjget "$1"; }
lines_of() { grep -c "^$1: " "$MOSSD_OUT"; }
# wait_lines WHAT N: until stdout has N "WHAT: " lines.
wait_lines() {
  local i
  for i in $(seq 1 100); do
    (($(lines_of "$1") >= $2)) && return 0
    sleep 0.1
  done
  return 1
}
# reboot_with ERRFILE mos-args...: runs mos over the UART (which makes
# the device reboot) and waits until the device is up again: the HTTP
# line is printed once every server of the new boot has started (the UART
# channel is up before), whatever the ACL and login settings.
reboot_with() {
  local n
  n=$(lines_of HTTP)
  umos "$@" >/dev/null
  local rc=$?
  wait_lines HTTP $((n + 1)) || return 1
  return $rc
}

# ---- 1. ATCA:<slot> keys without a secure element ----------------------------
restart "$d/a" || { fail "mossd starts"; finish; }
ok "mossd starts"
umos "$d/e" config-set http.ssl_key=ATCA:0 >/dev/null
check_eq "config-set http.ssl_key=ATCA:0 -> 400, no secure element" \
  "$?:$(tail -n 1 "$d/e")" \
  "1:Error: config-set failed: remote error 400: invalid config value: http.ssl_key: ATCA:0: secure element not available"
umos "$d/e" config-set http.ssl_key=ATCA:7 >/dev/null
check_eq "config-set http.ssl_key=ATCA:7 -> the same for any slot" \
  "$?:$(tail -n 1 "$d/e")" \
  "1:Error: config-set failed: remote error 400: invalid config value: http.ssl_key: ATCA:7: secure element not available"
check_eq "the refused key was not applied" \
  "$(umos "$d/e" config-get http.ssl_key)" ""

# ---- 2. Sys.GetInfo servers, 4. no warning on loopback -----------------------
check_eq "servers.http: running on the address bound, plain, no error" \
  "$(info '[j["servers"]["http"][k] for k in ("state", "addr", "tls", "error")]')" \
  "[\"running\", \"$H\", false, \"\"]"
check_eq "servers.http.listen_addr: the configured address" \
  "$(info 'j["servers"]["http"]["listen_addr"]')" "$H"
check_eq "servers.uart.state: running" "$(info 'j["servers"]["uart"]["state"]')" running
check_eq "HTTP on 127.0.0.1: no warning about RPC without authentication" \
  "$(grep -c "$WARNTXT" "$MOSSD_LOG")" 0

# ---- 3. endpoint lines again after each reboot -------------------------------
check_eq "start: stdout is UART, HTTP" "$(cut -d: -f1 "$MOSSD_OUT" | tr '\n' ' ')" "UART HTTP "
reboot_with "$d/e" call Sys.Reboot
check_eq "mos call Sys.Reboot: the device is back" "$?" 0
wait_lines HTTP 2
check_eq "after Sys.Reboot: UART and HTTP lines printed again" \
  "$(cut -d: -f1 "$MOSSD_OUT" | tr '\n' ' ')" "UART HTTP UART HTTP "
check_eq "after Sys.Reboot: same UART line" \
  "$(grep '^UART: ' "$MOSSD_OUT" | sort -u | wc -l)" 1
check_eq "after Sys.Reboot: HTTP line names the address" \
  "$(grep '^HTTP: ' "$MOSSD_OUT" | tail -n 1)" "HTTP: $H"
reboot_with "$d/e" config-set device.sn=sn-1
check_eq "mos config-set (save and reboot): the device is back" "$?" 0
wait_lines HTTP 3
check_eq "after config-set: the endpoint lines a third time" \
  "$(cut -d: -f1 "$MOSSD_OUT" | tr '\n' ' ')" "UART HTTP UART HTTP UART HTTP "

# ---- 2. servers.http failed: port taken, TLS setup ---------------------------
"$PY" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$d/busy" &
HOLDER=$!
track $HOLDER
for _ in $(seq 1 50); do [[ -s $d/busy ]] && break; sleep 0.1; done
BUSY=$(cat "$d/busy")
restart "$d/b" --set "http.listen_addr=127.0.0.1:$BUSY" || fail "mossd starts with its port taken"
REASON="listen on 127.0.0.1:$BUSY: Address already in use"
check_eq "port taken: stdout says HTTP failed and why" \
  "$(grep '^HTTP: ' "$MOSSD_OUT")" "HTTP: failed: $REASON"
check_eq "port taken: servers.http state, addr, error" \
  "$(info '[j["servers"]["http"][k] for k in ("state", "addr", "error")]')" \
  "[\"failed\", \"127.0.0.1:$BUSY\", \"$REASON\"]"
check_eq "port taken: the UART still serves RPC" "$(info 'j["servers"]["uart"]["state"]')" running
grep -qF "ERROR http Error binding to [127.0.0.1:$BUSY]: Address already in use" "$MOSSD_LOG"
check_eq "port taken: ERROR Error binding to [...] logged" "$?" 0
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
reboot_with "$d/e" call Sys.Reboot
wait_lines HTTP 2
check_eq "port freed, reboot: HTTP line printed, server running" \
  "$(grep '^HTTP: ' "$MOSSD_OUT" | tail -n 1):$(info 'j["servers"]["http"]["state"]')" \
  "HTTP: 127.0.0.1:$BUSY:running"

openssl req -nodes -new -x509 -keyout key.pem -out cert.pem -subj "/CN=moss-test" \
  >/dev/null 2>&1
umos "$d/e" put cert.pem
check_eq "put cert.pem" "$?" 0
restart "$d/b" --set http.ssl_cert=cert.pem --set http.ssl_key=nokey.pem ||
  fail "mossd starts with a missing TLS key"
check_eq "TLS key missing: stdout names the setting, file and reason" \
  "$(grep '^HTTP: ' "$MOSSD_OUT")" \
  "HTTP: failed: http.ssl_key nokey.pem: No such file or directory"
check_eq "TLS key missing: servers.http failed, tls, reason" \
  "$(info '[j["servers"]["http"][k] for k in ("state", "tls", "error")]')" \
  '["failed", true, "http.ssl_key nokey.pem: No such file or directory"]'
restart "$d/b" --set http.ssl_cert=cert.pem --set http.ssl_key=ATCA:0 ||
  fail "mossd starts with an ATCA:0 key (--set skips Config.Set's check)"
check_eq "ATCA:0 key at start: HTTP failed: no secure element" \
  "$(grep '^HTTP: ' "$MOSSD_OUT")" \
  "HTTP: failed: http.ssl_key ATCA:0: secure element not available"
restart "$d/b" --set http.enable=false || fail "mossd starts with http.enable=false"
check_eq "http.enable=false: stdout says disabled" "$(grep '^HTTP: ' "$MOSSD_OUT")" "HTTP: disabled"
check_eq "http.enable=false: servers.http disabled, no address" \
  "$(info '[j["servers"]["http"][k] for k in ("state", "addr", "error")]')" \
  '["disabled", "", ""]'

# ---- 4. the warning: default listen address, own network namespace -----------
if [[ $(id -u) == 0 ]]; then NS=(unshare -n --); else NS=(unshare -rn --); fi
# start_ns STATE [mossd args...]: mossd with the default http.listen_addr
# (80: all addresses) in a network namespace of its own.
start_ns() {
  local state=$1
  shift
  MOSSD_LOG=$state.log
  MOSSD_OUT=$state.out
  "${NS[@]}" "$BIN/mossd" --state "$state" "$@" >"$MOSSD_OUT" 2>"$MOSSD_LOG" &
  MOSSD_PID=$!
  track "$MOSSD_PID"
  U=$state/uart
  wait_lines HTTP 1
}
if ! "${NS[@]}" true 2>/dev/null; then
  echo "skip: no network namespace (unshare -n): warning with the default address not tested"
else
  stop_mossd
  check_log_clean "mossd on b"
  start_ns "$d/n" || fail "mossd starts with the default listen address"
  check_eq "default listen address: HTTP on 0.0.0.0:80" "$(grep '^HTTP: ' "$MOSSD_OUT")" \
    "HTTP: 0.0.0.0:80"
  check_eq "default listen address: WARN RPC served without authentication" \
    "$(grep -c "WARN mossd WARNING: RPC is served on 0.0.0.0:80 $WARNTXT" "$MOSSD_LOG")" 1
  started=$(grep -n 'HTTP server started on \[80\]' "$MOSSD_LOG" | head -n 1 | cut -d: -f1)
  warned=$(grep -n "$WARNTXT" "$MOSSD_LOG" | head -n 1 | cut -d: -f1)
  check "the warning comes once the server is up" test "${warned:-0}" -gt "${started:-0}"
  reboot_with "$d/e" call Sys.Reboot
  for _ in $(seq 1 50); do
    (($(grep -c "$WARNTXT" "$MOSSD_LOG") >= 2)) && break
    sleep 0.1
  done
  check_eq "after a reboot: the warning again" "$(grep -c "$WARNTXT" "$MOSSD_LOG")" 2
  stop_mossd
  check_log_clean "mossd on n"
  start_ns "$d/n" --set rpc.auth_domain=myproduct --set rpc.auth_file=rpc_auth.txt ||
    fail "mossd starts with auth configured"
  check_eq "auth configured: no warning" "$(grep -c "$WARNTXT" "$MOSSD_LOG")" 0
  stop_mossd
  check_log_clean "mossd on n (auth)"
  start_ns "$d/n" --set rpc.http.enable=false --set rpc.ws.enable=false ||
    fail "mossd starts without RPC over HTTP/WS"
  check_eq "no RPC over HTTP or WS: no warning" "$(grep -c "$WARNTXT" "$MOSSD_LOG")" 0
  stop_mossd
  check_log_clean "mossd on n (no rpc)"
  MOSSD_PID=
fi

# ---- 5. 403 names the ACL entry ----------------------------------------------
ACL3='[{"method":"RPC.*","acl":"*"},{"method":"FS.*","acl":"+joe,-ann"},{"method":"Sys.*","ch_type":"HTTP","acl":"-*"}]'
printf 'pass\npass\n' | htdigest -c rpc_auth.txt myproduct joe >/dev/null 2>&1
printf 'pass2\npass2\n' | htdigest rpc_auth.txt myproduct ann >/dev/null 2>&1
restart "$d/c" --set "rpc.acl=$ACL3" || fail "mossd starts with an inline ACL"
wmos "$d/e" call Sys.GetInfo >/dev/null
check_eq "403 when no entry matches: says so, names the ACL" "$?:$(tail -n 1 "$d/e")" \
  "1:Error: call failed: remote error 403: unauthorized: Sys.GetInfo: no entry of rpc.acl matches (denied)"
curl -s -m 5 -o "$d/body" "http://$H/rpc/Sys.Reboot"
check_eq "HTTP 403 body names entry 3 and shows it on one line" \
  "$(qjget '[j["code"], j["message"]]' <"$d/body")" \
  '[403, "unauthorized: Sys.Reboot: denied by rpc.acl entry 3: {\"method\":\"Sys.*\",\"ch_type\":\"HTTP\",\"acl\":\"-*\"}"]'
grep -qF "WARN rpc Denied 'Sys.Reboot' via 'HTTP', ACL: '-*': unauthorized: Sys.Reboot: denied by rpc.acl entry 3" "$MOSSD_LOG"
check_eq "log: Denied ... ACL: '-*': unauthorized: ... entry 3" "$?" 0
umos "$d/e" put rpc_auth.txt
check_eq "put rpc_auth.txt" "$?" 0
restart "$d/c" --set "rpc.acl=$ACL3" --set rpc.auth_domain=myproduct \
  --set rpc.auth_file=rpc_auth.txt || fail "mossd starts with ACL and auth"
wmos "$d/e" --rpc-creds ann:pass2 call FS.List >/dev/null
check_eq "403 for a user the entry refuses: names user and entry 2" "$?:$(tail -n 1 "$d/e")" \
  "1:Error: call failed: remote error 403: unauthorized: FS.List: user 'ann' denied by rpc.acl entry 2: {\"method\":\"FS.*\",\"acl\":\"+joe,-ann\"}"
wmos "$d/e" --rpc-creds joe:pass call FS.List >/dev/null
check_eq "joe: FS.List over ws allowed by entry 2" "$?" 0

# ---- 6. locked out: the way back in over the UART ----------------------------
restart "$d/r" || fail "mossd starts for the recovery"
WS=ws://$H/rpc
"$MOS" --port "$WS" put rpc_auth.txt 2>"$d/e"
check_eq "ws: put rpc_auth.txt" "$?" 0
"$MOS" --port "$WS" config-set rpc.auth_domain=myproduct rpc.auth_file=rpc_auth.txt \
  >/dev/null 2>"$d/e"
check_eq "ws: config-set rpc.auth_* (save, reboot)" "$?" 0
wait_lines HTTP 2
printf '[{"method":"*","acl":"-*"}]\n' >lockout.json
"$MOS" --port "$WS" --rpc-creds joe:pass put lockout.json rpc_acl.json 2>"$d/e"
check_eq "ws, joe: put the ACL that locks everyone out" "$?" 0
"$MOS" --port "$WS" --rpc-creds joe:pass config-set rpc.acl_file=rpc_acl.json \
  >/dev/null 2>"$d/e"
check_eq "ws, joe: config-set rpc.acl_file=rpc_acl.json" "$?:$(tail -n 1 "$d/e")" \
  "0:Saving and rebooting..."
wait_lines HTTP 3
LOCKED='unauthorized: Sys.GetInfo: denied by rpc_acl.json entry 1: {"method":"*","acl":"-*"}'
"$MOS" --port "$WS" --rpc-creds joe:pass call Sys.GetInfo >/dev/null 2>"$d/e"
check_eq "locked: ws Sys.GetInfo -> 403 naming entry 1" "$?:$(tail -n 1 "$d/e")" \
  "1:Error: call failed: remote error 403: $LOCKED"
st=$(curl -s -m 5 -o "$d/body" -w '%{http_code}' --digest -u joe:pass "http://$H/rpc/Config.Get")
check_eq "locked: HTTP Config.Get with login -> 403" \
  "$st:$(qjget 'j["message"]' <"$d/body")" \
  '403:unauthorized: Config.Get: denied by rpc_acl.json entry 1: {"method":"*","acl":"-*"}'
"$MOS" --port "$WS" --rpc-creds joe:pass config-set rpc.acl_file= >/dev/null 2>"$d/e"
check_eq "locked: ws config-set rpc.acl_file= refused (no override on the network)" \
  "$?:$(tail -n 1 "$d/e" | grep -o 'remote error 403: unauthorized: Config.Get')" \
  "1:remote error 403: unauthorized: Config.Get"
umos "$d/e" call Sys.GetInfo >/dev/null
check_eq "UART without login: recovery needs the login when auth is configured" \
  "$?:$(tail -n 1 "$d/e")" \
  "1:Error: call failed: credentials required but none provided (use --rpc-creds)"
umos "$d/e" --rpc-creds joe:wrong call Sys.GetInfo >/dev/null
check_eq "UART with a wrong password: refused (the device checked it)" \
  "$?:$(grep -c 'WARN auth Invalid digest auth for user joe' "$MOSSD_LOG")" "1:1"
umos "$d/e" --rpc-creds joe:pass call RPC.List >/dev/null
check_eq "UART, joe: RPC.List is not a recovery method -> 403" "$?:$(tail -n 1 "$d/e")" \
  "1:Error: call failed: remote error 403: unauthorized: RPC.List: denied by rpc_acl.json entry 1: {\"method\":\"*\",\"acl\":\"-*\"}"
out=$(umos "$d/e" --rpc-creds joe:pass call Sys.GetInfo | qjget 'j["servers"]["http"]["state"]')
check_eq "UART, joe: Sys.GetInfo (recovery)" "$?:$out" "0:running"
grep -qF "WARN auth ACL overridden on the UART for recovery: 'Sys.GetInfo' by user 'joe'; the ACL said: 403 $LOCKED" "$MOSSD_LOG"
check_eq "log: WARN ACL overridden on the UART for recovery (user, what the ACL said)" "$?" 0
out=$(umos "$d/e" --rpc-creds joe:pass ls | tr -d '\r' | grep -cx rpc_acl.json)
check_eq "UART, joe: mos ls (FS.List)" "$out" 1
umos "$d/e" --rpc-creds joe:pass get rpc_acl.json >"$d/got"
check_eq "UART, joe: mos get rpc_acl.json (FS.Get)" "$?:$(cat "$d/got")" \
  "0:$(cat lockout.json)"
umos "$d/e" --rpc-creds joe:pass put lockout.json spare.json
check_eq "UART, joe: mos put (FS.Put)" "$?" 0
umos "$d/e" --rpc-creds joe:pass rm spare.json
check_eq "UART, joe: mos rm (FS.Remove)" "$?" 0
check_eq "UART, joe: config-get rpc.acl_file (Config.Get)" \
  "$(umos "$d/e" --rpc-creds joe:pass config-get rpc.acl_file)" rpc_acl.json
reboot_with "$d/e" --rpc-creds joe:pass config-set rpc.acl_file=
check_eq "UART, joe: config-set rpc.acl_file= (Config.Set, save, reboot)" \
  "$?:$(tail -n 1 "$d/e")" "0:Saving and rebooting..."
out=$("$MOS" --port "$WS" --rpc-creds joe:pass call Sys.GetInfo 2>"$d/e" | qjget 'j["arch"]')
check_eq "recovered: ws management works again (with login)" "$?:$out" "0:esp32"
"$MOS" --port "$WS" call Sys.GetInfo >/dev/null 2>"$d/e"
check_eq "recovered: still no call without a login" "$?:$(tail -n 1 "$d/e")" \
  "1:Error: call failed: credentials required but none provided (use --rpc-creds)"

# Without a password file the UART caller is physically present: no login.
restart "$d/r2" --set 'rpc.acl=[{"method":"*","acl":"-*"}]' ||
  fail "mossd starts with an inline lock-out ACL"
out=$(umos "$d/e" config-get device.id)
check_eq "no auth file: UART config-get without login (recovery)" "$?:${out:0:6}" "0:esp32_"
grep -qF "ACL overridden on the UART for recovery: 'Config.Get' without login (no rpc.auth_file)" "$MOSSD_LOG"
check_eq "log: overridden without login" "$?" 0
wmos "$d/e" config-get device.id >/dev/null
check_eq "no auth file: ws config-get -> 403" "$?:$(tail -n 1 "$d/e" | grep -o 'remote error 403')" \
  "1:remote error 403"
umos "$d/e" call Sys.Reboot >/dev/null
check_eq "no auth file: UART Sys.Reboot allowed (recovery)" "$?" 0

check "mossd still running" kill -0 "$MOSSD_PID"
stop_mossd
check_log_clean "mossd on r2"
finish
