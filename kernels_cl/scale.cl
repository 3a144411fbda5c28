/*
 * scale.cl - in-place scale y[i] *= s over n floats; one work-item per
 * element, NDRange padded to a multiple of ELT_LX, guarded by i < n.
 */
#ifndef ELT_LX
#define ELT_LX 64
#endif

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void elt_scale(__global float *y, float s, ulong n)
{
    const size_t i = get_global_id(0);
    if (i < n) y[i] *= s;
}
