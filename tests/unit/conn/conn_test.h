/* Shared helpers of the conn unit tests. */
#ifndef CONN_TEST_H
#define CONN_TEST_H

#include <stdbool.h>

#include "moss/ev.h"

/* The loop backend the running test uses (each test runs on both). */
extern enum moss_ev_backend test_backend;
/* A loop on test_backend (NULL on failure). */
struct moss_ev *test_ev_new(void);
/* Run the loop until *flag or ms elapsed; returns *flag. */
bool test_run_until(struct moss_ev *ev, const bool *flag, int ms);
void test_conn_all(void);

#endif
