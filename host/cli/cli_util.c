/* cli_util.c - messages, output helpers and the option-table parser (cli.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* ---- Messages ------------------------------------------------------------- */

/* Errors ("swacl: error: <message>") and progress notes go to stderr, never
 * to stdout, which may carry JSON. */
#define CLI_VMSG(prefix)                                                     \
    va_list ap;                                                              \
    va_start(ap, fmt);                                                       \
    fputs(prefix, stderr);                                                   \
    vfprintf(stderr, fmt, ap);                                               \
    fputc('\n', stderr);                                                     \
    fflush(stderr);                                                          \
    va_end(ap)

void cli_die_msg(const char *fmt, ...) { CLI_VMSG("swacl: error: "); }

int cli_g_quiet;

void cli_progress(const char *fmt, ...)
{
    if (cli_g_quiet) return;
    CLI_VMSG("swacl: ");
}

/* Print a cJSON object on stdout (one line) and free it. */
int cli_emit_json(cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!s) return cli_die_msg("out of memory while formatting JSON"), EXIT_RUNTIME;
    puts(s);
    cJSON_free(s);
    return EXIT_OK;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_exit(swacl_status st)
{
    switch (st) {
    case SWACL_OK: return EXIT_OK;
    case SWACL_INVALID_ARG:
    case SWACL_FORMAT:
    case SWACL_UNSUPPORTED: return EXIT_USAGE;
    case SWACL_MISMATCH: return EXIT_VERIFY;
    default: return EXIT_RUNTIME;
    }
}

int cli_fail(swacl_ctx *ctx, swacl_status st, const char *what)
{
    cli_die_detail(what, st, ctx ? swacl_ctx_errmsg(ctx) : NULL);
    return cli_exit(st);
}

void cli_json_add(cJSON *j, const char *spec, ...)
{
    va_list ap;
    va_start(ap, spec);
    for (const char *p = spec; *p;) {
        while (*p == ' ') p++;
        if (!*p || !p[1]) break;
        char type = *p, key[64];
        p += 2; /* "t:" */
        size_t n = strcspn(p, " ");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        p += n;
        switch (type) {
        case 's': cJSON_AddStringToObject(j, key, va_arg(ap, const char *)); break;
        case 'i': cJSON_AddNumberToObject(j, key, va_arg(ap, int)); break;
        case 'd': cJSON_AddNumberToObject(j, key, va_arg(ap, double)); break;
        case 'u': cJSON_AddNumberToObject(j, key, (double)va_arg(ap, uint64_t)); break;
        case 'z': cJSON_AddNumberToObject(j, key, (double)va_arg(ap, size_t)); break;
        case 'b': cJSON_AddBoolToObject(j, key, va_arg(ap, int)); break;
        default: cJSON_AddNullToObject(j, key); break; /* "-:key": null, no value */
        }
    }
    va_end(ap);
}

void cli_json_mem(cJSON *j, const swacl_weights *w)
{
    char k[32]; /* scalars, which the text form prints */
    for (int t = SWACL_WT_F32; t < SWACL_WT_COUNT; t++)
        snprintf(k, sizeof k, "weight_bytes_%s", swacl_wtype_name(t)),
            cJSON_AddNumberToObject(j, k, (double)swacl_weights_bytes(w, t));
    cli_json_add(j, "u:weight_bytes_total u:peak_rss_bytes", swacl_weights_bytes(w, SWACL_WT_AUTO),
                 swacl_peak_rss_bytes());
}

int cli_output(cJSON *obj, int json)
{
    if (!obj) return cli_die_msg("out of memory while formatting the result"), EXIT_RUNTIME;
    if (json) return cli_emit_json(obj);
    char *s = cJSON_PrintUnformatted(obj); /* the library renders reports */
    cJSON_Delete(obj);
    swacl_status st = s ? swacl_report_print(NULL, s, stdout) : SWACL_OUT_OF_MEMORY;
    cJSON_free(s);
    if (st != SWACL_OK) cli_die_msg("cannot print the result: %s", swacl_status_string(st));
    return cli_exit(st);
}

/* ---- Option parsing ------------------------------------------------------- */

/* Parse an integer in [lo, hi]; usage error naming the option otherwise. */
static int parse_int(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno == ERANGE)
        return cli_die_msg("invalid value '%s' for %s: expected an integer", v, opt), 0;
    if (x < lo || x > hi) {
        cli_die_msg("invalid value '%s' for %s: must be in %ld..%ld", v, opt, lo, hi);
        return 0;
    }
    *out = x;
    return 1;
}

static int parse_u64(const char *opt, const char *v, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (!*v || *v == '-' || *v == '+')
        return cli_die_msg("invalid value '%s' for %s: expected a non-negative integer", v, opt), 0;
    unsigned long long x = strtoull(v, &end, 10); /* decimal only, as INT: 010 is 10 */
    if (*end || errno == ERANGE) {
        cli_die_msg("invalid value '%s' for %s: expected a non-negative integer", v, opt);
        return 0;
    }
    *out = (uint64_t)x;
    return 1;
}

/* "swacl: error: <what>: <status>: <first line of detail>", then any further
 * lines of detail (an OpenCL build log) indented below it. */
void cli_die_detail(const char *what, swacl_status st, const char *detail)
{
    const char *nl = detail ? strchr(detail, '\n') : NULL;
    int first = detail ? (nl ? (int)(nl - detail) : (int)strlen(detail)) : 0;
    cli_die_msg("%s: %s%s%.*s", what, swacl_status_string(st), first ? ": " : "", first,
            first ? detail : "");
    while (nl && nl[1]) {
        const char *line = nl + 1;
        nl = strchr(line, '\n');
        int n = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(stderr, "    %.*s\n", n, line);
    }
}

/* ---- The option-table parser ---------------------------------------------- */

/* Does word w (up to '=' when has_eq) name option o ("-q|--quiet")? */
static int opt_matches(const cli_opt *o, const char *w, size_t wlen)
{
    for (const char *n = o->name; n && *n;) {
        const char *bar = strchr(n, '|');
        size_t len = bar ? (size_t)(bar - n) : strlen(n);
        if (len == wlen && !strncmp(n, w, len)) return 1;
        n = bar ? bar + 1 : n + len;
    }
    return 0;
}

/* The option's long name, for messages. */
static const char *opt_long(const cli_opt *o)
{
    const char *bar = strrchr(o->name, '|');
    return bar ? bar + 1 : o->name;
}

static int set_value(const cli_opt *o, const char *v)
{
    const char *name = opt_long(o);
    long x;
    switch (o->kind) {
    case CLI_INT:
        if (!parse_int(name, v, (long)o->lo, (long)o->hi, &x)) return 0;
        *(int *)o->dest = (int)x;
        return 1;
    case CLI_U64: return parse_u64(name, v, (uint64_t *)o->dest);
    case CLI_DOUBLE: {
        char *end = NULL;
        errno = 0;
        double d = strtod(v, &end);
        if (!*v || *end || errno == ERANGE || !isfinite(d))
            return cli_die_msg("invalid value '%s' for %s: expected a number", v, name), 0;
        if (d < o->lo || d > o->hi) {
            if (isinf(o->hi))
                cli_die_msg("invalid value '%s' for %s: must be >= %g", v, name, o->lo);
            else
                cli_die_msg("invalid value '%s' for %s: must be in [%g, %g]", v, name, o->lo, o->hi);
            return 0;
        }
        *(double *)o->dest = d;
        return 1;
    }
    case CLI_STR:
        if (!*v) return cli_die_msg("invalid value '' for %s", name), 0;
        *(const char **)o->dest = v;
        return 1;
    default: return 0;
    }
}

static void print_help(const cli_cmd *cmd)
{
    fputs(cmd->intro, stdout);
    for (const cli_opt *o = cmd->opts; o->name; o++) {
        if (!o->help) continue; /* hidden */
        if (o->kind == CLI_SECTION) {
            printf("%s\n", o->name);
            continue;
        }
        char left[64];
        const char *bar = strchr(o->name, '|'); /* "-q|--quiet" -> "-q, --quiet" */
        snprintf(left, sizeof left, "%.*s%s%s%s%s", bar ? (int)(bar - o->name) : 0, o->name,
                 bar ? ", " : "", bar ? bar + 1 : o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        const char *h = o->help;
        for (int first = 1; first || *h; first = 0) {
            const char *nl = strchr(h, '\n');
            int n = nl ? (int)(nl - h) : (int)strlen(h);
            if (first && strlen(left) > 16) /* too wide: the help starts below */
                printf("  %s\n  %-16s %.*s\n", left, "", n, h);
            else
                printf("  %-16s %.*s\n", first ? left : "", n, h);
            h += n + (nl != NULL);
        }
    }
    puts("  -h, --help");
    if (cmd->list_presets) {
        fputs("presets:", stdout);
        for (const char *const *n = swacl_preset_names(); *n; n++) printf(" %s", *n);
        putchar('\n');
    }
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (!strcmp(w, "-h") || !strcmp(w, "--help")) {
            print_help(cmd);
            return EXIT_OK;
        }
        const char *eq = w[0] == '-' ? strchr(w, '=') : NULL;
        size_t wlen = eq ? (size_t)(eq - w) : strlen(w);
        const cli_opt *o = cmd->opts;
        while (o->name && (o->kind == CLI_SECTION || !opt_matches(o, w, wlen))) o++;
        if (!o->name && (w[0] != '-' || !w[1])) /* a word: the first unset positional row */
            for (o = cmd->opts; o->name && (o->kind != CLI_STR || o->name[0] == '-' || *(const char **)o->dest); o++) {}
        if (o->name && o->name[0] != '-') {
            *(const char **)o->dest = w;
            continue;
        }
        if (!o->name) {
            if (w[0] == '-')
                cli_die_msg("%s: unknown option '%s' (see 'swacl %s --help')", cmd->name, w,
                            cmd->name);
            else
                cli_die_msg("%s: unexpected argument '%s' (see 'swacl %s --help')", cmd->name, w,
                            cmd->name);
            return EXIT_USAGE;
        }
        if (o->kind == CLI_FLAG) {
            if (eq) {
                cli_die_msg("option %s takes no value", opt_long(o));
                return EXIT_USAGE;
            }
            *(int *)o->dest = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) {
                cli_die_msg("%s: %s needs a value (see 'swacl %s --help')", cmd->name,
                            opt_long(o), cmd->name);
                return EXIT_USAGE;
            }
            v = argv[++i];
        }
        if (!set_value(o, v)) return EXIT_USAGE;
    }
    return CLI_CONTINUE;
}
