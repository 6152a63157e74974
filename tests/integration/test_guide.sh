#!/usr/bin/env bash
# The seed guide's commands (security.md "Configuring TLS on device's
# HTTP/WS server") typed as written against a running mossd, with no
# --port (mos finds the device itself), plus the file commands around them
# and what the device then serves over HTTP.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"

d=$(mktemp_dir)
start_mossd "$d/st" || { fail "mossd starts"; finish; }
ok "mossd starts"
U=$MOSSD_UART
mkdir "$d/work"
cd "$d/work" || exit 1

# mos with the port chosen automatically; the "Using port" line is checked
# and removed so that the rest of stderr can be compared exactly.

# ---- mos config-get http ------------------------------------------------------------
want='{
  "auth_algo": 0,
  "auth_domain": "",
  "auth_file": "",
  "document_root": "/",
  "enable": true,
  "extra_headers": "",
  "hidden_files": "",
  "index_files": "",
  "listen_addr": "LISTEN",
  "ssl_ca_cert": "",
  "ssl_cert": "",
  "ssl_key": "",
  "upload_acl": "*"
}'
out=$(amos "$d/e" config-get http)
check_eq "mos config-get http: exit 0" "$?" 0
check_eq "mos config-get http: the guide's JSON (sorted keys)" \
  "$(printf '%s\n' "$out" | sed 's/"listen_addr": ".*"/"listen_addr": "LISTEN"/')" \
  "$want"
check_eq "mos config-get http: listen_addr is the --set value" \
  "$(printf '%s' "$out" | jget 'j["listen_addr"]')" "$MOSSD_HTTP"
check_eq "mos config-get http: only 'Using port' on stderr" "$(cat "$d/e")" ""
check_eq "mos config-get http.enable: scalar printed raw" \
  "$(amos "$d/e" config-get http.enable)" true
check_eq "mos config-get http.upload_acl" "$(amos "$d/e" config-get http.upload_acl)" '*'
amos "$d/e" config-get http.nope >/dev/null
check_eq "mos config-get unknown path" "$?:$(cat "$d/e")" \
  '1:Error: config-get failed: no config value at path "http.nope"'

# ---- certificate and key, mos put / ls --------------------------------------------------
openssl req -nodes -new -x509 -keyout key.pem -out cert.pem -subj /CN=test \
  >/dev/null 2>&1
check "openssl made cert.pem and key.pem" test -s cert.pem -a -s key.pem
amos "$d/e" put cert.pem
check_eq "mos put cert.pem: exit 0, silent" "$?:$(cat "$d/e")" "0:"
amos "$d/e" put key.pem
check_eq "mos put key.pem: exit 0, silent" "$?:$(cat "$d/e")" "0:"
ls_out=$(amos "$d/e" ls)
check_eq "mos ls: exit 0" "$?" 0
check_eq "mos ls: lines end in CRLF" "$(printf '%s\n' "$ls_out" | grep -vc $'\r$')" 0
names=$(printf '%s\n' "$ls_out" | tr -d '\r')
check_eq "mos ls lists cert.pem and key.pem" \
  "$(printf '%s\n' "$names" | grep -cxE 'cert.pem|key.pem')" 2
check_eq "mos ls: names sorted" "$names" "$(printf '%s\n' "$names" | LC_ALL=C sort)"
check_eq "mos ls -l: sizes" \
  "$(amos "$d/e" ls -l | tr -d '\r' | grep -E '^(cert|key).pem ')" \
  "cert.pem $(stat -c %s cert.pem)
key.pem $(stat -c %s key.pem)"
amos "$d/e" get cert.pem >cert.back
check "mos get cert.pem returns the file" cmp cert.pem cert.back

# ---- config-set with save and reboot -------------------------------------------------------
n=$(boot_count "$MOSSD_LOG")
amos "$d/e" config-set 'http.hidden_files=key.pem|*.txt' >"$d/o"
check_eq "mos config-set: exit 0" "$?" 0
check_eq "mos config-set: the guide's three lines on stderr" "$(cat "$d/e")" \
  $'Getting configuration...\nSetting new configuration...\nSaving and rebooting...'
check_eq "mos config-set: nothing on stdout" "$(cat "$d/o")" ""
wait_boot "$MOSSD_LOG" "$n" "$U"
check_eq "device reboots and answers again" "$?" 0
grep -q "Saved to conf9.json" "$MOSSD_LOG"
check_eq "device logged 'Saved to conf9.json'" "$?" 0
check_eq "config-get after the reboot shows the new value" \
  "$(amos "$d/e" config-get http.hidden_files)" 'key.pem|*.txt'
wait_http "$MOSSD_HTTP"

# ---- files over HTTP --------------------------------------------------------------------------
H=$MOSSD_HTTP
amos "$d/e" get index.html >index.dev
st=$(curl -s -m 5 -D h -o body -w '%{http_code}' "http://$H/index.html")
check_eq "GET /index.html: 200" "$st" 200
check_eq "GET /index.html: text/html" \
  "$(grep -i '^Content-Type:' h | tr -d '\r' | cut -d' ' -f2-)" text/html
check "GET /index.html: the device file" cmp body index.dev
st=$(curl -s -m 5 -o body -w '%{http_code}' "http://$H/")
check_eq "GET /: the index file" "$st:$(cmp -s body index.dev && echo same)" \
  "200:same"
st=$(curl -s -m 5 -D h -o body -w '%{http_code}' "http://$H/cert.pem")
check_eq "GET /cert.pem (not hidden): 200 text/plain, same bytes" \
  "$st $(grep -i '^Content-Type:' h | tr -d '\r' | cut -d' ' -f2-) $(cmp -s body cert.pem && echo same)" \
  "200 text/plain same"
check_eq "GET /key.pem (hidden_files): 404" \
  "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$H/key.pem")" 404
check_eq "GET /conf9.json (protected): 404" \
  "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$H/conf9.json")" 404
check_eq "GET /conf0.json (protected): 404" \
  "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$H/conf0.json")" 404
check_eq "conf9.json exists on the device" \
  "$(amos "$d/e" ls | tr -d '\r' | grep -cx conf9.json)" 1
printf 'secret\n' >server.key
amos "$d/e" put server.key
check_eq "GET /server.key (*.key protected): 404" \
  "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$H/server.key")" 404
check_eq "GET /nope.html: 404" \
  "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$H/nope.html")" 404

# ---- mos wifi ---------------------------------------------------------------------------------
n=$(boot_count "$MOSSD_LOG")
amos "$d/e" wifi WIFI_NET WIFI_PASS
check_eq "mos wifi: exit 0 and config-set texts" "$?:$(cat "$d/e")" \
  $'0:Getting configuration...\nSetting new configuration...\nSaving and rebooting...'
wait_boot "$MOSSD_LOG" "$n" "$U"
check_eq "device answers after mos wifi" "$?" 0
check_eq "config-get wifi.sta.ssid" "$(amos "$d/e" config-get wifi.sta.ssid)" WIFI_NET
check_eq "config-get wifi.sta.pass" "$(amos "$d/e" config-get wifi.sta.pass)" WIFI_PASS
check_eq "wifi.sta.enable / wifi.ap.enable" \
  "$(amos "$d/e" config-get wifi.sta.enable) $(amos "$d/e" config-get wifi.ap.enable)" \
  "true false"
# (mos-cli.md §4.4 gives the text; printed bare or as an Error line.)
"$MOS" wifi ONLY_ONE 2>"$d/e"
check_eq "mos wifi with one argument: exit 1" "$?" 1
if grep -qxE '(Error: wifi failed: )?Usage: mos wifi WIFI_NETWORK_NAME WIFI_PASSWORD' "$d/e"; then
  ok "mos wifi with one argument: usage text"
else
  fail "mos wifi with one argument: usage text" "$(cat "$d/e")"
fi

# ---- config-set errors and --no-save (mos-cli.md §4.3, config.md §5) ----------------------
cs_err() { # cs_err NAME WANT_LAST_LINE args...
  local name=$1 want=$2
  shift 2
  amos "$d/e" config-set "$@"
  check_eq "config-set $name" "$?:$(tail -n 1 "$d/e")" "1:$want"
}
cs_err "bad boolean" "Error: config-set failed: can't convert \"maybe\" to a boolean" \
  http.enable=maybe
cs_err "bad number" 'Error: config-set failed: invalid number "x1" for http.auth_algo' \
  http.auth_algo=x1
cs_err "unknown path" 'Error: config-set failed: no config value at path "nope.x"' \
  nope.x=1
cs_err "missing value" 'Error: config-set failed: missing value for "http.enable"' \
  http.enable
cs_err "object path" \
  'Error: config-set failed: only strings, numbers and booleans can be set, but path "http" refers to an object' \
  http=1
"$MOS" config-set 2>"$d/e"
check_eq "config-set without arguments" "$?:$(tail -n 1 "$d/e")" \
  "1:Error: config-set failed: at least one path.to.value=value pair should be given"
check_eq "failed config-set changed nothing" \
  "$(amos "$d/e" config-get http.enable) $(amos "$d/e" config-get http.auth_algo)" \
  "true 0"
amos "$d/e" config-set --no-save http.index_files=main.html
check_eq "config-set --no-save: texts" "$?:$(cat "$d/e")" \
  $'0:Getting configuration...\nSetting new configuration...'
check_eq "config-set --no-save: running value changed" \
  "$(amos "$d/e" config-get http.index_files)" main.html

# ---- binary round trip, rm ------------------------------------------------------------------------
# 20 KB: the factory image fills the filesystem with the CA bundle, which
# leaves about 30 KB for user files.
head -c 20480 /dev/urandom >rand.bin
amos "$d/e" put rand.bin
check_eq "mos put 20 KB binary: exit 0" "$?:$(cat "$d/e")" "0:"
amos "$d/e" get rand.bin >rand.back
check "mos get 20 KB binary: identical (cmp)" cmp rand.bin rand.back
amos "$d/e" put index.dev copy.html
amos "$d/e" get copy.html >copy.back
check "mos put HOST DEV: explicit device name" cmp index.dev copy.back
: >empty.txt
amos "$d/e" put empty.txt
check_eq "mos put of an empty file creates it" \
  "$(amos "$d/e" ls -l | tr -d '\r' | grep '^empty.txt ')" "empty.txt 0"
amos "$d/e" rm rand.bin
check_eq "mos rm: exit 0, silent" "$?:$(cat "$d/e")" "0:"
check_eq "mos ls no longer lists the removed file" \
  "$(amos "$d/e" ls | tr -d '\r' | grep -cx rand.bin)" 0
amos "$d/e" get rand.bin >/dev/null
check_eq "mos get of the removed file" "$?:$(cat "$d/e")" \
  '1:Error: get failed: remote error 400: failed to open file "rand.bin"'
amos "$d/e" rm rand.bin
check_eq "mos rm of a missing file" "$?:$(cat "$d/e")" \
  "1:Error: rm failed: rand.bin: file does not exist"

# ---- persistence across a full mossd restart ---------------------------------------------------------
stop_mossd
check_log_clean "mossd before restart"
start_mossd "$d/st" || fail "mossd restarts on the same state"
check_eq "after restart: hidden_files persisted" \
  "$(amos "$d/e" config-get http.hidden_files)" 'key.pem|*.txt'
check_eq "after restart: the --no-save value is gone" \
  "$(amos "$d/e" config-get http.index_files)" ""
check_eq "after restart: wifi.sta.ssid persisted" \
  "$(amos "$d/e" config-get wifi.sta.ssid)" WIFI_NET
amos "$d/e" get cert.pem >cert.back2
check "after restart: cert.pem intact" cmp cert.pem cert.back2
check_eq "after restart: removed file stays removed" \
  "$(amos "$d/e" ls | tr -d '\r' | grep -cx rand.bin)" 0
check_eq "after restart: GET /key.pem still 404" \
  "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$MOSSD_HTTP/key.pem")" 404

check "mossd still running" kill -0 "$MOSSD_PID"
stop_mossd
check_log_clean "mossd after restart"
finish
