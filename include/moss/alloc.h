/*
 * moss/alloc.h - the counting allocator and the board's RAM budget.
 *
 * Every allocation in libmoss goes through moss_alloc()/moss_free() (and
 * mbedTLS's, through MBEDTLS_PLATFORM_MEMORY).  Bytes are counted per
 * subsystem so that Sys.GetInfo and the benchmarks can say where RAM goes.
 *
 * The budget models the free heap of the device (ESP32: ~320 KB at start).
 * An allocation that would take the total above the budget fails and returns
 * NULL, exactly as it would on the chip; every caller handles NULL (the
 * runtime sheds a connection, it never aborts).  A budget of 0 means
 * unlimited (host tools).
 *
 * Accounting: each block is charged its requested size plus
 * MOSS_ALLOC_OVERHEAD bytes, the per-block cost of a typical embedded heap
 * (multi_heap on ESP-IDF uses 8-12 bytes).  The figures are therefore a
 * fair model of what the same allocations cost on the device.
 *
 * Single-threaded: the runtime is one event loop.  Not thread-safe.
 */
#ifndef MOSS_ALLOC_H
#define MOSS_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum moss_subsys {
  MOSS_SUB_CORE = 0,
  MOSS_SUB_FLASH,
  MOSS_SUB_FS,
  MOSS_SUB_CFG,
  MOSS_SUB_CONN,
  MOSS_SUB_TLS,
  MOSS_SUB_HTTP,
  MOSS_SUB_WS,
  MOSS_SUB_RPC,
  MOSS_SUB_MQTT,
  MOSS_SUB_SE,
  MOSS_SUB_JSON,
  MOSS_SUB_APP,
  MOSS_SUB_COUNT
};

/* Per-block bookkeeping charged to the budget in addition to the payload. */
#define MOSS_ALLOC_OVERHEAD 8u

/* Default budget of the esp32-sim board (bytes of free heap at start). */
#define MOSS_ALLOC_DEFAULT_BUDGET (320u * 1024u)

struct moss_alloc_stats {
  size_t budget;                 /* 0 = unlimited */
  size_t in_use;                 /* bytes charged now (payload + overhead) */
  size_t peak;                   /* highest in_use since the last reset */
  size_t min_free;               /* lowest budget - in_use seen (budget set) */
  size_t blocks;                 /* live blocks */
  size_t failures;               /* allocations refused (budget or host OOM) */
  size_t by_sub[MOSS_SUB_COUNT]; /* in_use split by subsystem */
};

/* Returns NULL when n == 0, on host OOM, or when the budget is exceeded.
 * The memory is uninitialised (moss_calloc zeroes it). */
void *moss_alloc(enum moss_subsys sub, size_t n);
void *moss_calloc(enum moss_subsys sub, size_t nmemb, size_t size);
/* Like realloc; on failure the old block is untouched and NULL returned.
 * The block keeps the subsystem it was allocated with. */
void *moss_realloc(void *p, size_t n);
/* NULL-safe. */
void moss_free(void *p);
/* Wipes the whole block (moss_zeroize) before freeing it. NULL-safe. */
void moss_free_secret(void *p);
/* Size the caller asked for when p was allocated (0 for NULL). */
size_t moss_alloc_size(const void *p);

/* Set the budget (0 = unlimited). Does not free anything; if in_use is
 * already above the new budget, further allocations fail until it drops. */
void moss_alloc_set_budget(size_t bytes);
void moss_alloc_get_stats(struct moss_alloc_stats *st);
/* Restart peak and min_free tracking from the current figures. */
void moss_alloc_reset_peak(void);
/* Make allocation number n (counting from now, 1-based) fail; 0 disables.
 * For tests of out-of-memory paths. */
void moss_alloc_fail_after(size_t n);
/* Subsystem name for reports: "core", "tls", ... */
const char *moss_alloc_subsys_name(enum moss_subsys sub);

/* Hooks handed to mbedtls_platform_set_calloc_free(); charged to
 * MOSS_SUB_TLS unless moss_alloc_set_mbedtls_subsys() says otherwise. */
void *moss_alloc_mbedtls_calloc(size_t nmemb, size_t size);
void moss_alloc_mbedtls_free(void *p);
/* Returns the previous value, so a caller can restore it. */
enum moss_subsys moss_alloc_set_mbedtls_subsys(enum moss_subsys sub);

#endif
