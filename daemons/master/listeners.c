/*
 * listeners.c - the listening sockets, bound by the master once and shared
 * by every worker of every generation, so a reload never closes a port that
 * stays in the configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

#define LISTEN_BACKLOG 4096
#define UDP_RCVBUF (4 << 20)

/* Binding to the VIP before holding it: a backup node binds all along. */
static int set_freebind(int fd, int family)
{
	int one = 1;

	return setsockopt(fd, family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
			  family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof(one));
}

/* NODELAY here is inherited by every accepted socket: one syscall less per connection. */
static int tcp_listener_setup(int fd, const struct slb_listener_conf *lc)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1 ||
	    set_freebind(fd, lc->bind.u.sa.sa_family) == -1 ||
	    bind(fd, &lc->bind.u.sa, lc->bind.len) == -1 || listen(fd, LISTEN_BACKLOG) == -1)
		return -1;
	return 0;
}

/*
 * No SO_REUSEADDR: for UDP it would let a second process bind the same port
 * and silently take part of the datagrams. A wildcard bind asks for the
 * destination address of each datagram (PKTINFO), so that workers answer
 * from the address the client used. The larger receive buffer absorbs a
 * burst while every worker is busy (FORCE: the master is root and the
 * sysctl default is small).
 */
static int udp_listener_setup(int fd, const struct slb_listener_conf *lc)
{
	int family = lc->bind.u.sa.sa_family, one = 1, rcvbuf = UDP_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) == -1)
		slb_warn("listener %s: cannot set a %d-byte receive buffer: %m", lc->name, rcvbuf);
	if (slb_sockaddr_is_any(&lc->bind) &&
	    setsockopt(fd, family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       family == AF_INET6 ? IPV6_RECVPKTINFO : IP_PKTINFO, &one, sizeof(one)) == -1)
		return -1;
	if (set_freebind(fd, family) == -1 || bind(fd, &lc->bind.u.sa, lc->bind.len) == -1)
		return -1;
	return 0;
}

static int listener_bind(const struct slb_listener_conf *lc)
{
	bool udp = lc->protocol == SLB_PROTO_UDP;
	char addr[SLB_SOCKADDR_STRLEN];
	int fd;

	fd = socket(lc->bind.u.sa.sa_family,
		    (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto bad;
	if ((udp ? udp_listener_setup(fd, lc) : tcp_listener_setup(fd, lc)) == -1)
		goto bad;
	slb_info("listener %s: bound %s%s", lc->name, udp ? "udp " : "",
		 slb_sockaddr_format(&lc->bind, addr));
	return fd;
bad:
	slb_err("listener %s: cannot %s on %s: %m", lc->name, udp ? "bind udp" : "listen",
		slb_sockaddr_format(&lc->bind, addr));
	if (fd != -1)
		close(fd);
	return -1;
}

/* The fd of <old>'s listener bound to the same address and transport as <lc>, or -1. */
static int reusable_fd(const struct slb_listener_conf *lc, const struct slb_config *old,
		       const int *old_fds)
{
	if (!old)
		return -1;
	for (unsigned i = 0; i < old->nlisteners; i++)
		if ((old->listeners[i].protocol == SLB_PROTO_UDP) == (lc->protocol == SLB_PROTO_UDP) &&
		    slb_sockaddr_equal(&old->listeners[i].bind, &lc->bind))
			return old_fds[i];
	return -1;
}

int *master_listeners_bind(const struct slb_config *config, const struct slb_config *old,
			   const int *old_fds)
{
	int *fds = calloc(config->nlisteners ? config->nlisteners : 1, sizeof(*fds));

	if (!fds)
		return NULL;
	for (unsigned i = 0; i < config->nlisteners; i++) {
		int fd = reusable_fd(&config->listeners[i], old, old_fds);

		if (!config->listeners[i].enabled) {
			fds[i] = -1; /* stopped: nothing listens, connections are refused */
			continue;
		}
		if (fd == -1)
			fd = listener_bind(&config->listeners[i]);
		if (fd == -1) {
			/* Close only what this call opened: the old ones still serve. */
			for (unsigned j = 0; j < i; j++)
				if (fds[j] >= 0 && reusable_fd(&config->listeners[j], old, old_fds) == -1)
					close(fds[j]);
			free(fds);
			return NULL;
		}
		fds[i] = fd;
	}
	return fds;
}

void master_listeners_close(const int *fds, unsigned n, const int *keep, unsigned nkeep)
{
	for (unsigned i = 0; i < n; i++) {
		bool kept = false;

		for (unsigned j = 0; j < nkeep && !kept; j++)
			kept = keep[j] == fds[i];
		if (!kept && fds[i] >= 0)
			close(fds[i]);
	}
}
