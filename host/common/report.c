/*
 * report.c - a swacl report (one JSON object: what `swacl ... --json` prints,
 * swacl_bench_report's result) as text for people: scalars as aligned
 * "key  value" lines, each array of objects as a table, so the text and the
 * JSON never disagree.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define REPORT_MAX_COLS 16 /* columns of one table; later keys are dropped */

static void fmt_bytes(char *buf, size_t len, uint64_t b)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", (unsigned long long)b);
    else
        snprintf(buf, len, "%.1f %s", v, unit[u]);
}

/* ------------------------------------------------------------------------ */
/* One output path: a command builds one cJSON object; --json prints it,    */
/* text mode prints its scalars as aligned "key  value" lines and each array */
/* of objects as a table, so the two never disagree.                         */

/* Text of one value: bytes humanised, integers plain, yes/no for booleans,
 * compact JSON for arrays and objects. */
static void fmt_value(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsBool(v)) {
        snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "yes" : "no");
    } else if (cJSON_IsString(v)) {
        snprintf(buf, len, "%s", v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (v->string && strstr(v->string, "bytes") && d >= 0)
            fmt_bytes(buf, len, (uint64_t)d);
        else if (d == floor(d) && fabs(d) < 1e15)
            snprintf(buf, len, "%.0f", d);
        else
            snprintf(buf, len, "%.4g", d);
    } else {
        char *c = cJSON_PrintUnformatted(v);
        snprintf(buf, len, "%s", c ? c : "?");
        cJSON_free(c);
    }
}

static int is_table(const cJSON *v)
{
    return cJSON_IsArray(v) && cJSON_IsObject(cJSON_GetArrayItem(v, 0));
}

static void put_cell(FILE *out, int last, int w, const char *s)
{
    if (last)
        fprintf(out, "%s\n", s); /* no trailing padding */
    else
        fprintf(out, "%-*s  ", w, s);
}

/* An array of objects: one column per key (in first-seen order), one row
 * per object, columns padded to their widest cell. */
static void print_table(FILE *out, const cJSON *arr)
{
    const cJSON *k, *row;
    const char *head[REPORT_MAX_COLS];
    int nc = 0, w[REPORT_MAX_COLS];
    char cell[256];
    cJSON_ArrayForEach(row, arr) cJSON_ArrayForEach(k, row)
    {
        int c = 0;
        while (c < nc && strcmp(head[c], k->string)) c++;
        if (c == nc && nc < REPORT_MAX_COLS) w[nc] = (int)strlen(k->string), head[nc++] = k->string;
    }
    for (int pass = 0; pass < 2; pass++) { /* widths, then the rows */
        if (pass) {
            fprintf(out, "%s:\n", arr->string);
            for (int c = 0; c < nc; c++) put_cell(out, c == nc - 1, w[c], head[c]);
        }
        cJSON_ArrayForEach(row, arr)
        {
            for (int c = 0; c < nc; c++) {
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(row, head[c]);
                cell[0] = '\0';
                if (x && !cJSON_IsNull(x)) fmt_value(x, cell, sizeof cell);
                if (!pass && (int)strlen(cell) > w[c]) w[c] = (int)strlen(cell);
                if (pass) put_cell(out, c == nc - 1, w[c], cell);
            }
        }
    }
}

static void print_text(FILE *out, const cJSON *j)
{
    int w = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, j) if (!is_table(v) && (int)strlen(v->string) > w) w = (int)strlen(v->string);
    char val[1024];
    cJSON_ArrayForEach(v, j)
    {
        if (cJSON_IsNull(v) || is_table(v)) continue;
        fmt_value(v, val, sizeof val);
        fprintf(out, "%-*s  %s\n", w, v->string, val);
    }
    cJSON_ArrayForEach(v, j) if (is_table(v)) print_table(out, v);
}

swacl_status swacl_report_print(swacl_ctx *ctx, const char *json, FILE *out)
{
    if (!json || !out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "report_print: NULL argument");
    cJSON *j = cJSON_Parse(json);
    if (!j) return swacl_set_error(ctx, SWACL_FORMAT, "report_print: not valid JSON");
    swacl_status st = SWACL_OK;
    if (!cJSON_IsObject(j)) st = swacl_set_error(ctx, SWACL_FORMAT, "report_print: not a JSON object");
    else print_text(out, j);
    cJSON_Delete(j);
    return st;
}
