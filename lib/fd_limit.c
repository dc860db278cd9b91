/*
 * fd_limit.c - the open-file limit every daemon raises at start.
 *
 * Outside systemd (whose unit sets LimitNOFILE) a daemon inherits the
 * shell's soft limit, often 1024, while the hard limit is far higher: a
 * worker would fail accept and connect with EMFILE long before
 * max_connections. The master raises it before it starts anything, so its
 * children inherit the raised limit; they call this too, so that a
 * daemon's limit never depends on how it was started.
 */
#include "fd_limit.h"

#include <inttypes.h>
#include <sys/resource.h>

#include "log.h"

/*
 * The master's own descriptors, listeners, channels: a margin, not a count;
 * plus a worker's pool of idle splice pipes.
 */
#define FD_LIMIT_BASE (64 + 2 * SLB_PIPE_POOL_MAX)

/*
 * Descriptors one connection may hold: a udp flow its socket; a tcp one
 * client, server and a pipe each way (splice); an http one client, server
 * and the pipe of the body being spliced.
 */
static unsigned fds_per_connection(enum slb_protocol protocol)
{
	switch (protocol) {
	case SLB_PROTO_UDP:
		return 1;
	case SLB_PROTO_TCP:
		return 6;
	default:
		return 4;
	}
}

static uint64_t fd_limit_needed(const struct slb_config *config)
{
	uint64_t needed = FD_LIMIT_BASE + config->nlisteners;

	for (unsigned i = 0; i < config->nlisteners; i++) {
		const struct slb_listener_conf *lc = &config->listeners[i];

		needed += (uint64_t)lc->max_connections * fds_per_connection(lc->protocol);
	}
	return needed;
}

int slb_fd_limit_raise(const struct slb_config *config)
{
	struct rlimit lim;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &lim) == -1) {
		slb_warn("cannot read the open-file limit: %m");
		return -1;
	}
	was = lim.rlim_cur;
	if (lim.rlim_cur != lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &lim) == -1) {
			slb_warn("cannot raise the open-file limit from %" PRIu64 " to %" PRIu64 ": %m",
				 (uint64_t)was, (uint64_t)lim.rlim_max);
			return -1;
		}
		slb_info("raised the open-file limit from %" PRIu64 " to %" PRIu64, (uint64_t)was,
			 (uint64_t)lim.rlim_max);
	}
	if (config && lim.rlim_max != RLIM_INFINITY && lim.rlim_max < fd_limit_needed(config))
		slb_warn("the open-file limit %" PRIu64 " is below the %" PRIu64
			 " descriptors the listeners' max_connections may need in one worker"
			 " (two per tcp/http connection, one per udp flow): raise the hard limit"
			 " (ulimit -Hn, LimitNOFILE)",
			 (uint64_t)lim.rlim_max, fd_limit_needed(config));
	return 0;
}
