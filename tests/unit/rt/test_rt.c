/* The runtime as a composition root (src/rt/): the port map, --set
 * overrides, which services and servers it builds from the configuration,
 * what it reports, and reboot.  The device is real: a RAM flash with a
 * fresh filesystem, the UART a socket pair the test speaks RPC over. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "moss/alloc.h"
#include "moss/err.h"
#include "moss/ev.h"
#include "moss/flash_emu.h"
#include "moss/fs.h"
#include "moss/log.h"
#include "moss/rt.h"

/* ---- a device ------------------------------------------------------------ */

#define LINES 32

struct dev {
  struct moss_flash_emu *emu;
  struct moss_board board;
  struct moss_ev *ev;
  int sp[2]; /* sp[0]: the device's UART, sp[1]: the test's end */
  struct moss_rt *rt;
  /* Endpoint reports. */
  int n_ep;
  struct moss_rt_endpoint ep;
  char ep_addr[64], ep_error[MOSS_RT_SRV_ERROR_MAX];
  /* Captured log lines ("<module> <message>"). */
  int n_log;
  char log[LINES][320];
};

static void on_endpoint(void *arg, const struct moss_rt_endpoint *ep) {
  struct dev *d = arg;
  d->n_ep++;
  d->ep = *ep;
  snprintf(d->ep_addr, sizeof(d->ep_addr), "%s", ep->addr);
  snprintf(d->ep_error, sizeof(d->ep_error), "%s", ep->error);
  d->ep.addr = d->ep_addr;
  d->ep.error = d->ep_error;
}

static void sink(void *arg, enum moss_log_level lvl, const char *module,
                 const char *msg) {
  (void)lvl;
  struct dev *d = arg;
  if (d->n_log < LINES)
    snprintf(d->log[d->n_log++], sizeof(d->log[0]), "%s %s", module, msg);
}

static bool logged(const struct dev *d, const char *line) {
  for (int i = 0; i < d->n_log; i++)
    if (strcmp(d->log[i], line) == 0)
      return true;
  return false;
}

/* Board, loop and runtime with the given --set overrides.  Returns the
 * moss_rt_start code; on MOSS_OK d->rt runs. */
static int dev_start(struct dev *d, const char *const *sets, size_t n) {
  memset(d, 0, sizeof(*d));
  d->sp[0] = d->sp[1] = -1;
  moss_log_set_sink(sink, d);
  moss_log_set_stderr(0);
  if (moss_flash_emu_open_ram(&d->emu, 0x40000) != MOSS_OK ||
      moss_fs_format(moss_flash_emu_flash(d->emu)) != MOSS_OK ||
      moss_ev_new(&d->ev, NULL) != MOSS_OK ||
      socketpair(AF_UNIX, SOCK_STREAM, 0, d->sp) != 0)
    return MOSS_ERR_IO;
  fcntl(d->sp[1], F_SETFL, O_NONBLOCK);
  struct moss_board *b = &d->board;
  b->fs.flash = moss_flash_emu_flash(d->emu);
  b->fs.label = "fs_0";
  b->fs.offset = 0x190000;
  /* The UART connection owns sp[0] from here on. */
  int rc = moss_conn_from_fd(d->ev, d->sp[0], NULL, NULL, NULL, &b->uart);
  d->sp[0] = -1;
  if (rc != MOSS_OK)
    return rc;
  moss_conn_pause(b->uart);
  memcpy(b->mac, "\x24\x0a\xc4\x00\x31\xbc", 6);
  b->arch = "esp32";
  b->ram_size = 320 * 1024;
  struct moss_rt_opts o;
  memset(&o, 0, sizeof(o));
  o.sets = sets;
  o.nsets = n;
  o.on_endpoint = on_endpoint;
  o.arg = d;
  return moss_rt_start(&d->rt, d->ev, b, &o);
}

static void dev_stop(struct dev *d) {
  moss_rt_stop(d->rt);
  d->rt = NULL;
  moss_ev_free(d->ev); /* frees the UART connection */
  moss_flash_emu_close(d->emu);
  if (d->sp[0] >= 0)
    close(d->sp[0]);
  if (d->sp[1] >= 0)
    close(d->sp[1]);
  moss_log_set_sink(NULL, NULL);
  moss_log_set_stderr(1);
  moss_log_set_level(MOSS_LL_INFO);
}

/* One request over the UART; reply (the JSON of the reply frame, size n)
 * or "" when none came within a second. */
static void call(struct dev *d, const char *req, char *reply, size_t n) {
  size_t len = strlen(req), got = 0;
  reply[0] = '\0';
  if (write(d->sp[1], req, len) != (ssize_t)len ||
      write(d->sp[1], "\n", 1) != 1)
    return;
  for (int i = 0; i < 100; i++) {
    moss_ev_run_once(d->ev, 10);
    ssize_t k = read(d->sp[1], reply + got, n - 1 - got);
    if (k > 0)
      got += (size_t)k;
    reply[got] = '\0';
    /* "\n<json>\n": complete when a '}' is followed by the newline. */
    char *end = strrchr(reply, '}');
    if (end != NULL && strchr(end, '\n') != NULL)
      break;
  }
  char *open = strchr(reply, '{'), *end = strrchr(reply, '}');
  if (open == NULL || end == NULL) {
    reply[0] = '\0';
    return;
  }
  end[1] = '\0';
  memmove(reply, open, strlen(open) + 1);
}

static const char *const no_http[] = {"http.enable=false"};

static void test_services_from_config(void) {
  struct dev d;
  char r[2048];
  MT_REQUIRE(dev_start(&d, no_http, 1) == MOSS_OK);
  call(&d, "{\"id\":1,\"method\":\"RPC.List\"}", r, sizeof(r));
  MT_CHECK_STR(r,
               "{\"id\":1,\"src\":\"esp32_0031BC\",\"result\":"
               "[\"RPC.List\",\"RPC.Describe\",\"RPC.Ping\","
               "\"Sys.GetInfo\",\"Sys.Reboot\",\"Config.Get\","
               "\"Config.Set\",\"Config.Save\",\"FS.List\",\"FS.ListExt\","
               "\"FS.Get\",\"FS.Put\",\"FS.Remove\",\"FS.Rename\"]}");
  MT_CHECK(logged(&d, "rpc Called 'RPC.List' via 'UART', ACL: '*'"));
  dev_stop(&d);

  static const char *const no_sys[] = {"http.enable=false",
                                       "rpc.service_sys_enable=false"};
  MT_REQUIRE(dev_start(&d, no_sys, 2) == MOSS_OK);
  call(&d, "{\"id\":2,\"method\":\"Sys.GetInfo\"}", r, sizeof(r));
  MT_CHECK_STR(r,
               "{\"id\":2,\"src\":\"esp32_0031BC\",\"error\":"
               "{\"code\":404,\"message\":\"No handler for Sys.GetInfo\"}}");
  dev_stop(&d);

  /* No RPC: the UART does not answer. */
  static const char *const no_rpc[] = {"http.enable=false", "rpc.enable=false"};
  MT_REQUIRE(dev_start(&d, no_rpc, 2) == MOSS_OK);
  call(&d, "{\"id\":3,\"method\":\"RPC.Ping\"}", r, sizeof(r));
  MT_CHECK_STR(r, "");
  dev_stop(&d);
}

static void test_overrides(void) {
  struct dev d;
  static const char *const bad_key[] = {"nope.key=1"};
  MT_CHECK_EQ(dev_start(&d, bad_key, 1), MOSS_ERR_INVAL);
  MT_CHECK(logged(&d, "mossd --set nope.key: no such config key"));
  MT_CHECK(d.rt == NULL);
  dev_stop(&d);
  static const char *const bad_val[] = {"rpc.max_frame_size=big"};
  MT_CHECK_EQ(dev_start(&d, bad_val, 1), MOSS_ERR_INVAL);
  MT_CHECK(logged(&d, "mossd --set rpc.max_frame_size: invalid value \"big\""));
  dev_stop(&d);
  static const char *const no_eq[] = {"http.enable"};
  MT_CHECK_EQ(dev_start(&d, no_eq, 1), MOSS_ERR_INVAL);
  MT_CHECK(logged(&d, "mossd --set http.enable: expected key=value"));
  dev_stop(&d);

  /* Overrides stay on top of every Config.Set and out of what is saved. */
  char r[1024];
  MT_REQUIRE(dev_start(&d, no_http, 1) == MOSS_OK);
  call(&d,
       "{\"id\":1,\"method\":\"Config.Set\",\"params\":{\"config\":"
       "{\"http\":{\"enable\":true,\"document_root\":\"/www\"}}}}",
       r, sizeof(r));
  MT_CHECK_STR(r,
               "{\"id\":1,\"src\":\"esp32_0031BC\",\"result\":"
               "{\"saved\":false}}");
  call(&d,
       "{\"id\":2,\"method\":\"Config.Get\",\"params\":{\"key\":"
       "\"http.enable\"}}",
       r, sizeof(r));
  MT_CHECK_STR(r, "{\"id\":2,\"src\":\"esp32_0031BC\",\"result\":false}");
  call(&d,
       "{\"id\":3,\"method\":\"Config.Get\",\"params\":{\"key\":"
       "\"http.document_root\"}}",
       r, sizeof(r));
  MT_CHECK_STR(r, "{\"id\":3,\"src\":\"esp32_0031BC\",\"result\":\"/www\"}");
  dev_stop(&d);
}

static void test_servers_reported(void) {
  struct dev d;
  char r[4096];
  MT_REQUIRE(dev_start(&d, no_http, 1) == MOSS_OK);
  MT_CHECK_EQ(d.n_ep, 1);
  MT_CHECK_EQ(d.ep.state, MOSS_RT_SRV_DISABLED);
  MT_CHECK_STR(d.ep.what, "HTTP");
  MT_CHECK_EQ(moss_rt_http_state(d.rt, NULL), MOSS_RT_SRV_DISABLED);
  MT_CHECK_STR(moss_rt_http_addr(d.rt), "");
  call(&d, "{\"id\":1,\"method\":\"Sys.GetInfo\"}", r, sizeof(r));
  MT_CHECK(strstr(r,
                  "\"servers\":{\"http\":{\"state\":\"disabled\","
                  "\"listen_addr\":\"\",\"addr\":\"\",\"tls\":false,"
                  "\"error\":\"\"},\"uart\":{\"state\":\"running\"}}") != NULL);
  MT_CHECK(strstr(r, "\"mac\":\"240AC40031BC\",\"arch\":\"esp32\"") != NULL);
  dev_stop(&d);

  static const char *const lo[] = {"http.listen_addr=127.0.0.1:0"};
  MT_REQUIRE(dev_start(&d, lo, 1) == MOSS_OK);
  MT_CHECK_EQ(d.ep.state, MOSS_RT_SRV_RUNNING);
  MT_CHECK(strncmp(d.ep.addr, "127.0.0.1:", 10) == 0 &&
           strcmp(d.ep.addr, "127.0.0.1:0") != 0);
  MT_CHECK_STR(moss_rt_http_addr(d.rt), d.ep.addr);
  dev_stop(&d);

  static const char *const bad[] = {"http.listen_addr=nowhere"};
  MT_REQUIRE(dev_start(&d, bad, 1) == MOSS_OK); /* the device runs on */
  const char *err = NULL;
  MT_CHECK_EQ(moss_rt_http_state(d.rt, &err), MOSS_RT_SRV_FAILED);
  MT_CHECK_STR(err, "http.listen_addr nowhere: invalid address");
  MT_CHECK_EQ(d.ep.state, MOSS_RT_SRV_FAILED);
  MT_CHECK_STR(d.ep.error, "http.listen_addr nowhere: invalid address");
  call(&d, "{\"id\":2,\"method\":\"Sys.GetInfo\"}", r, sizeof(r));
  MT_CHECK(strstr(r,
                  "\"http\":{\"state\":\"failed\",\"listen_addr\":"
                  "\"nowhere\",\"addr\":\"\",\"tls\":false,\"error\":"
                  "\"http.listen_addr nowhere: invalid address\"}") != NULL);
  dev_stop(&d);
}

static void test_reboot(void) {
  struct dev d;
  char r[1024];
  MT_REQUIRE(dev_start(&d, no_http, 1) == MOSS_OK);
  /* Aborted: nothing happens. */
  call(&d,
       "{\"id\":1,\"method\":\"Sys.Reboot\",\"params\":"
       "{\"delay_ms\":1000}}",
       r, sizeof(r));
  call(&d, "{\"id\":2,\"method\":\"Sys.Reboot\",\"params\":{\"abort\":true}}",
       r, sizeof(r));
  MT_CHECK_STR(r, "{\"id\":2,\"src\":\"esp32_0031BC\",\"result\":null}");
  call(&d, "{\"id\":3,\"method\":\"Sys.Reboot\",\"params\":{\"delay_ms\":-1}}",
       r, sizeof(r));
  MT_CHECK_STR(r,
               "{\"id\":3,\"src\":\"esp32_0031BC\",\"error\":"
               "{\"code\":400,\"message\":\"invalid delay value\"}}");
  call(&d, "{\"id\":4,\"method\":\"Sys.Reboot\",\"params\":{\"delay_ms\":80}}",
       r, sizeof(r));
  MT_CHECK_STR(r, "{\"id\":4,\"src\":\"esp32_0031BC\",\"result\":null}");
  /* The last 100 ms before it: 418. */
  call(&d, "{\"id\":5,\"method\":\"RPC.Ping\"}", r, sizeof(r));
  MT_CHECK(strstr(r, "{\"code\":418,\"message\":\"shutting down in ") != NULL);
  MT_CHECK(!moss_rt_reboot_pending(d.rt));
  for (int i = 0; i < 200 && !moss_ev_stopped(d.ev); i++)
    moss_ev_run_once(d.ev, 10);
  MT_CHECK(moss_ev_stopped(d.ev));
  MT_CHECK(moss_rt_reboot_pending(d.rt));
  MT_CHECK(logged(&d, "mossd rebooting"));
  dev_stop(&d);
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  MT_RUN(test_services_from_config);
  MT_RUN(test_overrides);
  MT_RUN(test_servers_reported);
  MT_RUN(test_reboot);
  return mt_done();
}
