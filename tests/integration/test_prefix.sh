#!/usr/bin/env bash
# Every exported symbol of libmoss.a starts with moss_.
source "$(dirname "$0")/lib.sh"
check "libmoss.a exports only moss_ symbols" \
  "$TOP/scripts/check-prefix" "$TOP/$MOSS_BUILD/lib/libmoss.a"
finish
