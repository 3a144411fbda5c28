/* common.cl - prepended to every kernel file (after a generated header that
 * defines SWACL_DEVICE_CPU / _GPU / _ACCELERATOR / _OTHER = 1,
 * SWACL_MAX_WG_SIZE and SWACL_LOCAL_MEM_BYTES for the target device).
 * Keep it small: macros and tiny helpers only. Guarded, so it may also be
 * built on its own as a smoke test. OpenCL C 1.2, float32 only. */
#ifndef SWACL_COMMON_CL
#define SWACL_COMMON_CL

/* Finite stand-in for -inf in masks and running maxima: with
 * -cl-finite-math-only an infinite operand to exp() is undefined
 * (ggml FA_M_INIT, docs/PERF.md 1.2). exp(SWACL_NEG_BIG - m) underflows to 0. */
#define SWACL_NEG_BIG (-3.0e38f)

#define SWACL_CEIL_DIV(a, b) (((a) + (b) - 1) / (b))
#define SWACL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SWACL_MAX(a, b) ((a) > (b) ? (a) : (b))

/* SiLU and exact-erf GELU (docs/MODEL.md Part A). */
float swacl_silu(float x) { return x / (1.0f + exp(-x)); }
float swacl_gelu(float x) { return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f)); }

#endif /* SWACL_COMMON_CL */
