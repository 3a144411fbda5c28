/*
 * swacl_mpi.h - the layer pipeline across MPI processes (optional: built
 * only with -DSWACL_MPI=ON|AUTO when MPI is found; the library never needs
 * it). The CLI includes this header in every build: without MPI the two
 * macros below are the plain single-process calls.
 *
 * Model (docs/ARCHITECTURE.md, "Pipeline across processes"): every rank
 * runs the same command (SPMD) up to the pipeline; swacl_mpi_pipeline_create
 * places the layers over all ranks' devices, builds this rank's part, and
 * then returns the pipeline on rank 0 only. Every other rank serves rank 0's
 * calls on its part and ends the process (exit status 0) when rank 0
 * destroys the pipeline. A failure on any rank ends the job on every rank
 * with a message naming the rank (MPI_Abort), never a hang.
 */
#ifndef SWACL_MPI_H
#define SWACL_MPI_H

#include "swacl.h"

#if defined(SWACL_HAVE_MPI)
/* MPI_Init_thread, fn(argc, argv), MPI_Finalize; fn's status. */
int swacl_mpi_main(int argc, char **argv, int (*fn)(int, char **));
/* swacl_pipeline_create over the ranks: devices "RANK:SEL,..." (each rank
 * the entries it names) or a list without ranks (every rank those devices);
 * placement "auto" (calibration + the measured MPI hop cost) or a SPEC over
 * the whole list's indices. One process (or not under mpirun): exactly
 * swacl_pipeline_create. */
swacl_status swacl_mpi_pipeline_create(swacl_ctx *ctx, const char *devices, const char *placement,
                                       const swacl_config *cfg, const swacl_weights *weights,
                                       swacl_pipeline **out);
/* Processes in the job (1: not under mpirun). */
int swacl_mpi_size(void);
#define SWACL_MAIN(fn, argc, argv) swacl_mpi_main(argc, argv, fn)
#define SWACL_PIPELINE_CREATE swacl_mpi_pipeline_create
#define SWACL_MPI_SIZE() swacl_mpi_size()
#else
#define SWACL_MAIN(fn, argc, argv) fn(argc, argv)
#define SWACL_PIPELINE_CREATE swacl_pipeline_create
#define SWACL_MPI_SIZE() 1
#endif

#endif /* SWACL_MPI_H */
