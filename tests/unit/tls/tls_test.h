/* Shared by the tls unit tests. */
#ifndef TLS_TEST_H
#define TLS_TEST_H
extern const char tt_ca_crt[], tt_srv_crt[], tt_srv_key[], tt_cli_crt[],
    tt_cli_key[], tt_expired_crt[], tt_other_crt[], tt_other_key[];
/* What the runtime logged since the last tt_log_clear() (test_tls.c). */
const char *tt_log(void);
void tt_log_clear(void);
/* The credentials tests (test_creds.c), run from test_tls.c's main. */
void tt_creds_tests(void);
#endif
