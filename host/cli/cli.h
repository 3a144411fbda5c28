/*
 * cli.h - helpers shared by the swacl command's source files: error and
 * cli_progress messages, JSON output, aligned tables, option-value parsing.
 */
#ifndef SWACL_CLI_H
#define SWACL_CLI_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_VERIFY = 3 };

extern int cli_g_quiet; /* -q: no cli_progress lines */

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

#define TABLE_MAX_COLS 16

typedef struct {
    int ncols, nrows, cap;
    const char *head[TABLE_MAX_COLS];
    char **cells; /* nrows * ncols, malloc'd strings */
} cli_table;

/* "key   value" lines, keys padded to one width. */
typedef struct {
    const char *key;
    char val[256];
} cli_kv_line;

/* Parsing state: argv[*i] is the current option; its value is either after
 * '=' in the same word or the next word. */
typedef struct {
    int argc;
    char **argv;
    int i;
    const char *cmd;
} cli_args;

void cli_die_msg(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_progress(const char *fmt, ...) CLI_PRINTF(1, 2);
int cli_emit_json(cJSON *obj);
void cli_table_init(cli_table *t, int ncols, const char *const *head);
char *cli_xstrdup(const char *s);
int cli_table_add(cli_table *t, const char *const *vals);
void cli_table_print(const cli_table *t, FILE *f);
void cli_table_free(cli_table *t);
void cli_print_kv(const cli_kv_line *l, int n);
void cli_fmt_bytes(char *buf, size_t len, uint64_t b);
int cli_opt_value(cli_args *a, const char *name, const char **val);
int cli_parse_int(const char *opt, const char *v, long lo, long hi, long *out);
int cli_parse_u64(const char *opt, const char *v, uint64_t *out);
int cli_parse_pos_double(const char *opt, const char *v, int allow_zero, double *out);
void cli_die_detail(const char *what, swacl_status st, const char *detail);
swacl_ctx *cli_msg_ctx(const swacl_ctx_params *base);
void cli_take_msg(swacl_ctx *c, char *buf, size_t len);

#endif /* SWACL_CLI_H */
