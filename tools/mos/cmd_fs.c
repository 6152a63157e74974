/* mos put, get, ls, rm (spec mos-cli.md §4.5-4.8). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moss/alloc.h"
#include "moss/base64.h"
#include "tool.h"

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static void progress(const char *what, long long done, long long total) {
  if (!isatty(2) || total <= 0)
    return;
  int width = 40, n = (int)(done * width / total);
  fprintf(stderr, "\r%s [", what);
  for (int i = 0; i < width; i++)
    fputc(i < n ? '#' : ' ', stderr);
  fprintf(stderr, "] %3lld%%", done * 100 / total);
  if (done >= total)
    fputc('\n', stderr);
}

int cmd_put(int argc, char **argv) {
  if (argc < 1)
    return tool_fail("filename is required");
  if (argc > 2)
    return tool_fail("extra arguments");
  const char *host = argv[0];
  const char *dst = argc == 2 ? argv[1] : base_name(host);
  const char *dev = dst;
  FILE *f = fopen(host, "rb");
  if (f == NULL)
    return tool_fail("open %s: %s", host, strerror(errno));
  fseek(f, 0, SEEK_END);
  long long total = ftell(f);
  fseek(f, 0, SEEK_SET);
  long long chunk = tool_int("chunk-size");
  if (chunk <= 0 || chunk > 1 << 20)
    chunk = 512;
  char err[1024];
  struct tool_conn *c = tool_connect(err, sizeof(err));
  if (c == NULL) {
    fclose(f);
    return tool_fail("%s", err);
  }
  /* moss: a file of several chunks goes to a temporary name first and is
   * renamed over the target at the end (FS.Rename replaces atomically),
   * so an interrupted upload never leaves a truncated file behind. */
  char tmpname[300];
  bool staged =
      total > chunk && snprintf(tmpname, sizeof(tmpname), "%s.part~", dst) < 65;
  if (staged)
    dev = tmpname;
  uint8_t *buf = moss_alloc(MOSS_SUB_APP, (size_t)chunk);
  size_t b64sz = MOSS_BASE64_ENC_LEN((size_t)chunk);
  char *b64 = moss_alloc(MOSS_SUB_APP, b64sz);
  int ret = 1;
  long long off = 0;
  if (buf == NULL || b64 == NULL) {
    tool_fail("out of memory");
    goto out;
  }
  do {
    size_t n = fread(buf, 1, (size_t)chunk, f);
    if (n == 0 && ferror(f)) {
      tool_fail("read %s: %s", host, strerror(errno));
      goto out;
    }
    if (n == 0 && off > 0)
      break;
    size_t blen;
    moss_base64_encode(b64, b64sz, &blen, buf, n);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "filename", dev);
    cJSON_AddNumberToObject(p, "offset", (double)off);
    cJSON_AddBoolToObject(p, "append", off > 0);
    cJSON_AddStringToObject(p, "data", b64);
    int rc = -1, code = 0;
    cJSON *res = NULL;
    long long attempts = tool_int("fs-op-attempts");
    for (long long t = 0; t < (attempts > 0 ? attempts : 1); t++) {
      rc = tool_call(c, "FS.Put", p, &res, &code, err, sizeof(err));
      cJSON_Delete(res);
      res = NULL;
      if (rc >= 0)
        break; /* a remote error is final */
    }
    cJSON_Delete(p);
    if (rc == 1) {
      tool_fail("remote error %d: %s", code, err);
      goto out;
    }
    if (rc < 0) {
      tool_fail("%s", err);
      goto out;
    }
    off += (long long)n;
    progress("Uploading", off, total);
    if (n < (size_t)chunk)
      break;
  } while (1);
  if (staged) {
    cJSON *p = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(p, "src", dev);
    cJSON_AddStringToObject(p, "dst", dst);
    int rc = tool_call_or_fail(c, "FS.Rename", p, &res);
    cJSON_Delete(p);
    cJSON_Delete(res);
    if (rc != 0)
      goto out;
  }
  ret = 0;
out:
  if (ret != 0 && staged && c != NULL) {
    /* Do not leave the partial upload behind. */
    cJSON *p = cJSON_CreateObject(), *res = NULL;
    int code;
    cJSON_AddStringToObject(p, "filename", dev);
    tool_call(c, "FS.Remove", p, &res, &code, err, sizeof(err));
    cJSON_Delete(p);
    cJSON_Delete(res);
  }
  moss_free(buf);
  moss_free(b64);
  fclose(f);
  tool_disconnect(c);
  return ret;
}

int cmd_get(int argc, char **argv) {
  if (argc < 1)
    return tool_fail("filename is required");
  if (argc > 1)
    return tool_fail("extra arguments");
  char err[1024];
  struct tool_conn *c = tool_connect(err, sizeof(err));
  if (c == NULL)
    return tool_fail("%s", err);
  long long chunk = tool_int("chunk-size");
  if (chunk <= 0)
    chunk = 512;
  long long off = 0, left = 1, total = -1;
  int ret = 1;
  while (left > 0) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "filename", argv[0]);
    cJSON_AddNumberToObject(p, "offset", (double)off);
    cJSON_AddNumberToObject(p, "len", (double)chunk);
    cJSON *res = NULL;
    int rc = tool_call_or_fail(c, "FS.Get", p, &res);
    cJSON_Delete(p);
    if (rc != 0)
      goto out;
    cJSON *data = cJSON_GetObjectItemCaseSensitive(res, "data");
    cJSON *lj = cJSON_GetObjectItemCaseSensitive(res, "left");
    if (!cJSON_IsString(data) || !cJSON_IsNumber(lj)) {
      cJSON_Delete(res);
      tool_fail("invalid FS.Get reply");
      goto out;
    }
    size_t dl = strlen(data->valuestring);
    uint8_t *bin = moss_alloc(MOSS_SUB_APP, dl / 4 * 3 + 3);
    size_t n = 0;
    if (bin == NULL ||
        moss_base64_decode(bin, dl / 4 * 3 + 3, &n, data->valuestring, dl)) {
      moss_free(bin);
      cJSON_Delete(res);
      tool_fail("invalid base64 in FS.Get reply");
      goto out;
    }
    fwrite(bin, 1, n, stdout);
    moss_free(bin);
    left = (long long)lj->valuedouble;
    cJSON_Delete(res);
    off += (long long)n;
    if (total < 0)
      total = off + left;
    progress("Downloading", off, total);
    if (n == 0 && left > 0) {
      tool_fail("device returned no data at offset %lld", off);
      goto out;
    }
  }
  fflush(stdout);
  ret = 0;
out:
  tool_disconnect(c);
  return ret;
}

static int cmp_name(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  const char *nx =
      cJSON_IsString(x)
          ? x->valuestring
          : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "name"));
  const char *ny =
      cJSON_IsString(y)
          ? y->valuestring
          : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(y, "name"));
  return strcmp(nx ? nx : "", ny ? ny : "");
}

int cmd_ls(int argc, char **argv) {
  if (argc > 1)
    return tool_fail("extra arguments");
  bool lng = tool_bool("long");
  char err[1024];
  struct tool_conn *c = tool_connect(err, sizeof(err));
  if (c == NULL)
    return tool_fail("%s", err);
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "path", argc == 1 ? argv[0] : "/");
  cJSON *res = NULL;
  int rc = tool_call_or_fail(c, lng ? "FS.ListExt" : "FS.List", p, &res);
  cJSON_Delete(p);
  tool_disconnect(c);
  if (rc != 0)
    return 1;
  int n = cJSON_GetArraySize(res);
  if (!cJSON_IsArray(res)) {
    cJSON_Delete(res);
    return tool_fail("invalid listing reply");
  }
  const cJSON **items =
      moss_alloc(MOSS_SUB_APP, sizeof(*items) * (size_t)(n + 1));
  int k = 0;
  for (const cJSON *e = res->child; e && items; e = e->next)
    items[k++] = e;
  if (items)
    qsort(items, (size_t)k, sizeof(*items), cmp_name);
  for (int i = 0; i < k; i++) {
    if (lng) {
      const char *nm = cJSON_GetStringValue(
          cJSON_GetObjectItemCaseSensitive(items[i], "name"));
      const cJSON *sz = cJSON_GetObjectItemCaseSensitive(items[i], "size");
      printf("%s %lld\r\n", nm ? nm : "",
             cJSON_IsNumber(sz) ? (long long)sz->valuedouble : 0LL);
    } else {
      printf("%s\r\n", cJSON_IsString(items[i]) ? items[i]->valuestring : "");
    }
  }
  moss_free(items);
  cJSON_Delete(res);
  return 0;
}

/* Whether the device lists name (FS.List): 1 yes, 0 no, -1 cannot tell.
 * The namespace is flat and the device drops leading slashes. */
static int dev_has_file(struct tool_conn *c, const char *name) {
  while (*name == '/')
    name++;
  cJSON *p = cJSON_CreateObject(), *res = NULL;
  char err[1024];
  int code = 0;
  cJSON_AddStringToObject(p, "path", "/");
  int rc = tool_call(c, "FS.List", p, &res, &code, err, sizeof(err));
  cJSON_Delete(p);
  int found = rc == 0 && cJSON_IsArray(res) ? 0 : -1;
  for (const cJSON *e = found == 0 ? res->child : NULL; e; e = e->next) {
    if (cJSON_IsString(e) && strcmp(e->valuestring, name) == 0)
      found = 1;
  }
  cJSON_Delete(res);
  return found;
}

int cmd_rm(int argc, char **argv) {
  if (argc < 1)
    return tool_fail("filename is required");
  if (argc > 1)
    return tool_fail("extra arguments");
  char err[1024];
  struct tool_conn *c = tool_connect(err, sizeof(err));
  if (c == NULL)
    return tool_fail("%s", err);
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "filename", argv[0]);
  cJSON *res = NULL;
  int code = 0;
  int rc = tool_call(c, "FS.Remove", p, &res, &code, err, sizeof(err));
  cJSON_Delete(p);
  cJSON_Delete(res);
  if (rc == 1 && dev_has_file(c, argv[0]) == 0) {
    /* FS.Remove says only "remove failed"; the listing tells why. */
    tool_fail("%s: file does not exist", argv[0]);
  } else if (rc == 1) {
    tool_fail("remote error %d: %s", code, err);
  } else if (rc < 0) {
    tool_fail("%s", err);
  }
  tool_disconnect(c);
  return rc == 0 ? 0 : 1;
}
