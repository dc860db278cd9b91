/*
 * metrics.h - the Prometheus text exposition served by slb-master at
 * [global] metrics (metrics.c).
 */
#ifndef SLB_MASTER_METRICS_H
#define SLB_MASTER_METRICS_H

#include <stdio.h>

#include "master.h"

/*
 * Writes every metric, in the Prometheus text format 0.0.4, to <out>:
 * the listener and server tables and the failover block of the shared
 * memory, and the master's configuration generation. Returns 0, or -1 when
 * <out> reported a write error.
 */
int metrics_write(struct master *m, FILE *out);

#endif
