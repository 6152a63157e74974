/*
 * moss build options (STYLE.md: MOSS_ENABLE_<FEATURE>, always defined to
 * 0 or 1, checked with #if under -Wundef).  Override on the make command
 * line, e.g. `make MOSS_ENABLE_RPC=0`, which adds -DMOSS_ENABLE_RPC=0.
 */
#ifndef MOSS_CONFIG_H
#define MOSS_CONFIG_H

/* RPC (rpc-common and every rpc-* channel in Mongoose OS terms).  0 builds
 * a mossd with no RPC at all: no UART channel, no /rpc endpoint, no
 * Sys.*, Config.*, FS.* services; the HTTP server still serves files
 * (the guide's "Disable all RPC functionality"). */
#ifndef MOSS_ENABLE_RPC
#define MOSS_ENABLE_RPC 1
#endif

#endif
