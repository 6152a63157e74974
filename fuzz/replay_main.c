/*
 * Replay driver: links with a fuzz_<input>.c target in place of libFuzzer
 * and runs LLVMFuzzerTestOneInput over every file named on the command
 * line (directories are walked one level).  Used by `make test` over
 * fuzz/corpus/<input>/, with any compiler and under ASan+UBSan.
 * Prints "N passed, 0 failed": a crash aborts the process, which the test
 * runner counts as a failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
    fclose(f);
    free(buf);
    return -1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int ran = 0, bad = 0;
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) {
      perror(argv[i]);
      bad++;
      continue;
    }
    if (S_ISDIR(sb.st_mode)) {
      DIR *d = opendir(argv[i]);
      struct dirent *de;
      while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
          continue;
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
        if (run_file(p) == 0)
          ran++;
        else
          bad++;
      }
      if (d)
        closedir(d);
    } else if (run_file(argv[i]) == 0) {
      ran++;
    } else {
      bad++;
    }
  }
  printf("%d passed, %d failed\n", ran, bad);
  return bad ? 1 : 0;
}
