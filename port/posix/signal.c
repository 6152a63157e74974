/* POSIX port: SIGINT/SIGTERM as a readable descriptor (signalfd), so the
 * loop handles them like any other event and no handler runs async. */
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "moss/err.h"
#include "moss/port.h"
#include "port_int.h"

static void stop_set(sigset_t *s) {
  sigemptyset(s);
  sigaddset(s, SIGINT);
  sigaddset(s, SIGTERM);
}

int moss_port_signal_open(int *fd) {
  sigset_t s;
  stop_set(&s);
  if (sigprocmask(SIG_BLOCK, &s, NULL) != 0) {
    moss_port_set_error(errno);
    return MOSS_ERR_IO;
  }
  int f = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
  if (f < 0) {
    moss_port_set_error(errno);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    return MOSS_ERR_IO;
  }
  *fd = f;
  return MOSS_OK;
}

int moss_port_signal_read(int fd) {
  struct signalfd_siginfo si;
  ssize_t r = read(fd, &si, sizeof(si));
  if (r != (ssize_t)sizeof(si))
    return 0;
  return (int)si.ssi_signo;
}

void moss_port_signal_close(int fd) {
  sigset_t s;
  if (fd >= 0)
    close(fd);
  /* Drop what is still pending so unblocking does not kill us. */
  stop_set(&s);
  struct timespec zero = {0, 0};
  while (sigtimedwait(&s, NULL, &zero) > 0) {
  }
  sigprocmask(SIG_UNBLOCK, &s, NULL);
}
