#!/usr/bin/env bash
# fs_free (Sys.GetInfo) is honest (docs/design/fs.md, "Space"): on a fresh
# device a file of exactly fs_free bytes goes in with `mos put` (FS.Put
# chunks of 512 bytes into <name>.part~, then FS.Rename), comes back
# intact and survives a restart; a file a little bigger is refused
# cleanly.  Then the reported case: `mos rm ca.pem`, and the system's CA
# bundle put back, which must succeed whenever it fits the reported
# fs_free.  Nothing depends on the size of the firmware's own ca.pem (a
# curated or a full bundle).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"

d=$(mktemp_dir)
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# What a file may store beyond fs_free: half a sector of end-game spare
# plus the metadata allowance (docs/design/fs.md, "Space").
BOUND=3072

fs_free() {
  "$MOS" --port "$MOSSD_UART" call Sys.GetInfo 2>/dev/null | jget 'j["fs_free"]'
}
# ls NAME: the size of NAME on the device, empty if absent.
dev_size() {
  "$MOS" --port "$MOSSD_UART" ls -l 2>/dev/null | tr -d '\r' |
    awk -v n="$1" '$1 == n { print $2 }'
}
# put HOSTFILE NAME: mos put; "rc:stderr".
put() {
  "$MOS" --port "$MOSSD_UART" put "$1" "$2" >/dev/null 2>"$d/err"
  echo "$?:$(tr '\n' ' ' <"$d/err")"
}
# same HOSTFILE NAME: NAME on the device has exactly HOSTFILE's bytes.
same() {
  "$MOS" --port "$MOSSD_UART" get "$2" >"$d/back" 2>"$d/err" &&
    cmp "$1" "$d/back"
}

st=$d/st
start_mossd "$st" || { fail "mossd starts"; finish; }
ok "mossd starts"

# ---- a file of exactly fs_free bytes -----------------------------------------
free=$(fs_free)
if [[ $free =~ ^[0-9]+$ ]] && ((free > 0)); then
  ok "Sys.GetInfo fs_free is a positive number ($free)"
else
  fail "Sys.GetInfo fs_free is a positive number" "got [$free]"
  finish
fi
head -c "$free" /dev/urandom >"$d/exact"
check_eq "mos put of exactly fs_free bytes ($free)" \
  "$(put "$d/exact" exact.bin)" "0:"
check_eq "mos ls shows it with that size" "$(dev_size exact.bin)" "$free"
check "the file comes back intact" same "$d/exact" exact.bin
check_eq "no .part~ left behind" "$(dev_size exact.bin.part~)" ""
after=$(fs_free)
check_eq "fs_free is then less than $BOUND ($after)" \
  "$(((after < BOUND) ? 1 : 0))" 1

stop_mossd
check_log_clean "first run"
start_mossd "$st" || { fail "mossd restarts"; finish; }
ok "mossd restarts on the full filesystem"
check "after a restart the file is still intact" same "$d/exact" exact.bin

check_eq "mos rm of it" \
  "$("$MOS" --port "$MOSSD_UART" rm exact.bin >/dev/null 2>&1; echo $?)" 0
check_eq "fs_free is back to $free" "$(fs_free)" "$free"

# ---- a file too big for fs_free -------------------------------------------------
head -c $((free + BOUND)) /dev/urandom >"$d/big"
res=$(put "$d/big" big.bin)
check_eq "mos put of fs_free + $BOUND bytes fails" "${res%%:*}" 1
case $res in
  *"no space"* | *NOSPC* | *"failed to write"*) ok "... with a no-space error" ;;
  *) fail "... with a no-space error" "$res" ;;
esac
check_eq "... leaves no big.bin" "$(dev_size big.bin)" ""
check_eq "... and no big.bin.part~" "$(dev_size big.bin.part~)" ""
check_eq "... and fs_free unchanged" "$(fs_free)" "$free"

# ---- the reported case: rm ca.pem, put the CA bundle back ---------------------
if [[ -r $CA_BUNDLE ]]; then
  size=$(stat -c %s "$CA_BUNDLE")
  check_eq "mos rm ca.pem" \
    "$("$MOS" --port "$MOSSD_UART" rm ca.pem >/dev/null 2>&1; echo $?)" 0
  free=$(fs_free)
  res=$(put "$CA_BUNDLE" ca.pem)
  if ((size <= free)); then
    check_eq "put back $CA_BUNDLE ($size bytes, fs_free $free)" "$res" "0:"
    check "ca.pem comes back intact" same "$CA_BUNDLE" ca.pem
  elif [[ ${res%%:*} == 0 ]]; then
    ok "put back $CA_BUNDLE ($size bytes > fs_free $free): stored anyway"
    check "ca.pem comes back intact" same "$CA_BUNDLE" ca.pem
  else
    ok "put back $CA_BUNDLE ($size bytes > fs_free $free): refused"
    check_eq "... leaving no ca.pem.part~" "$(dev_size ca.pem.part~)" ""
  fi
  stop_mossd
  check_log_clean "second run"
  start_mossd "$st" || { fail "mossd restarts after the CA bundle"; finish; }
  ok "mossd restarts after the CA bundle"
  if ((size <= free)); then
    check "after a restart ca.pem is still the bundle" same "$CA_BUNDLE" ca.pem
  fi
else
  ok "no $CA_BUNDLE on this host: CA bundle part skipped"
fi

stop_mossd
check_log_clean "last run"
finish
