/*
 * vrrp_socket.c - adverts on the wire: raw IP protocol 112 sockets bound
 * to the [failover] interface, multicast to 224.0.0.18 or unicast to each
 * configured peer; drops counted by reason and logged at most once per
 * reason every 10 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "failover.h"
#include "log.h"

#define DROP_LOG_INTERVAL_MS 10000
#define DROP_NOT_A_PEER SLB_VRRP_VERDICT_COUNT


static bool multicast(const struct failover *f)
{
	return f->fc->npeers == 0;
}

int vrrp_socket_open(struct failover *f)
{
	int ttl = SLB_VRRP_TTL, tos = IPTOS_PREC_NETCONTROL, off = 0;
	struct ip_mreqn mreq = { .imr_ifindex = f->ifindex };
	struct sockaddr_in self = { .sin_family = AF_INET, .sin_addr = f->self };
	const char *ifname = f->fc->interface;

	f->recv_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, SLB_VRRP_PROTOCOL);
	f->send_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, SLB_VRRP_PROTOCOL);
	if (f->recv_fd == -1 || f->send_fd == -1)
		goto bad;
	if (setsockopt(f->recv_fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) == -1 ||
	    setsockopt(f->send_fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) == -1)
		goto bad;
	/* The source is this node's own address, never a VIP it may hold. */
	if (bind(f->send_fd, (struct sockaddr *)&self, sizeof(self)) == -1 ||
	    setsockopt(f->send_fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) == -1 ||
	    setsockopt(f->send_fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) == -1)
		goto bad;
	if (multicast(f)) {
		inet_pton(AF_INET, SLB_VRRP_MCAST_GROUP, &mreq.imr_multiaddr);
		if (setsockopt(f->recv_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) == -1 ||
		    setsockopt(f->send_fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) == -1 ||
		    setsockopt(f->send_fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) == -1 ||
		    setsockopt(f->send_fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof(off)) == -1)
			goto bad;
	}
	return 0;
bad:
	slb_err("failover: VRRP socket on %s: %m", ifname);
	return -1;
}

static uint64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void send_to(struct failover *f, const struct slb_vrrp_advert *a, struct in_addr dst)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dst };
	uint8_t buf[SLB_VRRP_MAX_LEN];
	int len = slb_vrrp_encode(a, f->self, dst, &f->key, buf, sizeof(buf));

	if (len < 0)
		return;
	if (sendto(f->send_fd, buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) == -1) {
		slb_debug("failover: advert to %s: %m", inet_ntoa(dst));
		return;
	}
	atomic_fetch_add(&f->shared->adverts_sent, 1);
}

int vrrp_send_advert(struct failover *f, uint8_t priority)
{
	struct slb_vrrp_advert a = {
		.vrid = (uint8_t)f->fc->vrid,
		.priority = priority,
		.interval_cs = (uint16_t)(f->fc->advert_interval_ms / 10 ? f->fc->advert_interval_ms / 10 : 1),
		.seq = realtime_us(),
	};

	for (unsigned i = 0; i < f->config->nvips && a.naddrs < SLB_VRRP_MAX_ADDRS; i++)
		if (f->config->vips[i].address.family == AF_INET)
			a.addrs[a.naddrs++] = f->config->vips[i].address.addr.in4;
	if (multicast(f)) {
		struct in_addr group;

		inet_pton(AF_INET, SLB_VRRP_MCAST_GROUP, &group);
		send_to(f, &a, group);
	} else {
		for (unsigned i = 0; i < f->fc->npeers; i++)
			send_to(f, &a, f->fc->peers[i].u.in4.sin_addr);
	}
	return 0;
}

static void count_drop(struct failover *f, unsigned kind, struct in_addr from)
{
	static struct slb_log_limit drop_log[SLB_FAILOVER_DROP_KINDS];

	atomic_fetch_add(&f->shared->drops[kind], 1);
	drop_log[kind].interval_ms = DROP_LOG_INTERVAL_MS;
	slb_log_limited(&drop_log[kind], LOG_WARNING,
			"failover: dropped a VRRP packet from %s: %s (%llu so far)", inet_ntoa(from),
			kind == DROP_NOT_A_PEER ? "not_a_peer"
						: slb_vrrp_verdict_name((enum slb_vrrp_verdict)kind),
			(unsigned long long)atomic_load(&f->shared->drops[kind]));
}

static bool is_peer(const struct failover *f, struct in_addr from)
{
	for (unsigned i = 0; i < f->fc->npeers; i++)
		if (f->fc->peers[i].u.in4.sin_addr.s_addr == from.s_addr)
			return true;
	return false;
}

/*
 * Replays of an old advert: each sender's sequence must only grow. Senders
 * are tracked apart because their clocks (the sequence) differ.
 */
static bool sequence_fresh(struct failover *f, struct in_addr from, uint64_t seq)
{
	struct failover_sender *slot = &f->senders[0];

	for (unsigned i = 0; i < FAILOVER_MAX_SENDERS; i++) {
		if (f->senders[i].addr.s_addr == from.s_addr) {
			slot = &f->senders[i];
			break;
		}
		if (f->senders[i].seq < slot->seq)
			slot = &f->senders[i]; /* the least recent, if this sender is new */
	}
	if (slot->addr.s_addr == from.s_addr && seq <= slot->seq)
		return false;
	slot->addr = from;
	slot->seq = seq;
	return true;
}

int vrrp_receive(struct failover *f, struct slb_vrrp_advert *a, struct in_addr *from)
{
	uint8_t buf[2048];
	struct sockaddr_in sender;
	socklen_t slen = sizeof(sender);
	enum slb_vrrp_verdict v;
	ssize_t n = recvfrom(f->recv_fd, buf, sizeof(buf), 0, (struct sockaddr *)&sender, &slen);

	if (n <= 0)
		return -1;
	v = slb_vrrp_decode(buf, (size_t)n, (uint8_t)f->fc->vrid, &f->key, a, from);
	if (v == SLB_VRRP_OTHER_VRID)
		return 0; /* another router's business on a shared segment */
	if (v != SLB_VRRP_OK) {
		count_drop(f, v, sender.sin_addr);
		return 0;
	}
	if (from->s_addr == f->self.s_addr)
		return 0;
	if (!multicast(f) && !is_peer(f, *from)) {
		count_drop(f, DROP_NOT_A_PEER, *from);
		return 0;
	}
	if (f->key.bytes && !sequence_fresh(f, *from, a->seq)) {
		count_drop(f, SLB_VRRP_AUTH_BAD, *from);
		return 0;
	}
	atomic_fetch_add(&f->shared->adverts_received, 1);
	return 1;
}
