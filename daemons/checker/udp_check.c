/*
 * udp_check.c - the `udp` health check: a datagram to the server's check
 * port passes when any datagram comes back within check_timeout.
 *
 * The socket is connected, so the kernel hands an ICMP port unreachable
 * back as ECONNREFUSED: a failure at once. No reply at all is a failure
 * too, at the timeout. keepalived's UDP_CHECK by default counts silence as
 * success (only an ICMP error fails, unless require_reply is set); slb does
 * not, because silence is also what a dead host, a dead link or a firewall
 * that drops gives, and an ICMP error is only sent by a live host with
 * nothing bound. A server that never answers its check port cannot use
 * this check (use tcp on another port, or none).
 */
#include "checker.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* What the probe says; anything that echoes or answers it will do. */
static const char udp_probe_payload[] = "slb-check\n";

int udp_check_start(struct checker_target *t, uint64_t now_ms)
{
	if (checker_probe_connect(t, SOCK_DGRAM, now_ms) == -1)
		return -1;
	if (send(t->fd, udp_probe_payload, sizeof(udp_probe_payload) - 1, 0) == -1) {
		t->last_errno = errno;
		close(t->fd);
		t->fd = -1;
		return -1;
	}
	return t->fd;
}

enum check_result udp_check_step(struct checker_target *t)
{
	char reply[512];

	/* A longer reply is truncated, which is fine: only its arrival counts. */
	if (recv(t->fd, reply, sizeof(reply), MSG_DONTWAIT) >= 0)
		return CHECK_PASS;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CHECK_WANT_READ;
	t->last_errno = errno;
	return CHECK_FAIL;
}
