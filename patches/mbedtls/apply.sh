#!/bin/sh
# Apply moss's patches (patches/mbedtls/NNNN-*.patch, in name order) to an
# unpacked mbedTLS tree, idempotently.  Called by mk/mbedtls.mk on every
# make, before anything is compiled.
#
#   patches/mbedtls/apply.sh TREE
#
# TREE/.moss-patches/ keeps a copy of each patch as applied.  When the set
# of patches is unchanged nothing happens (and no file is touched, so
# nothing is rebuilt).  Otherwise the applied copies are reversed (newest
# first) and the current patches applied, so an edited patch replaces its
# old version.  A lock serialises concurrent makes sharing the tree.
# Every patch only adds code under MBEDTLS_SSL_MOSS_* options, so a
# patched tree built with mbedTLS's default config is stock mbedTLS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$1
state=$tree/.moss-patches
mkdir -p "$state"
exec 9>"$state.lock"
flock 9

same=1
for p in "$here"/[0-9]*.patch; do
  [ -f "$state/${p##*/}" ] && cmp -s "$p" "$state/${p##*/}" || same=0
done
for q in "$state"/[0-9]*.patch; do
  [ -f "$q" ] || continue
  [ -f "$here/${q##*/}" ] || same=0
done
[ $same -eq 1 ] && exit 0

for q in $(ls -r "$state"/[0-9]*.patch 2>/dev/null); do
  echo "mbedtls: reversing ${q##*/}" >&2
  patch -s -d "$tree" -p1 -R <"$q"
  rm -f "$q"
done
for p in "$here"/[0-9]*.patch; do
  echo "mbedtls: applying ${p##*/}" >&2
  patch -s -d "$tree" -p1 -N --no-backup-if-mismatch <"$p"
  cp "$p" "$state/"
done
