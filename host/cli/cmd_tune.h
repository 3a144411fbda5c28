/*
 * cmd_tune.h - `swacl tune`: search CLBlast SGEMM parameters (Xgemm,
 * XgemmDirect, and the direct/indirect switch) for the model's GEMM shapes
 * on one OpenCL device, store the winner in the swacl cache dir, compare
 * with CLBlast's defaults and with OpenBLAS on the host.
 *
 *   swacl tune [--device D] [--budget-s S] [--shapes M,N,K;...] [--no-save]
 *              [--json] [-q]
 *
 * argv[0] is "tune". Returns a process exit code (0 ok, 1 runtime error,
 * 2 usage error).
 */
#ifndef SWACL_CMD_TUNE_H
#define SWACL_CMD_TUNE_H

int swacl_cmd_tune(int argc, char **argv);

#endif /* SWACL_CMD_TUNE_H */
