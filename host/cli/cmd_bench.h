/*
 * cmd_bench.h - `swacl bench`: cross-device peaks, kernels, end to end and
 * the pipeline section, measured by the library (include/swacl.h,
 * "Benchmarks and device probes"); options in `swacl bench --help`.
 *
 * argv[0] is "bench". Returns a process exit code (0 ok, 1 runtime error,
 * 2 usage error).
 */
#ifndef SWACL_CMD_BENCH_H
#define SWACL_CMD_BENCH_H

int swacl_cmd_bench(int argc, char **argv);

#endif /* SWACL_CMD_BENCH_H */
