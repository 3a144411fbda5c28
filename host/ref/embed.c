/*
 * embed.c - reference row gathers: embedding lookup and gather_rows.
 */
#include <string.h>

#include "ref/ref_internal.h"

/* out[r, :] = table[ids[r], :] */
swacl_status swacl_ref_embed(swacl_backend *be, swacl_buf *out, const swacl_buf *table,
                             const int32_t *ids, int n, int D)
{
    SWACL_FAIL_IF(be->ctx, n < 0 || D <= 0 || (n > 0 && !ids), SWACL_INVALID_ARG,
                  "ref embed: bad arguments n=%d D=%d", n, D);
    SWACL_TRY(swacl_ref_need(be, "embed", "out", out, (size_t)n * D));
    SWACL_FAIL_IF(be->ctx, !table, SWACL_INVALID_ARG, "ref embed: table is NULL");
    const size_t vocab = table->bytes / swacl_wtype_row_bytes(table->wtype, D); /* table rows */
    SWACL_FAIL_IF(be->ctx, !swacl_wtype_fits(table->wtype, D), SWACL_INVALID_ARG,
                  "ref embed: a %s table needs D %% 32 == 0 (D=%d)", swacl_wtype_name(table->wtype), D);
    for (int r = 0; r < n; r++)
        SWACL_FAIL_IF(be->ctx, ids[r] < 0 || (size_t)ids[r] >= vocab, SWACL_INVALID_ARG,
                      "ref embed: id %d at %d outside the table's %zu rows", (int)ids[r], r, vocab);
    const size_t rb = swacl_wtype_row_bytes(table->wtype, D);
    for (int r = 0; r < n; r++) /* packed tables: the row decoded (a copy for F32) */
        swacl_row_decode(table->wtype, table->data + (size_t)ids[r] * rb, fdata(out) + (size_t)r * D, D);
    return SWACL_OK;
}

/* dst[i, :] = src[rows[i], :] */
swacl_status swacl_ref_gather_rows(swacl_backend *be, swacl_buf *dst, const swacl_buf *src,
                                   const int *rows, int n, int width)
{
    SWACL_FAIL_IF(be->ctx, n < 0 || width <= 0 || (n > 0 && !rows), SWACL_INVALID_ARG,
                  "ref gather_rows: bad arguments n=%d width=%d", n, width);
    SWACL_TRY(swacl_ref_need(be, "gather_rows", "dst", dst, (size_t)n * width));
    SWACL_FAIL_IF(be->ctx, !src, SWACL_INVALID_ARG, "ref gather_rows: src is NULL");
    SWACL_FAIL_IF(be->ctx, dst == src, SWACL_INVALID_ARG, "ref gather_rows: dst aliases src");
    const size_t src_rows = src->bytes / sizeof(float) / (size_t)width;
    for (int i = 0; i < n; i++)
        SWACL_FAIL_IF(be->ctx, rows[i] < 0 || (size_t)rows[i] >= src_rows, SWACL_INVALID_ARG,
                      "ref gather_rows: row %d at %d outside the source's %zu rows", rows[i], i,
                      src_rows);
    for (int i = 0; i < n; i++)
        memcpy(fdata(dst) + (size_t)i * width, fdata(src) + (size_t)rows[i] * width,
               (size_t)width * sizeof(float));
    return SWACL_OK;
}
