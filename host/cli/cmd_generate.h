/* cmd_generate.h - `swacl generate` (prefill + KV-cache decode + sampling). */
#ifndef SWACL_CMD_GENERATE_H
#define SWACL_CMD_GENERATE_H
int swacl_cmd_generate(int argc, char **argv);
#endif
