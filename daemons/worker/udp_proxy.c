/*
 * udp_proxy.c - UDP flows, each with a connected socket to its server.
 *
 * A flow is (listener, client address, client port). Which server it goes
 * to is kept in the shared session table (expiry idle_timeout, pushed on by
 * traffic), so whichever worker the kernel hands a datagram to sends it to
 * the same server. Each worker that carries a flow opens its own socket to
 * that server and connects it: the kernel then delivers the server's
 * replies to that socket and no other (it demultiplexes on the 4-tuple),
 * and reports ICMP errors about the server on it (IP_RECVERR), which is how
 * a server that stopped listening is noticed. Replies leave through the
 * listening socket, so their source is VIP:port; on a wildcard bind the
 * address the client used comes with each datagram (PKTINFO) and is given
 * back as the reply's source.
 *
 * Datagrams move in batches: recvmmsg, then one sendmmsg per run of
 * consecutive datagrams of one flow, through buffers allocated once per
 * worker. Flow records come from a pool and sit in a worker-local hash
 * index and in their listener's idle list (least recently active first, so
 * expiring is O(expired)). Nothing is allocated or logged per datagram.
 */
#include "udp_proxy.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accept.h"
#include "conn_pool.h"
#include "dlist.h"
#include "log.h"
#include "maglev.h"
#include "sessions.h"
#include "worker_stats.h"

#define UDP_BATCH 32
#define UDP_DGRAM_MAX 65536 /* larger than any UDP payload: nothing is truncated */
#define UDP_ROUNDS 8 /* batches per readiness event, then other sockets get their turn */
#define UDP_FLOW_BUCKETS (1u << 16)
#define UDP_SYNC_MAX_MS 1000
#define UDP_SYNC_MIN_MS 50
#define UDP_PKTINFO_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

struct udp_flow {
	enum worker_tag tag; /* WORKER_TAG_UDP_FLOW, first: epoll data */
	int fd; /* connected to the server */
	bool closed; /* waiting in the graveyard: later events of this batch are stale */
	struct worker_listener *l;
	struct slb_session_key key;
	struct sockaddr_storage client;
	socklen_t client_len;
	int local_family; /* AF_INET or AF_INET6 when <local> holds the address the client used */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} local;
	unsigned local_ifindex; /* IPv6 link-local replies need the interface */
	int slot; /* server slot in shm, -1 = none */
	uint32_t serial;
	uint64_t last_ms; /* last datagram either way */
	uint64_t synced_ms; /* last time the session table was told */
	struct udp_flow *hnext; /* hash chain */
	struct dlist_node idle; /* on the listener's udp_flows */
	struct udp_flow *next_dead; /* the graveyard */
};

/* Datagrams in flight through the worker, with their buffers. */
struct udp_batch {
	struct mmsghdr msg[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	char ctrl[UDP_BATCH][UDP_PKTINFO_SPACE];
	char buf[UDP_BATCH][UDP_DGRAM_MAX];
};

struct udp_state {
	struct udp_batch in; /* from clients, as one recvmmsg on a listener returned them */
	struct sockaddr_storage in_addr[UDP_BATCH];
	struct mmsghdr forward[UDP_BATCH]; /* a run of <in> towards one flow's server */
	struct iovec forward_iov[UDP_BATCH];
	/*
	 * Replies read from the servers of any flows and not sent yet: they all
	 * leave through listening sockets, so one sendmmsg carries many flows'.
	 */
	struct udp_batch out;
	struct udp_flow *out_flow[UDP_BATCH];
	unsigned nout;
	struct udp_flow *buckets[UDP_FLOW_BUCKETS];
	struct udp_flow *graveyard;
	struct slb_log_limit socket_log; /* "cannot open a socket to the server" */
};

#define flow_of(tagp) ((struct udp_flow *)((char *)(tagp) - offsetof(struct udp_flow, tag)))

/* ---- the worker-local index and idle lists ---- */

static struct udp_flow **flow_bucket(struct udp_state *u, const struct slb_session_key *key)
{
	return &u->buckets[slb_hash64(key, sizeof(*key), 0) & (UDP_FLOW_BUCKETS - 1)];
}

static struct udp_flow *flow_find(struct udp_state *u, const struct slb_session_key *key)
{
	for (struct udp_flow *f = *flow_bucket(u, key); f; f = f->hnext)
		if (memcmp(&f->key, key, sizeof(*key)) == 0)
			return f;
	return NULL;
}

static void flow_unindex(struct udp_state *u, struct udp_flow *f)
{
	for (struct udp_flow **p = flow_bucket(u, &f->key); *p; p = &(*p)->hnext) {
		if (*p == f) {
			*p = f->hnext;
			return;
		}
	}
}

/* Traffic either way: the flow moves to the tail of its listener's list. */
static void flow_active(struct worker *w, struct udp_flow *f)
{
	f->last_ms = w->now_ms;
	if (f->l->udp_flows.tail != &f->idle)
		dlist_append(&f->l->udp_flows, &f->idle);
}

/* ---- shared counters ---- */

/*
 * Counts <bytes> sent to the server (<to_server>) or to the client, once
 * per batch: a flow may live for hours, its bytes should show now.
 */
static void flow_count_bytes(struct worker *w, struct udp_flow *f, bool to_server, uint64_t bytes)
{
	struct slb_shm_listener *ls = listener_stats(f->l);
	struct slb_shm_server *s = server_stats(w, f->slot, f->serial);

	if (ls)
		counter_add(to_server ? &ls->bytes_in : &ls->bytes_out, bytes);
	if (s)
		counter_add(to_server ? &s->bytes_out : &s->bytes_in, bytes);
}

/* The server still has the slot and the checker says it is up. */
static bool server_usable(struct worker *w, uint32_t slot, uint32_t serial)
{
	struct slb_shm_server *s = slot < SLB_MAX_SERVERS ? server_stats(w, (int)slot, serial) : NULL;

	return s && atomic_load_explicit(&s->health, memory_order_relaxed) == SLB_HEALTH_UP;
}

/*
 * A session another worker (or another generation) made: usable, and one
 * of this listener's servers (a reload may have changed its group).
 */
static bool session_usable(struct worker *w, struct worker_listener *l, const struct slb_session *s)
{
	return server_usable(w, s->server_slot, s->server_serial) &&
	       worker_listener_serves(l, s->server_slot, s->server_serial);
}

/* Gives up the server side: releases the active count, closes the socket. */
static void flow_release_server(struct worker *w, struct udp_flow *f)
{
	struct slb_shm_server *s = server_stats(w, f->slot, f->serial);

	if (s)
		counter_release(&s->active);
	if (f->fd >= 0) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, f->fd, NULL);
		close(f->fd);
	}
	f->fd = -1;
	f->slot = -1;
}

static void flow_close(struct worker *w, struct udp_flow *f)
{
	struct slb_shm_listener *ls = listener_stats(f->l);

	flow_release_server(w, f);
	if (ls)
		counter_release(&ls->active);
	flow_unindex(w->udp, f);
	dlist_remove(&f->idle);
	w->nflows--;
	/* Events later in this epoll batch may still name the record: recycle it after. */
	f->closed = true;
	f->next_dead = w->udp->graveyard;
	w->udp->graveyard = f;
}

/*
 * Points <f> at server <slot>: a new socket, connected to it. Returns 0, or
 * -1 (logged, rate-limited) when no socket could be made; <f> then has none.
 */
static int flow_connect(struct worker *w, struct udp_flow *f, int slot)
{
	struct slb_shm_server *s = &w->shm.servers[slot];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &f->tag };
	int one = 1, fd;

	flow_release_server(w, f);
	fd = socket(s->addr.u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto bad;
	/* Every ICMP error about the server, not only the "hard" ones. */
	setsockopt(fd, s->addr.u.sa.sa_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		   s->addr.u.sa.sa_family == AF_INET6 ? IPV6_RECVERR : IP_RECVERR, &one, sizeof(one));
	if (connect(fd, &s->addr.u.sa, s->addr.len) == -1 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto bad;
	f->fd = fd;
	f->slot = slot;
	f->serial = atomic_load_explicit(&s->serial, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->active, 1, memory_order_relaxed);
	return 0;
bad:
	slb_log_limited(&w->udp->socket_log, LOG_WARNING, "listener %s: no socket to server %s/%s: %m",
			f->l->conf->name, s->group, s->name);
	if (fd != -1)
		close(fd);
	return -1;
}

/* ---- scheduling and the session table ---- */

static uint64_t flow_expiry(struct worker *w, const struct worker_listener *l)
{
	return w->now_ms + l->conf->idle_timeout_ms;
}

/*
 * How often a worker tells the session table that a flow is alive: often
 * enough that the entry never expires while the flow has traffic here (a
 * quarter of idle_timeout), rarely enough that a busy flow costs the table
 * little.
 */
static uint64_t sync_interval(const struct worker_listener *l)
{
	uint64_t ms = l->conf->idle_timeout_ms / 4;

	return ms < UDP_SYNC_MIN_MS ? UDP_SYNC_MIN_MS : ms > UDP_SYNC_MAX_MS ? UDP_SYNC_MAX_MS : ms;
}

/* Counts a flow given to a server by the scheduler. */
static void count_new_flow(struct worker *w, struct udp_flow *f, bool new_client)
{
	struct slb_shm_listener *ls = listener_stats(f->l);
	struct slb_shm_server *s = server_stats(w, f->slot, f->serial);

	if (s)
		counter_add(&s->total, 1);
	if (ls && new_client)
		counter_add(&ls->total, 1);
}

static void flow_save(struct worker *w, struct udp_flow *f)
{
	slb_sessions_put(w->shm.sessions, &f->key, (uint32_t)f->slot, f->serial,
			 flow_expiry(w, f->l), w->now_ms);
	f->synced_ms = w->now_ms;
}

/*
 * Moves <f> off its server (failed, down, or gone with a reload): to the
 * server another worker already moved the flow to, else to a new pick that
 * is not <exclude>. Without any, the flow and its session end. Returns
 * whether the flow goes on.
 */
static bool flow_reschedule(struct worker *w, struct udp_flow *f, int exclude)
{
	struct slb_session s;
	int slot = -1;

	if (slb_sessions_lookup(w->shm.sessions, &f->key, w->now_ms, &s) &&
	    (int)s.server_slot != exclude && session_usable(w, f->l, &s))
		slot = (int)s.server_slot;
	if (slot < 0)
		slot = worker_persistence_pick(w, f->l, exclude, (const struct sockaddr *)&f->client);
	if (slot >= 0 && flow_connect(w, f, slot) == 0) {
		count_new_flow(w, f, false);
		flow_save(w, f);
		return true;
	}
	slb_sessions_remove(w->shm.sessions, &f->key);
	flow_close(w, f);
	return false;
}

/*
 * Tells the session table the flow is alive, and follows it if another
 * worker moved it meanwhile. Returns whether the flow goes on.
 */
static bool flow_sync(struct worker *w, struct udp_flow *f)
{
	struct slb_session s;

	if (slb_sessions_lookup(w->shm.sessions, &f->key, w->now_ms, &s) &&
	    ((int)s.server_slot != f->slot || s.server_serial != f->serial) &&
	    session_usable(w, f->l, &s) &&
	    flow_connect(w, f, (int)s.server_slot) == -1) {
		slb_sessions_remove(w->shm.sessions, &f->key);
		flow_close(w, f);
		return false;
	}
	flow_save(w, f);
	return true;
}

/* The server said the flow is unreachable: count it on the server, move the flow away. */
static void flow_failed(struct worker *w, struct udp_flow *f)
{
	struct slb_shm_server *s = server_stats(w, f->slot, f->serial);

	if (s)
		counter_add(&s->failed, 1);
	flow_reschedule(w, f, f->slot);
}

/* Is <err> the server telling us it cannot be reached (rather than e.g. a too-large datagram)? */
static bool unreachable(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ||
	       err == EHOSTDOWN || err == ENONET || err == EACCES || err == EPERM;
}

/*
 * Reads the errors queued on the flow's socket (IP_RECVERR keeps one per
 * ICMP message) and the pending socket error, and fails the flow when one
 * of them says the server is unreachable.
 */
static void flow_socket_errors(struct worker *w, struct udp_flow *f, int err)
{
	bool failed = unreachable(err);
	socklen_t len = sizeof(err);

	for (int i = 0; i < UDP_BATCH; i++) {
		char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		struct msghdr mh = { .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };

		if (recvmsg(f->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) == -1)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);

			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR))
				failed |= unreachable((int)ee->ee_errno);
		}
	}
	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0)
		failed |= unreachable(err);
	if (failed)
		flow_failed(w, f);
}

/* ---- client -> server ---- */

/* The address the client sent <mh> to, from its PKTINFO. */
static void flow_set_local(struct udp_flow *f, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			f->local_family = AF_INET;
			f->local.v4 = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			f->local_family = AF_INET6;
			f->local.v6 = pi.ipi6_addr;
			f->local_ifindex = IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ? pi.ipi6_ifindex : 0;
		}
	}
}

/*
 * A flow this worker does not carry yet: the session table's server if the
 * flow has one that is usable, else admission and a pick. Returns the flow,
 * or NULL when the datagram is to be dropped (counted).
 */
static struct udp_flow *flow_open(struct worker *w, struct worker_listener *l,
				  const struct slb_session_key *key, struct msghdr *mh)
{
	const struct sockaddr *client = mh->msg_name;
	struct slb_shm_listener *ls = listener_stats(l);
	struct slb_session s;
	bool known = slb_sessions_lookup(w->shm.sessions, key, w->now_ms, &s) &&
		     session_usable(w, l, &s);
	struct udp_flow *f;
	int slot;

	if (known) {
		/* Admitted when the session was made; the acl may have changed since. */
		if (!worker_acl_permits(l->conf, client)) {
			if (ls)
				counter_add(&ls->denied, 1);
			return NULL;
		}
		if (ls)
			atomic_fetch_add_explicit(&ls->active, 1, memory_order_relaxed);
		slot = (int)s.server_slot;
	} else {
		if (!worker_listener_admit(l, client))
			return NULL;
		slot = worker_persistence_pick(w, l, -1, client);
		if (slot < 0) {
			if (ls) {
				counter_add(&ls->no_server, 1);
				counter_release(&ls->active);
			}
			return NULL;
		}
	}
	f = conn_pool_get(sizeof(*f));
	if (!f) {
		if (ls)
			counter_release(&ls->active);
		return NULL;
	}
	f->tag = WORKER_TAG_UDP_FLOW;
	f->fd = -1;
	f->slot = -1;
	f->l = l;
	f->key = *key;
	memcpy(&f->client, client, mh->msg_namelen);
	f->client_len = mh->msg_namelen;
	if (l->pktinfo)
		flow_set_local(f, mh);
	f->hnext = *flow_bucket(w->udp, key);
	*flow_bucket(w->udp, key) = f;
	w->nflows++;
	flow_active(w, f);
	if (flow_connect(w, f, slot) == -1) {
		flow_close(w, f);
		return NULL;
	}
	if (!known)
		count_new_flow(w, f, true);
	flow_save(w, f);
	return f;
}

/* The flow <mh> belongs to, opened if needed; NULL when the datagram is dropped. */
static struct udp_flow *flow_for(struct worker *w, struct worker_listener *l, struct msghdr *mh)
{
	struct slb_session_key key;
	struct udp_flow *f;

	slb_session_key_make(&key, (uint32_t)l->slot, IPPROTO_UDP, mh->msg_name, true);
	f = flow_find(w->udp, &key);
	if (!f)
		return flow_open(w, l, &key, mh);
	if (!server_usable(w, (uint32_t)f->slot, f->serial)) {
		if (!flow_reschedule(w, f, f->slot))
			return NULL;
	} else if (w->now_ms - f->synced_ms >= sync_interval(l) && !flow_sync(w, f)) {
		return NULL;
	}
	return f;
}

static bool same_client(const struct msghdr *a, const struct msghdr *b)
{
	return a->msg_namelen == b->msg_namelen && memcmp(a->msg_name, b->msg_name, a->msg_namelen) == 0;
}

/* Sends the datagrams in[first..end) (all from one client) to its flow's server. */
static void forward_run(struct worker *w, struct worker_listener *l, int first, int end)
{
	struct udp_state *u = w->udp;
	struct udp_flow *f = flow_for(w, l, &u->in.msg[first].msg_hdr);
	int n = end - first, sent;
	uint64_t bytes = 0;

	if (!f)
		return;
	for (int k = 0; k < n; k++) {
		u->forward_iov[k] = (struct iovec){ u->in.buf[first + k], u->in.msg[first + k].msg_len };
		u->forward[k].msg_hdr = (struct msghdr){ .msg_iov = &u->forward_iov[k], .msg_iovlen = 1 };
	}
	sent = sendmmsg(f->fd, u->forward, (unsigned)n, MSG_DONTWAIT);
	if (sent == -1) {
		/* A full socket buffer drops the datagrams, as the network would. */
		if (unreachable(errno))
			flow_socket_errors(w, f, errno);
		return;
	}
	for (int k = 0; k < sent; k++)
		bytes += u->forward_iov[k].iov_len;
	flow_count_bytes(w, f, true, bytes);
	flow_active(w, f);
}

void udp_proxy_read(struct worker *w, struct worker_listener *l)
{
	struct udp_state *u = w->udp;

	for (int round = 0; round < UDP_ROUNDS; round++) {
		int n;

		for (int i = 0; i < UDP_BATCH; i++) {
			u->in.iov[i] = (struct iovec){ u->in.buf[i], UDP_DGRAM_MAX };
			u->in.msg[i].msg_hdr = (struct msghdr){
				.msg_iov = &u->in.iov[i],
				.msg_iovlen = 1,
				.msg_name = &u->in_addr[i],
				.msg_namelen = sizeof(u->in_addr[i]),
				.msg_control = u->in.ctrl[i],
				.msg_controllen = sizeof(u->in.ctrl[i]),
			};
		}
		n = recvmmsg(l->fd, u->in.msg, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n;) {
			int end = i + 1;

			while (end < n && same_client(&u->in.msg[i].msg_hdr, &u->in.msg[end].msg_hdr))
				end++;
			forward_run(w, l, i, end);
			i = end;
		}
		if (n < UDP_BATCH)
			return;
	}
}

/* ---- server -> client ---- */

/* Writes one control message of <len> bytes of <data> into <ctrl>; returns its space. */
static size_t put_cmsg(char *ctrl, int level, int type, const void *data, size_t len)
{
	struct msghdr mh = { .msg_control = ctrl, .msg_controllen = UDP_PKTINFO_SPACE };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	memset(ctrl, 0, CMSG_SPACE(len));
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	return CMSG_SPACE(len);
}

/* The PKTINFO in <ctrl> that makes a reply leave from the address the client used; its size or 0. */
static size_t reply_control(char *ctrl, const struct udp_flow *f)
{
	if (f->local_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = f->local.v4 };

		return put_cmsg(ctrl, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	if (f->local_family == AF_INET6) {
		struct in6_pktinfo pi = { .ipi6_addr = f->local.v6, .ipi6_ifindex = f->local_ifindex };

		return put_cmsg(ctrl, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	return 0;
}

/*
 * Sends the pending replies, one sendmmsg per run of one listening socket.
 * What a full socket buffer refuses is dropped, as the network would.
 */
void udp_proxy_flush(struct worker *w)
{
	struct udp_state *u = w->udp;

	for (unsigned i = 0; u && i < u->nout;) {
		int fd = u->out_flow[i]->l->fd, sent;
		unsigned end = i + 1;

		while (end < u->nout && u->out_flow[end]->l->fd == fd)
			end++;
		sent = sendmmsg(fd, &u->out.msg[i], end - i, MSG_DONTWAIT);
		for (unsigned k = i, last = i + (unsigned)(sent > 0 ? sent : 0); k < last;) {
			struct udp_flow *f = u->out_flow[k];
			uint64_t bytes = 0;

			for (; k < last && u->out_flow[k] == f; k++)
				bytes += u->out.iov[k].iov_len;
			flow_count_bytes(w, f, false, bytes);
		}
		i = end;
	}
	if (u)
		u->nout = 0;
}

/* Reads what <f>'s server sent into the free reply slots. Returns how many, or -1 (errno set). */
static int replies_read(struct udp_state *u, struct udp_flow *f)
{
	unsigned first = u->nout, space = UDP_BATCH - first;
	int n;

	for (unsigned k = first; k < UDP_BATCH; k++) {
		u->out.iov[k] = (struct iovec){ u->out.buf[k], UDP_DGRAM_MAX };
		u->out.msg[k].msg_hdr = (struct msghdr){ .msg_iov = &u->out.iov[k], .msg_iovlen = 1 };
	}
	n = recvmmsg(f->fd, &u->out.msg[first], space, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		unsigned k = first + (unsigned)i;
		size_t ctrl_len = reply_control(u->out.ctrl[k], f);

		u->out.iov[k].iov_len = u->out.msg[k].msg_len;
		u->out.msg[k].msg_hdr = (struct msghdr){
			.msg_name = &f->client,
			.msg_namelen = f->client_len,
			.msg_iov = &u->out.iov[k],
			.msg_iovlen = 1,
			.msg_control = ctrl_len ? u->out.ctrl[k] : NULL,
			.msg_controllen = ctrl_len,
		};
		u->out_flow[k] = f;
	}
	if (n > 0)
		u->nout += (unsigned)n;
	return n;
}

void udp_proxy_event(struct worker *w, enum worker_tag *tag, uint32_t events)
{
	struct udp_state *u = w->udp;
	struct udp_flow *f = flow_of(tag);

	if (f->closed)
		return;
	for (int round = 0; round < UDP_ROUNDS; round++) {
		unsigned space;
		int n;

		if (u->nout == UDP_BATCH)
			udp_proxy_flush(w);
		space = UDP_BATCH - u->nout;
		n = replies_read(u, f);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				flow_socket_errors(w, f, errno);
			return;
		}
		flow_active(w, f);
		if ((unsigned)n < space)
			break;
	}
	if (events & EPOLLERR) {
		flow_socket_errors(w, f, 0);
		return;
	}
	/* Replies are traffic too: a flow that only receives keeps its session. */
	if (w->now_ms - f->synced_ms >= sync_interval(f->l))
		flow_sync(w, f);
}

/* ---- lifetime ---- */

void udp_proxy_expire(struct worker *w, struct worker_listener *l)
{
	uint64_t idle = l->conf->idle_timeout_ms;

	/* The session expires on its own, unless another worker's traffic keeps it. */
	while (l->udp_flows.head) {
		struct udp_flow *f = dlist_entry(l->udp_flows.head, struct udp_flow, idle);

		if (f->last_ms + idle > w->now_ms)
			break;
		flow_close(w, f);
	}
}

void udp_proxy_reap(struct worker *w)
{
	while (w->udp && w->udp->graveyard) {
		struct udp_flow *f = w->udp->graveyard;

		w->udp->graveyard = f->next_dead;
		conn_pool_put(f, sizeof(*f));
	}
}

void udp_proxy_close_all(struct worker *w, struct worker_listener *l)
{
	while (l->udp_flows.head)
		flow_close(w, dlist_entry(l->udp_flows.head, struct udp_flow, idle));
}

int udp_proxy_init(struct worker *w)
{
	bool any = false;

	for (unsigned i = 0; i < w->nlisteners; i++)
		any |= w->listeners[i].conf->protocol == SLB_PROTO_UDP;
	if (!any)
		return 0;
	w->udp = calloc(1, sizeof(*w->udp));
	if (!w->udp)
		return -1;
	w->udp->socket_log = (struct slb_log_limit)SLB_LOG_LIMIT(10000);
	return 0;
}

void udp_proxy_free(struct worker *w)
{
	udp_proxy_reap(w);
	free(w->udp);
	w->udp = NULL;
}
