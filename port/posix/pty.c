/* Pseudo-terminal for the esp32-sim UART (see moss/port_pty.h). */
#include "moss/port_pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "moss/err.h"
#include "moss/log.h"
#include "moss/port.h"

int moss_port_pty_open(struct moss_port_pty *p) {
  p->master = p->slave_keep = -1;
  p->name[0] = '\0';
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 ||
      ptsname_r(m, p->name, sizeof(p->name)) != 0) {
    MOSS_LOG_E("uart", "cannot create a pseudo-terminal: %s", strerror(errno));
    if (m >= 0)
      close(m);
    return MOSS_ERR_IO;
  }
  int s = open(p->name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) {
    MOSS_LOG_E("uart", "cannot open %s: %s", p->name, strerror(errno));
    close(m);
    return MOSS_ERR_IO;
  }
  struct termios t;
  if (tcgetattr(s, &t) == 0) {
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    tcsetattr(s, TCSANOW, &t);
  }
  fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
  p->master = m;
  p->slave_keep = s;
  return MOSS_OK;
}

int moss_port_pty_link(const struct moss_port_pty *p, const char *link) {
  char tmp[4200];
  int n = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", link, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof(tmp))
    return MOSS_ERR_NAMETOOLONG;
  unlink(tmp);
  if (symlink(p->name, tmp) != 0 || rename(tmp, link) != 0) {
    MOSS_LOG_E("uart", "cannot link %s -> %s: %s", link, p->name,
               strerror(errno));
    unlink(tmp);
    return MOSS_ERR_IO;
  }
  return MOSS_OK;
}

void moss_port_pty_flush(const struct moss_port_pty *p) {
  if (p->slave_keep >= 0)
    tcflush(p->slave_keep, TCIFLUSH);
}

void moss_port_pty_close(struct moss_port_pty *p) {
  if (p == NULL)
    return;
  if (p->master >= 0)
    close(p->master);
  if (p->slave_keep >= 0)
    close(p->slave_keep);
  p->master = p->slave_keep = -1;
}

void moss_port_discard_output(int fd) {
  if (isatty(fd))
    tcflush(fd, TCOFLUSH);
}
