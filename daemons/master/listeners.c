/*
 * listeners.c - the listening sockets, bound by the master once and shared
 * by every worker of every generation, so a reload never closes a port that
 * stays in the configuration.
 *
 * A udp socket the configuration drops (a listener removed or stopped) is
 * parked, not closed: the draining workers keep it open for the replies of
 * their flows, so binding its address anew would fail until they exit. A
 * listener that comes back on that address takes the parked socket over
 * and serves at once, sharing it with them as a kept listener is shared.
 * A parked socket is closed once no worker of its generation or an older
 * one is left. (SO_REUSEPORT would let a second socket bind, but the kernel
 * would then hash part of the clients to the old one, which nobody reads.)
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

/*
 * An HTTP client speaks first: the kernel hands a connection over only once
 * its first bytes are in (or header_timeout passed), so a worker wakes once
 * per connection, not for the handshake and again for the request, and a
 * connection that never sends costs no worker anything. Off for tcp
 * listeners, whose servers may speak first; set again on a socket a reload
 * keeps, whose listener may have changed protocol.
 */
static int defer_accept(int fd, const struct slb_listener_conf *lc)
{
	int seconds = slb_protocol_is_http(lc->protocol) ? (int)((lc->header_timeout_ms + 999) / 1000)
							 : 0;

	return setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof(seconds));
}

/* NODELAY here is inherited by every accepted socket: one syscall less per connection. */
static int tcp_listener_setup(int fd, const struct slb_listener_conf *lc)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1 ||
	    defer_accept(fd, lc) == -1 ||
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

static bool is_udp(const struct slb_listener_conf *lc)
{
	return lc->protocol == SLB_PROTO_UDP;
}

/* The running or parked socket bound to the address and transport of <lc>, or -1. */
static int reusable_fd(const struct master *m, const struct slb_listener_conf *lc)
{
	for (unsigned i = 0; m->listen_fds && i < m->config->nlisteners; i++) {
		const struct slb_listener_conf *running = &m->config->listeners[i];

		if (m->listen_fds[i] >= 0 && is_udp(running) == is_udp(lc) &&
		    slb_sockaddr_equal(&running->bind, &lc->bind))
			return m->listen_fds[i];
	}
	for (unsigned i = 0; is_udp(lc) && i < m->nparked; i++)
		if (slb_sockaddr_equal(&m->parked[i].bind, &lc->bind))
			return m->parked[i].fd;
	return -1;
}

static bool fd_listed(const int *fds, unsigned n, int fd)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] == fd)
			return true;
	return false;
}

/* Whether <fd> is a socket the master holds: running or parked. */
static bool fd_held(const struct master *m, int fd)
{
	if (m->listen_fds && fd_listed(m->listen_fds, m->config->nlisteners, fd))
		return true;
	for (unsigned i = 0; i < m->nparked; i++)
		if (m->parked[i].fd == fd)
			return true;
	return false;
}

int *master_listeners_bind(struct master *m, const struct slb_config *next)
{
	int *fds = malloc((next->nlisteners ? next->nlisteners : 1) * sizeof(*fds));

	if (!fds)
		return NULL;
	for (unsigned i = 0; i < next->nlisteners; i++)
		fds[i] = -1;
	for (unsigned i = 0; i < next->nlisteners; i++) {
		int fd;

		if (!next->listeners[i].enabled)
			continue; /* stopped: nothing listens, connections are refused */
		fd = reusable_fd(m, &next->listeners[i]);
		if (fd == -1)
			fd = listener_bind(&next->listeners[i]);
		else if (next->listeners[i].protocol != SLB_PROTO_UDP &&
			 defer_accept(fd, &next->listeners[i]) == -1)
			slb_warn("listener %s: cannot set TCP_DEFER_ACCEPT: %m", next->listeners[i].name);
		if (fd == -1) {
			master_listeners_discard(m, fds, next->nlisteners);
			return NULL;
		}
		fds[i] = fd;
	}
	return fds;
}

void master_listeners_discard(struct master *m, int *fds, unsigned n)
{
	/* Close only what the bind opened: the others still serve, or wait parked. */
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0 && !fd_held(m, fds[i]))
			close(fds[i]);
	free(fds);
}

/* Keeps <fd> of <lc> open while the current generation's workers may hold it. */
static void park(struct master *m, int fd, const struct slb_listener_conf *lc)
{
	struct master_parked_udp *parked = reallocarray(m->parked, m->nparked + 1, sizeof(*parked));

	if (!parked) {
		close(fd); /* the listener cannot come back before they drain, as without parking */
		return;
	}
	m->parked = parked;
	m->parked[m->nparked++] = (struct master_parked_udp){
		.fd = fd, .bind = lc->bind, .generation = m->generation
	};
}

void master_listeners_switch(struct master *m, int *fds, const struct slb_config *next)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < m->nparked; i++)
		if (!fd_listed(fds, next->nlisteners, m->parked[i].fd))
			m->parked[kept++] = m->parked[i];
	m->nparked = kept;
	for (unsigned i = 0; m->listen_fds && i < m->config->nlisteners; i++) {
		int fd = m->listen_fds[i];

		if (fd < 0 || fd_listed(fds, next->nlisteners, fd))
			continue;
		if (is_udp(&m->config->listeners[i]))
			park(m, fd, &m->config->listeners[i]);
		else
			close(fd);
	}
	free(m->listen_fds);
	m->listen_fds = fds;
	master_listeners_release(m);
}

/* Whether a worker of <generation> or an older one is still running (or due to respawn). */
static bool workers_upto(const struct master *m, uint32_t generation)
{
	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		const struct master_child *c = &m->children[i];

		if (c->used && c->kind == MASTER_WORKER && c->generation <= generation)
			return true;
	}
	return false;
}

void master_listeners_release(struct master *m)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < m->nparked; i++) {
		if (workers_upto(m, m->parked[i].generation))
			m->parked[kept++] = m->parked[i];
		else
			close(m->parked[i].fd);
	}
	m->nparked = kept;
}
