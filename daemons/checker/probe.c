/*
 * probe.c - what every probe starts with: its clock, its deadline, and a
 * non-blocking socket connected to the server's check address.
 */
#include "checker.h"
#include "clock.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

int checker_probe_connect(struct checker_target *t, int type, uint64_t now_ms)
{
	int fd = socket(t->addr.u.sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	t->started_ms = now_ms;
	t->started_us = slb_now_us();
	t->deadline_ms = now_ms + t->group->check_timeout_ms;
	if (fd == -1) {
		t->last_errno = errno;
		return -1;
	}
	if (connect(fd, &t->addr.u.sa, t->addr.len) == -1 && errno != EINPROGRESS) {
		t->last_errno = errno;
		close(fd);
		return -1;
	}
	t->fd = fd;
	return fd;
}
