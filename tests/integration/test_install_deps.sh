#!/usr/bin/env bash
# scripts/install-deps: what a fresh machine's user sees.  The script runs
# for real; only the package database's answer for one package and sudo
# are stand-ins (a test cannot uninstall a package or grant sudo).
source "$(dirname "$0")/lib.sh"
script=$TOP/scripts/install-deps
t=$(mktemp_dir)
chmod 755 "$t"

# dpkg-query that reports libcjson-dev missing and defers the rest.
mkdir -p "$t/bin"
cat >"$t/bin/dpkg-query" <<'S'
#!/bin/sh
for a; do last=$a; done
[ "$last" = libcjson-dev ] && exit 1
exec /usr/bin/dpkg-query "$@"
S
chmod 755 "$t/bin" "$t/bin/dpkg-query"

# 1. Everything installed: silent, exit 0.
out=$("$script" run 2>&1)
check_eq "all present: exit 0" "$?" 0
check_eq "all present: prints nothing" "$out" ""

# 2. Not root, no sudo: the exact apt-get line, exit 1.
if id nobody >/dev/null 2>&1; then
  out=$(runuser -u nobody -- env PATH="$t/bin:/usr/bin:/bin" HOME="$t" \
    "$script" run 2>&1)
  rc=$?
  check_eq "no root, no sudo: exit 1" "$rc" 1
  check "no root, no sudo: names the package" \
    grep -q 'missing Debian packages: libcjson-dev' <<<"$out"
  check "no root, no sudo: prints the exact install line" \
    grep -qx '  apt-get update && apt-get install -y --no-install-recommends libcjson-dev' <<<"$out"

  # 3. Not root, with sudo: apt-get goes through sudo.
  cat >"$t/bin/sudo" <<S
#!/bin/sh
echo "\$*" >>"$t/sudo.log"
exit 0
S
  chmod 755 "$t/bin/sudo"
  touch "$t/sudo.log"
  chmod 666 "$t/sudo.log"
  out=$(runuser -u nobody -- env PATH="$t/bin:/usr/bin:/bin" HOME="$t" \
    "$script" run 2>&1)
  check_eq "sudo: exit 0" "$?" 0
  check "sudo: says what it installs" \
    grep -q 'install-deps: installing libcjson-dev' <<<"$out"
  check "sudo: runs apt-get install through sudo" \
    grep -q '^apt-get install -y -qq --no-install-recommends libcjson-dev$' "$t/sudo.log"
else
  fail "user nobody exists"
fi

# 4. A bad profile is a usage error.
"$script" bogus >/dev/null 2>&1
check_eq "bad profile: exit 2" "$?" 2
finish
