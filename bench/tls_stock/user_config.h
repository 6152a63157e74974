/* Stock mbedTLS 3.6 (its default mbedtls_config.h) for bench_tls's
 * baselines, plus one line: the heap goes through a counter (set with
 * mbedtls_platform_set_calloc_free), which changes no allocation. */
#define MBEDTLS_PLATFORM_MEMORY
