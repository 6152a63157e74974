/* Shared helpers of the ev/conn unit tests. */
#ifndef TEST_EV_H
#define TEST_EV_H

#include <stdbool.h>

#include "moss/ev.h"
#include "moss/log.h"

extern enum moss_ev_backend test_backend;
/* A loop on test_backend (NULL on failure). */
struct moss_ev *test_ev_new(void);
/* Run the loop until *flag or ms elapsed; returns *flag. */
bool test_run_until(struct moss_ev *ev, const bool *flag, int ms);
void test_ev_all(void);
void test_conn_all(void);

#endif
