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

#endif /* SWACL_CMD_BENCH_H */
