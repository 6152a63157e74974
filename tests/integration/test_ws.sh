#!/usr/bin/env bash
# RPC over WebSocket (rpc.md §2.3) with a third-party client (node + npm
# `ws`, tests/integration/ws_client.js) and with mos --port ws://; the
# rpc.ws.enable / rpc.http.enable switches (rpc.md §2.6).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"

if ! command -v node >/dev/null || [[ ! -d $TOP/node_modules/ws ]]; then
  fail "node and npm package ws installed (npm ci at the repo root)"
  finish
fi

d=$(mktemp_dir)
start_mossd "$d/a" --set rpc.max_frame_size=20000 || {
  fail "mossd starts"
  finish
}
ok "mossd starts"
H=$MOSSD_HTTP
A_PID=$MOSSD_PID
A_UART=$MOSSD_UART
id=$("$MOS" --port "$A_UART" call Sys.GetInfo 2>/dev/null | jget 'j["id"]')

# line KEY FILE -> the value of "KEY: value"
line() { grep "^$1: " "$2" | head -n 1 | cut -d' ' -f2-; }

# ---- calls, pipelining, ping/pong, close -------------------------------------------
run_node ws_client.js calls "ws://$H/rpc" >"$d/calls" 2>&1
check_eq "ws calls: client exit 0" "$?" 0
check_eq "ws: subprotocol json-rpc echoed" "$(line protocol "$d/calls")" json-rpc
ping=$(line ping "$d/calls")
check_eq "ws: RPC.Ping reply id/src/dst" \
  "$(printf '%s' "$ping" | jget '[j["id"], j["src"], j["dst"]]')" \
  "[1, \"$id\", \"node\"]"
check_eq "ws: RPC.Ping channel_info names the peer" \
  "$(printf '%s' "$ping" | jget 'j["result"]["channel_info"].startswith("127.0.0.1:")')" \
  true
check_eq "ws: Sys.GetInfo on the same connection" \
  "$(line info.id "$d/calls") $(line info.ram_size "$d/calls")" "$id 327680"
check_eq "ws: RPC.List with a string id" "$(line list.has_ping "$d/calls")" true
check_eq "ws: three pipelined calls all answered" \
  "$(line pipelined "$d/calls")" "10,11,12"
check_eq "ws: error reply on the channel" "$(line pipelined.error "$d/calls")" \
  '{"code":404,"message":"No handler for Foo.Bar"}'
check_eq "ws: FS.List via ws" "$(line pipelined.fs "$d/calls")" true
check_eq "ws: ping frame gets a pong with the payload" \
  "$(line pong "$d/calls")" hello
check_eq "ws: calls work after ping/pong" "$(line after_pong "$d/calls")" true
check_eq "ws: close handshake, code 1000 echoed" "$(line close "$d/calls")" 1000
grep -q "Called 'RPC.Ping' via 'WS_in'" "$MOSSD_LOG"
check_eq "ws: device logs channel type WS_in" "$?" 0

# ---- a 16 KB text message ------------------------------------------------------------
run_node ws_client.js big "ws://$H/rpc" 12000 >"$d/big" 2>&1
check_eq "ws big: client exit 0" "$?" 0
check_eq "ws big: message is ~16 KB" \
  "$(($(line message_bytes "$d/big") > 16000))" 1
check_eq "ws big: FS.Put accepted" "$(line put "$d/big")" null
check_eq "ws big: FS.Get returns the same 12000 bytes" "$(line get "$d/big")" same

# ---- invalid UTF-8 --------------------------------------------------------------------
run_node ws_client.js badutf8 "ws://$H/rpc" >"$d/bad" 2>&1
check_eq "ws: invalid UTF-8 text closes with 1007" "$(line close "$d/bad")" 1007
check "mossd survives invalid UTF-8" kill -0 "$A_PID"

# ---- mos over ws:// -----------------------------------------------------------------------
out=$("$MOS" --port "ws://$H/rpc" call RPC.Ping 2>"$d/err")
check_eq "mos --port ws://: exit 0, nothing on stderr" "$?:$(cat "$d/err")" "0:"
check_eq "mos --port ws://: result" \
  "$(printf '%s' "$out" | jget 'j["channel_info"].startswith("127.0.0.1:")')" true
"$MOS" --port "ws://$H/rpc" call Foo.Bar 2>"$d/err"
check_eq "mos --port ws://: remote error" "$?:$(cat "$d/err")" \
  "1:Error: call failed: remote error 404: No handler for Foo.Bar"
head -c 3000 /dev/urandom >"$d/small.bin"
"$MOS" --port "ws://$H/rpc" put "$d/small.bin" s.bin 2>"$d/err" &&
  "$MOS" --port "ws://$H/rpc" get s.bin >"$d/small.back" 2>>"$d/err"
check "mos put/get over ws:// round trip" cmp "$d/small.bin" "$d/small.back"

# ---- rpc.ws.enable=false ---------------------------------------------------------------
start_mossd "$d/b" --set rpc.ws.enable=false || fail "mossd b starts"
run_node ws_client.js upgrade "ws://$MOSSD_HTTP/rpc" >"$d/up" 2>&1
check_eq "rpc.ws.enable=false: upgrade refused 503 'WS is disabled'" \
  "$(line upgrade "$d/up")" "503 WS is disabled"
st=$(curl -s -m 5 -o "$d/b.body" -w '%{http_code}' \
  -d '{"id":1,"method":"RPC.Ping"}' "http://$MOSSD_HTTP/rpc")
check_eq "rpc.ws.enable=false: POST /rpc still 200" \
  "$st $(jget 'j["id"]' <"$d/b.body")" "200 1"
"$MOS" --port "ws://$MOSSD_HTTP/rpc" --timeout 3s call RPC.Ping 2>"$d/err"
check_eq "rpc.ws.enable=false: mos ws:// fails with one Error line" \
  "$?:$(grep -c '^Error: call failed: ' "$d/err")" "1:1"
stop_mossd
check_log_clean "mossd b"

# ---- rpc.http.enable=false via --set ------------------------------------------------------
start_mossd "$d/c" --set rpc.http.enable=false || fail "mossd c starts"
st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
  -d '{"id":1,"method":"RPC.Ping"}' "http://$MOSSD_HTTP/rpc")
check_eq "--set rpc.http.enable=false: POST /rpc 404" "$st" 404
st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$MOSSD_HTTP/rpc/RPC.Ping")
check_eq "--set rpc.http.enable=false: GET /rpc/RPC.Ping 404" "$st" 404
run_node ws_client.js upgrade "ws://$MOSSD_HTTP/rpc" >"$d/up" 2>&1
check_eq "--set rpc.http.enable=false: WS upgrade still works" \
  "$(line upgrade "$d/up")" open
out=$("$MOS" --port "ws://$MOSSD_HTTP/rpc" call RPC.Ping 2>/dev/null)
check_eq "--set rpc.http.enable=false: mos ws:// call works" "$?" 0
check_eq "--set rpc.http.enable=false: alias rpc.http_enable reads false" \
  "$("$MOS" --port "$MOSSD_UART" config-get rpc.http_enable 2>/dev/null)" false
stop_mossd
check_log_clean "mossd c"

# ---- rpc.http.enable=false via config-set (the guide's command) -----------------------
MOSSD_PID=$A_PID
n=$(boot_count "$d/a.log")
out=$("$MOS" --port "$A_UART" config-set rpc.http.enable=false 2>&1)
check_eq "config-set rpc.http.enable=false: exit 0 and texts" "$?:$out" \
  $'0:Getting configuration...\nSetting new configuration...\nSaving and rebooting...'
wait_boot "$d/a.log" "$n" "$A_UART"
check_eq "device reboots and answers on the UART after the reboot" "$?" 0
ws_ok=1
for _ in $(seq 1 50); do
  run_node ws_client.js upgrade "ws://$H/rpc" >"$d/up" 2>&1 &&
    [[ $(line upgrade "$d/up") == open ]] && { ws_ok=0; break; }
  sleep 0.2
done
check_eq "after reboot: WS upgrade works" "$ws_ok" 0
st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
  -d '{"id":1,"method":"RPC.Ping"}' "http://$H/rpc")
check_eq "after reboot: POST /rpc 404" "$st" 404
run_node ws_client.js calls "ws://$H/rpc" >"$d/calls2" 2>&1
check_eq "after reboot: ws calls still work" \
  "$(line pipelined "$d/calls2") $(line close "$d/calls2")" "10,11,12 1000"
check_eq "after reboot: config-get rpc.http.enable" \
  "$("$MOS" --port "ws://$H/rpc" config-get rpc.http.enable 2>/dev/null)" false

check "mossd still running" kill -0 "$A_PID"
stop_mossd
check_log_clean "mossd a" "$d/a.log"
finish
