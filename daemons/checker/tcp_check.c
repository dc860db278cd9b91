/*
 * tcp_check.c - the `tcp` health check: a server is fine when it accepts a
 * TCP connection within check_timeout.
 */
#include "checker.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tcp_check_start(struct checker_target *t, uint64_t now_ms)
{
	return checker_probe_connect(t, SOCK_STREAM, now_ms);
}

bool tcp_check_finish(struct checker_target *t)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	t->last_errno = err;
	return err == 0;
}

void tcp_check_abort(struct checker_target *t)
{
	/* Reset rather than close politely: probes must not pile up TIME_WAITs. */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (t->fd < 0)
		return;
	setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(t->fd);
	t->fd = -1;
}
