/* Unit tests of conn/ (loopback TCP through the loop, both backends): the
 * binary's main and the loop helpers the tests share. */
#include "harness.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/log.h"
#include "conn_test.h"

enum moss_ev_backend test_backend = MOSS_EV_BACKEND_EPOLL;

struct moss_ev *test_ev_new(void) {
  struct moss_ev_cfg cfg = {.backend = test_backend};
  struct moss_ev *ev = NULL;
  if (moss_ev_new(&ev, &cfg) != MOSS_OK)
    return NULL;
  return ev;
}

bool test_run_until(struct moss_ev *ev, const bool *flag, int ms) {
  uint64_t end = moss_ev_now(ev) + (uint64_t)ms;
  while (!*flag) {
    if (moss_ev_run_once(ev, 10) < 0)
      return false;
    if (moss_ev_now(ev) > end)
      return *flag;
  }
  return true;
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  moss_log_set_stderr(0);
  test_conn_all();
  return mt_done();
}
