#!/usr/bin/env bash
# TLS on the device's HTTP/WS server (http.md §1.2, §4; security.md
# "Configuring TLS on device's HTTP/WS server"): both recipes of the guide
# typed as written, checked with curl, openssl s_client, mos over wss://
# and https://, and node's `ws` client; bad input on the TLS port.
#
# The device asks for port 443; tests cannot bind it, so mossd maps it
# with --port-map 443=127.0.0.1:<free port> (http.md §1.1) and the guide's
# `config-set http.listen_addr=443` is used unchanged.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"

for t in openssl curl; do
  command -v $t >/dev/null || { fail "$t installed"; finish; }
done

d=$(mktemp_dir)
P=$(free_port)

# start_tls STATE: mossd with 443 mapped to $P (the config on flash
# decides what listens); waits for the UART.
start_tls() {
  MOSSD_LOG=$1.log
  "$BIN/mossd" --state "$1" --port-map "443=127.0.0.1:$P" \
    >"$1.out" 2>"$MOSSD_LOG" &
  MOSSD_PID=$!
  track "$MOSSD_PID"
  export MOS_PORT=$1/uart
  local i
  for i in $(seq 1 100); do
    grep -q '^UART: ' "$1.out" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# RPC.Ping's channel_info names the peer: 127.0.0.1:<port> -> PEER.
pingval() { sed -E 's/127\.0\.0\.1:[0-9]+/PEER/'; }

# wait_log N TEXT: until TEXT appears N times in the device log.
wait_log() {
  local i
  for i in $(seq 1 100); do
    [[ $(grep -cF -- "$2" "$MOSSD_LOG") -ge $1 ]] && return 0
    sleep 0.1
  done
  return 1
}

cd "$d" || exit 1
start_tls "$d/dev" || { fail "mossd starts"; finish; }
ok "mossd starts"

# ---- recipe 1: self-signed certificate, one-way TLS -------------------------------
openssl req -nodes -new -x509 -keyout key.pem -out cert.pem \
  -subj "/CN=moss-test" >/dev/null 2>&1
check "put cert.pem" "$MOS" put cert.pem
check "put key.pem" "$MOS" put key.pem
check "config-set listen_addr=443 ssl_key ssl_cert" \
  "$MOS" config-set http.listen_addr=443 http.ssl_key=key.pem \
  http.ssl_cert=cert.pem rpc.max_frame_size=20000
wait_log 1 "HTTP server started on [443] (SSL)"
check "log: HTTP server started on [443] (SSL)" \
  grep -qF "HTTP server started on [443] (SSL)" "$MOSSD_LOG"
check "log: device port 443 is served on host port $P" \
  grep -qF "device port 443 is served on host port $P" "$MOSSD_LOG"

out=$(curl -sk "https://127.0.0.1:$P/rpc/RPC.Ping")
check_eq "curl -k https://.../rpc/RPC.Ping" "$(printf '%s' "$out" | tr -d '\r\n' | pingval)" \
  '{"channel_info":"PEER"}'
out=$(curl -sk -X POST -d '{"id":7,"method":"Sys.GetInfo"}' \
  "https://127.0.0.1:$P/rpc")
check_eq "curl -k POST /rpc over TLS" "$(printf '%s' "$out" | jget 'j["id"]')" 7
check "curl without -k refuses the self-signed certificate" \
  bash -c "! curl -s https://127.0.0.1:$P/rpc/RPC.Ping"
check "curl --cacert cert.pem verifies the device (CN mismatch ignored via resolve)" \
  bash -c "curl -s --cacert cert.pem --resolve moss-test:$P:127.0.0.1 \
    https://moss-test:$P/rpc/RPC.Ping | grep -q channel_info"
# 16 KB HTTPS body: a full-size record arrives and is handled.
big=$(head -c 12000 /dev/zero | tr '\0' 'a')
out=$(printf '{"id":9,"method":"RPC.Ping","params":{"pad":"%s"}}' "$big" |
  curl -sk -X POST --data-binary @- "https://127.0.0.1:$P/rpc")
check_eq "16 KB HTTPS request body" "$(printf '%s' "$out" | jget 'j["id"]')" 9

for v in tls1_2 tls1_3; do
  out=$(printf 'GET /rpc/RPC.Ping HTTP/1.0\r\n\r\n' |
    timeout 10 openssl s_client -quiet -"$v" -connect "127.0.0.1:$P" 2>/dev/null)
  check_eq "openssl s_client -$v: GET /rpc/RPC.Ping" \
    "$(printf '%s' "$out" | tail -n 1 | tr -d '\r' | pingval)" '{"channel_info":"PEER"}'
done
check "openssl s_client -tls1_1 is refused" \
  bash -c "! printf '' | timeout 10 openssl s_client -tls1_1 \
    -connect 127.0.0.1:$P >/dev/null 2>&1"

out=$("$MOS" --port "wss://127.0.0.1:$P/rpc" call RPC.Ping 2>"$d/err")
check_eq "mos --port wss:// call RPC.Ping" \
  "$(printf '%s' "$out" | jget 'j["channel_info"]' | cut -d: -f1)" 127.0.0.1
check "mos without --ca-cert-file warns on stderr" \
  grep -qx "Warning: device certificate is not verified (use --ca-cert-file)" \
  "$d/err"
out=$("$MOS" --port "https://127.0.0.1:$P/rpc" call RPC.Ping 2>/dev/null)
check_eq "mos --port https:// call RPC.Ping" \
  "$(printf '%s' "$out" | jget 'j["channel_info"]' | cut -d: -f1)" 127.0.0.1
"$MOS" --ca-cert-file cert.pem --port "wss://127.0.0.1:$P/rpc" \
  call RPC.Ping >/dev/null 2>"$d/err"
check "mos --ca-cert-file: name mismatch names the certificate" \
  grep -qF "TLS handshake with 127.0.0.1:$P failed: certificate 'CN=moss-test' (depth 0): name '127.0.0.1' does not match certificate (CN 'moss-test', SAN none)" \
  "$d/err"
out=$("$MOS" --ca-cert-file cert.pem --tls-server-name moss-test \
  --port "wss://127.0.0.1:$P/rpc" call RPC.Ping 2>"$d/err")
check_eq "mos --ca-cert-file --tls-server-name verifies the device" \
  "$(printf '%s' "$out" | jget '"ok"' 2>/dev/null)" ok
check "mos --ca-cert-file: no warning" bash -c "! grep -q Warning $d/err"
"$MOS" --cert-file cert.pem --port "wss://127.0.0.1:$P/rpc" \
  call RPC.Ping >/dev/null 2>"$d/err"
check "--cert-file without --key-file" grep -q "Please specify --key-file" \
  "$d/err"

# ---- bad input on the TLS port ------------------------------------------------------
out=$(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | RAW_IDLE=2 raw_http "127.0.0.1:$P")
check "plain HTTP on the TLS port gets no HTTP answer" \
  bash -c "! printf '%s' '$out' | grep -q 'HTTP/1.1 200'"
check "log: garbage handshake failed" grep -qF "handshake failed" "$MOSSD_LOG"
head -c 3000 /dev/urandom | RAW_IDLE=1 raw_http "127.0.0.1:$P" >/dev/null
out=$(curl -sk "https://127.0.0.1:$P/rpc/RPC.Ping")
check_eq "still serving after garbage" "$(printf '%s' "$out" | tr -d '\r\n' | pingval)" \
  '{"channel_info":"PEER"}'

# ---- recipe 2: mutual TLS, commands as in the guide ---------------------------------
# Common parameters
SUBJ="/C=IE/ST=Dublin/L=Docks/O=MyCompany/CN=howdy"

# Generate CA
openssl genrsa -out ca.key 2048 2>/dev/null
openssl req -new -x509 -days 365 -key ca.key -out ca.crt \
  -subj /C=IE/ST=Dublin/L=Docks/O=mos/CN=me

# Generate client cert
openssl genrsa -out client.key 2048 2>/dev/null
openssl req -new -key client.key -out client.csr -subj $SUBJ
openssl x509 -req -days 365 -in client.csr -CA ca.crt \
  -CAkey ca.key -set_serial 01 -out client.crt 2>/dev/null

# Generate server cert
openssl genrsa -out server.key 2048 2>/dev/null
openssl req -new -key server.key -out server.csr -subj $SUBJ
openssl x509 -req -days 365 -in server.csr -CA ca.crt \
  -CAkey ca.key -set_serial 01 -out server.crt 2>/dev/null

# Upload server key, cert & ca cert to the device
check "put ca.crt" "$MOS" put ca.crt
check "put server.key" "$MOS" put server.key
check "put server.crt" "$MOS" put server.crt

# Update HTTP server settings to use mutual TLS
check "config-set mutual TLS" "$MOS" config-set http.ssl_ca_cert=ca.crt \
  http.ssl_cert=server.crt http.ssl_key=server.key http.listen_addr=443
wait_log 2 "HTTP server started on [443] (SSL)"
check "log: client certificates required, CA file ca.crt" \
  grep -qF "HTTP: client certificates required, CA file ca.crt" "$MOSSD_LOG"

out=$("$MOS" --cert-file client.crt \
  --key-file client.key \
  --port "wss://127.0.0.1:$P/rpc" \
  call RPC.List 2>"$d/err")
check_eq "mos --cert-file --key-file --port wss:// call RPC.List" \
  "$(printf '%s' "$out" | jget '"RPC.List" in j')" true

out=$(curl -sk --cert client.crt --key client.key \
  "https://127.0.0.1:$P/rpc/RPC.Ping")
check_eq "curl with the client certificate" \
  "$(printf '%s' "$out" | tr -d '\r\n' | pingval)" '{"channel_info":"PEER"}'
check "curl --cacert ca.crt --cert (device verified, name via resolve)" \
  bash -c "curl -s --cacert ca.crt --cert client.crt --key client.key \
    --resolve howdy:$P:127.0.0.1 https://howdy:$P/rpc/RPC.Ping |
    grep -q channel_info"
check "curl without a client certificate is refused" \
  bash -c "! curl -sk https://127.0.0.1:$P/rpc/RPC.Ping"
wait_log 1 "sent no client certificate (required by ca.crt)"
check "log: sent no client certificate (required by ca.crt)" \
  grep -qF "sent no client certificate (required by ca.crt)" "$MOSSD_LOG"

for v in tls1_2 tls1_3; do
  out=$(printf 'GET /rpc/RPC.Ping HTTP/1.0\r\n\r\n' |
    timeout 10 openssl s_client -quiet -"$v" -cert client.crt -key client.key \
      -connect "127.0.0.1:$P" 2>/dev/null)
  check_eq "openssl s_client -$v with client cert" \
    "$(printf '%s' "$out" | tail -n 1 | tr -d '\r' | pingval)" '{"channel_info":"PEER"}'
  out=$(printf 'GET /rpc/RPC.Ping HTTP/1.0\r\n\r\n' |
    timeout 10 openssl s_client -quiet -"$v" -connect "127.0.0.1:$P" 2>/dev/null)
  check "openssl s_client -$v without client cert gets nothing" \
    bash -c "! printf '%s' '$out' | grep -q channel_info"
done

# A client certificate from another CA: rejected, reason and subject logged.
openssl req -nodes -new -x509 -keyout rogue.key -out rogue.crt \
  -subj "/O=Rogue/CN=rogue" >/dev/null 2>&1
"$MOS" --cert-file rogue.crt --key-file rogue.key \
  --port "wss://127.0.0.1:$P/rpc" call RPC.List >/dev/null 2>"$d/err"
grep -q "the device rejected" "$d/err" || cat "$d/err" >&2
check "mos: the device rejected the client certificate" \
  grep -qE "the device rejected the client certificate \(alert: (unknown_ca|bad_certificate|handshake_failure|unreadable)\)" "$d/err"
wait_log 1 "certificate verification failed: 'CN=rogue, O=Rogue'"
check "log: verification failure names subject and reason" \
  grep -qF "certificate verification failed: 'CN=rogue, O=Rogue' (depth 0): issuer 'CN=rogue, O=Rogue' not found in ca.crt" \
  "$MOSSD_LOG"

# Third-party WebSocket client over TLS (node + npm ws).
if command -v node >/dev/null && [[ -d $TOP/node_modules/ws ]]; then
  out=$(cd "$TOP" && CERT=$d/client.crt KEY=$d/client.key node -e '
const WebSocket = require("ws"); const fs = require("fs");
const ws = new WebSocket(process.argv[1], "json-rpc", {
  cert: fs.readFileSync(process.env.CERT), key: fs.readFileSync(process.env.KEY),
  rejectUnauthorized: false });
const pad = "b".repeat(16000);
ws.on("open", () => ws.send(JSON.stringify({id: 5, method: "RPC.Ping",
  params: {pad: pad}})));
ws.on("message", (m) => { console.log(JSON.parse(m).id); ws.close(); });
ws.on("error", (e) => { console.log("error " + e.message); process.exit(1); });
setTimeout(() => process.exit(2), 5000);
' "wss://127.0.0.1:$P/rpc" 2>&1)
  check_eq "node ws over wss with a client cert, 16 KB message" "$out" 5
else
  echo "ok # SKIP node ws client (node_modules/ws absent)"
fi

check "mossd still running" kill -0 "$MOSSD_PID"
finish
