/*
 * child.c - the common start of slb-worker, slb-checker and slb-failover.
 */
#include "child.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fd_limit.h"
#include "ipc.h"
#include "log.h"

int slb_child_start(struct slb_child *child, const char *program, int argc, char **argv,
		    void (*on_stop)(int))
{
	struct sigaction sa = { .sa_handler = on_stop };
	int opt;

	child->config_name = "slb.ini";
	while ((opt = getopt(argc, argv, "g:i:n:f")) != -1) {
		switch (opt) {
		case 'g': child->generation = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'i': child->index = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': child->config_name = optarg; break;
		case 'f': slb_log_force_stderr(true); break;
		default:
			fprintf(stderr, "usage: %s -g GENERATION [-i INDEX] -n CONFIG_NAME [-f]\n"
					"(started by slb-master, not by hand)\n", program);
			return 2;
		}
	}
	child->config = slb_config_load_changed_fd(SLB_FD_CONFIG, child->config_name, stderr);
	if (!child->config)
		return 1;
	slb_log_configure(program, &child->config->global);
	slb_fd_limit_raise(NULL); /* the master warns about the config's needs */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (slb_shm_attach_fd(&child->shm, SLB_FD_SHM) == -1)
		return 1;
	return 0;
}

void slb_child_finish(struct slb_child *child)
{
	slb_config_free(child->config);
	slb_shm_detach(&child->shm);
}
