#!/usr/bin/env bash
# Security features beyond Digest/ACL basics: Config.Set validation of
# security files (config.md §5.3), /upload (http.md §5), mos answering
# HTTP Digest challenges, http.auth_* on files, and a mossd built with
# MOSS_ENABLE_RPC=0 ("Disable all RPC functionality").
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"

work=$(mktemp_dir)
cd "$work" || exit 1
start_mossd "$work/st" || { fail "mossd starts"; finish; }
U=$MOSSD_UART
A=$MOSSD_HTTP
export MOS_PORT=$U

# ---- Config.Set refuses broken security files ------------------------------
cat >rpc_acl.json <<'J'
[
  {"method": "FS.*", "ch_type": "GCP", "acl":"*"}
  {"method": "SYS.*", "ch_type": "WS_in", "acl":"*"}
  {"method": "FS.*", "acl": "+user1,-user2"},
  {"method": "*", "acl": "-*"}
]
J
check "put the guide's rpc_acl.json" "$MOS" put rpc_acl.json
out=$("$MOS" config-set rpc.acl_file=rpc_acl.json 2>&1)
rc=$?
check_eq "config-set of a broken ACL fails" "$rc" 1
check_eq "its error names file, line and column" \
  "$(printf '%s\n' "$out" | tail -n 1)" \
  "Error: config-set failed: remote error 400: invalid config value: rpc.acl_file: rpc_acl.json:3:3: expected ',' or ']' after array element, found '{'"
check_eq "the ACL was not applied" "$("$MOS" config-get rpc.acl_file)" ""
printf 'joe:myproduct\n' >bad_auth.txt
"$MOS" put bad_auth.txt
out=$("$MOS" config-set rpc.auth_file=bad_auth.txt 2>&1 | tail -n 1)
case $out in
  *"invalid config value: rpc.auth_file: bad_auth.txt: line 1:"*) ok "broken password file refused" ;;
  *) fail "broken password file refused" "$out" ;;
esac
out=$("$MOS" config-set http.ssl_key=ATCA:2 2>&1 | tail -n 1)
check_eq "ECDH slot refused as a key" "$out" \
  "Error: config-set failed: remote error 400: invalid config value: http.ssl_key: ATCA:2 cannot be used for private key, it is configured as ECDH slot."
out=$("$MOS" config-set http.ssl_cert=index.html 2>&1 | tail -n 1)
check_eq "non-certificate refused" "$out" \
  "Error: config-set failed: remote error 400: invalid config value: http.ssl_cert: index.html: no certificate found"

# ---- /upload --------------------------------------------------------------------
echo "uploaded bytes" >up.txt
check_eq "upload of an ordinary file" \
  "$(curl -s -F "file=@up.txt" "http://$A/upload" | tr -d '\r')" "Ok."
check_eq "the uploaded file is there" "$("$MOS" get up.txt)" "uploaded bytes"
cp up.txt conf9.json
code=$(curl -s -o resp -w '%{http_code}' -F "file=@conf9.json" "http://$A/upload")
check_eq "upload of conf9.json refused" "$code" 403
check_eq "refusal text" "$(tr -d '\r' <resp)" "Not allowed to upload conf9.json"
code=$(curl -s -o resp -w '%{http_code}' -F "file=@up.txt;filename=../x" "http://$A/upload")
check_eq "upload with .. refused" "$code" 403
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$A/upload")
check_eq "GET /upload is 405" "$code" 405
"$MOS" config-set http.upload_acl='-*.txt,*' >/dev/null 2>&1
wait_rpc "$U"
wait_http "$A"
code=$(curl -s -o resp -w '%{http_code}' -F "file=@up.txt" "http://$A/upload")
check_eq "upload_acl denies *.txt" "$code" 403
"$MOS" config-set http.upload_acl='conf5.json,*' >/dev/null 2>&1
wait_rpc "$U"
wait_http "$A"
echo '{"debug":{"level":2}}' >conf5.json
check_eq "upload_acl naming conf5.json allows it" \
  "$(curl -s -F "file=@conf5.json" "http://$A/upload" | tr -d '\r')" "Ok."

# ---- http.auth on files; mos over http:// answers Digest -----------------
printf 'joe:myproduct:%s\n' "$(printf 'joe:myproduct:secret' | md5sum | cut -d' ' -f1)" >auth.txt
"$MOS" put auth.txt
"$MOS" config-set http.auth_domain=myproduct http.auth_file=auth.txt >/dev/null 2>&1
wait_rpc "$U"
wait_http "$A"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$A/index.html")
check_eq "files need a login with http.auth_*" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u joe:secret "http://$A/index.html")
check_eq "curl --digest gets the file" "$code" 200
code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u joe:wrong "http://$A/index.html")
check_eq "a wrong password does not" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$A/rpc/RPC.Ping")
check_eq "/rpc is not covered by http.auth" "$code" 200
"$MOS" config-set rpc.auth_domain=myproduct rpc.auth_file=auth.txt >/dev/null 2>&1
wait_boot "$MOSSD_LOG" 0 "$U" >/dev/null 2>&1
sleep 1
out=$("$MOS" --port "http://$A/rpc" call RPC.Ping 2>&1)
check_eq "mos over http:// without creds" "$out" \
  "Error: call failed: credentials required but none provided (use --rpc-creds)"
out=$("$MOS" --port "http://$A/rpc" --rpc-creds joe:secret call RPC.Ping 2>&1)
case $out in *channel_info*) ok "mos over http:// answers the HTTP challenge" ;;
  *) fail "mos over http:// answers the HTTP challenge" "$out" ;; esac
out=$("$MOS" --port "http://$A/rpc" --rpc-creds joe:nope call RPC.Ping 2>&1)
check_eq "mos over http:// with a wrong password" "$out" \
  "Error: call failed: authentication failed for user 'joe'"
stop_mossd
check_log_clean "$MOSSD_LOG"

# ---- a mossd without RPC ------------------------------------------------------
nb=$TOP/$MOSS_BUILD/norpc
if make -C "$TOP" -s -j2 BUILD="$MOSS_BUILD/norpc" MOSS_ENABLE_RPC=0 \
  SAN="$([[ $MOSS_BUILD == *asan* ]] && echo 1 || echo 0)" \
  OPT="$([[ $MOSS_BUILD == *asan* ]] && echo -O1 || echo -O2)" \
  "$MOSS_BUILD/norpc/bin/mossd" >"$work/norpc-build.log" 2>&1; then
  ok "MOSS_ENABLE_RPC=0 builds"
else
  fail "MOSS_ENABLE_RPC=0 builds" "$(tail -n 5 "$work/norpc-build.log")"
fi
check_eq "no RPC code is linked" \
  "$(nm "$nb/bin/mossd" 2>/dev/null | grep -c ' T moss_rpc_')" 0
port=$(free_port)
"$nb/bin/mossd" --state "$work/st2" --fw "$TOP/$MOSS_BUILD/fw.zip" \
  --set "http.listen_addr=127.0.0.1:$port" >"$work/n.out" 2>"$work/n.log" &
track $!
for i in $(seq 1 50); do grep -q '^HTTP: ' "$work/n.out" && break; sleep 0.1; done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/index.html")
check_eq "without RPC files are still served" "$code" 200
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/rpc/RPC.Ping")
check_eq "without RPC /rpc is gone" "$code" 404
out=$("$MOS" --port "$work/st2/uart" --timeout 2s call RPC.Ping 2>&1)
case $out in *"no answer from the device"*) ok "without RPC the UART does not answer" ;;
  *) fail "without RPC the UART does not answer" "$out" ;; esac
finish
