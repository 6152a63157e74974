/* Unit tests of the multipart/form-data parser (/upload). */
#include <string.h>

#include "harness.h"
#include "moss/err.h"
#include "moss/multipart.h"

static struct moss_str S(const char *s) {
  return moss_str_c(s);
}

static void
test_boundary(void) {
  struct moss_str b;
  MT_CHECK_EQ(
      moss_multipart_boundary(S("multipart/form-data; boundary=abc"), &b),
      MOSS_OK);
  MT_CHECK(moss_str_eq_c(b, "abc"));
  MT_CHECK_EQ(moss_multipart_boundary(
                  S("Multipart/Form-Data; charset=x; boundary=\"a b\""), &b),
              MOSS_OK);
  MT_CHECK(moss_str_eq_c(b, "a b"));
  MT_CHECK_EQ(moss_multipart_boundary(S("text/plain"), &b), MOSS_ERR_NOTSUP);
  MT_CHECK_EQ(moss_multipart_boundary(S("multipart/form-data"), &b),
              MOSS_ERR_PARSE);
  MT_CHECK_EQ(moss_multipart_boundary(S("multipart/form-data; boundary="), &b),
              MOSS_ERR_PARSE);
}

static void test_parts(void) {
  const char *body =
      "preamble\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "hello\r\n--not-it\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"note\"\r\n"
      "\r\n"
      "x\r\n"
      "--XyZ--\r\n";
  struct moss_str b = S("XyZ");
  size_t pos = 0;
  struct moss_multipart_part p;
  MT_CHECK_EQ(moss_multipart_next(S(body), b, &pos, &p), 1);
  MT_CHECK(moss_str_eq_c(p.name, "file"));
  MT_CHECK(moss_str_eq_c(p.filename, "a.txt"));
  MT_CHECK(moss_str_eq_c(p.content_type, "text/plain"));
  MT_CHECK(moss_str_eq_c(p.data, "hello\r\n--not-it"));
  MT_CHECK_EQ(moss_multipart_next(S(body), b, &pos, &p), 1);
  MT_CHECK(moss_str_eq_c(p.name, "note"));
  MT_CHECK_EQ(p.filename.len, 0);
  MT_CHECK(moss_str_eq_c(p.data, "x"));
  MT_CHECK_EQ(moss_multipart_next(S(body), b, &pos, &p), 0);
}

static void test_malformed(void) {
  struct moss_str b = S("Z");
  const char *bad[] = {
      "",                                  /* no delimiter */
      "--Z\r\nContent-Disposition: x\r\n", /* no blank line */
      "--Z\r\n\r\nunterminated data",      /* no closing delimiter */
      "--Zjunk\r\n\r\nx\r\n--Z--",         /* junk after the delimiter */
      "--Z\r\nno colon here\r\n\r\nx\r\n--Z--",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    size_t pos = 0;
    struct moss_multipart_part p;
    int rc = moss_multipart_next(S(bad[i]), b, &pos, &p);
    if (rc != MOSS_ERR_PARSE)
      mt_fail(__FILE__, __LINE__, "case %zu: %d", i, rc);
  }
}

int main(int argc, char **argv) {
  mt_init(argc, argv);
  MT_RUN(test_boundary);
  MT_RUN(test_parts);
  MT_RUN(test_malformed);
  return mt_done();
}
