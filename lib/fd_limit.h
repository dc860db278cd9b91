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
 * is node-wide, so one worker can hold all of them, with two descriptors
 * per tcp/http(s) connection (client and server) and one per udp flow.
 * Listeners without max_connections count nothing. Returns 0, or -1
 * (logged) when the limit cannot be read or set: the caller runs on with
 * the limit it has.
 */
int slb_fd_limit_raise(const struct slb_config *config);

#endif
