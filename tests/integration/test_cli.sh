#!/usr/bin/env bash
# mos tells the truth (issue "A CLI that tells the truth", mos-cli.md):
# help shows only commands and flags that exist, every command has its own
# help, and errors are one line written for people: a wrong password, a
# missing file, an ACL refusal, a TLS name mismatch, RPC over HTTP
# switched off, an unknown command, a config-set that leaves the device
# without its HTTP server.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
qjget() { jget "$1" 2>/dev/null; } # empty output on bad JSON

d=$(mktemp_dir)
mkdir "$d/work"
cd "$d/work" || exit 1

# has NAME FIXED-STRING FILE / hasnt NAME FIXED-STRING FILE
has() {
  if grep -qF -- "$2" "$3"; then ok "$1"; else fail "$1" "no [$2] in: $(head -c 600 "$3")"; fi
}
hasnt() {
  if grep -qF -- "$2" "$3"; then fail "$1" "[$2] in: $(grep -F -- "$2" "$3" | head -n 3)"; else ok "$1"; fi
}
# one_line NAME FILE: exactly one line (stderr of a failed command)
one_line() { check_eq "$1" "$(wc -l <"$2" | tr -d ' ')" 1; }

COMMANDS="call config-get config-set wifi put get ls rm help version"
CONN_FLAGS="--port --baud-rate --timeout --rpc-creds --cert-file --key-file \
--ca-cert-file --tls-server-name"

# ---- general help -----------------------------------------------------------------------
"$MOS" help >"$d/help" 2>"$d/e"
check_eq "mos help: exit 0, nothing on stderr" "$?:$(cat "$d/e")" "0:"
for c in $COMMANDS; do
  check "mos help lists the command $c" grep -qE "^  $c( |$)" "$d/help"
done
for f in $CONN_FLAGS --level --no-reboot --no-save --try-once --chunk-size \
  --fs-op-attempts --long --help; do
  has "mos help lists $f" "$f" "$d/help"
done
for form in "--help" "-h" ""; do
  # shellcheck disable=SC2086 # the empty form is no argument at all
  "$MOS" $form >"$d/o" 2>"$d/e"
  check_eq "mos ${form:-(no arguments)}: exit 0, the general help" \
    "$?:$(cat "$d/e"):$(cmp -s "$d/o" "$d/help" && echo same)" "0::same"
done

# ---- no flag of a command that does not exist -----------------------------------------
"$MOS" help --full >"$d/full" 2>&1
for w in esp32 esp- atca --format --write-key --platform --arch --firmware \
  --keep-fs --no-verify --dry-run MOS_DRY_RUN flash-read; do
  hasnt "mos help shows nothing of '$w'" "$w" "$d/help"
  hasnt "mos help --full shows nothing of '$w'" "$w" "$d/full"
done
"$MOS" --dry-run=false version >/dev/null 2>"$d/e"
check_eq "--dry-run (no command uses it) is an unknown flag" \
  "$?:$(head -n 1 "$d/e")" "1:unknown flag: --dry-run=false"
"$MOS" version --platform esp32 >/dev/null 2>"$d/e"
check_eq "--platform (no command uses it) is an unknown flag" \
  "$?:$(head -n 1 "$d/e")" "1:unknown flag: --platform"

# Every flag mos shows is described in the user guide, and the guide
# names no flag mos does not have.
GUIDE=$TOP/docs/guide.md
for f in $(grep -oE -- '--[a-z][a-z0-9-]+' "$d/full" | sort -u); do
  has "docs/guide.md describes $f" "\`$f" "$GUIDE"
done
for f in $(sed -n '/^## 3\./,/^## 4\./p' "$GUIDE" | grep -oE -- '`-?-[a-zA-Z][a-z0-9-]*' |
  tr -d '`' | grep -vx -- --flag | sort -u); do # --flag: the syntax
  has "the guide's mos flag $f exists" "$f" "$d/full"
done

# ---- per-command help -------------------------------------------------------------------
for c in $COMMANDS; do
  "$MOS" help "$c" >"$d/h.$c" 2>"$d/e"
  check_eq "mos help $c: exit 0, nothing on stderr" "$?:$(cat "$d/e")" "0:"
  check "mos help $c: starts with 'Usage: mos $c'" \
    grep -qE "^Usage: mos $c( |$)" <(head -n 1 "$d/h.$c")
  "$MOS" "$c" --help >"$d/o" 2>"$d/e"
  check_eq "mos $c --help: exit 0, the same text as mos help $c" \
    "$?:$(cmp -s "$d/o" "$d/h.$c" && echo same)" "0:same"
  "$MOS" "$c" -h >"$d/o" 2>&1
  check_eq "mos $c -h: the same text" "$(cmp -s "$d/o" "$d/h.$c" && echo same)" same
  min=6
  [[ $c == version ]] && min=3 # no arguments, no flags
  check "mos help $c: longer than the one-line summary" \
    test "$(wc -l <"$d/h.$c")" -ge $min
done
for c in call config-get config-set wifi put get ls rm; do
  for f in $CONN_FLAGS; do
    has "mos help $c shows the connection flag $f" "$f" "$d/h.$c"
  done
done
for f in --level --no-reboot --no-save --try-once; do
  has "mos help config-set shows $f" "$f" "$d/h.config-set"
done
has "mos help config-get shows --level" "--level" "$d/h.config-get"
hasnt "mos help config-get does not show --no-reboot" "--no-reboot" "$d/h.config-get"
has "mos help put shows --chunk-size" "--chunk-size" "$d/h.put"
has "mos help put shows --fs-op-attempts" "--fs-op-attempts" "$d/h.put"
has "mos help get shows --chunk-size" "--chunk-size" "$d/h.get"
has "mos help ls shows -l, --long" "-l, --long" "$d/h.ls"
hasnt "mos help call does not show --chunk-size" "--chunk-size" "$d/h.call"
hasnt "mos help version shows no connection flag" "--port" "$d/h.version"
has "mos help call: the arguments" "<params-json>" "$d/h.call"
"$MOS" --port /nonexistent call --help >"$d/o" 2>"$d/e"
check_eq "mos call --help does not connect" \
  "$?:$(cat "$d/e"):$(cmp -s "$d/o" "$d/h.call" && echo same)" "0::same"
"$MOS" help nosuch >/dev/null 2>"$d/e"
check_eq "mos help of an unknown command: exit 1" "$?" 1
one_line "mos help nosuch: one line on stderr" "$d/e"

# ---- unknown command --------------------------------------------------------------------
u() { # u TYPED WANT-STDERR
  "$MOS" "$1" >"$d/o" 2>"$d/e"
  check_eq "mos $1: exit 1, nothing on stdout, the suggestion" \
    "$?:$(cat "$d/o"):$(cat "$d/e")" "1::$2"
}
u conifg-get 'Unknown command "conifg-get". Did you mean "config-get"?'
u config-sett 'Unknown command "config-sett". Did you mean "config-set"?'
u lss 'Unknown command "lss". Did you mean "ls"?'
u cal 'Unknown command "cal". Did you mean "call"?'
u verison 'Unknown command "verison". Did you mean "version"?'
u frobnicate 'Unknown command: frobnicate. Run "mos help"'

# ---- device A: authentication, ACL, files -----------------------------------------------
printf 'secret\nsecret\n' | htdigest -c rpc_auth.txt myproduct joe >/dev/null 2>&1
cat >rpc_acl.json <<'EOF'
[
  {"method": "Sys.GetInfo", "acl": "-*"},
  {"method": "FS.*", "acl": "+joe"},
  {"method": "*", "acl": "*"}
]
EOF
start_mossd "$d/a" || { fail "mossd A starts"; finish; }
"$MOS" --port "$MOSSD_UART" put rpc_auth.txt 2>"$d/e" &&
  "$MOS" --port "$MOSSD_UART" put rpc_acl.json 2>>"$d/e"
check_eq "A: put rpc_auth.txt and rpc_acl.json" "$?:$(cat "$d/e")" "0:"
stop_mossd
start_mossd "$d/a" --set rpc.auth_domain=myproduct \
  --set rpc.auth_file=rpc_auth.txt --set rpc.acl_file=rpc_acl.json ||
  { fail "mossd A restarts with auth and ACL"; finish; }
ok "mossd A restarts with auth and ACL"
U=$MOSSD_UART
H=$MOSSD_HTTP
for p in "$U" "ws://$H/rpc" "http://$H/rpc"; do
  t=${p%%:*}
  [[ $t == /* ]] && t=uart
  "$MOS" --port "$p" --rpc-creds joe:wrong ls >"$d/o" 2>"$d/e"
  check_eq "$t: wrong password: exit 1, one line for people" "$?:$(cat "$d/e")" \
    "1:Error: ls failed: authentication failed for user 'joe'"
  "$MOS" --port "$p" --rpc-creds nobody:secret call FS.List >"$d/o" 2>"$d/e"
  check_eq "$t: unknown user: the same words" "$?:$(cat "$d/e")" \
    "1:Error: call failed: authentication failed for user 'nobody'"
  out=$("$MOS" --port "$p" --rpc-creds joe:secret ls 2>"$d/e")
  check_eq "$t: the right password still works" \
    "$?:$(printf '%s\n' "$out" | tr -d '\r' | grep -cx rpc_acl.json)" "0:1"
done

"$MOS" --port "$U" --rpc-creds joe:secret rm nothere.txt >"$d/o" 2>"$d/e"
check_eq "rm of a missing file: the file does not exist" "$?:$(cat "$d/e")" \
  "1:Error: rm failed: nothere.txt: file does not exist"
"$MOS" --port "ws://$H/rpc" --rpc-creds joe:secret rm /nothere.txt 2>"$d/e"
check_eq "rm /missing over ws: the same, with the name as typed" \
  "$?:$(cat "$d/e")" "1:Error: rm failed: /nothere.txt: file does not exist"
printf 'x\n' >gone.txt
"$MOS" --port "$U" --rpc-creds joe:secret put gone.txt 2>/dev/null
"$MOS" --port "$U" --rpc-creds joe:secret rm gone.txt 2>"$d/e"
check_eq "rm of an existing file: exit 0, silent" "$?:$(cat "$d/e")" "0:"
"$MOS" --port "$U" rm gone.txt 2>"$d/e"
check_eq "rm without credentials: asks for them (not 'does not exist')" \
  "$?:$(cat "$d/e")" \
  "1:Error: rm failed: credentials required but none provided (use --rpc-creds)"

# A 403: mos prints the device's message (whatever the device says, e.g.
# the ACL entry), not the JSON it came in.  (Not over the UART: there a
# denied call asks for a login, the recovery path of rpc.md.)
msg=$(curl -s -m 5 -d '{"id":1,"method":"Sys.GetInfo"}' "http://$H/rpc" |
  qjget 'j["error"]["message"]')
check "device: POST /rpc Sys.GetInfo is refused with a message" test -n "$msg"
for p in "ws://$H/rpc" "http://$H/rpc"; do
  t=${p%%:*}
  "$MOS" --port "$p" call Sys.GetInfo >"$d/o" 2>"$d/e"
  check_eq "$t: 403: exit 1, the device's message on one line" \
    "$?:$(cat "$d/e")" "1:Error: call failed: remote error 403: $msg"
  hasnt "$t: 403: no JSON error object in the text" '"code"' "$d/e"
done
check "mossd A still running" kill -0 "$MOSSD_PID"
stop_mossd
check_log_clean "device A"

# ---- device B: RPC over HTTP switched off -----------------------------------------------
start_mossd "$d/b" --set rpc.http.enable=false || { fail "mossd B starts"; finish; }
H=$MOSSD_HTTP
"$MOS" --port "http://$H/rpc" call Sys.GetInfo >"$d/o" 2>"$d/e"
check_eq "rpc.http.enable=false: mos over http:// says so" "$?:$(cat "$d/e")" \
  "1:Error: call failed: RPC over HTTP is disabled on the device (rpc.http.enable is false)"
hasnt "rpc.http.enable=false: not 'HTTP 404'" "HTTP 404" "$d/e"
out=$("$MOS" --port "ws://$H/rpc" call RPC.Ping 2>"$d/e")
check_eq "rpc.http.enable=false: ws:// still works" "$?" 0
"$MOS" --port "http://$H/nope" call RPC.Ping >"$d/o" 2>"$d/e"
check_eq "http:// on a path without RPC: names the URL" \
  "$?:$(cut -d'(' -f1 "$d/e")" \
  "1:Error: call failed: no RPC endpoint at http://$H/nope "
stop_mossd

# ---- device C: TLS with a certificate for another name ---------------------------------
openssl req -nodes -new -x509 -keyout key.pem -out cert.pem \
  -subj "/CN=moss-test" >/dev/null 2>&1
# (A long subject: the whole line, hint included, must survive.)
openssl req -nodes -new -x509 -keyout key2.pem -out cert2.pem \
  -subj "/C=IE/ST=Dublin/L=Docks/O=MyCompany Connected Devices Ltd/CN=other" \
  -addext "subjectAltName=DNS:moss.local" >/dev/null 2>&1
start_mossd "$d/c" || { fail "mossd C starts"; finish; }
for f in cert.pem key.pem cert2.pem key2.pem; do
  "$MOS" --port "$MOSSD_UART" put "$f" 2>/dev/null || fail "put $f"
done
stop_mossd
start_mossd "$d/c" --set http.ssl_cert=cert.pem --set http.ssl_key=key.pem ||
  { fail "mossd C restarts with TLS"; finish; }
H=$MOSSD_HTTP
for s in wss https; do
  "$MOS" --ca-cert-file cert.pem --port "$s://$H/rpc" call RPC.Ping \
    >"$d/o" 2>"$d/e"
  check_eq "$s: name mismatch: exit 1" "$?" 1
  one_line "$s: name mismatch: one line" "$d/e"
  has "$s: name mismatch: the reason" \
    "name '127.0.0.1' does not match certificate (CN 'moss-test', SAN none)" "$d/e"
  has "$s: name mismatch: suggests --tls-server-name" \
    "--tls-server-name moss-test" "$d/e"
done
out=$("$MOS" --ca-cert-file cert.pem --tls-server-name moss-test \
  --port "wss://$H/rpc" call RPC.Ping 2>"$d/e")
check_eq "... and the suggestion works" "$?" 0
"$MOS" --ca-cert-file cert.pem --tls-server-name wrong.example \
  --port "wss://$H/rpc" call RPC.Ping >/dev/null 2>"$d/e"
has "a wrong --tls-server-name: suggests the certificate's name" \
  "--tls-server-name moss-test" "$d/e"
stop_mossd
start_mossd "$d/c" --set http.ssl_cert=cert2.pem --set http.ssl_key=key2.pem ||
  { fail "mossd C restarts with a SAN certificate"; finish; }
H=$MOSSD_HTTP
"$MOS" --ca-cert-file cert2.pem --port "wss://$H/rpc" call RPC.Ping \
  >/dev/null 2>"$d/e"
has "SAN certificate: suggests the DNS name, not the CN" \
  "--tls-server-name moss.local" "$d/e"
out=$("$MOS" --ca-cert-file cert2.pem --tls-server-name moss.local \
  --port "wss://$H/rpc" call RPC.Ping 2>"$d/e")
check_eq "... and it works" "$?" 0
"$MOS" --port "wss://$H/rpc" call RPC.Ping >/dev/null 2>"$d/e"
check_eq "without --ca-cert-file: no hint, only the warning" \
  "$?:$(cat "$d/e")" \
  "0:Warning: device certificate is not verified (use --ca-cert-file)"
stop_mossd

# ---- device D: config-set to a port already in use --------------------------------------
# The device's own listen_addr (80) is mapped to a free host port, so the
# config on flash decides what listens (a --set would override it).
P=$(free_port)
BUSY=$(free_port)
"$PY" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
time.sleep(120)' "$BUSY" &
track $!
"$BIN/mossd" --state "$d/dd" --port-map "80=127.0.0.1:$P" >"$d/dd.out" \
  2>"$d/dd.log" &
MOSSD_PID=$!
MOSSD_LOG=$d/dd.log
track "$MOSSD_PID"
U=$d/dd/uart
wait_rpc "$U"
check_eq "mossd D answers on its UART" "$?" 0
wait_http "127.0.0.1:$P"
check_eq "mossd D serves HTTP on the mapped port" "$?" 0
FREE=$(free_port)
n=$(boot_count "$MOSSD_LOG")
"$MOS" --port "$U" config-set "http.listen_addr=127.0.0.1:$FREE" >"$d/o" 2>"$d/e"
check_eq "config-set to a free port: exit 0, the three lines" "$?:$(cat "$d/e")" \
  $'0:Getting configuration...\nSetting new configuration...\nSaving and rebooting...'
check_eq "config-set returned after the device rebooted" \
  "$(($(boot_count "$MOSSD_LOG") > n))" 1
check "the device serves HTTP on the new port" curl -s -m 5 -o /dev/null \
  "http://127.0.0.1:$FREE/rpc/RPC.Ping"
n=$(boot_count "$MOSSD_LOG")
t0=$(date +%s)
"$MOS" --port "$U" config-set "http.listen_addr=127.0.0.1:$BUSY" >"$d/o" 2>"$d/e"
rc=$?
t1=$(date +%s)
check_eq "config-set to a busy port: exit 1" "$rc" 1
check_eq "config-set to a busy port: the three lines, then one error" \
  "$(head -n 3 "$d/e"):$(wc -l <"$d/e" | tr -d ' ')" \
  $'Getting configuration...\nSetting new configuration...\nSaving and rebooting...:4'
if tail -n 1 "$d/e" | grep -qE "^Error: config-set failed: .*HTTP server.*127\.0\.0\.1:$BUSY.*(in use|busy)"; then
  ok "config-set to a busy port: names the HTTP server, the address, the bind failure"
else
  fail "config-set to a busy port: names the HTTP server, the address, the bind failure" \
    "$(tail -n 1 "$d/e")"
fi
check "config-set to a busy port: done well before --timeout" test $((t1 - t0)) -lt 10
out=$("$MOS" --port "$U" config-get http.listen_addr 2>/dev/null)
check_eq "the device kept the setting (it still answers on the UART)" \
  "$out" "127.0.0.1:$BUSY"
check "mossd D still running" kill -0 "$MOSSD_PID"
stop_mossd
check_log_clean "device D"
finish
