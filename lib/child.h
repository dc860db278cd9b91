/*
 * child.h - what every daemon the master execs does first: read its
 * arguments, load the config the master validated (fd 4), set up logging
 * and the stop signals, and map the shared memory (fd 5).
 */
#ifndef SLB_CHILD_H
#define SLB_CHILD_H

#include <stdint.h>

#include "config.h"
#include "shm.h"

struct slb_child {
	uint32_t generation;
	unsigned index; /* workers: the worker's number */
	const char *config_name; /* for messages */
	struct slb_config *config;
	struct slb_shm shm;
};

/*
 * Parses "-g GENERATION [-i INDEX] -n CONFIG_NAME [-f]" and does the set-up
 * above as <program>, with <on_stop> for SIGTERM and SIGINT (SIGPIPE is
 * ignored). Returns 0, or the exit status the caller should return (2 for
 * bad arguments, 1 for a failed set-up, both reported).
 */
int slb_child_start(struct slb_child *child, const char *program, int argc, char **argv,
		    void (*on_stop)(int));

void slb_child_finish(struct slb_child *child);

#endif
