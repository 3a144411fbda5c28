/*
 * softcap.cl - in-place soft-capping y[i] = cap * tanh(y[i] / cap) over n
 * floats (Gemma 2 final logits); one work-item per element, NDRange padded
 * to a multiple of ELT_LX.
 */
#ifndef ELT_LX
#define ELT_LX 64
#endif

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void elt_softcap(__global float *y, float cap, ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n) return;
    y[i] = cap * tanh(y[i] / cap);
}
