/* Shared fixtures of the rpc unit tests: a fake channel that records
 * what the core sends, and a log sink that records what it logs. */
#ifndef MOSS_TEST_RPC_H
#define MOSS_TEST_RPC_H

#include <stdbool.h>

#include "moss/priv/rpc_json.h"
#include "moss/rpc.h"

#define FAKE_MAX_OUT 8
#define FAKE_OUT_SIZE 1024

struct fake_ch {
  struct moss_rpc_channel *ch;
  const char *type;
  const char *info;
  bool non_persistent;
  bool close_on_send; /* HTTP-like: close inside send_frame */
  bool defer_close;   /* ops->close only records the request */
  int close_requests;
  bool closed;
  int n_out;
  char out[FAKE_MAX_OUT][FAKE_OUT_SIZE];
};

/* Opens f->ch on rpc with the fake ops. */
void fake_open(struct moss_rpc *rpc, struct fake_ch *f, const char *type);
/* Feed a NUL-terminated frame; returns moss_rpc_channel_recv's value. */
int fake_recv(struct fake_ch *f, const char *frame, bool *will_reply);

#define LOG_LINES 16
extern char log_lines[LOG_LINES][512];
extern int log_n;
void log_capture_start(void);
void log_capture_stop(void);
/* True if some captured line equals s exactly. */
bool log_has(const char *s);
/* True if some captured line starts with prefix. */
bool log_has_prefix(const char *prefix);

void rpc_frame_tests(void);
void rpc_dispatch_tests(void);
void rpc_uart_tests(void);

#endif
