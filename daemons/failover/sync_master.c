/*
 * sync_master.c - the master's side of session sync: it serves its session
 * table on [failover] sync_port to the backup.
 *
 * A backup connects; each side says HELLO (with a key, the backup's proves
 * the key against this connection's fresh nonce before anything is sent).
 * The backup then gets a bulk copy, every live session, then BULK_END, then
 * the changes: every SYNC_POLL_MS the table is walked for what changed
 * since where the walk before said (slb_sessions_walk_range: before any
 * write it passed in flight), so the workers' hot
 * path does nothing for replication. Sessions travel by listener, group
 * and server names and time left, never by slots or absolute times.
 *
 * Removals travel too: a removed session is a tombstone the walk reports
 * (REMOVE), and each poll reads the table's flush log (FLUSH, in order with
 * the sessions queued before it). After a flush the next walk goes back to
 * the change number the flush began at, so a session put during or after
 * the flush but sent before the FLUSH is sent again.
 *
 * A live session a put evicted from a full bucket is in the table's
 * eviction log: each poll sends REMOVE for those logged since, and the
 * next walk goes back to before the first, so that a session put again
 * after its eviction is sent again after its REMOVE.
 *
 * A peer that a log lost records for (over SLB_SESSIONS_FLUSH_LOG flushes
 * or SLB_SESSIONS_EVICTION_LOG evictions in one poll) is dropped: its next
 * bulk copy refreshes its table in place and then removes what the copy
 * did not carry. Not a FLUSH of everything and a walk of the whole table:
 * that empties the backup's table until the walk is sent, and a takeover
 * then would lose every session.
 *
 * Nothing here blocks the election: a walk goes SYNC_WALK_CHUNK entries
 * per turn of the loop (a 1M-entry table is ~20 ms to walk, spread so over
 * 16 turns), sockets are non-blocking, the send buffer is bounded, and
 * sessions waiting for it are a bounded queue of copies. A peer that
 * cannot keep up (no progress for SYNC_STALL_MS, or a queue over twice the
 * table's capacity) is dropped; it reconnects and starts over with a fresh
 * bulk copy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "failover.h"
#include "log.h"
#include "sessions.h"

enum peer_state {
	PEER_HELLO, /* waiting for its HELLO */
	PEER_BULK, /* the bulk copy: walked, then sent, then BULK_END */
	PEER_STREAM, /* the changes */
};

/* What waits for room in the send buffer: a session (live or removed) or a flush. */
struct sync_item {
	struct slb_session session;
	bool flush; /* a flush of listener slot <flush_listener> (-1: all); <session> unused */
	int flush_listener;
};

struct sync_peer {
	struct sync_conn *conn;
	enum peer_state state;
	bool overflow; /* a walk found more than the queue may hold */
	struct sync_item *queue; /* copies waiting for room in the send buffer */
	size_t queued, queue_cap, queue_next, queue_max;
	uint32_t bulk_count; /* sessions of the bulk copy sent */
	bool walking; /* a walk is under way, at <cursor> */
	uint32_t cursor;
	uint64_t walk_since; /* the walk under way sends what changed after this */
	uint64_t walk_next; /* the earliest start a range of it returned: where the next one starts */
	uint64_t since; /* the next walk sends what changed after this */
	uint64_t flushes; /* the table's flushes this peer was told of */
	uint64_t evictions; /* the table's evictions this peer was told of */
};

/* Closes peer <i>, saying <why> (NULL: said already); before its HELLO only at debug level. */
static void peer_drop(struct failover *f, unsigned i, const char *why)
{
	struct sync_peer *p = f->sync_peers[i];

	if (why)
		slb_log(p->state != PEER_HELLO ? LOG_INFO : LOG_DEBUG, "sync: backup %s dropped: %s",
			p->conn->name, why);
	sync_conn_free(f, p->conn);
	free(p->queue);
	free(p);
	f->sync_peers[i] = NULL;
}

int sync_master_open(struct failover *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = f->self,
				  .sin_port = htons((uint16_t)f->fc->sync_port) };
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* SO_REUSEPORT: after a reload the next slb-failover binds while this one drains. */
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(fd, 8) == -1) {
		slb_err("sync: cannot listen on %s:%u: %m", inet_ntoa(f->self), f->fc->sync_port);
		if (fd != -1)
			close(fd);
		return -1;
	}
	ev.data.fd = fd;
	if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		slb_err("sync: epoll: %m");
		close(fd);
		return -1;
	}
	f->sync_listen_fd = fd;
	return 0;
}

static void on_accept(struct failover *f)
{
	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		struct slb_sync_frame hello;
		struct sync_peer *p;
		unsigned slot;
		int fd = accept4(f->sync_listen_fd, (struct sockaddr *)&from, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1)
			return;
		for (slot = 0; slot < SYNC_MAX_PEERS && f->sync_peers[slot]; slot++)
			;
		/* Only a master serves: a backup that asks here retries where the adverts say. */
		if (f->state != SLB_FAILOVER_MASTER || slot == SYNC_MAX_PEERS) {
			close(fd);
			continue;
		}
		p = calloc(1, sizeof(*p));
		if (!p || !(p->conn = sync_conn_new(f, fd, from.sin_addr))) {
			free(p);
			continue;
		}
		/* At most two full walks' worth of sessions wait: more is a peer that cannot keep up. */
		p->queue_max = 2 * (size_t)slb_sessions_capacity(f->shm->sessions);
		f->sync_peers[slot] = p;
		/* Its HELLO must be bound to our fresh nonce; ours goes out with zeros (tx.nonce). */
		memcpy(p->conn->rx.nonce, p->conn->nonce, SLB_SYNC_NONCE_LEN);
		sync_conn_hello(f, p->conn, &hello);
		if (sync_conn_queue(f, p->conn, &hello) == -1 || sync_conn_flush(f, p->conn) == -1)
			peer_drop(f, slot, "cannot send HELLO");
	}
}

/* The next free item of the queue, or NULL (overflow set) when it is at its bound. */
static struct sync_item *queue_next_free(struct sync_peer *p)
{
	if (p->queued == p->queue_cap) {
		size_t cap = p->queue_cap ? 2 * p->queue_cap : 1024;
		struct sync_item *q = NULL;

		if (cap <= p->queue_max)
			q = realloc(p->queue, cap * sizeof(*q));
		if (!q) {
			p->overflow = true;
			return NULL;
		}
		p->queue = q;
		p->queue_cap = cap;
	}
	return &p->queue[p->queued++];
}

/* slb_sessions_walk_range() visitor: a copy of every session to send, up to the queue's bound. */
static int enqueue(const struct slb_session *s, void *arg)
{
	struct sync_item *item = queue_next_free(arg);

	if (!item)
		return -1;
	item->session = *s;
	item->flush = false;
	return 0;
}

static void enqueue_flush(struct sync_peer *p, int listener)
{
	struct sync_item *item = queue_next_free(p);

	if (!item)
		return;
	item->flush = true;
	item->flush_listener = listener;
}

/* Whether change number <a> is before <b> (0: before everything); they may wrap. */
static bool change_before(uint64_t a, uint64_t b)
{
	return a == 0 || (b != 0 && (int64_t)(a - b) < 0);
}

/*
 * Queues a FLUSH for each flush since the peer's last look and takes the
 * next walk back to where the first began. Between two walks only, after
 * every session read before the flush was queued. False when the log lost
 * one: the peer must start over.
 */
static bool poll_flushes(struct failover *f, struct sync_peer *p)
{
	struct slb_sessions *t = f->shm->sessions;
	uint64_t flushes = slb_sessions_flushes(t), began;
	int listener;

	for (; p->flushes != flushes; p->flushes++) {
		int got = slb_sessions_flushed(t, p->flushes + 1, &listener, &began);

		if (got == 0)
			return true; /* its writer is not done: the next poll reads it */
		if (got < 0)
			return false;
		enqueue_flush(p, listener);
		if (change_before(began, p->since))
			p->since = began;
	}
	return true;
}

/*
 * Queues a REMOVE for each session evicted since the peer's last look and
 * takes the next walk back to before the first. Between two walks only.
 * False when the log lost one: the peer must start over.
 */
static bool poll_evictions(struct failover *f, struct sync_peer *p)
{
	struct slb_sessions *t = f->shm->sessions;
	uint64_t evictions = slb_sessions_evictions(t), stamp;
	struct slb_session evicted;

	for (; p->evictions != evictions; p->evictions++) {
		int got = slb_sessions_evicted(t, p->evictions + 1, &evicted, &stamp);

		if (got == 0)
			return true; /* its writer is not done: the next poll reads it */
		if (got < 0)
			return false;
		enqueue(&evicted, p);
		if (change_before(stamp, p->since))
			p->since = stamp;
	}
	return true;
}

/* Starts a walk for what was stamped after <since>; <now_change> is the change number now. */
static void walk_start(struct sync_peer *p, uint64_t since, uint64_t now_change)
{
	p->walking = true;
	p->cursor = 0;
	p->walk_since = since;
	p->walk_next = now_change;
}

/*
 * Every SYNC_POLL_MS, a walk from where the last one said (before any
 * write it passed under way, slb_sessions_walk_range), when something was
 * stamped since.
 */
static void poll_changes(struct failover *f, struct sync_peer *p)
{
	uint64_t now_change = slb_sessions_walk_range(f->shm->sessions, 0, f->now_ms, 0, 0, NULL, NULL);

	if (now_change == p->since)
		return;
	walk_start(p, p->since, now_change);
}

/* One chunk of the peer's walk; at its end the next walk's start moves on. False if the queue overflowed. */
static bool walk_step(struct failover *f, struct sync_peer *p)
{
	uint32_t capacity = slb_sessions_capacity(f->shm->sessions);

	uint64_t next = slb_sessions_walk_range(f->shm->sessions, p->walk_since, f->now_ms,
						p->cursor, SYNC_WALK_CHUNK, enqueue, p);

	if (p->overflow)
		return false;
	if (change_before(next, p->walk_next))
		p->walk_next = next;
	p->cursor = capacity - p->cursor > SYNC_WALK_CHUNK ? p->cursor + SYNC_WALK_CHUNK : capacity;
	if (p->cursor < capacity)
		return true;
	p->walking = false;
	p->since = p->walk_next;
	return true;
}

/* The name of listener slot <slot> into <name> (SLB_NAME_MAX bytes, zeroed); false when it is gone. */
static bool listener_name(const struct slb_shm *shm, unsigned slot, char *name)
{
	if (slot >= shm->hdr->listener_capacity || atomic_load(&shm->listeners[slot].serial) == 0)
		return false;
	memcpy(name, shm->listeners[slot].name, SLB_NAME_MAX - 1);
	return true;
}

/* The wire form of removed session <s>: its client and listener name. False when the listener is gone. */
static bool remove_frame(const struct failover *f, const struct slb_session *s,
			 struct slb_sync_frame *out)
{
	struct slb_sync_remove *w = &out->u.remove;

	memset(out, 0, sizeof(*out));
	out->type = SLB_SYNC_REMOVE;
	w->protocol = s->key.protocol;
	w->family = s->key.family;
	w->port = s->key.port;
	memcpy(w->addr, s->key.addr, sizeof(w->addr));
	return listener_name(f->shm, s->key.listener, w->listener);
}

/* The wire form of a flush of listener slot <listener> (-1: all). False when the listener is gone. */
static bool flush_frame(const struct failover *f, int listener, struct slb_sync_frame *out)
{
	memset(out, 0, sizeof(*out));
	out->type = SLB_SYNC_FLUSH;
	return listener < 0 || listener_name(f->shm, (unsigned)listener, out->u.flush_listener);
}

/* The wire form of <s>: by names and time left. False when its slots are gone or it expired. */
static bool session_frame(const struct failover *f, const struct slb_session *s,
			  struct slb_sync_frame *out)
{
	const struct slb_shm *shm = f->shm;
	const struct slb_shm_server *srv;
	struct slb_sync_session *w = &out->u.session;

	memset(out, 0, sizeof(*out));
	if (s->server_slot >= shm->hdr->server_capacity || s->expires_ms <= f->now_ms ||
	    !listener_name(shm, s->key.listener, w->listener))
		return false;
	srv = &shm->servers[s->server_slot];
	if (atomic_load(&srv->serial) != s->server_serial)
		return false;
	out->type = SLB_SYNC_SESSION;
	w->protocol = s->key.protocol;
	w->family = s->key.family;
	w->port = s->key.port;
	memcpy(w->addr, s->key.addr, sizeof(w->addr));
	w->ttl_ms = s->expires_ms - f->now_ms > UINT32_MAX ? UINT32_MAX
							    : (uint32_t)(s->expires_ms - f->now_ms);
	memcpy(w->group, srv->group, sizeof(w->group) - 1);
	memcpy(w->server, srv->name, sizeof(w->server) - 1);
	return true;
}

/* The wire form of queued <item>; false when there is nothing to send for it. */
static bool item_frame(const struct failover *f, const struct sync_item *item,
		       struct slb_sync_frame *out)
{
	if (item->flush)
		return flush_frame(f, item->flush_listener, out);
	if (item->session.removed)
		return remove_frame(f, &item->session, out);
	return session_frame(f, &item->session, out);
}

/* Encodes what the send buffer has room for: queued items, BULK_END after the bulk copy, a heartbeat. */
static void fill(struct failover *f, struct sync_peer *p)
{
	struct sync_conn *c = p->conn;
	struct slb_sync_frame frame;

	while (sync_conn_room(c) >= SLB_SYNC_MAX_FRAME && p->queue_next < p->queued)
		if (item_frame(f, &p->queue[p->queue_next++], &frame) &&
		    sync_conn_queue(f, c, &frame) == 0 && p->state == PEER_BULK &&
		    frame.type == SLB_SYNC_SESSION)
			p->bulk_count++;
	if (p->queue_next == p->queued)
		p->queued = p->queue_next = 0;
	if (p->state == PEER_BULK && !p->walking && p->queue_next == p->queued &&
	    sync_conn_room(c) >= SLB_SYNC_MAX_FRAME) {
		memset(&frame, 0, sizeof(frame));
		frame.type = SLB_SYNC_BULK_END;
		frame.u.bulk_count = p->bulk_count;
		sync_conn_queue(f, c, &frame);
		p->state = PEER_STREAM;
		slb_info("sync: bulk copy to %s sent: %u sessions", c->name, p->bulk_count);
	}
	if (f->now_ms >= c->last_tx_ms + SYNC_HEARTBEAT_MS && sync_conn_room(c) >= SLB_SYNC_MAX_FRAME) {
		memset(&frame, 0, sizeof(frame));
		frame.type = SLB_SYNC_HEARTBEAT;
		sync_conn_queue(f, c, &frame);
	}
}

/* Sends what can be sent now; false when the peer is to be dropped (logged). */
static bool pump(struct failover *f, unsigned i)
{
	struct sync_peer *p = f->sync_peers[i];

	if (p->state != PEER_HELLO)
		fill(f, p);
	if (sync_conn_flush(f, p->conn) == -1) {
		peer_drop(f, i, strerror(errno));
		return false;
	}
	if (sync_conn_stalled(f, p->conn)) {
		peer_drop(f, i, "too slow, its copy starts over when it reconnects");
		return false;
	}
	return true;
}

/* A backup's HELLO checked: the bulk copy starts. */
static bool start_streaming(struct failover *f, unsigned i, const struct slb_sync_hello *h)
{
	struct sync_peer *p = f->sync_peers[i];

	if (h->vrid != f->fc->vrid) {
		peer_drop(f, i, "it is in another vrid");
		return false;
	}
	memcpy(p->conn->tx.nonce, h->nonce, SLB_SYNC_NONCE_LEN);
	if (f->sync_refused.s_addr == p->conn->addr.s_addr)
		f->sync_refused.s_addr = 0;
	p->state = PEER_BULK;
	/* Flushes and evictions from now on are news to it; those before, the bulk copy shows. */
	p->flushes = slb_sessions_flushes(f->shm->sessions);
	p->evictions = slb_sessions_evictions(f->shm->sessions);
	walk_start(p, 0, slb_sessions_walk_range(f->shm->sessions, 0, f->now_ms, 0, 0, NULL, NULL));
	slb_info("sync: backup %s (node %s) connected, sending its bulk copy", p->conn->name,
		 h->node);
	return true;
}

/* A refused frame: the peer goes; a refusal about the key is logged once per peer. */
static void refuse(struct failover *f, unsigned i, enum slb_sync_verdict v)
{
	struct sync_peer *p = f->sync_peers[i];

	if (v != SLB_SYNC_AUTH_BAD && v != SLB_SYNC_AUTH_MISSING && v != SLB_SYNC_AUTH_UNEXPECTED) {
		peer_drop(f, i, sync_refusal(v));
		return;
	}
	if (f->sync_refused.s_addr != p->conn->addr.s_addr) {
		f->sync_refused = p->conn->addr;
		slb_warn("sync: backup %s refused: %s", p->conn->name, sync_refusal(v));
	}
	peer_drop(f, i, NULL);
}

static void on_readable(struct failover *f, unsigned i)
{
	struct sync_peer *p = f->sync_peers[i];
	struct slb_sync_frame frame;
	enum slb_sync_verdict v;

	if (sync_conn_read(f, p->conn) == -1) {
		peer_drop(f, i, errno == ECONNRESET ? "connection closed" : strerror(errno));
		return;
	}
	while ((v = sync_conn_next(p->conn, &frame)) == SLB_SYNC_OK) {
		if (p->state == PEER_HELLO && frame.type == SLB_SYNC_HELLO) {
			if (!start_streaming(f, i, &frame.u.hello))
				return;
		} else if (p->state == PEER_HELLO || frame.type != SLB_SYNC_HEARTBEAT) {
			peer_drop(f, i, "unexpected frame");
			return;
		}
	}
	if (v != SLB_SYNC_NEED_MORE)
		refuse(f, i, v);
	else
		pump(f, i);
}

bool sync_master_on_event(struct failover *f, int fd, uint32_t events)
{
	if (fd == f->sync_listen_fd) {
		on_accept(f);
		return true;
	}
	for (unsigned i = 0; i < SYNC_MAX_PEERS; i++) {
		struct sync_peer *p = f->sync_peers[i];

		if (!p || p->conn->fd != fd)
			continue;
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_readable(f, i);
		else
			pump(f, i);
		return true;
	}
	return false;
}

void sync_master_tick(struct failover *f)
{
	bool poll = f->now_ms >= f->sync_poll_ms;

	for (unsigned i = 0; i < SYNC_MAX_PEERS; i++) {
		struct sync_peer *p = f->sync_peers[i];

		if (!p)
			continue;
		if (f->state != SLB_FAILOVER_MASTER) {
			peer_drop(f, i, "this node is no longer master");
			continue;
		}
		if (p->state == PEER_HELLO && f->now_ms >= p->conn->last_rx_ms + SYNC_SILENCE_MS) {
			peer_drop(f, i, "no HELLO");
			continue;
		}
		if (poll && p->state != PEER_HELLO && !p->walking) {
			const char *lost = NULL;
			char why[80];

			if (!poll_flushes(f, p))
				lost = "flushes";
			else if (!poll_evictions(f, p))
				lost = "evictions";
			if (lost) {
				snprintf(why, sizeof(why), "%s lost to it, its copy starts over "
					 "when it reconnects", lost);
				peer_drop(f, i, why);
				continue;
			}
		}
		if (poll && p->state == PEER_STREAM && !p->walking)
			poll_changes(f, p);
		if (p->overflow || (p->walking && !walk_step(f, p))) {
			peer_drop(f, i, "too slow, its copy starts over when it reconnects");
			continue;
		}
		pump(f, i);
	}
	if (poll)
		f->sync_poll_ms = f->now_ms + SYNC_POLL_MS;
}

void sync_master_close(struct failover *f)
{
	for (unsigned i = 0; i < SYNC_MAX_PEERS; i++)
		if (f->sync_peers[i])
			peer_drop(f, i, NULL);
	if (f->sync_listen_fd != -1)
		close(f->sync_listen_fd);
	f->sync_listen_fd = -1;
}

uint64_t sync_master_next_due(const struct failover *f)
{
	uint64_t due = UINT64_MAX;

	for (unsigned i = 0; i < SYNC_MAX_PEERS; i++) {
		if (f->sync_peers[i] && f->sync_peers[i]->walking)
			return f->now_ms; /* the next chunk, after a look at the sockets */
		if (f->sync_peers[i])
			due = f->sync_poll_ms;
	}
	return due;
}
