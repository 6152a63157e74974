#!/bin/sh
# Regenerates the password files of this directory with Apache's htdigest
# (Debian apache2-utils), which reads the password twice from stdin.
# Users: joe/secret and user1/"pa:ss w0rd" and user2/x in realm myproduct,
# joe/hunter2 in realm otherrealm.  The SHA-256 file is made as rpc.md §5.7
# says, since htdigest writes MD5 only.
set -e
cd "$(dirname "$0")"
rm -f rpc_auth.txt
printf 'secret\nsecret\n' | htdigest -c rpc_auth.txt myproduct joe
printf 'pa:ss w0rd\npa:ss w0rd\n' | htdigest rpc_auth.txt myproduct user1
printf 'hunter2\nhunter2\n' | htdigest rpc_auth.txt otherrealm joe
printf 'x\nx\n' | htdigest rpc_auth.txt myproduct user2
h() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
{
  printf 'joe:myproduct:%s\n' "$(h 'joe:myproduct:secret')"
  printf 'user1:myproduct:%s\n' "$(h 'user1:myproduct:pa:ss w0rd')"
} >rpc_auth_sha256.txt
