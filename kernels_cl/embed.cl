/*
 * embed.cl - embedding lookup and row gather (the embed and gather_rows
 * ops: one kernel).
 *
 *   gather_rows  dst [n, width]: dst[i*width + c] = src[idx[i]*width + c]
 *                (embedding lookup = gather from the table by token id);
 *                NDRange (width padded to EMB_LX, n), local (EMB_LX, 1).
 */
#ifndef EMB_LX
#define EMB_LX 64
#endif

__kernel __attribute__((reqd_work_group_size(EMB_LX, 1, 1)))
void gather_rows(__global float *restrict dst, __global const float *restrict src,
                 __global const int *restrict idx, int n, int width)
{
    const int c = (int)get_global_id(0);
    const int i = (int)get_global_id(1);
    if (c >= width || i >= n) return;
    dst[(size_t)i * width + c] = src[(size_t)idx[i] * width + c];
}
