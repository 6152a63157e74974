/*
 * moss-mkfw: build the esp32-sim firmware bundle (build/fw.zip).
 *
 *   moss-mkfw --out fw.zip --version 0.1.0 --build-id 20250101-000000/abc
 *             --fs fs.img [--name moss]
 *
 * Writes a zip (libzip) with manifest.json (mos-cli.md §6.1; built with
 * cJSON) and the parts of the default 4 MB layout (esp32.md §4.2):
 *
 *   boot     bootloader.bin  at 0x1000  marker ESP32 image
 *   pt       partitions.bin  at 0x8000  default table, 0xC00 bytes
 *   nvs      fill 0xFF x 0x4000 in partition nvs
 *   otadata  otadata.bin     partition otadata: ota_seq 1 (boot app_0)
 *   app      moss.bin        partition app_0: ESP32 image whose first
 *                            segment is the moss app description
 *   fs       fs.img          partition fs_0 (the --fs file, moss-mkfs)
 *
 * Every part carries "sha256" (of its bytes; for nvs of the filled bytes).
 * The app description's date/time come from the build id's leading
 * YYYYMMDD-HHMMSS, so the same build id gives the same images; the zip
 * entries get that time too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <mbedtls/sha256.h>
#include <zip.h>

#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/fwimg.h"
#include "moss/part.h"
#include "moss/util.h"

#define NVS_SIZE 0x4000u

struct opts {
  const char *out, *version, *build_id, *fs, *name;
};

struct blob {
  const char *part, *type, *file, *ptn;
  uint32_t addr;
  const uint8_t *data;
  size_t len;
  int fill; /* -1: data is the content; else a fill part of len bytes */
  bool encrypt;
};

static void usage(void) {
  fprintf(stderr,
          "usage: moss-mkfw --out <fw.zip> --version <v> --build-id <id>\n"
          "                 --fs <fs.img> [--name moss]\n");
}

static int parse_args(int argc, char **argv, struct opts *o) {
  memset(o, 0, sizeof(*o));
  o->name = "moss";
  for (int i = 1; i < argc; i++) {
    const char **dst = NULL;
    if (strcmp(argv[i], "--out") == 0)
      dst = &o->out;
    else if (strcmp(argv[i], "--version") == 0)
      dst = &o->version;
    else if (strcmp(argv[i], "--build-id") == 0)
      dst = &o->build_id;
    else if (strcmp(argv[i], "--fs") == 0)
      dst = &o->fs;
    else if (strcmp(argv[i], "--name") == 0)
      dst = &o->name;
    if (dst == NULL || i + 1 >= argc) {
      usage();
      return -1;
    }
    *dst = argv[++i];
  }
  if (!o->out || !o->version || !o->build_id || !o->fs) {
    usage();
    return -1;
  }
  return 0;
}

/* Read a whole file into a counted buffer of at most cap bytes. */
static uint8_t *read_file(const char *path, size_t cap, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = moss_alloc(MOSS_SUB_APP, cap + 1);
  size_t n = buf ? fread(buf, 1, cap + 1, f) : 0;
  bool err = buf == NULL || ferror(f);
  fclose(f);
  if (err || n > cap || n == 0) {
    fprintf(stderr, "%s: %s\n", path,
            err      ? "read error"
            : n == 0 ? "empty"
                     : "too large");
    moss_free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/* Build time from "YYYYMMDD-HHMMSS..." (UTC); -1 if it does not parse. */
static time_t build_time(const char *id, struct tm *tm) {
  memset(tm, 0, sizeof(*tm));
  if (sscanf(id, "%4d%2d%2d-%2d%2d%2d", &tm->tm_year, &tm->tm_mon, &tm->tm_mday,
             &tm->tm_hour, &tm->tm_min, &tm->tm_sec) != 6) {
    return (time_t)-1;
  }
  tm->tm_year -= 1900;
  tm->tm_mon -= 1;
  return timegm(tm);
}

static int make_app(const struct opts *o, const struct tm *tm, uint8_t *out,
                    size_t cap, size_t *len) {
  struct moss_app_desc d;
  memset(&d, 0, sizeof(d));
  if (strlen(o->name) >= sizeof(d.name) ||
      strlen(o->version) >= sizeof(d.version) ||
      strlen(o->build_id) >= sizeof(d.build_id)) {
    fprintf(stderr, "name, version or build id longer than 32 bytes\n");
    return -1;
  }
  memcpy(d.name, o->name, strlen(o->name));
  memcpy(d.version, o->version, strlen(o->version));
  memcpy(d.build_id, o->build_id, strlen(o->build_id));
  memcpy(d.idf_ver, "moss", 4);
  strftime(d.date, sizeof(d.date), "%Y-%m-%d", tm);
  strftime(d.time, sizeof(d.time), "%H:%M:%S", tm);
  uint8_t desc[MOSS_FWIMG_APP_DESC_SIZE];
  if (moss_fwimg_app_desc_encode(desc, &d) != MOSS_OK)
    return -1;
  char marker[160];
  int n = snprintf(marker, sizeof(marker),
                   "%s %s (%s): esp32-sim marker image, no code runs", o->name,
                   o->version, o->build_id);
  struct moss_fwimg_seg segs[2] = {
      {MOSS_FWIMG_DROM_ADDR, desc, sizeof(desc)},
      {0x40080000u, marker, (size_t)n + 1},
  };
  return moss_fwimg_build(out, cap, len, segs, 2, MOSS_FWIMG_ENTRY);
}

static int make_boot(uint8_t *out, size_t cap, size_t *len) {
  static const char marker[] =
      "moss second-stage bootloader: esp32-sim marker image, no code runs";
  struct moss_fwimg_seg seg = {MOSS_FWIMG_BOOT_ADDR, marker, sizeof(marker)};
  return moss_fwimg_build(out, cap, len, &seg, 1, 0x40078000u);
}

static void sha_hex(const struct blob *b, char out[65]) {
  mbedtls_sha256_context c;
  uint8_t h[32], chunk[256];
  mbedtls_sha256_init(&c);
  mbedtls_sha256_starts(&c, 0);
  if (b->fill < 0) {
    mbedtls_sha256_update(&c, b->data, b->len);
  } else {
    memset(chunk, b->fill, sizeof(chunk));
    for (size_t off = 0; off < b->len; off += sizeof(chunk)) {
      mbedtls_sha256_update(&c, chunk, MOSS_MIN(sizeof(chunk), b->len - off));
    }
  }
  mbedtls_sha256_finish(&c, h);
  mbedtls_sha256_free(&c);
  for (int i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static cJSON *manifest(const struct opts *o, const struct blob *b, size_t n) {
  cJSON *m = cJSON_CreateObject();
  cJSON *parts = cJSON_CreateObject();
  if (m == NULL || parts == NULL)
    goto fail;
  cJSON_AddStringToObject(m, "name", o->name);
  cJSON_AddStringToObject(m, "platform", "esp32");
  cJSON_AddStringToObject(m, "version", o->version);
  cJSON_AddStringToObject(m, "build_id", o->build_id);
  cJSON_AddItemToObject(m, "parts", parts);
  for (size_t i = 0; i < n; i++) {
    cJSON *p = cJSON_AddObjectToObject(parts, b[i].part);
    char hex[65];
    if (p == NULL)
      goto fail;
    cJSON_AddStringToObject(p, "type", b[i].type);
    if (b[i].ptn != NULL) {
      cJSON_AddStringToObject(p, "ptn", b[i].ptn);
    } else {
      cJSON_AddNumberToObject(p, "addr", b[i].addr);
    }
    if (b[i].fill >= 0) {
      cJSON_AddNumberToObject(p, "fill", b[i].fill);
    } else {
      cJSON_AddStringToObject(p, "src", b[i].file);
    }
    cJSON_AddNumberToObject(p, "size", (double)b[i].len);
    cJSON_AddBoolToObject(p, "encrypt", b[i].encrypt);
    sha_hex(&b[i], hex);
    cJSON_AddStringToObject(p, "sha256", hex);
  }
  return m;
fail:
  cJSON_Delete(m);
  return NULL;
}

static int add_file(zip_t *z, const char *name, const void *d, size_t n,
                    time_t mtime) {
  zip_source_t *s = zip_source_buffer(z, d, n, 0);
  zip_int64_t idx = s ? zip_file_add(z, name, s, ZIP_FL_OVERWRITE) : -1;
  if (idx < 0) {
    zip_source_free(s);
    fprintf(stderr, "%s: %s\n", name, zip_strerror(z));
    return -1;
  }
  zip_file_set_mtime(z, (zip_uint64_t)idx, mtime, 0);
  return 0;
}

int main(int argc, char **argv) {
  struct opts o;
  static uint8_t boot[512], app[2048], pt[MOSS_PART_TABLE_SIZE];
  static uint8_t otadata[MOSS_PART_OTADATA_SIZE];
  size_t boot_len, app_len, fs_len = 0;
  uint8_t *fs = NULL;
  char *json = NULL;
  cJSON *m = NULL;
  zip_t *z = NULL;
  int rc = 1;

  if (parse_args(argc, argv, &o) != 0)
    return 2;
  struct tm tm;
  time_t when = build_time(o.build_id, &tm);
  if (when == (time_t)-1) {
    when = time(NULL);
    gmtime_r(&when, &tm);
  }
  size_t nparts;
  const struct moss_part_entry *layout = moss_part_default_layout(&nparts);
  const struct moss_part_entry *fs_ptn = NULL;
  for (size_t i = 0; i < nparts; i++) {
    if (strcmp(layout[i].label, "fs_0") == 0)
      fs_ptn = &layout[i];
  }
  fs = read_file(o.fs, fs_ptn->size, &fs_len);
  if (fs == NULL)
    goto out;
  if (make_boot(boot, sizeof(boot), &boot_len) != MOSS_OK ||
      make_app(&o, &tm, app, sizeof(app), &app_len) != MOSS_OK ||
      moss_part_build_default(pt) != MOSS_OK) {
    fprintf(stderr, "cannot build images\n");
    goto out;
  }
  /* ota_seq 1 selects app_0; state undefined = no rollback tracking. */
  moss_part_otadata_build(otadata, 1, MOSS_PART_OTA_STATE_UNDEFINED);

  const struct blob parts[] = {
      {"boot", "boot", "bootloader.bin", NULL, MOSS_FW_BOOT_OFFSET, boot,
       boot_len, -1, true},
      {"pt", "pt", "partitions.bin", NULL, MOSS_PART_TABLE_OFFSET, pt,
       sizeof(pt), -1, true},
      {"nvs", "nvs", NULL, "nvs", 0, NULL, NVS_SIZE, 0xFF, false},
      {"otadata", "otadata", "otadata.bin", "otadata", 0, otadata,
       sizeof(otadata), -1, true},
      {"app", "app", "moss.bin", "app_0", 0, app, app_len, -1, true},
      {"fs", "fs", "fs.img", "fs_0", 0, fs, fs_len, -1, true},
  };
  m = manifest(&o, parts, MOSS_ARRAY_SIZE(parts));
  json = m ? cJSON_Print(m) : NULL;
  if (json == NULL) {
    fprintf(stderr, "cannot build manifest.json\n");
    goto out;
  }

  char tmp[4096];
  int tn = snprintf(tmp, sizeof(tmp), "%s.tmp", o.out);
  if (tn < 0 || (size_t)tn >= sizeof(tmp))
    goto out;
  remove(tmp);
  int zerr;
  z = zip_open(tmp, ZIP_CREATE | ZIP_EXCL, &zerr);
  if (z == NULL) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, zerr);
    fprintf(stderr, "%s: %s\n", tmp, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    goto out;
  }
  if (add_file(z, "manifest.json", json, strlen(json), when) != 0)
    goto out;
  for (size_t i = 0; i < MOSS_ARRAY_SIZE(parts); i++) {
    if (parts[i].fill >= 0)
      continue;
    if (add_file(z, parts[i].file, parts[i].data, parts[i].len, when) != 0) {
      goto out;
    }
  }
  if (zip_close(z) != 0) {
    fprintf(stderr, "%s: %s\n", tmp, zip_strerror(z));
    goto out;
  }
  z = NULL;
  /* Rename into place so a failed run never leaves a half bundle that
   * make would take as up to date. */
  if (rename(tmp, o.out) != 0) {
    fprintf(stderr, "%s: %s\n", o.out, strerror(errno));
    goto out;
  }
  printf("%s: %s/esp32 %s (%s), app %zu bytes, fs %zu bytes\n", o.out, o.name,
         o.version, o.build_id, app_len, fs_len);
  rc = 0;
out:
  if (z != NULL)
    zip_discard(z);
  cJSON_free(json);
  cJSON_Delete(m);
  moss_free(fs);
  return rc;
}
