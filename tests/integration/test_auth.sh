#!/usr/bin/env bash
# RPC authentication (seed security.md "Securing RPC", rpc.md §5, §7,
# mos-cli.md §3): the guide's commands typed as written, then mos, curl
# --digest and hand-made frames (rpc_auth.py) against the device: replay,
# expired and forged nonces, the failure throttle, Digest on the WebSocket
# upgrade, SHA-256, and broken password files.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
qjget() { jget "$1" 2>/dev/null; } # empty output on a failed call
RAW="$PY $TOP/tests/integration/rpc_auth.py"

d=$(mktemp_dir)
start_mossd "$d/st" || { fail "mossd starts"; finish; }
ok "mossd starts"
U=$MOSSD_UART
H=$MOSSD_HTTP
WS=ws://$H/rpc
mkdir "$d/work"
cd "$d/work" || exit 1

# line KEY FILE -> the value of "KEY: value"
line() { grep "^$1: " "$2" | head -n 1 | cut -d' ' -f2-; }
# matches NAME REGEX TEXT
matches() {
  if [[ $3 =~ $2 ]]; then ok "$1"; else fail "$1" "got [$3]"; fi
}
http_code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"; }
CONFIG_SET3=$'Getting configuration...\nSetting new configuration...\nSaving and rebooting...'

# ---- the guide's four commands -------------------------------------------------------
printf 'secret\nsecret\n' | htdigest -c rpc_auth.txt myproduct joe >/dev/null 2>&1
check_eq "htdigest -c rpc_auth.txt myproduct joe: the htdigest line" \
  "$(cat rpc_auth.txt)" "joe:myproduct:$(printf 'joe:myproduct:secret' | md5sum | cut -d' ' -f1)"
amos "$d/e" put rpc_auth.txt
check_eq "mos put rpc_auth.txt: exit 0, silent" "$?:$(cat "$d/e")" "0:"
n=$(boot_count "$MOSSD_LOG")
amos "$d/e" config-set rpc.auth_domain=myproduct
check_eq "mos config-set rpc.auth_domain=myproduct: exit 0, three lines" \
  "$?:$(cat "$d/e")" "0:$CONFIG_SET3"
wait_boot "$MOSSD_LOG" "$n" "$U"
check_eq "device back after the first config-set" "$?" 0
n=$(boot_count "$MOSSD_LOG")
t0=$(date +%s%N)
amos "$d/e" config-set rpc.auth_file=rpc_auth.txt
rc=$?
t1=$(date +%s%N)
check_eq "mos config-set rpc.auth_file=rpc_auth.txt: exit 0, three lines" \
  "$rc:$(cat "$d/e")" "0:$CONFIG_SET3"
# After this reboot the device answers 401: that means it is up, so mos's
# wait for the reboot should end then, not at --timeout (20 s).
ms=$(((t1 - t0) / 1000000))
if ((ms < 6000)); then
  ok "config-set rpc.auth_file: returns once the device answers (401 counts)"
else
  fail "config-set rpc.auth_file: returns once the device answers (401 counts)" \
    "took $ms ms"
fi
((n < $(boot_count "$MOSSD_LOG")))
check_eq "device rebooted after the second config-set" "$?" 0
out=$(amos "$d/e" --rpc-creds joe:secret config-get rpc.auth_domain)
check_eq "config-get rpc.auth_domain (with creds)" "$?:$out:$(cat "$d/e")" "0:myproduct:"
out=$(amos "$d/e" --rpc-creds joe:secret config-get rpc.auth_file)
check_eq "config-get rpc.auth_file (with creds)" "$?:$out:$(cat "$d/e")" "0:rpc_auth.txt:"

# ---- mos over the UART and ws:// ---------------------------------------------------------
NOCREDS='Error: call failed: credentials required but none provided (use --rpc-creds)'
WRONG="^Error: call failed: authentication failed for user 'joe'\$"
out=$(amos "$d/e" --rpc-creds joe:secret call RPC.Ping)
check_eq "uart: mos --rpc-creds joe:secret call RPC.Ping" \
  "$?:$(cat "$d/e"):$out" $'0::{\n  "channel_info": ""\n}'
out=$(amos "$d/e" call RPC.Ping)
check_eq "uart: no creds: exit 1, the exact error, nothing on stdout" \
  "$?:$(cat "$d/e"):$out" "1:$NOCREDS:"
amos "$d/e" --rpc-creds joe:wrong call RPC.Ping >/dev/null
check_eq "uart: wrong password: exit 1" "$?" 1
matches "uart: wrong password: authentication failed for user 'joe'" "$WRONG" "$(cat "$d/e")"
amos "$d/e" --rpc-creds nobody:secret call RPC.Ping >/dev/null
check_eq "uart: unknown user: exit 1" "$?" 1

out=$("$MOS" --port "$WS" --rpc-creds joe:secret call Sys.GetInfo 2>"$d/e")
check_eq "ws: mos --rpc-creds joe:secret call Sys.GetInfo" \
  "$?:$(printf '%s' "$out" | qjget 'j["arch"]')" "0:esp32"
"$MOS" --port "$WS" call Sys.GetInfo >/dev/null 2>"$d/e"
check_eq "ws: no creds: exit 1, the exact error" "$?:$(cat "$d/e")" "1:$NOCREDS"
"$MOS" --port "$WS" --rpc-creds joe:wrong call Sys.GetInfo >/dev/null 2>"$d/e"
check_eq "ws: wrong password: exit 1" "$?" 1
matches "ws: wrong password: authentication failed for user 'joe'" "$WRONG" "$(cat "$d/e")"

# Nonces are random in 1..2^53-1; every one must survive mos's echo (a
# float with 15 significant digits loses the last digit of ~1 in 10).
bad=0
for _ in $(seq 1 25); do
  "$MOS" --port "$WS" --rpc-creds joe:secret call RPC.Ping >/dev/null 2>"$d/e" ||
    { bad=$((bad + 1)); cp "$d/e" "$d/e.bad"; }
done
check_eq "ws: 25 calls with the right password all succeed" "$bad" 0
[[ -f $d/e.bad ]] && echo "  (last failure: $(tail -n 1 "$d/e.bad"))"
printf 'joe:secret\n' >creds.txt
out=$(amos "$d/e" --rpc-creds @creds.txt call RPC.Ping)
check_eq "uart: --rpc-creds @creds.txt" "$?" 0
out=$("$MOS" --port "$WS" --rpc-creds @creds.txt call RPC.Ping 2>"$d/e"); cat "$d/e"
check_eq "ws: --rpc-creds @creds.txt" "$?" 0
out=$(MOS_RPC_CREDS=joe:secret "$MOS" --port "$WS" call RPC.Ping 2>"$d/e"); cat "$d/e"
check_eq "ws: MOS_RPC_CREDS in the environment" "$?" 0
out=$(amos "$d/e" --rpc-creds joe:secret ls)
check_eq "uart: mos ls with creds lists rpc_auth.txt" \
  "$?:$(printf '%s\n' "$out" | tr -d '\r' | grep -cx rpc_auth.txt)" "0:1"
grep -q "Called 'RPC.Ping' via 'UART', ACL: '<any user>', user: 'joe'" "$MOSSD_LOG"
check_eq "log: Called ... via 'UART' with user 'joe'" "$?" 0
grep -q "Invalid digest auth for user joe" "$MOSSD_LOG"
check_eq "log: WARN Invalid digest auth for user joe" "$?" 0

# ---- the in-frame challenge (rpc.md §5.1) -------------------------------------------------
$RAW challenge "$U" >"$d/ch" 2>&1
check_eq "uart frame without auth: error 401" "$(line code "$d/ch")" 401
msg=$(line message "$d/ch")
check_eq "challenge message parses as JSON: auth_type, nc, realm, algorithm" \
  "$(printf '%s' "$msg" | qjget '[j["auth_type"], j["nc"], j["realm"], j["algorithm"]]')" \
  '["digest", 1, "myproduct", "MD5"]'
check_eq "challenge nonce: an integer in 1..2^53-1" \
  "$(printf '%s' "$msg" | qjget 'type(j["nonce"]) is int and 0 < j["nonce"] < 2**53')" \
  true
msg2=$($RAW challenge "$WS" | sed -n 's/^message: //p')
check_eq "ws challenge: same fields, another nonce" \
  "$(printf '%s' "$msg2" | qjget '[j["auth_type"], j["realm"], j["algorithm"]]'):$([[ $msg != "$msg2" ]] && echo fresh)" \
  '["digest", "myproduct", "MD5"]:fresh'

# ---- hand-made frames: replay, nc, forged nonces (rpc.md §5.3-5.4) -----------------------
for t in uart ws; do
  if [[ $t == uart ]]; then tr=$U; else tr=$WS; fi
  $RAW frames "$tr" joe:secret >"$d/f.$t" 2>&1
  check_eq "$t: frame answering the challenge (nc 1) accepted" "$(line nc1 "$d/f.$t")" ok
  check_eq "$t: the same frame again (same nonce, nc) -> 401" "$(line replay "$d/f.$t")" 401
  check_eq "$t: ... with a fresh challenge" "$(line replay.new_nonce "$d/f.$t")" yes
  check_eq "$t: same nonce with nc 2 accepted" "$(line nc2 "$d/f.$t")" ok
  check_eq "$t: nc 1 after nc 2 -> 401" "$(line nc1_after_nc2 "$d/f.$t")" 401
  check_eq "$t: a Unix-time nonce the device never issued -> 401" \
    "$(line forged_time_nonce "$d/f.$t")" 401
  check_eq "$t: a random nonce the device never issued -> 401" \
    "$(line forged_random_nonce "$d/f.$t")" 401
  check_eq "$t: auth without response -> 400 bad request" \
    "$(line no_response "$d/f.$t")" "400 bad request"
  check_eq "$t: auth with another realm -> 400 bad request" \
    "$(line other_realm "$d/f.$t")" "400 bad request"
  check_eq "$t: upper-case hex response accepted" "$(line upper_hex "$d/f.$t")" ok
  check_eq "$t: calls work between the refusals" \
    "$(line reset1 "$d/f.$t") $(line reset2 "$d/f.$t")" "ok ok"
done
# A frame accepted on one channel cannot be replayed on another.
cap=$(line captured "$d/f.uart")
check_eq "uart frame replayed over ws -> 401" \
  "$($RAW send "$WS" "$cap" | sed -n 's/^reply: //p' | cut -d' ' -f1)" 401
cap=$(line captured "$d/f.ws")
check_eq "ws frame replayed over the uart -> 401" \
  "$($RAW send "$U" "$cap" | sed -n 's/^reply: //p' | cut -d' ' -f1)" 401

# ---- HTTP Digest: curl --digest (rpc.md §5.5) ---------------------------------------------
st=$(curl -s -m 5 -o "$d/b" -w '%{http_code}' --digest -u joe:secret \
  -d '{"id":5,"method":"Sys.GetInfo"}' "http://$H/rpc")
check_eq "curl --digest POST /rpc: 200, result" \
  "$st:$(qjget 'j["id"], j["result"]["arch"]' <"$d/b")" '200:[5, "esp32"]'
st=$(curl -s -m 5 -o "$d/b" -w '%{http_code}' --digest -u joe:secret \
  "http://$H/rpc/Sys.GetInfo")
check_eq "curl --digest GET /rpc/Sys.GetInfo: 200, the result object" \
  "$st:$(qjget 'j["arch"]' <"$d/b")" "200:esp32"
check_eq "curl --digest wrong password POST /rpc: 401" \
  "$(http_code --digest -u joe:wrong -d '{"id":5,"method":"Sys.GetInfo"}' "http://$H/rpc")" 401
check_eq "curl --digest wrong password GET /rpc/Sys.GetInfo: 401" \
  "$(http_code --digest -u joe:wrong "http://$H/rpc/Sys.GetInfo")" 401
curl -s -m 5 -D "$d/h" -o /dev/null "http://$H/rpc/Sys.GetInfo"
matches "GET /rpc/Sys.GetInfo without credentials: 401 + WWW-Authenticate Digest" \
  '^HTTP/1.1 401 .*WWW-Authenticate: Digest realm="myproduct", qop="auth", nonce="[0-9a-f]+", algorithm=MD5' \
  "$(tr -d '\r' <"$d/h" | tr '\n' ' ')"
check_eq "curl --digest with a good password works after failures" \
  "$(http_code --digest -u joe:secret "http://$H/rpc/RPC.Ping")" 200
check_eq "the password file is not served: GET /rpc_auth.txt -> 404" \
  "$(http_code "http://$H/rpc_auth.txt")" 404
check_eq "... not with the right credentials either" \
  "$(http_code --digest -u joe:secret "http://$H/rpc_auth.txt")" 404

# ---- Authorization on the WebSocket upgrade (rpc.md §2.3) ---------------------------------
$RAW upgrade "$H" joe:secret >"$d/up" 2>&1
check_eq "ws upgrade with a valid Authorization: 101" "$(line upgrade "$d/up")" 101
check_eq "... calls then work without frame auth" \
  "$(line call "$d/up") $(line call2 "$d/up")" "ok ok"
check_eq "ws upgrade with a wrong password: HTTP 401" "$(line bad_upgrade "$d/up")" 401
check_eq "... carrying a Digest challenge" \
  "$(line bad_upgrade.www_authenticate "$d/up")" yes
check_eq "ws upgrade header replayed (same nonce, nc): 101 then 401" \
  "$(line replayed_upgrade "$d/up")" "101,401"
check_eq "ws upgrade without Authorization: 101, frames then get 401" \
  "$(line anon_upgrade "$d/up") $(line anon_call "$d/up")" "101 401"

# ---- failure throttle ---------------------------------------------------------------------
$RAW throttle "$U" joe:secret >"$d/th" 2>&1
check_eq "throttle: three free failures, then 429" "$(line codes "$d/th")" "401,401,401,429"
matches "throttle: 429 text" '^429 too many failed logins, retry in [0-9]+ ms$' \
  "$(line last "$d/th")"
grep -q "failed logins from UART: slowing down" "$MOSSD_LOG"
check_eq "throttle: WARN '<n> failed logins from UART: slowing down'" "$?" 0
# Slowing down must hold back every guess, else the right one still
# gets through at full speed between the 429s.
check_eq "throttle: the right password inside the wait is refused too" \
  "$(line right_during_wait "$d/th" | cut -d' ' -f1)" 429
check_eq "throttle: the right password after the wait works" \
  "$(line right_after_wait "$d/th")" ok

check "mossd A still running" kill -0 "$MOSSD_PID"
stop_mossd
check_log_clean "device A"

# ---- device B: SHA-256, short nonce lifetime, broken password files -------------------------
start_mossd "$d/stb" --set rpc.auth_nonce_ttl=1 --set rpc.auth_algo=1 ||
  { fail "mossd B starts"; finish; }
U=$MOSSD_UART
H=$MOSSD_HTTP
WS=ws://$H/rpc
printf 'joe:myproduct:%s\n' "$(printf 'joe:myproduct:secret' | sha256sum | cut -d' ' -f1)" \
  >rpc_auth.txt
"$MOS" --port "$U" put rpc_auth.txt 2>"$d/e"
check_eq "B: mos put the SHA-256 rpc_auth.txt" "$?:$(cat "$d/e")" "0:"
printf 'joe:myproduct:%s\n# comment\nann:myproduct:0123\n' \
  "$(printf 'joe:myproduct:secret' | sha256sum | cut -d' ' -f1)" >bad_auth.txt
"$MOS" --port "$U" put bad_auth.txt 2>/dev/null
n=$(boot_count "$MOSSD_LOG")
"$MOS" --port "$U" call Config.Set \
  '{"config":{"rpc":{"auth_algo":1,"auth_domain":"myproduct","auth_file":"rpc_auth.txt"}},"save":true,"reboot":true}' \
  >/dev/null 2>"$d/e"
check_eq "B: Config.Set algo 1, realm and file, save, reboot" "$?:$(cat "$d/e")" "0:"
for _ in $(seq 1 50); do (($(boot_count "$MOSSD_LOG") > n)) && break; sleep 0.1; done
sleep 0.5
msg=$($RAW challenge "$U" | sed -n 's/^message: //p')
check_eq "B: challenge says algorithm SHA-256" \
  "$(printf '%s' "$msg" | qjget 'j["algorithm"]')" SHA-256
out=$("$MOS" --port "$U" --rpc-creds joe:secret call Sys.GetInfo 2>"$d/e")
check_eq "B: mos with a SHA-256 password file (uart)" \
  "$?:$(printf '%s' "$out" | qjget 'j["arch"]')" "0:esp32"
out=$("$MOS" --port "$WS" --rpc-creds joe:secret call Sys.GetInfo 2>"$d/e")
check_eq "B: mos with a SHA-256 password file (ws)" "$?" 0
"$MOS" --port "$WS" --rpc-creds joe:wrong call Sys.GetInfo >/dev/null 2>"$d/e"
check_eq "B: SHA-256, wrong password: exit 1" "$?" 1
check_eq "B: a raw SHA-256 frame" \
  "$($RAW call "$U" Sys.GetInfo joe:secret | sed -n 's/^reply: //p')" ok
check_eq "B: an MD5 answer to a SHA-256 device -> 400 bad request" \
  "$($RAW call "$U" Sys.GetInfo joe:secret MD5 | sed -n 's/^reply: //p')" \
  "400 bad request"
grep -q "Auth algo mismatch" "$MOSSD_LOG"
check_eq "B: log ERROR Auth algo mismatch" "$?" 0

$RAW expired "$WS" joe:secret >"$d/ex" 2>&1
check_eq "B: ttl 1 s, answered after 2.2 s -> 401" "$(line late "$d/ex")" 401
check_eq "B: ... with a fresh challenge" "$(line late.new_nonce "$d/ex")" yes
check_eq "B: the fresh nonce works" "$(line fresh "$d/ex")" ok

stop_mossd
check_log_clean "device B"

# A missing password file: every login is a 500 (fail closed).
start_mossd "$d/stb" --set rpc.auth_algo=1 --set rpc.auth_file=missing.txt ||
  { fail "mossd B restarts with rpc.auth_file=missing.txt"; finish; }
U=$MOSSD_UART
H=$MOSSD_HTTP
"$MOS" --port "$U" --rpc-creds joe:secret call Sys.GetInfo >/dev/null 2>"$d/e"
check_eq "missing password file: mos gets 500" "$?:$(cat "$d/e")" \
  "1:Error: call failed: remote error 500: failed to open password file missing.txt"
grep -q " ERROR .*missing.txt: cannot open password file: " "$MOSSD_LOG"
check_eq "missing password file: ERROR 'missing.txt: cannot open password file: ...'" "$?" 0
st=$(curl -s -m 5 -o "$d/b" -w '%{http_code}' --digest -u joe:secret "http://$H/rpc/Sys.GetInfo")
check_eq "missing password file: HTTP 500 with the message" \
  "$st:$(grep -c 'failed to open password file missing.txt' "$d/b")" "500:1"
"$MOS" --port "$U" call Sys.GetInfo >/dev/null 2>"$d/e"
check_eq "missing password file: no creds is still 'credentials required'" \
  "$?:$(cat "$d/e")" "1:$NOCREDS"
stop_mossd

start_mossd "$d/stb" --set rpc.auth_algo=1 --set rpc.auth_file=bad_auth.txt ||
  { fail "mossd B restarts with rpc.auth_file=bad_auth.txt"; finish; }
U=$MOSSD_UART
"$MOS" --port "$U" --rpc-creds joe:secret call Sys.GetInfo >/dev/null 2>"$d/e"
check_eq "malformed password file (line 3): mos gets 500, even for a good line 1" \
  "$?:$(cat "$d/e")" \
  "1:Error: call failed: remote error 500: invalid password file bad_auth.txt: line 3: expected 64 hex digits after the second ':'"
matches "malformed password file: ERROR 'bad_auth.txt:3:<col>: invalid password file: ...'" \
  " ERROR .*bad_auth\.txt:3:[0-9]+: invalid password file: expected 64 hex digits after the second ':'" \
  "$(grep 'invalid password file' "$MOSSD_LOG" | head -n 1)"
check "mossd B still running" kill -0 "$MOSSD_PID"
stop_mossd
check_log_clean "device B (broken files)"
finish
