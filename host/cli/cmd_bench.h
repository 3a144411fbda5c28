/*
 * cmd_bench.h - `swacl bench`: cross-device peaks, kernels, end to end.
 *
 *   swacl bench [--devices all|LIST] [--json FILE] [--plot FILE.png]
 *               [--quick] [--max-seq N]
 *
 * argv[0] is "bench". Returns a process exit code (0 ok, 1 runtime error,
 * 2 usage error).
 */
#ifndef SWACL_CMD_BENCH_H
#define SWACL_CMD_BENCH_H

int swacl_cmd_bench(int argc, char **argv);

#ifdef SWACL_CL_INTERNAL_H
/* Requested accessor (to be defined in host/cl/cl_backend.c by its owner):
 * the OpenCL device of a CL backend, NULL for any other backend.
 *
 *   swacl_cl_dev *swacl_cl_backend_dev(swacl_backend *base)
 *   {
 *       if (!base || base->iface != &cl_iface) return NULL;
 *       return &((cl_be *)base)->dev;
 *   }
 *
 * Declared weak here so the bench builds before it exists: while it is
 * missing the probe opens its own swacl_cl_dev on the same device. */
swacl_cl_dev *swacl_cl_backend_dev(swacl_backend *base)
#if defined(__GNUC__)
    __attribute__((weak))
#endif
    ;
#endif

#endif /* SWACL_CMD_BENCH_H */
