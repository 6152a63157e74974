/* Shared by the tls unit tests. */
#ifndef TLS_TEST_H
#define TLS_TEST_H
extern const char tt_ca_crt[], tt_srv_crt[], tt_srv_key[], tt_cli_crt[],
    tt_cli_key[], tt_expired_crt[], tt_other_crt[], tt_other_key[];
#endif
