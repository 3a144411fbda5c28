/*
 * mpi_internal.h - the MPI transport of a pipeline spread over ranks
 * (host/mpi/). mpi_link.c: the sched_remote hooks (sched.h), the commands
 * rank 0 announces, the serve loop of the other ranks, failure handling.
 * mpi_create.c: the device list over ranks, placement, building the parts.
 *
 * Communicators: `cmd` carries rank 0's announcements (broadcasts), `data`
 * the activations and outputs (point to point, tag = micro-batch), both
 * duplicated from MPI_COMM_WORLD with MPI_ERRORS_RETURN. Every wait polls
 * MPI_Test with a short sleep (no busy spin on a shared machine) and, on a
 * link, a deadline: an error or a deadline ends the job with MPI_Abort and
 * a message naming this rank and the cause.
 */
#ifndef SWACL_MPI_INTERNAL_H
#define SWACL_MPI_INTERNAL_H

#include <mpi.h>
#include <pthread.h>

#include "sched/sched.h"

typedef struct {
    sched_remote rm;         /* the core's view (first member)              */
    MPI_Comm data, cmd;
    int rank, size;
    int prev, next;          /* neighbour ranks in layer order (-1: none)   */
    int last_rank;           /* the rank holding the model's last layer     */
    double timeout;          /* seconds a link waits (SWACL_MPI_TIMEOUT)    */
    int fault_kill;          /* test hook: 1 SIGKILL / 2 hang at a run      */
    char host[MPI_MAX_PROCESSOR_NAME];
    pthread_mutex_t mu;      /* one MPI call at a time (stage threads)      */
    int *glob;               /* [local devices] index in the whole list     */
    sched_job *jobs;         /* the current run's                           */
    int n_mb, cap;
    MPI_Request *rx, *tx, *ro; /* [cap] x in, x out, output in / out        */
    /* progress: while a run is on, a thread calls into MPI every ~100 us so
     * a transfer moves while the stage threads compute (shared-memory and
     * TCP transports progress only inside MPI calls) */
    pthread_t progress;
    pthread_cond_t cv;
    int active, quit, started;
} mpi_link;

/* A link for this rank (its rm hooks set); NULL + message on failure. */
mpi_link *mpi_link_create(char *err, size_t len);
void mpi_link_destroy(mpi_link *l);
/* End the job: "swacl: rank R (host): msg" on stderr, MPI_Abort. */
_Noreturn void mpi_die(const mpi_link *l, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Wait for rq, polling; timeout <= 0: no deadline. `what` names the peer's
 * part in a message ("activations from rank 1"). */
void mpi_wait(mpi_link *l, MPI_Request *rq, double timeout, const char *what);
/* Ranks other than 0: replay rank 0's calls on p until it is destroyed. */
void mpi_serve(mpi_link *l, swacl_pipeline *p);

#endif /* SWACL_MPI_INTERNAL_H */
