#!/usr/bin/env bash
# HTTP server limits and error replies (http.md §3, include/moss/
# http_server.h limits) with raw requests over TCP and curl; after every
# error the server must still serve a normal request.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"

d=$(mktemp_dir)
start_mossd "$d/st" || { fail "mossd starts"; finish; }
ok "mossd starts"
H=$MOSSD_HTTP
"$MOS" --port "$MOSSD_UART" get index.html >"$d/index" 2>/dev/null
isize=$(stat -c %s "$d/index")

still_serves() {
  local st
  st=$(curl -s -m 5 -o "$d/s.body" -w '%{http_code}' "http://$H/index.html")
  if [[ $st == 200 ]] && cmp -s "$d/s.body" "$d/index"; then
    ok "$1: server still serves /index.html"
  else
    fail "$1: server still serves /index.html" "status $st"
  fi
}

# raw NAME WANT_STATUS REQUEST: send REQUEST, compare the status, check the
# error reply closes the connection and the server keeps working.
raw() {
  local name=$1 want=$2
  printf '%s' "$3" | raw_http "$H" >"$d/raw"
  check_eq "$name: $want" "$(raw_status <"$d/raw")" "$want"
  # A request the parser rejects leaves the stream unusable: the reply
  # must close the connection.
  if [[ $want -ge 400 && $3 != *"Connection: close"* ]]; then
    check_eq "$name: Connection: close" \
      "$(grep -i '^Connection:' "$d/raw" | tr -d '\r' | cut -d' ' -f2)" close
  fi
  still_serves "$name"
}

crlf=$'\r\n'
big=$(head -c 9000 /dev/zero | tr '\0' a)
raw "oversize header" 431 "GET /index.html HTTP/1.1${crlf}Host: x${crlf}X-Big: $big${crlf}${crlf}"
hs=""
for i in $(seq 1 60); do hs+="X-H$i: v$crlf"; done
raw "60 headers" 431 "GET /index.html HTTP/1.1${crlf}Host: x$crlf$hs$crlf"
raw "huge URI" 414 "GET /$(head -c 3000 /dev/zero | tr '\0' a) HTTP/1.1${crlf}Host: x${crlf}${crlf}"
raw "body over the limit (Content-Length 40000)" 413 \
  "POST /rpc HTTP/1.1${crlf}Host: x${crlf}Content-Length: 40000${crlf}${crlf}$(head -c 1000 /dev/zero | tr '\0' a)"
raw "bad request line" 400 "GARBAGE${crlf}${crlf}"
raw "request line without version" 400 "GET /index.html${crlf}${crlf}"
raw "HTTP/2.0 version" 505 "GET /index.html HTTP/2.0${crlf}Host: x${crlf}${crlf}"
raw "Transfer-Encoding: chunked" 411 \
  "POST /rpc HTTP/1.1${crlf}Host: x${crlf}Transfer-Encoding: chunked${crlf}${crlf}5${crlf}hello${crlf}0${crlf}${crlf}"
raw "HTTP/1.1 without Host" 400 "GET /index.html HTTP/1.1${crlf}${crlf}"
raw "path with .." 400 "GET /../index.html HTTP/1.1${crlf}Host: x${crlf}Connection: close${crlf}${crlf}"
raw "path with encoded .." 400 "GET /a/%2e%2e/index.html HTTP/1.1${crlf}Host: x${crlf}Connection: close${crlf}${crlf}"
raw "path with NUL" 400 "GET /index.html%00.txt HTTP/1.1${crlf}Host: x${crlf}Connection: close${crlf}${crlf}"
raw "unknown file" 404 "GET /no-such-file.html HTTP/1.1${crlf}Host: x${crlf}Connection: close${crlf}${crlf}"
raw "POST to a file" 405 "POST /index.html HTTP/1.1${crlf}Host: x${crlf}Content-Length: 2${crlf}Connection: close${crlf}${crlf}hi"
raw "PUT to a file" 405 "PUT /index.html HTTP/1.1${crlf}Host: x${crlf}Content-Length: 2${crlf}Connection: close${crlf}${crlf}hi"
raw "DELETE a file" 405 "DELETE /index.html HTTP/1.1${crlf}Host: x${crlf}Connection: close${crlf}${crlf}"

st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --path-as-is "http://$H/../index.html")
check_eq "curl --path-as-is /../index.html: 400" "$st" 400
st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$H/no-such-dir/")
check_eq "directory without an index file: 404" "$st" 404
st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -d @"$d/index" "http://$H/index.html")
check_eq "curl POST to a file: 405" "$st" 405

# A body over the limit sent for real by curl.
head -c 40000 /dev/zero | tr '\0' a >"$d/body40k"
st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Expect:' \
  --data-binary @"$d/body40k" "http://$H/rpc/RPC.Ping")
check_eq "curl POST with a 40 KB body: 413" "$st" 413
still_serves "40 KB body"

# ---- HEAD -------------------------------------------------------------------------
printf 'HEAD /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
  raw_http "$H" >"$d/head"
check_eq "HEAD /index.html: 200" "$(raw_status <"$d/head")" 200
check_eq "HEAD /index.html: Content-Length is the file size" \
  "$(grep -i '^Content-Length:' "$d/head" | tr -d '\r' | cut -d' ' -f2)" "$isize"
check_eq "HEAD /index.html: no body" \
  "$("$PY" -c 'import sys; d=open(sys.argv[1],"rb").read(); print(len(d.split(b"\r\n\r\n",1)[1]))' "$d/head")" 0
check_eq "curl -I /index.html: text/html" \
  "$(curl -s -m 5 -I "http://$H/index.html" | grep -i '^Content-Type:' | tr -d '\r' | cut -d' ' -f2)" \
  text/html

# ---- pipelining: two requests in one write are answered in order ---------------
printf 'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
  raw_http "$H" >"$d/pipe"
check_eq "pipelined requests answered in order" \
  "$(grep -a '^HTTP/1.1 ' "$d/pipe" | cut -d' ' -f2 | tr '\n' ' ')" "200 404 "

# ---- HTTP/1.0 -------------------------------------------------------------------------
printf 'GET /index.html HTTP/1.0\r\n\r\n' | raw_http "$H" >"$d/h10"
check_eq "HTTP/1.0 without Host: 200" "$(raw_status <"$d/h10")" 200

# ---- a half-sent request that never completes does not block others --------------
"$PY" -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\nX-Slow: ")
time.sleep(3)' "$H" &
slow=$!
track "$slow"
sleep 0.2
still_serves "one stalled connection open"
kill "$slow" 2>/dev/null
wait "$slow" 2>/dev/null

check "mossd still running" kill -0 "$MOSSD_PID"
stop_mossd
check_log_clean "mossd"
finish
