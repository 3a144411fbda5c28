/* cl_gemm.c - SGEMM through CLBlast; the only file that includes clblast_c.h.
 *
 * Row-major C[M,N] = alpha * A[M,K] * op(B) + beta * C. CLBlast status codes
 * are either OpenCL codes or its own (-1024.., -2050..), all named by
 * swacl_cl_error_name. No event is requested: the queue is in-order, so
 * later commands see the result; callers that time GEMMs use clFinish and
 * wall-clock (docs/PERF.md 2.2: the returned event covers one kernel only).    */
#include "cl/cl_internal.h"

#include <clblast_c.h>

swacl_status swacl_cl_sgemm(swacl_ctx *ctx, swacl_cl_dev *dev, int b_trans, int M, int N, int K,
                            float alpha, cl_mem A, size_t a_off, size_t lda, cl_mem B,
                            size_t b_off, size_t ldb, float beta, cl_mem C, size_t c_off,
                            size_t ldc)
{
    if (!dev || !dev->queue)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_cl_sgemm: no device queue");
    if (M < 0 || N < 0 || K < 0)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_cl_sgemm: negative size %dx%dx%d",
                               M, N, K);
    if (M == 0 || N == 0) return SWACL_OK; /* empty output */
    if (K == 0 && beta != 1.0f)
        return swacl_set_error(ctx, SWACL_UNSUPPORTED,
                               "swacl_cl_sgemm: K == 0 with beta != 1 (%dx%d)", M, N);
    if (K == 0) return SWACL_OK; /* C = 1 * C */

    /* CLBlast's indirect path pads / transposes the operands into a
     * temporary (for B the whole weight matrix). Left to CLBlast it is a
     * new buffer per call, which the runtime frees only once that GEMM has
     * run, so a step's GEMMs all hold theirs (~300 MiB of PoCL heap for a
     * 12-layer model); one buffer per device, grown to the largest, is
     * safe to share on the in-order queue. */
    const CLBlastTranspose bt = b_trans ? CLBlastTransposeYes : CLBlastTransposeNo;
    size_t need = 0;
    CLBlastStatusCode rc = CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, CLBlastTransposeNo, bt,
                                                      (size_t)M, (size_t)N, (size_t)K, a_off, lda,
                                                      b_off, ldb, c_off, ldc, &dev->queue, &need);
    if (rc == CLBlastSuccess && need > dev->gemm_tmp_bytes) {
        if (dev->gemm_tmp) clReleaseMemObject(dev->gemm_tmp); /* deferred past queued users */
        dev->gemm_tmp_bytes = 0;
        cl_int err = CL_SUCCESS;
        dev->gemm_tmp = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, need, NULL, &err);
        if (err != CL_SUCCESS) {
            dev->gemm_tmp = NULL;
            rc = (CLBlastStatusCode)err;
        } else {
            dev->gemm_tmp_bytes = need;
        }
    }
    if (rc == CLBlastSuccess)
        rc = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, CLBlastTransposeNo, bt, (size_t)M,
                                        (size_t)N, (size_t)K, alpha, A, a_off, lda, B, b_off, ldb,
                                        beta, C, c_off, ldc, &dev->queue, NULL,
                                        need ? dev->gemm_tmp : NULL);
    if (rc != CLBlastSuccess) {
        swacl_status st = SWACL_OPENCL;
        if (rc == CLBlastTempBufferAllocFailure || rc == CLBlastOpenCLOutOfResources ||
            rc == CLBlastOpenCLOutOfHostMemory || rc == CLBlastInvalidBufferSize)
            st = SWACL_OUT_OF_MEMORY;
        return swacl_set_error(ctx, st,
                               "%s:%d: CLBlastSgemm(M=%d N=%d K=%d b_trans=%d lda=%zu ldb=%zu "
                               "ldc=%zu) failed: %s (%d)",
                               __FILE__, __LINE__, M, N, K, b_trans, lda, ldb, ldc,
                               swacl_cl_error_name((int)rc), (int)rc);
    }
    return SWACL_OK;
}
