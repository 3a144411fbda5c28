/* cl_device.c - OpenCL device enumeration, selection, context + queue.
 *
 * Devices get one global index across platforms, in the order the ICD
 * loader reports platforms and each platform reports its devices
 * (CL_DEVICE_TYPE_ALL). The same walk serves swacl_devices_list and the
 * selector of swacl_cl_dev_open, so "N" always means the N-th listed row. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_internal.h"
#include "common/env.h"

/* cl_ext.h: the ICD loader's "no platform installed" code */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

/* One enumerated device with its handles. */
typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_device_type type;
    swacl_device_info info;
} dev_entry;

/* Copy a string parameter into buf (truncating; "" on failure). */
static void platform_str(cl_platform_id p, cl_platform_info what, char *buf, size_t len)
{
    size_t need = 0;
    buf[0] = '\0';
    if (clGetPlatformInfo(p, what, 0, NULL, &need) != CL_SUCCESS || need == 0) return;
    char *tmp = malloc(need + 1);
    if (!tmp) return;
    if (clGetPlatformInfo(p, what, need, tmp, NULL) == CL_SUCCESS) {
        tmp[need] = '\0';
        snprintf(buf, len, "%s", tmp);
    }
    free(tmp);
}

static void device_str(cl_device_id d, cl_device_info what, char *buf, size_t len)
{
    size_t need = 0;
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, 0, NULL, &need) != CL_SUCCESS || need == 0) return;
    char *tmp = malloc(need + 1);
    if (!tmp) return;
    if (clGetDeviceInfo(d, what, need, tmp, NULL) == CL_SUCCESS) {
        tmp[need] = '\0';
        /* some drivers pad names with spaces */
        size_t n = strlen(tmp);
        while (n > 0 && isspace((unsigned char)tmp[n - 1])) tmp[--n] = '\0';
        const char *s = tmp;
        while (*s && isspace((unsigned char)*s)) s++;
        snprintf(buf, len, "%s", s);
    }
    free(tmp);
}

static const char *type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU) return "gpu";
    if (t & CL_DEVICE_TYPE_CPU) return "cpu";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    return "other";
}

static void fill_info(dev_entry *e, int index, int platform_index, const char *platform_name)
{
    swacl_device_info *in = &e->info;
    cl_uint u = 0;
    cl_ulong ul = 0;
    size_t sz = 0;
    memset(in, 0, sizeof *in);
    in->index = index;
    in->platform_index = platform_index;
    snprintf(in->platform_name, sizeof in->platform_name, "%s", platform_name);
    device_str(e->device, CL_DEVICE_NAME, in->name, sizeof in->name);
    device_str(e->device, CL_DEVICE_VENDOR, in->vendor, sizeof in->vendor);
    e->type = 0;
    if (clGetDeviceInfo(e->device, CL_DEVICE_TYPE, sizeof e->type, &e->type, NULL) != CL_SUCCESS)
        e->type = 0;
    snprintf(in->type, sizeof in->type, "%s", type_name(e->type));
    if (clGetDeviceInfo(e->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof u, &u, NULL) == CL_SUCCESS)
        in->compute_units = (int)u;
    if (clGetDeviceInfo(e->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        in->global_mem_bytes = ul;
    if (clGetDeviceInfo(e->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        in->local_mem_bytes = ul;
    if (clGetDeviceInfo(e->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ul, &ul, NULL) ==
        CL_SUCCESS)
        in->max_alloc_bytes = ul;
    if (clGetDeviceInfo(e->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof sz, &sz, NULL) ==
        CL_SUCCESS)
        in->max_work_group_size = sz;
    device_str(e->device, CL_DEVICE_OPENCL_C_VERSION, in->opencl_c_version,
               sizeof in->opencl_c_version);
    device_str(e->device, CL_DRIVER_VERSION, in->driver_version, sizeof in->driver_version);
    device_str(e->device, CL_DEVICE_VERSION, in->device_version, sizeof in->device_version);
}

/* Walk every platform and device. *out is malloc'd (NULL when *n == 0).
 * Returns SWACL_OK, SWACL_OPENCL or SWACL_OUT_OF_MEMORY with a message in
 * err. A platform whose device query fails is skipped (a broken ICD must
 * not hide the working ones). */
static swacl_status enumerate(dev_entry **out, int *n, char *err, size_t err_len)
{
    *out = NULL;
    *n = 0;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && np == 0)) return SWACL_OK;
    if (rc != CL_SUCCESS) {
        if (err)
            swacl_format_msg(err, err_len, "clGetPlatformIDs failed: %s (%d)",
                             swacl_cl_error_name(rc), (int)rc);
        return SWACL_OPENCL;
    }
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats) {
        if (err) swacl_format_msg(err, err_len, "out of memory listing OpenCL platforms");
        return SWACL_OUT_OF_MEMORY;
    }
    rc = clGetPlatformIDs(np, plats, &np);
    if (rc != CL_SUCCESS) {
        free(plats);
        if (rc == CL_PLATFORM_NOT_FOUND_KHR) return SWACL_OK;
        if (err)
            swacl_format_msg(err, err_len, "clGetPlatformIDs failed: %s (%d)",
                             swacl_cl_error_name(rc), (int)rc);
        return SWACL_OPENCL;
    }
    dev_entry *list = NULL;
    int count = 0;
    swacl_status st = SWACL_OK;
    for (cl_uint pi = 0; pi < np && st == SWACL_OK; pi++) {
        cl_uint nd = 0;
        rc = clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (rc != CL_SUCCESS || nd == 0) continue; /* CL_DEVICE_NOT_FOUND etc. */
        cl_device_id *devs = calloc(nd, sizeof *devs);
        dev_entry *grown = realloc(list, (size_t)(count + (int)nd) * sizeof *list);
        if (!devs || !grown) {
            free(devs);
            if (grown) list = grown;
            if (err) swacl_format_msg(err, err_len, "out of memory listing OpenCL devices");
            st = SWACL_OUT_OF_MEMORY;
            break;
        }
        list = grown;
        if (clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, nd, devs, &nd) == CL_SUCCESS) {
            char pname[128];
            platform_str(plats[pi], CL_PLATFORM_NAME, pname, sizeof pname);
            for (cl_uint di = 0; di < nd; di++) {
                dev_entry *e = &list[count];
                e->platform = plats[pi];
                e->device = devs[di];
                fill_info(e, count, (int)pi, pname);
                count++;
            }
        }
        free(devs);
    }
    free(plats);
    if (st != SWACL_OK) {
        free(list);
        return st;
    }
    if (count == 0) {
        free(list);
        list = NULL;
    }
    *out = list;
    *n = count;
    return SWACL_OK;
}

swacl_status swacl_cl_devices_list(swacl_device_info **out, int *n, char *err, size_t err_len)
{
    if (err && err_len) err[0] = '\0';
    if (!out || !n) {
        if (err) swacl_format_msg(err, err_len, "swacl_devices_list: NULL argument");
        return SWACL_INVALID_ARG;
    }
    *out = NULL;
    *n = 0;
    dev_entry *list = NULL;
    int count = 0;
    swacl_status st = enumerate(&list, &count, err, err_len);
    if (st != SWACL_OK) return st;
    if (count == 0) return SWACL_OK;
    swacl_device_info *infos = calloc((size_t)count, sizeof *infos);
    if (!infos) {
        free(list);
        if (err) swacl_format_msg(err, err_len, "out of memory listing OpenCL devices");
        return SWACL_OUT_OF_MEMORY;
    }
    for (int i = 0; i < count; i++) infos[i] = list[i].info;
    free(list);
    *out = infos;
    *n = count;
    return SWACL_OK;
}

void swacl_devices_free(swacl_device_info *list) { free(list); }

/* ------------------------------------------------------------------------ */
/* Selection.                                                                */

static int ci_contains(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    if (nl == 0) return 1;
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < nl && h[i] &&
               tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl) return 1;
    }
    return 0;
}

static int ci_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

static int first_of_type(const dev_entry *list, int n, cl_device_type t)
{
    for (int i = 0; i < n; i++)
        if (list[i].type & t) return i;
    return -1;
}

/* "[0] name (cpu, platform); [1] ..." into buf. */
static void describe_devices(const dev_entry *list, int n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (n == 0) {
        snprintf(buf, len, "none");
        return;
    }
    for (int i = 0; i < n && used + 1 < len; i++) {
        int w = snprintf(buf + used, len - used, "%s[%d] %s (%s, %s)", i ? "; " : "", i,
                         list[i].info.name, list[i].info.type, list[i].info.platform_name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* Resolve an optional path setting: explicit, then the env chain. */
static int copy_path(char *dst, size_t len, const char *src)
{
    int w = snprintf(dst, len, "%s", src);
    if (w < 0 || (size_t)w >= len) {
        dst[0] = '\0';
        return -1;
    }
    return 0;
}

/* The row a selector names (see swacl_ctx_params.device), or -1. */
static int pick_device(const dev_entry *list, int n, const char *sel)
{
    int pick = -1;
    if (!*sel) {
        pick = first_of_type(list, n, CL_DEVICE_TYPE_GPU);
        if (pick < 0) pick = first_of_type(list, n, CL_DEVICE_TYPE_CPU);
        if (pick < 0) pick = 0;
    } else if (all_digits(sel)) {
        errno = 0;
        unsigned long idx = strtoul(sel, NULL, 10);
        if (errno == 0 && idx < (unsigned long)n) pick = (int)idx;
    } else if (ci_equal(sel, "gpu")) {
        pick = first_of_type(list, n, CL_DEVICE_TYPE_GPU);
    } else if (ci_equal(sel, "cpu")) {
        pick = first_of_type(list, n, CL_DEVICE_TYPE_CPU);
    } else if (ci_equal(sel, "accelerator")) {
        pick = first_of_type(list, n, CL_DEVICE_TYPE_ACCELERATOR);
    } else {
        for (int i = 0; i < n && pick < 0; i++)
            if (ci_contains(list[i].info.name, sel)) pick = i;
    }
    return pick;
}

/* ------------------------------------------------------------------------ */
/* Sub-devices: "N.K" = the K-th one-compute-unit part of device N.          */

/* 1 when sel is "N.K" (both decimal), with *n and *k set. */
static int parse_sub(const char *sel, int *n, int *k)
{
    const char *dot = strchr(sel, '.');
    if (!dot || dot == sel || !dot[1] || strchr(dot + 1, '.')) return 0;
    for (const char *c = sel; *c; c++)
        if (c != dot && !isdigit((unsigned char)*c)) return 0;
    errno = 0;
    unsigned long a = strtoul(sel, NULL, 10), b = strtoul(dot + 1, NULL, 10);
    if (errno || a > 1u << 20 || b > 1u << 20) return 0;
    *n = (int)a;
    *k = (int)b;
    return 1;
}

/* Whether a sub-device of this platform must outlive its users. PoCL 3.1
 * frees a sub-device on its last release while a pthread worker may still
 * be in POclReleaseEvent for the queue's last command (clFinish returns
 * before that), a use-after-free that crashed 3 runs in 40 here. So on
 * PoCL the handle (a few hundred bytes per sub-device opened) is kept
 * until the process exits; every other runtime gets its release. */
static int sub_keep(const char *platform_name)
{
    return strstr(platform_name, "Portable Computing Language") != NULL;
}

/* Partition `parent` into one-compute-unit sub-devices (CL_DEVICE_PARTITION_
 * EQUALLY 1) and keep the k-th: two of them are two truly concurrent
 * one-core devices of one CPU (PoCL), which a pipeline can split layers
 * over. The caller releases *out with clReleaseDevice. */
static swacl_status make_sub(const dev_entry *parent, int row, int k, cl_device_id *out,
                             char *err, size_t err_len)
{
    const cl_device_partition_property props[] = {CL_DEVICE_PARTITION_EQUALLY, 1, 0};
    cl_uint n = 0;
    cl_int rc = clCreateSubDevices(parent->device, props, 0, NULL, &n);
    if (rc != CL_SUCCESS || n == 0) {
        swacl_format_msg(err, err_len, "device %d (%s) cannot be split into one-compute-unit "
                         "sub-devices: clCreateSubDevices failed: %s (%d)", row, parent->info.name,
                         swacl_cl_error_name(rc), (int)rc);
        return SWACL_NO_DEVICE;
    }
    if ((cl_uint)k >= n) {
        swacl_format_msg(err, err_len, "sub-device %d.%d does not exist: device %d (%s) splits into "
                         "%u one-compute-unit sub-devices (%d.0-%d.%u)", row, k, row,
                         parent->info.name, n, row, row, n - 1);
        return SWACL_NO_DEVICE;
    }
    cl_device_id *all = calloc(n, sizeof *all);
    if (!all) {
        swacl_format_msg(err, err_len, "out of host memory");
        return SWACL_OUT_OF_MEMORY;
    }
    rc = clCreateSubDevices(parent->device, props, n, all, &n);
    if (rc != CL_SUCCESS || (cl_uint)k >= n) {
        swacl_format_msg(err, err_len, "device %d (%s): clCreateSubDevices failed: %s (%d)", row,
                         parent->info.name, swacl_cl_error_name(rc), (int)rc);
        free(all);
        return SWACL_NO_DEVICE;
    }
    for (cl_uint i = 0; i < n; i++)
        if (i != (cl_uint)k) clReleaseDevice(all[i]);
    *out = all[k];
    free(all);
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Shared contexts (pipeline stages that copy device to device).             */

#define SHARE_MAX 8

struct swacl_share {
    int n;
    cl_context context[SHARE_MAX]; /* each over >= 1 devices of one platform */
    cl_device_id members[SHARE_MAX][SHARE_MAX]; /* the devices of context[i] */
    int n_members[SHARE_MAX];
    /* sub-devices made for "N.K" selectors: a context holds these very
     * cl_device_ids, so the stages must open them, not make new ones */
    int n_sub;
    char sub_sel[SHARE_MAX][32];
    cl_device_id sub_dev[SHARE_MAX];
    int sub_keep[SHARE_MAX];       /* never released: see sub_keep()     */
};

swacl_status swacl_share_create(const char *const *selectors, int n_sel, swacl_share **out,
                                char *err, size_t err_len)
{
    *out = NULL;
    swacl_share *sh = calloc(1, sizeof *sh);
    if (!sh) return SWACL_OUT_OF_MEMORY;
    dev_entry *list = NULL;
    int n = 0;
    swacl_status st = enumerate(&list, &n, err, err_len);
    if (st != SWACL_OK) {
        free(sh);
        return st;
    }
    /* the device each selector names; "ref" and unknown ones take no part */
    cl_device_id *sdev = calloc((size_t)(n_sel > 0 ? n_sel : 1), sizeof *sdev);
    cl_platform_id *splat = calloc((size_t)(n_sel > 0 ? n_sel : 1), sizeof *splat);
    cl_device_id *devs = calloc((size_t)(n_sel > 0 ? n_sel : 1), sizeof *devs);
    if (!sdev || !splat || !devs) st = SWACL_OUT_OF_MEMORY;
    for (int i = 0; i < n_sel && st == SWACL_OK; i++) {
        int row = -1, k = 0;
        if (ci_equal(selectors[i], "ref")) continue;
        if (parse_sub(selectors[i], &row, &k)) {
            if (row >= n) continue; /* the stage's own open reports it */
            for (int j = 0; j < sh->n_sub && !sdev[i]; j++)
                if (!strcmp(sh->sub_sel[j], selectors[i])) sdev[i] = sh->sub_dev[j];
            if (!sdev[i] && sh->n_sub < SHARE_MAX && strlen(selectors[i]) < sizeof sh->sub_sel[0]) {
                char why[256];
                if (make_sub(&list[row], row, k, &sdev[i], why, sizeof why) != SWACL_OK) continue;
                snprintf(sh->sub_sel[sh->n_sub], sizeof sh->sub_sel[0], "%s", selectors[i]);
                sh->sub_keep[sh->n_sub] = sub_keep(list[row].info.platform_name);
                sh->sub_dev[sh->n_sub++] = sdev[i];
            }
            if (sdev[i]) splat[i] = list[row].platform;
        } else {
            row = pick_device(list, n, selectors[i]);
            if (row >= 0) sdev[i] = list[row].device, splat[i] = list[row].platform;
        }
    }
    /* one context per platform that two or more stages use (the same device
     * twice included: two queues of one device copy on the device too) */
    for (int i = 0; i < n_sel && st == SWACL_OK && sh->n < SHARE_MAX; i++) {
        if (!sdev[i]) continue;
        cl_platform_id plat = splat[i];
        int uses = 0, nd = 0;
        for (int j = i; j < n_sel; j++) {
            if (!sdev[j] || splat[j] != plat) continue;
            uses++;
            int seen = 0;
            for (int q = 0; q < nd; q++) seen |= devs[q] == sdev[j];
            if (!seen && nd < SHARE_MAX) devs[nd++] = sdev[j];
            if (j > i) sdev[j] = NULL; /* platform handled */
        }
        if (uses < 2) continue;
        cl_int rc = CL_SUCCESS;
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)plat, 0};
        cl_context c = clCreateContext(props, (cl_uint)nd, devs, NULL, NULL, &rc);
        /* a runtime that refuses multi-device contexts is not an error: the
         * stages then stage activations through host memory */
        if (rc == CL_SUCCESS && c) {
            for (int q = 0; q < nd; q++) sh->members[sh->n][q] = devs[q];
            sh->n_members[sh->n] = nd;
            sh->context[sh->n++] = c;
        }
    }
    free(sdev);
    free(splat);
    free(devs);
    free(list);
    if (st != SWACL_OK) {
        swacl_share_destroy(sh);
        if (err) swacl_format_msg(err, err_len, "out of host memory");
        return st;
    }
    *out = sh;
    return SWACL_OK;
}

int swacl_share_count(const swacl_share *sh) { return sh ? sh->n : 0; }

void swacl_share_destroy(swacl_share *sh)
{
    if (!sh) return;
    for (int i = 0; i < sh->n; i++) clReleaseContext(sh->context[i]);
    for (int i = 0; i < sh->n_sub; i++)
        if (!sh->sub_keep[i]) clReleaseDevice(sh->sub_dev[i]);
    free(sh);
}

/* The shared context holding device d, or NULL. */
/* The shared context made with device d, or NULL. The devices are the
 * ones given to clCreateContext: PoCL reports a context of sub-devices as
 * holding their parent (CL_CONTEXT_DEVICES), so it cannot be asked. */
static cl_context share_find(const swacl_share *sh, cl_device_id d)
{
    for (int i = 0; sh && i < sh->n; i++)
        for (int j = 0; j < sh->n_members[i]; j++)
            if (sh->members[i][j] == d) return sh->context[i];
    return NULL;
}

swacl_status swacl_cl_dev_open(swacl_ctx *ctx, const swacl_ctx_params *p, swacl_cl_dev *dev)
{
    return swacl_cl_dev_open_shared(ctx, p, NULL, dev);
}

swacl_status swacl_cl_dev_open_shared(swacl_ctx *ctx, const swacl_ctx_params *p,
                                      const swacl_share *share, swacl_cl_dev *dev)
{
    if (!dev) return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_cl_dev_open: NULL dev");
    memset(dev, 0, sizeof *dev);
    swacl_ctx_params defaults = {0};
    if (!p) p = &defaults;

    /* paths first: cheap and independent of the device */
    const char *kd = p->kernel_dir;
    if (!kd || !*kd) kd = swacl_env(SWACL_ENV_KERNEL_DIR);
    if (kd && *kd && copy_path(dev->kernel_dir, sizeof dev->kernel_dir, kd) != 0)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "kernel_dir is too long (max %zu): %.200s",
                               sizeof dev->kernel_dir - 1, kd);
    swacl_env_cache_dir(p->cache_dir, dev->cache_dir, sizeof dev->cache_dir);
    dev->verbose = p->verbose;
    /* writers killed mid-write leave temp files that nothing else removes */
    swacl_cl_cache_sweep(dev->cache_dir, SWACL_CACHE_TMP_MAX_AGE_S, dev->verbose);

    char err[512];
    dev_entry *list = NULL;
    int n = 0;
    swacl_status st = enumerate(&list, &n, err, sizeof err);
    if (st != SWACL_OK) {
        memset(dev, 0, sizeof *dev);
        return swacl_set_error(ctx, st, "OpenCL device enumeration: %s", err);
    }
    const char *sel = p->device ? p->device : "";
    if (n == 0) {
        memset(dev, 0, sizeof *dev);
        return swacl_set_error(ctx, SWACL_NO_DEVICE,
                               "no OpenCL device found (no platform/ICD, or platforms without "
                               "devices) while selecting '%s'",
                               *sel ? sel : "default");
    }

    int sub_row = -1, sub_k = 0;
    const int is_sub = parse_sub(sel, &sub_row, &sub_k);
    int pick = is_sub ? (sub_row < n ? sub_row : -1) : pick_device(list, n, sel);
    if (pick < 0) {
        char avail[2048];
        describe_devices(list, n, avail, sizeof avail);
        free(list);
        memset(dev, 0, sizeof *dev);
        return swacl_set_error(ctx, SWACL_NO_DEVICE,
                               "no OpenCL device matches '%s'%s; available: %s", sel,
                               all_digits(sel) ? " (index out of range)" : "", avail);
    }

    dev->platform = list[pick].platform;
    dev->device = list[pick].device;
    dev->index = pick;
    dev->info = list[pick].info;
    dev->is_cpu = (list[pick].type & CL_DEVICE_TYPE_CPU) != 0;
    if (is_sub) {
        cl_device_id sub = NULL;
        for (int j = 0; share && j < share->n_sub && !sub; j++)
            if (!strcmp(share->sub_sel[j], sel)) sub = share->sub_dev[j];
        if (sub) {
            clRetainDevice(sub);
        } else {
            char why[512];
            st = make_sub(&list[pick], pick, sub_k, &sub, why, sizeof why);
            if (st != SWACL_OK) {
                free(list);
                memset(dev, 0, sizeof *dev);
                return swacl_set_error(ctx, st, "%s", why);
            }
        }
        dev->device = sub;
        dev->sub_device = 1;
        cl_uint cu = 1;
        clGetDeviceInfo(sub, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
        dev->info.compute_units = (int)cu;
        /* a name of its own: the calibration and tune caches are per name */
        char name[sizeof dev->info.name];
        snprintf(name, sizeof name, "%.200s [sub %d, %u CU]", dev->info.name, sub_k, (unsigned)cu);
        memcpy(dev->info.name, name, sizeof name);
    }
    free(list);

    cl_int rc = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform,
                                     0};
    cl_context shared = share_find(share, dev->device);
    if (shared) {
        clRetainContext(shared); /* released by swacl_cl_dev_close */
        dev->context = shared;
        dev->shared = 1;
    } else {
        dev->context = clCreateContext(props, 1, &dev->device, NULL, NULL, &rc);
    }
    if (rc != CL_SUCCESS || !dev->context) {
        st = swacl_cl_fail(ctx, rc != CL_SUCCESS ? rc : CL_INVALID_CONTEXT, "clCreateContext",
                           __FILE__, __LINE__);
        if (dev->sub_device) clReleaseDevice(dev->device);
        memset(dev, 0, sizeof *dev);
        return st;
    }
    dev->queue = clCreateCommandQueue(dev->context, dev->device, CL_QUEUE_PROFILING_ENABLE, &rc);
    if (rc != CL_SUCCESS || !dev->queue) {
        st = swacl_cl_fail(ctx, rc != CL_SUCCESS ? rc : CL_INVALID_COMMAND_QUEUE,
                           "clCreateCommandQueue", __FILE__, __LINE__);
        clReleaseContext(dev->context);
        if (dev->sub_device) clReleaseDevice(dev->device);
        memset(dev, 0, sizeof *dev);
        return st;
    }
    return SWACL_OK;
}

void swacl_cl_dev_close(swacl_cl_dev *dev)
{
    if (!dev) return;
    for (int i = 0; i < dev->n_progs && i < SWACL_CL_MAX_PROGRAMS; i++) {
        if (dev->progs[i].program) clReleaseProgram(dev->progs[i].program);
        dev->progs[i].program = NULL;
        dev->progs[i].key[0] = '\0';
    }
    dev->n_progs = 0;
    if (dev->gemm_tmp) clReleaseMemObject(dev->gemm_tmp);
    dev->gemm_tmp = NULL;
    dev->gemm_tmp_bytes = 0;
    if (dev->queue) {
        clFinish(dev->queue);
        clReleaseCommandQueue(dev->queue);
        dev->queue = NULL;
    }
    if (dev->context) {
        clReleaseContext(dev->context);
        dev->context = NULL;
    }
    if (dev->sub_device && dev->device && !sub_keep(dev->info.platform_name))
        clReleaseDevice(dev->device);
    dev->sub_device = 0;
    dev->device = NULL;
    dev->platform = NULL;
}
