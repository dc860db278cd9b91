/*
 * fd_limit.h - the open-file limit every daemon raises at start.
 */
#ifndef SLB_FD_LIMIT_H
#define SLB_FD_LIMIT_H

#include "config.h"

/*
 * Raises the soft RLIMIT_NOFILE to the hard one (a line at info when it
 * changes). Given a <config>, also warns when the hard limit is below what
 * its listeners' max_connections may need in one process: max_connections
 * is node-wide, so one worker can hold all of them, with six descriptors
 * per tcp connection (client, server, a splice pipe each way), four per
 * http(s) one (client, server, the pipe of a spliced body), one per udp
 * flow, and the worker's pool of idle pipes.
 * Listeners without max_connections count nothing. Returns 0, or -1
 * (logged) when the limit cannot be read or set: the caller runs on with
 * the limit it has.
 */
int slb_fd_limit_raise(const struct slb_config *config);

/* Idle splice pipes a worker keeps for reuse (daemons/worker/conn_pool.c): counted above. */
#define SLB_PIPE_POOL_MAX 512

#endif
