/* mos - placeholder until the CLI lands (issue: Foundation 2/2). */
#include <stdio.h>

int main(void) {
  fprintf(stderr, "mos: not built yet\n");
  return 1;
}
