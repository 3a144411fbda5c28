/*
 * expect_err.h - EXPECT_ERR for the parser tests (test_loader, test_gguf):
 * a call fails with a status and a message containing a substring. Not in
 * helpers.h: its short E would clash with other tests' names.
 */
#ifndef SWACL_TEST_EXPECT_ERR_H
#define SWACL_TEST_EXPECT_ERR_H

#include <criterion/criterion.h>
#include <string.h>

/* Expect a parser call to fail with want_st and a message containing
 * substr; the expression writes its message into err_ (pass E). */
#define EXPECT_ERR(st_expr, want_st, substr)                                             \
    do {                                                                                 \
        char err_[1024] = "";                                                            \
        swacl_status st_ = (st_expr);                                                    \
        cr_expect(st_ == (want_st), "%s: status %d (%s), want %d; msg: %s", #st_expr,    \
                  (int)st_, swacl_status_string(st_), (int)(want_st), err_);             \
        cr_expect(strstr(err_, substr) != NULL, "%s: message '%s' lacks '%s'", #st_expr, \
                  err_, substr);                                                         \
    } while (0)
#define E err_, sizeof err_

#endif
