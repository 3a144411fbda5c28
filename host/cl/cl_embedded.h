/* cl_embedded.h - the kernel sources compiled into libswacl (generated table,
 * see cmake/embed_cl.cmake). Terminated by an entry with name == NULL. */
#ifndef SWACL_CL_EMBEDDED_H
#define SWACL_CL_EMBEDDED_H
#include <stddef.h>
typedef struct {
    const char *name; /* file stem: "attn" for kernels_cl/attn.cl */
    const char *src;  /* NUL-terminated source                      */
    size_t len;       /* bytes, without the NUL                      */
} swacl_embedded_kernel;
extern const swacl_embedded_kernel swacl_embedded_kernels[];
#endif
