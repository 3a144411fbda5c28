/*
 * cli_setup.c - the one model setup (preset / --model / size overrides /
 * validation) and the one runner (a layer pipeline over --devices, or the
 * one-stage pipeline of a single device) that every command uses (cli.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_model_setup(cli_model *m, swacl_config *cfg, swacl_weights **w)
{
    *w = NULL;
    if (m->weights && (m->wtype = swacl_wtype_parse(m->weights)) < 0)
        return cli_die_msg("--weights %s: not one of f32 f16 bf16 q8_0 q4_0", m->weights), EXIT_USAGE;
    swacl_ctx *host = cli_host_ctx_ex(m->allow_nonfinite, m->wtype); /* the error channel of load */
    if (!host) return EXIT_RUNTIME;
    swacl_status st = swacl_config_resolve(host, m->preset, &m->pp, m->model_dir, cfg, w);
    if (st != SWACL_OK) cli_die_msg("%s", swacl_ctx_errmsg(host));
    swacl_ctx_destroy(host);
    if (m->model_dir) m->preset = m->model_dir; /* the label in reports */
    return st == SWACL_OK ? EXIT_OK : cli_exit(st);
}

int cli_model_weights(const cli_model *m, const swacl_config *cfg, uint64_t seed, swacl_weights **w)
{
    if (*w) return EXIT_OK;
    swacl_status st = swacl_weights_create_seeded(cfg, seed, w); /* made on upload */
    if (st == SWACL_OK && (st = swacl_weights_convert(NULL, *w, (swacl_wtype)m->wtype)) == SWACL_OK)
        return EXIT_OK;
    cli_die_msg("cannot create random weights: %s", swacl_status_string(st));
    return EXIT_RUNTIME;
}

swacl_ctx *cli_host_ctx_ex(int allow_nonfinite, int wtype)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "ref";
    p.allow_nonfinite = allow_nonfinite;
    p.weights = (swacl_wtype)wtype;
    p.lazy_weights = SWACL_MPI_SIZE() > 1; /* --model: each rank reads and converts only its layers */
    swacl_ctx *ctx = NULL;
    swacl_status st = swacl_ctx_create(&p, &ctx);
    if (st == SWACL_OK) return ctx;
    cli_fail(ctx, st, "cannot create a host context");
    swacl_ctx_destroy(ctx);
    return NULL;
}

int cli_device_check(cli_device *d)
{
    if (d->placement && !d->devices) d->devices = "all";
    if (d->devices && d->device) {
        cli_die_msg("give either --device or --devices, not both");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_runner_open(cli_runner *r, const cli_device *d, const swacl_config *cfg,
                    const swacl_weights *w, int batch, int max_ctx)
{
    memset(r, 0, sizeof *r);
    swacl_ctx_params p = swacl_ctx_params_default();
    p.threads = d->threads;
    p.verbose = d->verbose;
    p.device = d->devices ? "ref" : d->device;
    p.kv_type = d->kv_type ? (swacl_wtype)swacl_wtype_parse(d->kv_type) : SWACL_WT_AUTO; /* checked there */
    swacl_status st = swacl_ctx_create(&p, &r->ctx);
    if (st != SWACL_OK) {
        char what[320];
        snprintf(what, sizeof what, "cannot open device '%s'", d->device ? d->device : "(default)");
        return cli_fail(r->ctx, st, d->devices ? "cannot create a host context" : what);
    }
    if (d->devices) {
        /* the pipeline's stages inherit this host context's parameters, and
         * it carries the pipeline's errors */
        snprintf(r->name, sizeof r->name, "pipeline %.180s", d->devices);
        st = SWACL_PIPELINE_CREATE(r->ctx, d->devices, d->placement ? d->placement : "auto", cfg, w,
                                   &r->pipe);
        if (st != SWACL_OK) {
            cli_die_detail("cannot build the pipeline", st, swacl_ctx_errmsg(r->ctx));
            return cli_exit(st);
        }
    } else {
        /* one device: the one-stage pipeline over its model */
        snprintf(r->name, sizeof r->name, "%s", swacl_ctx_device_name(r->ctx));
        if ((st = swacl_model_create(r->ctx, cfg, w, &r->m)) != SWACL_OK)
            return cli_runner_fail(r, st, "model_create");
        if ((st = swacl_pipeline_solo(r->m, &r->pipe)) != SWACL_OK)
            return cli_runner_fail(r, st, "pipeline_solo");
    }
    if (max_ctx > 0 && (st = swacl_pipeline_session_create(r->pipe, batch, max_ctx, &r->ps)) != SWACL_OK)
        return cli_runner_fail(r, st, "session_create");
    return EXIT_OK;
}

void cli_json_pipeline(cJSON *j, const cli_runner *r, int batch, int n_ctx)
{
    char *s = NULL; /* placement, busy_s, ranks (swacl_pipeline_report) */
    cJSON *o = !r->m && swacl_pipeline_report(r->pipe, batch, n_ctx, &s) == SWACL_OK ? cJSON_Parse(s) : NULL;
    for (cJSON *e; o && (e = o->child);) cJSON_AddItemToObject(j, e->string, cJSON_DetachItemViaPointer(o, e));
    cJSON_Delete(o), swacl_free(s);
}

void cli_runner_close(cli_runner *r)
{
    swacl_pipeline_session_destroy(r->ps);
    swacl_pipeline_destroy(r->pipe);
    swacl_model_destroy(r->m);
    swacl_ctx_destroy(r->ctx);
    memset(r, 0, sizeof *r);
}

int cli_runner_fail(const cli_runner *r, swacl_status st, const char *what)
{
    char w[512];
    snprintf(w, sizeof w, "%s failed on %s", what, r->name[0] ? r->name : "?");
    cli_die_detail(w, st, swacl_ctx_errmsg(r->ctx));
    return cli_exit(st);
}
