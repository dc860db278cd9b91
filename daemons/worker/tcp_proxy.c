/*
 * tcp_proxy.c - layer-4 proxying with splice(2).
 *
 * Bytes go socket -> pipe -> socket inside the kernel and are never copied
 * to user space. Both sockets of a connection are registered edge-triggered
 * for reading and writing; any event on either side pumps both directions
 * until the kernel says EAGAIN, which keeps the state machine small: a
 * direction is finished once its source sent FIN and its pipe is empty, at
 * which point the FIN is passed on with shutdown(SHUT_WR) (half-close).
 *
 * With proxy_protocol, each server connection (the retry's too) first gets
 * the PROXY header, encoded once when the client arrives and kept in the
 * connection record; no client byte goes up before the last header byte.
 */
#include "tcp_proxy.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_pool.h"
#include "log.h"
#include "proxy_header.h"
#include "worker_stats.h"

#define SPLICE_CHUNK (1u << 20)
#define COPY_CHUNK 16384 /* a read this full means bulk data: switch to splice */

enum conn_state { CONN_CONNECTING, CONN_OPEN };

/* One direction: bytes read from <src> wait in <pipe> until <dst> takes them. */
struct tcp_flow {
	struct slb_pipe pipe; /* -1 fds until first needed */
	bool spliced; /* bulk data seen: splice from now on */
	bool src_eof;
	bool dst_shut;
	uint64_t bytes;
};

/*
 * Readiness as edge-triggered epoll last reported it and splice last found
 * it: a flag is set by an event and cleared by EAGAIN, so a pump never
 * spends a syscall on a socket that has nothing to give or take.
 */
struct tcp_ready {
	bool readable;
	bool writable;
	bool peer_closed; /* the last event carried RDHUP/HUP: EOF is waiting */
};

struct tcp_conn {
	enum worker_tag client_tag; /* epoll data of the client socket */
	enum worker_tag server_tag; /* epoll data of the server socket */
	int cfd;
	int sfd;
	enum conn_state state;
	bool closed; /* waiting in the graveyard: later events of this batch are stale */
	bool retried;
	int slot; /* server slot in shm, -1 = none */
	uint32_t serial;
	struct worker_listener *l;
	struct tcp_flow up; /* client -> server */
	struct tcp_flow down; /* server -> client */
	struct tcp_ready client_ready;
	struct tcp_ready server_ready;
	uint64_t deadline_ms; /* connect deadline, then last activity */
	uint8_t proxy_header_len; /* 0 = the listener sends no PROXY header */
	uint8_t proxy_header_sent; /* how much of it the current server connection took */
	uint8_t proxy_header[SLB_PROXY_HEADER_MAX];
	struct dlist_node node; /* on its listener's connecting or open list */
	struct tcp_conn *next_dead; /* the worker's graveyard */
};

#define conn_of(tagp, member) \
	((struct tcp_conn *)((char *)(tagp) - offsetof(struct tcp_conn, member)))

/* The connection at the head of <list>, or NULL. */
static struct tcp_conn *list_head(const struct dlist *list)
{
	return list->head ? dlist_entry(list->head, struct tcp_conn, node) : NULL;
}

/* The slot may have been given to another server by a reload: check the serial. */
static struct slb_shm_server *conn_server(struct worker *w, const struct tcp_conn *c)
{
	return server_stats(w, c->slot, c->serial);
}

/* Gives up the server side: counters, socket, slot. */
static void conn_release_server(struct worker *w, struct tcp_conn *c)
{
	struct slb_shm_server *s = conn_server(w, c);

	if (s) {
		counter_release(&s->active);
		atomic_fetch_add_explicit(&s->bytes_out, c->up.bytes, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->bytes_in, c->down.bytes, memory_order_relaxed);
	}
	if (c->sfd >= 0)
		close(c->sfd);
	c->sfd = -1;
	c->slot = -1;
}

static void conn_close(struct worker *w, struct tcp_conn *c)
{
	struct slb_shm_listener *ls = listener_stats(c->l);

	conn_release_server(w, c);
	if (ls) {
		counter_release(&ls->active);
		atomic_fetch_add_explicit(&ls->bytes_in, c->up.bytes, memory_order_relaxed);
		atomic_fetch_add_explicit(&ls->bytes_out, c->down.bytes, memory_order_relaxed);
	}
	close(c->cfd);
	pipe_pool_put(&c->up.pipe);
	pipe_pool_put(&c->down.pipe);
	dlist_remove(&c->node);
	w->nconns--;
	/*
	 * The record may still be named by events later in this epoll batch:
	 * recycling it now would let them act on a new connection.
	 */
	c->closed = true;
	c->next_dead = w->graveyard;
	w->graveyard = c;
}

void tcp_proxy_reap(struct worker *w)
{
	while (w->graveyard) {
		struct tcp_conn *c = w->graveyard;

		w->graveyard = c->next_dead;
		conn_pool_put(c, sizeof(*c));
	}
}

static int epoll_add(struct worker *w, int fd, enum worker_tag *tag)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = tag,
	};

	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/*
 * Starts a non-blocking connect to <slot>. Returns 0 when it is under way
 * (or done), -1 when it failed at once (the caller may retry elsewhere).
 */
static int conn_connect(struct worker *w, struct tcp_conn *c, int slot)
{
	struct slb_shm_server *s = &w->shm.servers[slot];
	int one = 1;
	int fd;

	c->slot = slot;
	c->proxy_header_sent = 0;
	c->serial = atomic_load_explicit(&s->serial, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->active, 1, memory_order_relaxed);
	fd = socket(s->addr.u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c->sfd = fd;
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, &s->addr.u.sa, s->addr.len) == -1 && errno != EINPROGRESS)
		return -1;
	if (epoll_add(w, fd, &c->server_tag) == -1)
		return -1;
	c->state = CONN_CONNECTING;
	c->deadline_ms = w->now_ms + c->l->conf->connect_timeout_ms;
	dlist_append(&c->l->connecting, &c->node);
	return 0;
}

/*
 * The connect to the current server failed: count it, and try one other
 * server once before giving up on the client.
 */
static void conn_connect_failed(struct worker *w, struct tcp_conn *c)
{
	struct slb_shm_server *s = conn_server(w, c);
	int failed_slot = c->slot;

	if (s)
		atomic_fetch_add_explicit(&s->failed, 1, memory_order_relaxed);
	conn_release_server(w, c);
	while (!c->retried) {
		struct sockaddr_storage client;
		socklen_t len = sizeof(client);
		const struct sockaddr *sa = NULL;
		int slot;

		c->retried = true;
		/* sh/ch and persistence want the client's address; the failure path can afford asking. */
		if (c->l->sched.kind == SLB_SCHED_SH || c->l->sched.kind == SLB_SCHED_CH ||
		    c->l->conf->persistence != SLB_PERSIST_NONE) {
			if (getpeername(c->cfd, (struct sockaddr *)&client, &len) == 0)
				sa = (const struct sockaddr *)&client;
		}
		slot = worker_persistence_pick(w, c->l, failed_slot, sa);
		if (slot < 0)
			break;
		if (conn_connect(w, c, slot) == 0)
			return;
		s = conn_server(w, c);
		if (s)
			atomic_fetch_add_explicit(&s->failed, 1, memory_order_relaxed);
		conn_release_server(w, c);
	}
	conn_close(w, c);
}

/* The flow's pipe, taken from the pool the first time it is needed. */
static int flow_pipe(struct tcp_flow *f)
{
	if (f->pipe.rfd >= 0)
		return 0;
	return pipe_pool_get(&f->pipe);
}

/*
 * Copy mode: one recv() into the stack and one send(). Short exchanges (a
 * request, a small response) cost less this way than splicing through a
 * pipe; what the destination does not take at once is parked in the pipe,
 * and a read that fills the whole buffer switches the flow to splice for
 * good. Returns 1 on progress, 0 when the source is dry, -1 on error.
 */
static int flow_copy(struct tcp_flow *f, int src, struct tcp_ready *src_ready, int dst,
		     struct tcp_ready *dst_ready)
{
	char buf[COPY_CHUNK];
	ssize_t n = recv(src, buf, sizeof(buf), 0), m = 0;

	if (n == 0) {
		f->src_eof = true;
		return 1;
	}
	if (n == -1) {
		if (errno == EAGAIN) {
			src_ready->readable = false;
			return 0;
		}
		return errno == EINTR ? 0 : -1;
	}
	if (n == (ssize_t)sizeof(buf))
		f->spliced = true;
	else if (!src_ready->peer_closed)
		/*
		 * A short read emptied the socket, and edge-triggered epoll
		 * reports every later arrival: no need for a recv that says
		 * EAGAIN. Not when a FIN was already reported: it waits behind
		 * the data and no new event will announce it.
		 */
		src_ready->readable = false;
	if (dst_ready->writable) {
		m = send(dst, buf, (size_t)n, MSG_NOSIGNAL);
		if (m == -1) {
			if (errno != EAGAIN && errno != EINTR)
				return -1;
			m = 0;
		}
	}
	f->bytes += (uint64_t)m;
	if (m < n) {
		/* The pipe is empty here (copy mode reads only then) and holds 64 KiB. */
		dst_ready->writable = false;
		if (flow_pipe(f) == -1 || write(f->pipe.wfd, buf + m, (size_t)(n - m)) != n - m)
			return -1;
		f->pipe.len = (size_t)(n - m);
	}
	return 1;
}

/* Splice mode: socket -> pipe. Returns 1 on progress, 0 when nothing moved, -1 on error. */
static int flow_splice_in(struct tcp_flow *f, int src, struct tcp_ready *src_ready)
{
	bool dry = false;
	ssize_t n;

	if (flow_pipe(f) == -1)
		return -1;
	n = pipe_fill(&f->pipe, src, SPLICE_CHUNK, &dry);
	if (n > 0)
		return 1;
	if (n == 0) {
		f->src_eof = true;
		return 1;
	}
	if (errno == EAGAIN) {
		if (dry)
			src_ready->readable = false;
		return 0;
	}
	return errno == EINTR ? 0 : -1;
}

/*
 * Moves what can move from <src> to <dst>. Returns 1 when bytes moved, 0
 * when nothing could, -1 when the connection is broken.
 */
static int flow_pump(struct tcp_flow *f, int src, struct tcp_ready *src_ready, int dst,
		     struct tcp_ready *dst_ready, bool other_done)
{
	int moved = 0;

	for (;;) {
		int progress = 0;

		if (!f->src_eof && src_ready->readable) {
			if (f->spliced)
				progress = flow_splice_in(f, src, src_ready);
			else if (f->pipe.len == 0)
				progress = flow_copy(f, src, src_ready, dst, dst_ready);
			if (progress == -1)
				return -1;
		}
		if (f->pipe.len > 0 && dst_ready->writable) {
			ssize_t n = pipe_drain(&f->pipe, dst);

			if (n > 0) {
				f->bytes += (uint64_t)n;
				progress = 1;
			} else if (errno == EAGAIN) {
				dst_ready->writable = false;
			} else if (errno != EINTR) {
				return -1;
			}
		}
		if (!progress)
			break;
		moved = 1;
	}
	if (f->src_eof && f->pipe.len == 0 && !f->dst_shut) {
		/*
		 * Pass the FIN on; the other direction keeps going (half-close).
		 * When the other direction is done too, the close that follows
		 * sends this FIN: both sides' data was read to EOF, so no reset.
		 */
		if (!other_done && shutdown(dst, SHUT_WR) == -1 && errno != ENOTCONN)
			return -1;
		f->dst_shut = true;
	}
	return moved;
}

static bool flow_done(const struct tcp_flow *f)
{
	return f->dst_shut;
}

/*
 * Sends what the server has not taken yet of the PROXY header. Returns 1
 * once it is all sent, 0 while the rest waits for the server socket to be
 * writable, -1 on error. The header is not counted in the bytes of the
 * connection: those are the client's.
 */
static int proxy_header_send(struct tcp_conn *c)
{
	while (c->proxy_header_sent < c->proxy_header_len) {
		ssize_t n;

		if (!c->server_ready.writable)
			return 0;
		n = send(c->sfd, c->proxy_header + c->proxy_header_sent,
			 (size_t)(c->proxy_header_len - c->proxy_header_sent), MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN)
				c->server_ready.writable = false;
			else if (errno != EINTR)
				return -1;
			continue;
		}
		c->proxy_header_sent += (uint8_t)n;
	}
	return 1;
}

static void conn_pump(struct worker *w, struct tcp_conn *c)
{
	int header = proxy_header_send(c);
	int up = header != 1 ? header :
		 flow_pump(&c->up, c->cfd, &c->client_ready, c->sfd, &c->server_ready,
			   c->down.dst_shut);
	int down = up == -1 ? -1 :
		   flow_pump(&c->down, c->sfd, &c->server_ready, c->cfd, &c->client_ready,
			     c->up.dst_shut);

	if (up == -1 || down == -1 || (flow_done(&c->up) && flow_done(&c->down))) {
		conn_close(w, c);
		return;
	}
	if (up > 0 || down > 0) {
		c->deadline_ms = w->now_ms;
		dlist_append(&c->l->open, &c->node);
	}
}

/* Records what an epoll event says a socket can do now. */
static void ready_update(struct tcp_ready *ready, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ready->readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP))
		ready->peer_closed = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		ready->writable = true;
}

/*
 * Encodes the listener's PROXY header for <client>, who connected to the
 * address <cfd> is bound to. Returns 0, or -1 when that address is unknown.
 */
static int proxy_header_prepare(struct tcp_conn *c, int cfd, const struct sockaddr *client)
{
	struct sockaddr_storage vip;
	socklen_t len = sizeof(vip);

	if (c->l->conf->proxy_protocol == SLB_PROXY_PROTOCOL_NONE) {
		c->proxy_header_len = 0;
		return 0;
	}
	if (getsockname(cfd, (struct sockaddr *)&vip, &len) == -1)
		return -1;
	c->proxy_header_len = (uint8_t)slb_proxy_header_encode(
		c->l->conf->proxy_protocol, client, (const struct sockaddr *)&vip, c->proxy_header);
	return 0;
}

/* <events>: what epoll reported with the connect's completion. */
static void conn_established(struct worker *w, struct tcp_conn *c, uint32_t events)
{
	struct slb_shm_server *s = conn_server(w, c);
	struct slb_shm_listener *ls = listener_stats(c->l);

	c->state = CONN_OPEN;
	/* A server that speaks (or closes) first has said so in <events> already. */
	c->server_ready = (struct tcp_ready){ .writable = true };
	ready_update(&c->server_ready, events);
	if (s)
		atomic_fetch_add_explicit(&s->total, 1, memory_order_relaxed);
	if (ls)
		atomic_fetch_add_explicit(&ls->total, 1, memory_order_relaxed);
	c->deadline_ms = w->now_ms;
	dlist_append(&c->l->open, &c->node);
	conn_pump(w, c);
}

static void server_connect_event(struct worker *w, struct tcp_conn *c, uint32_t events)
{
	/* EPOLLOUT alone means connected: no getsockopt(SO_ERROR) needed. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_connect_failed(w, c);
		return;
	}
	if (events & EPOLLOUT)
		conn_established(w, c, events);
}

void tcp_proxy_event(struct worker *w, enum worker_tag *tag, uint32_t events)
{
	struct tcp_conn *c;

	if (*tag == WORKER_TAG_SERVER) {
		c = conn_of(tag, server_tag);
		if (c->closed)
			return;
		if (c->state == CONN_CONNECTING) {
			server_connect_event(w, c, events);
			return;
		}
		ready_update(&c->server_ready, events);
	} else {
		c = conn_of(tag, client_tag);
		if (c->closed)
			return;
		ready_update(&c->client_ready, events);
		if (c->state == CONN_CONNECTING) {
			/* Data waits in the socket until the server is there; an error does not. */
			if (events & EPOLLERR)
				conn_close(w, c);
			return;
		}
	}
	conn_pump(w, c);
}

void tcp_proxy_start(struct worker *w, struct worker_listener *l, int cfd,
		     const struct sockaddr *client)
{
	struct tcp_conn *c = conn_pool_get(sizeof(*c));
	struct slb_shm_listener *ls = listener_stats(l);
	int slot;

	if (!c) {
		if (ls)
			counter_release(&ls->active);
		close(cfd);
		return;
	}
	c->client_tag = WORKER_TAG_CLIENT;
	c->server_tag = WORKER_TAG_SERVER;
	c->cfd = cfd;
	c->sfd = -1;
	c->slot = -1;
	c->l = l;
	c->up.pipe.rfd = c->up.pipe.wfd = -1;
	c->down.pipe.rfd = c->down.pipe.wfd = -1;
	c->client_ready = (struct tcp_ready){ .readable = true, .writable = true };
	w->nconns++;
	if (proxy_header_prepare(c, cfd, client) == -1) {
		conn_close(w, c);
		return;
	}
	slot = worker_persistence_pick(w, l, -1, client);
	if (slot < 0) {
		/* No server is up: close the client at once rather than let it wait. */
		if (ls)
			atomic_fetch_add_explicit(&ls->no_server, 1, memory_order_relaxed);
		conn_close(w, c);
		return;
	}
	if (epoll_add(w, cfd, &c->client_tag) == -1) {
		conn_close(w, c);
		return;
	}
	if (conn_connect(w, c, slot) == -1)
		conn_connect_failed(w, c);
}

void tcp_proxy_expire(struct worker *w, struct worker_listener *l)
{
	uint64_t idle = l->conf->idle_timeout_ms;

	struct tcp_conn *c;

	while ((c = list_head(&l->connecting)) && c->deadline_ms <= w->now_ms)
		conn_connect_failed(w, c);
	while ((c = list_head(&l->open)) && c->deadline_ms + idle <= w->now_ms)
		conn_close(w, c);
}

unsigned tcp_proxy_drain_servers(struct worker *w, struct worker_listener *l,
				 uint64_t now_real_ms)
{
	struct dlist *lists[2] = { &l->connecting, &l->open };
	unsigned closed = 0;

	for (unsigned i = 0; i < 2; i++) {
		struct dlist_node *n = lists[i]->head;

		while (n) {
			struct tcp_conn *c = dlist_entry(n, struct tcp_conn, node);
			struct dlist_node *next = n->next; /* conn_close() unlinks n */
			struct slb_shm_server *s = conn_server(w, c);
			uint64_t deadline = s ? atomic_load_explicit(&s->drain_deadline_ms,
								    memory_order_relaxed)
					      : 0;

			if (deadline && deadline <= now_real_ms) {
				conn_close(w, c);
				closed++;
			}
			n = next;
		}
	}
	return closed;
}

void tcp_proxy_close_all(struct worker *w, struct worker_listener *l)
{
	struct tcp_conn *c;

	while ((c = list_head(&l->connecting)))
		conn_close(w, c);
	while ((c = list_head(&l->open)))
		conn_close(w, c);
}
