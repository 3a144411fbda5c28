/*
 * report.c - a pipeline's placement as JSON (swacl_pipeline_report): per
 * stage, and per process (rank) the busy and transfer seconds, the weights
 * it uploaded and made on its host, and its layers' KV cache. The CLI's
 * run / generate and the bench's pipeline section print the same keys.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

#define JNUM(o, k, v) cJSON_AddNumberToObject(o, k, (double)(v))

cJSON *sched_ranks_json(const swacl_config *c, const swacl_pipeline_stage *st, int n, int batch, int n_ctx,
                        int kv_f16)
{
    cJSON *ranks = cJSON_CreateArray();
    for (int i = 0; ranks && i < n;) {
        int e = i;
        double busy = 0, xfer = 0;
        uint64_t wb = 0, kv = 0, held = 0;
        for (; e < n && st[e].rank == st[i].rank; e++) {
            busy += st[e].busy_s;
            xfer += st[e].transfer_s;
            wb += st[e].weight_bytes;
            held += st[e].kv_bytes;
            kv += sched_kv_range_bytes(c, st[e].layer_begin, st[e].layer_end, batch, n_ctx, kv_f16, NULL);
        }
        cJSON *r = cJSON_CreateObject();
        JNUM(r, "rank", st[i].rank);
        int lr[2] = {st[i].layer_begin, st[e - 1].layer_end - 1};
        cJSON_AddItemToObject(r, "layers", cJSON_CreateIntArray(lr, 2));
        JNUM(r, "stages", e - i);
        JNUM(r, "busy_s", busy);
        JNUM(r, "transfer_s", xfer);
        JNUM(r, "weight_bytes", wb);
        JNUM(r, "host_weight_bytes", st[i].host_weight_bytes);
        JNUM(r, "kv_bytes", kv);
        JNUM(r, "kv_held_bytes", held);
        cJSON_AddItemToArray(ranks, r);
        i = e;
    }
    return ranks;
}

swacl_status swacl_pipeline_report(const swacl_pipeline *p, int batch, int n_ctx, char **json)
{
    if (!p || !json) return SWACL_INVALID_ARG;
    *json = NULL;
    swacl_pipeline_stage *st = calloc(SWACL_MAX_LAYERS, sizeof *st);
    int n = 0;
    if (!st) return sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
    /* a session's cache type: the first local stage's model decides (session.c) */
    int kv_f16 = 0;
    for (int l = p->cfg.n_layers - 1; l >= 0; l--)
        if (p->stage_of_layer[l] >= 0) kv_f16 = p->st[p->stage_of_layer[l]].m->kv_f16;
    swacl_status s = swacl_pipeline_describe(p, st, SWACL_MAX_LAYERS, &n);
    if (n > SWACL_MAX_LAYERS) n = SWACL_MAX_LAYERS;
    cJSON *j = s == SWACL_OK ? cJSON_CreateObject() : NULL;
    cJSON *pl = j ? cJSON_AddArrayToObject(j, "placement") : NULL;
    cJSON *busy = j ? cJSON_AddArrayToObject(j, "busy_s") : NULL;
    for (int i = 0; pl && busy && i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        JNUM(e, "device", st[i].device);
        cJSON_AddStringToObject(e, "selector", st[i].selector);
        cJSON_AddStringToObject(e, "name", st[i].device_name);
        int lr[2] = {st[i].layer_begin, st[i].layer_end - 1};
        cJSON_AddItemToObject(e, "layers", cJSON_CreateIntArray(lr, 2));
        JNUM(e, "busy_s", st[i].busy_s);
        JNUM(e, "transfer_s", st[i].transfer_s);
        JNUM(e, "rank", st[i].rank);
        if (i) cJSON_AddStringToObject(e, "transfer_in", st[i].transfer_in);
        JNUM(e, "weight_bytes", st[i].weight_bytes);
        JNUM(e, "kv_bytes",
             sched_kv_range_bytes(&p->cfg, st[i].layer_begin, st[i].layer_end, batch, n_ctx, kv_f16, NULL));
        JNUM(e, "kv_held_bytes", st[i].kv_bytes);
        cJSON_AddItemToArray(pl, e);
        cJSON_AddItemToArray(busy, cJSON_CreateNumber(st[i].busy_s));
    }
    if (j) cJSON_AddItemToObject(j, "ranks", sched_ranks_json(&p->cfg, st, n, batch, n_ctx, kv_f16));
    *json = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    free(st);
    if (s != SWACL_OK) return s;
    return *json ? SWACL_OK : sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
}
