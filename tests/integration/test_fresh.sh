#!/usr/bin/env bash
# A fresh device as a new user meets it: room in the filesystem, the
# curated CA bundle, a 100 KB file round trip.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_extra.sh"
t=$(mktemp_dir)
start_mossd "$t/state" || { fail "mossd starts"; finish; }
U=$MOSSD_UART

info=$("$MOS" --port "$U" call Sys.GetInfo)
free=$(jget 'j["fs_free"]' <<<"$info")
check "fresh device has at least 150 KB free (has $free)" \
  test "$free" -ge $((150 * 1024))

# The curated ca.pem: the roots config/ca-roots.txt names, nothing else.
"$MOS" --port "$U" get ca.pem >"$t/ca.pem"
want=$(sed -e 's/#.*//' -e '/^ *$/d' "$TOP/config/ca-roots.txt" | wc -l)
check_eq "ca.pem holds the curated roots" "$(grep -c 'BEGIN CERTIFICATE' "$t/ca.pem")" "$want"
for cn in "ISRG Root X1" "Amazon Root CA 1" "GTS Root R1" "DigiCert Global Root G2"; do
  check "ca.pem has $cn" sh -c "openssl crl2pkcs7 -nocrl -certfile '$t/ca.pem' |
    openssl pkcs7 -print_certs -noout | grep -q 'subject=.*CN *= *$cn\$'"
done
check "ca.pem is well under the full bundle" test "$(wc -c <"$t/ca.pem")" -lt 40000

# A 100 KB file round-trips.
head -c 102400 /dev/urandom >"$t/big.bin"
check "mos put of 100 KB" "$MOS" --port "$U" put "$t/big.bin" big.bin
"$MOS" --port "$U" get big.bin >"$t/big.back"
check "mos get returns the same 100 KB" cmp "$t/big.bin" "$t/big.back"
stop_mossd
check_log_clean "fresh device"
finish
