/*
 * bench_print.c - the `swacl bench` report for people (moved here from the
 * CLI, which keeps to glue): each device's scalars and tables, start-up
 * and peaks as "start cold_s" ... lines, then the pipeline section.
 */
#include <cjson/cJSON.h>
#include <stdio.h>

#include "internal.h"

/* One object as report lines and tables (what cli_output prints). */
static void print_obj(swacl_ctx *ctx, cJSON *obj, FILE *out)
{
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (s) swacl_report_print(ctx, s, out);
    cJSON_free(s);
}

SWACL_API swacl_status swacl_bench_report_print(swacl_ctx *ctx, const char *json, FILE *out)
{
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return swacl_set_error(ctx, SWACL_FORMAT, "bench report: not a JSON object");
    }
    static const char *const shape[] = {"L", "W", "global", "H", "Hkv", "d", "M", "N", "K"};
    cJSON *devs = cJSON_DetachItemFromObject(root, "devices"), *d, *k;
    cJSON *p = cJSON_DetachItemFromObject(root, "pipeline");
    while (devs && (d = cJSON_DetachItemFromArray(devs, 0))) {
        cJSON_ArrayForEach(k, cJSON_GetObjectItem(d, "kernels")) /* the name has them */
            for (size_t i = 0; i < sizeof shape / sizeof *shape; i++)
                cJSON_DeleteItemFromObject(k, shape[i]);
        for (int o = 0; o < 2; o++) { /* start / peaks: "start cold_s" ... lines */
            cJSON *x = cJSON_DetachItemFromObject(d, o ? "peaks" : "start"), *c;
            while (x && (c = cJSON_DetachItemViaPointer(x, x->child))) {
                char key[96];
                snprintf(key, sizeof key, "%s %s", o ? "peaks" : "start", c->string);
                cJSON_AddItemToObject(d, key, c);
            }
            cJSON_Delete(x);
        }
        fprintf(out, "\n== %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(d, "name")));
        print_obj(ctx, d, out);
    }
    cJSON_Delete(devs);
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(p, "description"));
    if (p && desc) {
        cJSON *s, *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "single"), 0);
        const cJSON *nmse = cJSON_GetObjectItem(p, "nmse");
        fprintf(out, "\n== pipeline\nplacement: %s\nalone:", desc);
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(p, "single"))
            fprintf(out, " dev %s %.1f tok/s;", cJSON_GetStringValue(cJSON_GetObjectItem(s, "selector")),
                   cJSON_GetNumberValue(cJSON_GetObjectItem(s, "tokens_per_s")));
        fprintf(out, "\ncheck: pipeline vs dev %s alone: ",
               cJSON_GetStringValue(cJSON_GetObjectItem(s0, "selector")));
        if (cJSON_IsNumber(nmse))
            fprintf(out, "nmse %.2e %s\n", nmse->valuedouble,
                   cJSON_IsTrue(cJSON_GetObjectItem(p, "ok")) ? "ok" : "MISMATCH");
        else
            fprintf(out, "not run (device failed)\n");
    }
    if (p) print_obj(ctx, p, out); /* its scalars and tables */
    print_obj(ctx, root, out);
    return SWACL_OK;
}

