/* mossd - placeholder until the runtime lands (issue: Foundation 2/2). */
#include <stdio.h>

int main(void) {
  fprintf(stderr, "mossd: runtime not built yet\n");
  return 1;
}
