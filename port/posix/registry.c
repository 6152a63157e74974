/* POSIX port: the per-user port registry directory (moss/port_registry.h).
 * The same code answers for mossd and mos, so they cannot disagree. */
#include "moss/port_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moss/err.h"

int moss_port_registry_dir(char *out, size_t sz, bool create) {
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  const char *tmp = getenv("TMPDIR");
  int w;
  if (xdg != NULL && *xdg != '\0') {
    w = snprintf(out, sz, "%s/moss/ports", xdg);
  } else {
    w = snprintf(out, sz, "%s/moss-%u/ports",
                 tmp != NULL && *tmp != '\0' ? tmp : "/tmp",
                 (unsigned)getuid());
  }
  if (w < 0 || (size_t)w >= sz)
    return MOSS_ERR_TOOBIG;
  if (create) {
    /* The per-user directory, then ports/ in it.  Errors (EEXIST above
     * all) are left to the first file written there. */
    char *slash = strrchr(out, '/');
    *slash = '\0';
    mkdir(out, 0700);
    *slash = '/';
    mkdir(out, 0700);
  }
  return MOSS_OK;
}
