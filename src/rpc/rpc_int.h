/* Private parts of the RPC core shared by rpc.c and builtin.c. */
#ifndef MOSS_RPC_INT_H
#define MOSS_RPC_INT_H

#include "moss/rpc.h"

/* Registers RPC.List, RPC.Describe, RPC.Ping. */
int moss_rpc_builtin_register(struct moss_rpc *rpc);
/* Registered names in registration order, for RPC.List. */
size_t moss_rpc_handler_count(const struct moss_rpc *rpc);
const char *moss_rpc_handler_name(const struct moss_rpc *rpc, size_t i);

#endif
