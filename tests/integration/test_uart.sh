#!/usr/bin/env bash
# mos over the virtual UART (PTY) of mossd: explicit path, serial:// and
# auto port; Sys.GetInfo fields; error texts and exit codes; a raw
# CRC-framed request written to the PTY by a non-mos writer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"

d=$(mktemp_dir)
start_mossd "$d/st" || { fail "mossd starts"; finish; }
ok "mossd starts"
U=$MOSSD_UART

# ---- ports -------------------------------------------------------------------
out=$("$MOS" --port "$U" call RPC.Ping 2>"$d/err")
rc=$?
check_eq "explicit --port: RPC.Ping exit 0" "$rc" 0
check_eq "explicit --port: RPC.Ping result" \
  "$(printf '%s' "$out" | jget 'j["channel_info"]')" ""
check_eq "explicit --port: nothing on stderr" "$(cat "$d/err")" ""
check_eq "explicit --port: 2-space indented output" "$out" \
  $'{\n  "channel_info": ""\n}'

out=$("$MOS" --port "serial://$U" call RPC.Ping 2>"$d/err")
check_eq "serial:// port: RPC.Ping" "$?:$out" $'0:{\n  "channel_info": ""\n}'

out=$("$MOS" call RPC.Ping 2>"$d/err")
check_eq "auto port: RPC.Ping" "$?:$out" $'0:{\n  "channel_info": ""\n}'
uart_real=$(readlink -f "$U")
got=$(cat "$d/err")
if [[ $got == "Using port $U" || $got == "Using port $uart_real" ]]; then
  ok "auto port: 'Using port' on stderr"
else
  fail "auto port: 'Using port' on stderr" "got [$got]"
fi

out=$(MOS_PORT="$U" "$MOS" call RPC.Ping 2>"$d/err")
check_eq "MOS_PORT env: RPC.Ping, no 'Using port'" "$?:$(cat "$d/err")" "0:"

# ---- Sys.GetInfo ---------------------------------------------------------------
info=$("$MOS" --port "$U" call Sys.GetInfo 2>"$d/err")
check_eq "Sys.GetInfo exit 0" "$?" 0
mac=$(printf '%s' "$info" | jget 'j["mac"]')
id=$(printf '%s' "$info" | jget 'j["id"]')
if [[ $mac =~ ^[0-9A-F]{12}$ ]]; then
  ok "Sys.GetInfo mac is 12 upper-case hex digits"
else
  fail "Sys.GetInfo mac is 12 upper-case hex digits" "$mac"
fi
check_eq "Sys.GetInfo id = esp32_<last 6 of mac>" "$id" "esp32_${mac:6:6}"
check_eq "Sys.GetInfo fw_version = VERSION" \
  "$(printf '%s' "$info" | jget 'j["fw_version"]')" "$(cat "$TOP/VERSION")"
check_eq "Sys.GetInfo arch" "$(printf '%s' "$info" | jget 'j["arch"]')" esp32
check_eq "Sys.GetInfo ram_size" \
  "$(printf '%s' "$info" | jget 'j["ram_size"]')" 327680
check_eq "Sys.GetInfo fs_size > 0" \
  "$(printf '%s' "$info" | jget 'j["fs_size"] > 0')" true
check_eq "Sys.GetInfo fs_free <= fs_size" \
  "$(printf '%s' "$info" | jget '0 <= j["fs_free"] <= j["fs_size"]')" true
check_eq "Sys.GetInfo ram_free <= ram_size" \
  "$(printf '%s' "$info" | jget '0 < j["ram_free"] <= j["ram_size"]')" true
check_eq "Sys.GetInfo uptime is an integer >= 0" \
  "$(printf '%s' "$info" | jget 'type(j["uptime"]) is int and j["uptime"] >= 0')" \
  true
sleep 1.2
up2=$("$MOS" --port "$U" call Sys.GetInfo 2>/dev/null | jget 'j["uptime"]')
up1=$(printf '%s' "$info" | jget 'j["uptime"]')
check_eq "Sys.GetInfo uptime advances" "$((up2 > up1))" 1
check_eq "Sys.GetInfo wifi.ap_ip" \
  "$(printf '%s' "$info" | jget 'j["wifi"]["ap_ip"]')" 192.168.4.1

# ---- RPC.List / Describe ----------------------------------------------------------
list=$("$MOS" --port "$U" call RPC.List 2>/dev/null)
for m in RPC.List RPC.Describe RPC.Ping Sys.GetInfo Sys.Reboot Config.Get \
  Config.Set Config.Save FS.List FS.ListExt FS.Get FS.Put FS.Remove \
  FS.Rename; do
  check_eq "RPC.List has $m" \
    "$(printf '%s' "$list" | jget "'$m' in j")" true
done
out=$("$MOS" --port "$U" call RPC.Describe '{"name":"FS.Get"}' 2>/dev/null)
check_eq "RPC.Describe FS.Get name" "$(printf '%s' "$out" | jget 'j["name"]')" \
  FS.Get
out=$("$MOS" --port "$U" call rpc.ping 2>/dev/null)
check_eq "method names match case-insensitively" \
  "$(printf '%s' "$out" | jget 'j["channel_info"]')" ""

# ---- errors ------------------------------------------------------------------------
out=$("$MOS" --port "$U" call Foo.Bar 2>"$d/err")
rc=$?
check_eq "unknown method: exit 1" "$rc" 1
check_eq "unknown method: stderr" "$(cat "$d/err")" \
  "Error: call failed: remote error 404: No handler for Foo.Bar"
check_eq "unknown method: stdout empty" "$out" ""

out=$("$MOS" --port "$U" call RPC.Describe '{"name": ' 2>"$d/err")
check_eq "bad params JSON: exit 1" "$?" 1
check_eq "bad params JSON: stderr" "$(cat "$d/err")" \
  'Error: call failed: Args [{"name": ] is not a valid JSON string'

"$MOS" --port "$U" call 2>"$d/err"
check_eq "call without method: exit 1" "$?" 1
check_eq "call without method: stderr" "$(cat "$d/err")" \
  "Error: call failed: method required"

out=$("$MOS" --port "$U" frobnicate 2>"$d/err")
check_eq "unknown command: exit 1" "$?" 1
check_eq "unknown command: stderr" "$(cat "$d/err")" \
  'Unknown command: frobnicate. Run "mos help"'

"$MOS" --port "$d/no-such-tty" call RPC.Ping 2>"$d/err"
check_eq "missing serial port: exit 1" "$?" 1
if grep -q "^Error: call failed: cannot open $d/no-such-tty: No such file or directory$" "$d/err"; then
  ok "missing serial port: error text"
else
  fail "missing serial port: error text" "$(cat "$d/err")"
fi

# ---- raw CRC frame on the PTY (rpc.md §2.1) -------------------------------------------
reply=$(uart_frame "$U" '{"id":1,"method":"RPC.Ping"}2a95c795')
check_eq "raw CRC frame: got a reply" "$?" 0
json=${reply%\}*}\}
meta=${reply##*\}}
check_eq "raw CRC frame: reply id/result" \
  "$(printf '%s' "$json" | jget '[j["id"], j["src"], j["result"]]')" \
  "[1, \"$id\", {\"channel_info\": \"\"}]"
check_eq "raw CRC frame: reply carries its CRC-32" "$meta" \
  "$("$PY" -c 'import sys,zlib; print("%08x" % zlib.crc32(sys.argv[1].encode()))' "$json")"
check_eq "raw CRC frame: no dst without src" \
  "$(printf '%s' "$json" | jget '"dst" in j')" false

reply=$(uart_frame "$U" '{"id":"abc","src":"me","tag":"t1","method":"RPC.Ping"}')
json=${reply%\}*}\}
check_eq "raw frame: string id, dst and tag echoed" \
  "$(printf '%s' "$json" | jget '[j["id"], j["dst"], j["tag"]]')" \
  '["abc", "me", "t1"]'

# A corrupted CRC is dropped (no reply); the next good frame is answered.
UART_WAIT=1 uart_frame "$U" '{"id":5,"method":"RPC.Ping"}deadbeef' >/dev/null
check_eq "raw frame with a bad CRC: no reply" "$?" 1
reply=$(uart_frame "$U" '{"id":6,"method":"RPC.Ping"}')
json=${reply%\}*}\}
check_eq "good frame after a bad one is answered" \
  "$(printf '%s' "$json" | jget 'j["id"]')" 6

# mos still works on the same PTY after the raw clients.
out=$("$MOS" --port "$U" call RPC.Ping 2>"$d/err")
check_eq "mos after raw clients" "$?" 0

check "mossd still running" kill -0 "$MOSSD_PID"
stop_mossd
check_log_clean "mossd"
finish
