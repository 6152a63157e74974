#!/usr/bin/env bash
# RPC over HTTP (rpc.md §2.2) with curl as the third-party client: whole
# frames on POST /rpc, REST /rpc/<Method> (GET query and POST body),
# CORS, invalid and oversized frames, keep-alive, and mos over http://.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"

d=$(mktemp_dir)
start_mossd "$d/st" || { fail "mossd starts"; finish; }
ok "mossd starts"
H=$MOSSD_HTTP
id=$("$MOS" --port "$MOSSD_UART" call Sys.GetInfo 2>/dev/null | jget 'j["id"]')

# curl_to FILE_PREFIX args...: headers to PREFIX.h, body to PREFIX.b,
# prints the status code.
curl_to() {
  local p=$1
  shift
  curl -s -m 10 -D "$p.h" -o "$p.b" -w '%{http_code}' "$@"
}
hdr() { # hdr FILE Name -> value (CR stripped)
  grep -i "^$2:" "$1" | head -n 1 | cut -d: -f2- | sed 's/^ //; s/\r$//'
}

# ---- POST /rpc with whole frames --------------------------------------------------
st=$(curl_to "$d/r1" -d '{"id":1,"src":"curl","method":"RPC.Ping"}' "http://$H/rpc")
check_eq "POST /rpc: 200" "$st" 200
check_eq "POST /rpc: content type" "$(hdr "$d/r1.h" Content-Type)" \
  application/json
check_eq "POST /rpc: id number, src, dst" \
  "$(jget '[j["id"], j["src"], j["dst"]]' <"$d/r1.b")" "[1, \"$id\", \"curl\"]"
check_eq "POST /rpc: channel_info names the peer" \
  "$(jget 'j["result"]["channel_info"].startswith("127.0.0.1:")' <"$d/r1.b")" \
  true
check_eq "POST /rpc: body ends in CRLF, counted in Content-Length" \
  "$(tail -c 2 "$d/r1.b" | od -An -c | tr -d ' ')/$(hdr "$d/r1.h" Content-Length)" \
  "\r\n/$(stat -c %s "$d/r1.b")"

curl_to "$d/r2" -d '{"id":"42","method":"RPC.Ping"}' "http://$H/rpc" >/dev/null
check_eq "POST /rpc: all-digit string id stays a string" \
  "$(jget 'j["id"]' <"$d/r2.b" | head -c 100; jget 'type(j["id"]).__name__' <"$d/r2.b")" \
  $'42\nstr'
curl_to "$d/r3" -d '{"id":"x-1","tag":"T","method":"rpc.ping"}' "http://$H/rpc" >/dev/null
check_eq "POST /rpc: string id and tag echoed, method case-insensitive" \
  "$(jget '[j["id"], j["tag"], "result" in j]' <"$d/r3.b")" '["x-1", "T", true]'

st=$(curl_to "$d/r4" -d '{"id":3,"method":"Foo.Bar"}' "http://$H/rpc")
check_eq "POST /rpc unknown method: 200 with an error frame" \
  "$st $(jget '[j["id"], j["error"]]' <"$d/r4.b")" \
  '200 [3, {"code": 404, "message": "No handler for Foo.Bar"}]'

st=$(curl_to "$d/r5" -d '{"method":"RPC.Ping"}' "http://$H/rpc")
check_eq "POST /rpc notification (no id): 200, empty body" \
  "$st:$(cat "$d/r5.b")" "200:"

st=$(curl_to "$d/r6" -d '{"id":1,"method":"FS.List","params":{"path":"/"}}' \
  "http://$H/rpc/")
check_eq "POST /rpc/ (trailing slash) takes frames too" \
  "$st $(jget '"index.html" in j["result"]' <"$d/r6.b")" "200 true"

# ---- REST --------------------------------------------------------------------------------
st=$(curl_to "$d/g1" "http://$H/rpc/RPC.Ping")
check_eq "GET /rpc/RPC.Ping: 200" "$st" 200
check_eq "GET /rpc/RPC.Ping: the result only" \
  "$(jget 'list(j.keys())' <"$d/g1.b")" '["channel_info"]'
st=$(curl_to "$d/g2" -X POST "http://$H/rpc/RPC.Ping")
check_eq "POST /rpc/RPC.Ping (no body): 200 result" \
  "$st $(jget 'list(j.keys())' <"$d/g2.b")" '200 ["channel_info"]'
st=$(curl_to "$d/g3" -d '{"name":"FS.Put"}' "http://$H/rpc/RPC.Describe")
check_eq "POST /rpc/RPC.Describe with params body" \
  "$st $(jget 'j["name"]' <"$d/g3.b")" "200 FS.Put"

st=$(curl_to "$d/g4" 'http://'"$H"'/rpc/FS.Get?filename="index.html"')
check_eq "GET /rpc/FS.Get?filename=\"index.html\": 200" "$st" 200
"$MOS" --port "$MOSSD_UART" get index.html >"$d/index.dev" 2>/dev/null
check_eq "GET /rpc/FS.Get query form: data = the device file" \
  "$(jget 'j["left"]' <"$d/g4.b"):$(jget 'j["data"]' <"$d/g4.b" | base64 -d | cmp - "$d/index.dev" && echo same)" \
  "0:same"
st=$(curl_to "$d/g5" 'http://'"$H"'/rpc/FS.Get?filename=%22index.html%22&offset=2&len=5')
check_eq "GET query with url-encoded quotes and numbers" \
  "$st $(jget '[j["left"]]' <"$d/g5.b") $(jget 'j["data"]' <"$d/g5.b" | base64 -d)" \
  "200 [$(($(stat -c %s "$d/index.dev") - 7))] $(head -c 7 "$d/index.dev" | tail -c 5)"

st=$(curl_to "$d/g6" "http://$H/rpc/Foo.Bar")
check_eq "REST unknown method: HTTP 404" "$st" 404
check_eq "REST unknown method: body is the error object" \
  "$(jget 'j' <"$d/g6.b")" '{"code": 404, "message": "No handler for Foo.Bar"}'
st=$(curl_to "$d/g7" 'http://'"$H"'/rpc/FS.Get?filename="no-such-file"')
check_eq "REST FS.Get missing file: HTTP 500 with error" \
  "$st $(jget 'j["code"]' <"$d/g7.b")" "500 400"

# ---- CORS ------------------------------------------------------------------------------
st=$(curl_to "$d/o1" -X OPTIONS -H 'Origin: http://example.com' \
  -H 'Access-Control-Request-Method: POST' "http://$H/rpc")
check_eq "OPTIONS /rpc: 200" "$st" 200
check_eq "OPTIONS /rpc: Allow-Origin *" \
  "$(hdr "$d/o1.h" Access-Control-Allow-Origin)" "*"
check_eq "OPTIONS /rpc: Allow-Headers *" \
  "$(hdr "$d/o1.h" Access-Control-Allow-Headers)" "*"
check_eq "OPTIONS /rpc: empty body" "$(stat -c %s "$d/o1.b")" 0
st=$(curl_to "$d/o2" -X OPTIONS "http://$H/rpc/Sys.GetInfo")
check_eq "OPTIONS /rpc/Sys.GetInfo: 200 with CORS" \
  "$st $(hdr "$d/o2.h" Access-Control-Allow-Origin)" "200 *"
check_eq "GET /rpc/... replies carry CORS headers" \
  "$(hdr "$d/g1.h" Access-Control-Allow-Origin)/$(hdr "$d/g6.h" Access-Control-Allow-Headers)" \
  "*/*"

# ---- invalid and oversized frames -------------------------------------------------------
for body in 'not json' '[1,2]' '{"id":true,"method":"RPC.Ping"}' '{"id":1,'; do
  st=$(curl_to "$d/i" -d "$body" "http://$H/rpc")
  check_eq "invalid frame '$body': 400 + error body" \
    "$st $(tr -d '\r\n' <"$d/i.b")" \
    '400 {"error":{"code":400,"message":"invalid frame"}}'
done
st=$(curl_to "$d/i0" -X POST "http://$H/rpc")
check_eq "empty POST /rpc (no auth configured): 400" "$st" 400

pad=$(head -c 5000 /dev/zero | tr '\0' a)
st=$(curl_to "$d/big" -d '{"id":1,"method":"RPC.Ping","params":{"p":"'"$pad"'"}}' \
  "http://$H/rpc")
check_eq "frame > rpc.max_frame_size (4096): 413" \
  "$st $(tr -d '\r\n' <"$d/big.b")" \
  '413 {"error":{"code":413,"message":"frame too large"}}'
pad=$(head -c 3900 /dev/zero | tr '\0' a)
st=$(curl_to "$d/big2" -d '{"id":1,"method":"RPC.Ping","params":{"p":"'"$pad"'"}}' \
  "http://$H/rpc")
check_eq "frame just under rpc.max_frame_size: 200" "$st" 200

# ---- keep-alive ---------------------------------------------------------------------------
curl -sv -m 10 "http://$H/rpc/RPC.Ping" "http://$H/rpc/Sys.GetInfo" \
  -o "$d/k1" -o "$d/k2" 2>"$d/kv"
if grep -q "Re-using existing connection" "$d/kv"; then
  ok "keep-alive: curl re-uses the connection"
else
  fail "keep-alive: curl re-uses the connection" "$(grep -i conn "$d/kv" | head)"
fi
check_eq "keep-alive: both replies complete" \
  "$(jget '"channel_info" in j' <"$d/k1") $(jget 'j["id"]' <"$d/k2")" "true $id"
# Two POSTed frames on one connection, then a file.
curl -sv -m 10 -d '{"id":11,"method":"RPC.Ping"}' "http://$H/rpc" \
  --next -d '{"id":12,"method":"RPC.Ping"}' "http://$H/rpc" \
  --next "http://$H/index.html" -o /dev/null >"$d/k3" 2>"$d/kv2"
check_eq "keep-alive: 2 POSTs + GET re-use one connection" \
  "$(grep -c 'Re-using existing connection' "$d/kv2")" 2
check_eq "keep-alive: POST replies in order" \
  "$(grep -o '"id":1[12]' "$d/k3" | tr '\n' ' ')" '"id":11 "id":12 '

# ---- mos over http:// ---------------------------------------------------------------------
out=$("$MOS" --port "http://$H/rpc" call RPC.Ping 2>"$d/err")
check_eq "mos --port http://: RPC.Ping exit 0" "$?" 0
check_eq "mos --port http://: result" \
  "$(printf '%s' "$out" | jget 'j["channel_info"].startswith("127.0.0.1:")')" true
out=$("$MOS" --port "http://$H/rpc" call Sys.GetInfo 2>/dev/null)
check_eq "mos --port http://: Sys.GetInfo id" \
  "$(printf '%s' "$out" | jget 'j["id"]')" "$id"
"$MOS" --port "http://$H/rpc" call Foo.Bar 2>"$d/err"
check_eq "mos --port http://: remote error" "$?:$(cat "$d/err")" \
  "1:Error: call failed: remote error 404: No handler for Foo.Bar"
out=$("$MOS" --port "http://$H/rpc" ls 2>/dev/null | tr -d '\r')
check_eq "mos --port http:// ls" "$(printf '%s\n' "$out" | grep -cx index.html)" 1
port=$(free_port)
"$MOS" --port "http://127.0.0.1:$port/rpc" --timeout 2s call RPC.Ping 2>"$d/err"
check_eq "mos --port http:// to a closed port: exit 1" "$?" 1
check_eq "mos --port http:// to a closed port: one Error line" \
  "$(grep -c '^Error: call failed: ' "$d/err")/$(wc -l <"$d/err")" "1/1"

check "mossd still running" kill -0 "$MOSSD_PID"
stop_mossd
check_log_clean "mossd"
finish
