/*
 * sync_backup.c - the backup's side of session sync: a connection to the
 * master's sync_port, whose sessions it writes into this node's own table.
 *
 * The master is the address its adverts come from (shm master_addr); until
 * one was heard, the single unicast peer if there is one. Sessions arrive by
 * names: the listener and the server are looked up here, and a session for
 * one this node does not have is dropped and counted (in shared memory, for
 * slb_failover_sync_dropped_sessions_total). The expiry is now plus
 * the time left the master sent. A REMOVE or FLUSH from the master removes
 * the same here (by listener name; one this node does not have has none).
 *
 * A bulk copy refreshes every session the master has, in place, and the
 * sessions it did not refresh (written before it began: the master removed
 * or flushed them while the connection was down, or had them from this
 * node before) are removed once BULK_END is in, SYNC_WALK_CHUNK entries a
 * turn. The table is never emptied first: a takeover in the middle of the
 * copy keeps what this node had, as without a copy.
 *
 * A returning higher-priority node preempts only once its bulk copy is
 * complete and pruned (sync_backup_ready); on any takeover, what the master
 * sent up to that moment is applied, and a prune under way finished, before
 * the VIPs are added (sync_backup_take_over).
 * A master silent for SYNC_SILENCE_MS, or a frame refused, closes the
 * connection; the next try is SYNC_RETRY_MS later, with a fresh bulk copy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "failover.h"
#include "log.h"
#include "sessions.h"

#define RECEIVE_MAX_READS 16 /* per wake-up: 256 KiB at most */
#define TAKE_OVER_MAX_READS 1024 /* on takeover: 16 MiB, more than a socket buffer holds */

static struct slb_log_limit dropped_log = SLB_LOG_LIMIT(10000);

static void disconnect(struct failover *f, const char *why)
{
	struct sync_backup *b = &f->sync_in;

	if (!b->conn)
		return;
	if (why && b->hello_done)
		slb_info("sync: connection to master %s closed: %s", b->conn->name, why);
	else if (why && !b->failure_logged)
		slb_warn("sync: no session copy from %s: %s (logged once until it works)",
			 b->conn->name, why);
	if (why && !b->hello_done)
		b->failure_logged = true;
	sync_conn_free(f, b->conn);
	b->conn = NULL;
	b->connecting = b->hello_done = b->bulk_done = false;
	b->retry_ms = f->now_ms + SYNC_RETRY_MS;
}

/* Where the master is: the adverts' source, else the one unicast peer; 0 if unknown. */
static struct in_addr master_addr(const struct failover *f)
{
	struct in_addr a = { .s_addr = atomic_load(&f->shared->master_addr) };

	if (a.s_addr == f->self.s_addr)
		a.s_addr = 0;
	if (a.s_addr == 0 && f->fc->npeers == 1)
		a = f->fc->peers[0].u.in4.sin_addr; /* peers are IPv4 (config.c) */
	return a;
}

static void connect_master(struct failover *f, struct in_addr to)
{
	struct sync_backup *b = &f->sync_in;
	struct sockaddr_in self = { .sin_family = AF_INET, .sin_addr = f->self };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = to,
				  .sin_port = htons((uint16_t)f->fc->sync_port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	b->retry_ms = f->now_ms + SYNC_RETRY_MS;
	/* From this node's own address, never a VIP it may hold. */
	if (fd == -1 || bind(fd, (struct sockaddr *)&self, sizeof(self)) == -1 ||
	    (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 && errno != EINPROGRESS)) {
		if (!b->failure_logged)
			slb_warn("sync: cannot connect to master %s: %m (logged once until it works)",
				 inet_ntoa(to));
		b->failure_logged = true;
		if (fd != -1)
			close(fd);
		return;
	}
	b->conn = sync_conn_new(f, fd, to);
	if (!b->conn)
		return;
	b->connecting = true;
	sync_conn_want_out(f, b->conn, true);
}

/* The key of a session the master named by its client and listener slot <listener> here. */
static void key_here(struct slb_session_key *key, int listener, uint8_t protocol, uint8_t family,
		     uint16_t port, const uint8_t addr[16])
{
	memset(key, 0, sizeof(*key));
	key->listener = (uint16_t)listener;
	key->protocol = protocol;
	key->family = family;
	key->port = port;
	memcpy(key->addr, addr, sizeof(key->addr));
}

/* A session from the master into this node's table, mapped to this node's slots. */
static void apply(struct failover *f, const struct slb_sync_session *s)
{
	struct sync_backup *b = &f->sync_in;
	struct slb_session_key key;
	int listener = slb_shm_listener_find(f->shm, s->listener);
	int server = slb_shm_server_find(f->shm, s->group, s->server);

	if (listener < 0 || server < 0) {
		atomic_fetch_add_explicit(&f->shared->sync_dropped, 1, memory_order_relaxed);
		if (!b->bulk_done)
			b->dropped++;
		else
			slb_log_limited(&dropped_log, LOG_INFO,
					"sync: session for %s/%s/%s dropped: not configured here",
					s->listener, s->group, s->server);
		return;
	}
	key_here(&key, listener, s->protocol, s->family, s->port, s->addr);
	slb_sessions_put(f->shm->sessions, &key, (uint32_t)server,
			 atomic_load(&f->shm->servers[server].serial), f->now_ms + s->ttl_ms, f->now_ms);
	if (!b->bulk_done)
		b->applied++;
}

/* A session the master removed: here too. */
static void apply_remove(struct failover *f, const struct slb_sync_remove *r)
{
	struct slb_session_key key;
	int listener = slb_shm_listener_find(f->shm, r->listener);

	if (listener < 0)
		return;
	key_here(&key, listener, r->protocol, r->family, r->port, r->addr);
	slb_sessions_remove(f->shm->sessions, &key);
}

/* A flush on the master (slbctl sessions flush): here too, logged as the master logged it. */
static void apply_flush(struct failover *f, const char *name)
{
	int listener = name[0] ? slb_shm_listener_find(f->shm, name) : -1;
	unsigned n;

	if (name[0] && listener < 0)
		return;
	n = slb_sessions_flush(f->shm->sessions, listener);
	slb_info("sync: sessions flushed%s%s: %u (the master's flush)", name[0] ? " on listener " : "",
		 name, n);
}

/* A bulk copy is complete: what it did not carry goes (prune_step). */
static void prune_start(struct failover *f)
{
	struct sync_backup *b = &f->sync_in;

	b->pruning = true;
	b->prune_cursor = 0;
	b->prune_upto = b->bulk_began;
	b->pruned = 0;
}

/* Prunes <count> more entries; logs once the whole table is done. */
static void prune_step(struct failover *f, uint32_t count)
{
	struct sync_backup *b = &f->sync_in;
	uint32_t capacity = slb_sessions_capacity(f->shm->sessions);

	b->pruned += slb_sessions_prune_range(f->shm->sessions, b->prune_upto, f->now_ms,
					      b->prune_cursor, count);
	b->prune_cursor = capacity - b->prune_cursor > count ? b->prune_cursor + count : capacity;
	if (b->prune_cursor < capacity)
		return;
	b->pruning = false;
	slb_info("sync: %u sessions the master no longer has removed after its bulk copy",
		 b->pruned);
}

/* The master's HELLO checked: ours goes back, bound to its nonce. */
static bool on_hello(struct failover *f, const struct slb_sync_hello *h)
{
	struct sync_backup *b = &f->sync_in;
	struct sync_conn *c = b->conn;
	struct slb_sync_frame hello;

	if (h->vrid != f->fc->vrid) {
		disconnect(f, "it is in another vrid");
		return false;
	}
	memcpy(c->rx.nonce, c->nonce, SLB_SYNC_NONCE_LEN);
	memcpy(c->tx.nonce, h->nonce, SLB_SYNC_NONCE_LEN);
	sync_conn_hello(f, c, &hello);
	if (sync_conn_queue(f, c, &hello) == -1 || sync_conn_flush(f, c) == -1) {
		disconnect(f, "cannot send HELLO");
		return false;
	}
	b->hello_done = true;
	b->failure_logged = false;
	b->applied = b->dropped = 0;
	/* Every session the copy carries is written after this. */
	b->bulk_began = slb_sessions_walk_range(f->shm->sessions, 0, f->now_ms, 0, 0, NULL, NULL);
	slb_info("sync: connected to master %s (node %s), receiving its sessions", c->name, h->node);
	return true;
}

/* Applies every whole frame read; false when the connection was closed. */
static bool on_frames(struct failover *f)
{
	struct sync_backup *b = &f->sync_in;
	struct slb_sync_frame frame;
	enum slb_sync_verdict v;

	while ((v = sync_conn_next(b->conn, &frame)) == SLB_SYNC_OK) {
		if (!b->hello_done) {
			if (frame.type != SLB_SYNC_HELLO) {
				disconnect(f, "it did not start with HELLO");
				return false;
			}
			if (!on_hello(f, &frame.u.hello))
				return false;
		} else if (frame.type == SLB_SYNC_SESSION) {
			apply(f, &frame.u.session);
		} else if (frame.type == SLB_SYNC_REMOVE) {
			apply_remove(f, &frame.u.remove);
		} else if (frame.type == SLB_SYNC_FLUSH) {
			apply_flush(f, frame.u.flush_listener);
		} else if (frame.type == SLB_SYNC_BULK_END && !b->bulk_done) {
			b->bulk_done = true;
			b->wait_logged = false;
			slb_info("sync: bulk copy from master %s complete: %u sessions, %u dropped "
				 "(listener or server not configured here)",
				 b->conn->name, b->applied, b->dropped);
			prune_start(f);
		} else if (frame.type != SLB_SYNC_HEARTBEAT) {
			disconnect(f, "unexpected frame");
			return false;
		}
	}
	if (v != SLB_SYNC_NEED_MORE) {
		disconnect(f, sync_refusal(v));
		return false;
	}
	return true;
}

/*
 * Reads and applies until the socket has nothing more, the connection ends,
 * or <max_reads> buffers were read (the election loop is not to wait on a
 * long bulk copy; epoll calls again).
 */
static void receive(struct failover *f, unsigned max_reads)
{
	struct sync_backup *b = &f->sync_in;

	while (b->conn && max_reads--) {
		size_t before = b->conn->rx_len - b->conn->rx_off;

		if (sync_conn_read(f, b->conn) == -1) {
			disconnect(f, errno == ECONNRESET ? "closed by the master" : strerror(errno));
			return;
		}
		if (b->conn->rx_len - b->conn->rx_off == before || !on_frames(f))
			return;
	}
}

static void on_connected(struct failover *f)
{
	struct sync_backup *b = &f->sync_in;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(b->conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err) {
		disconnect(f, strerror(err));
		return;
	}
	b->connecting = false;
	sync_conn_want_out(f, b->conn, false);
}

bool sync_backup_on_event(struct failover *f, int fd, uint32_t events)
{
	struct sync_backup *b = &f->sync_in;

	if (!b->conn || b->conn->fd != fd)
		return false;
	if (b->connecting) {
		on_connected(f);
		return true;
	}
	(void)events;
	receive(f, RECEIVE_MAX_READS);
	if (b->conn && sync_conn_flush(f, b->conn) == -1)
		disconnect(f, strerror(errno));
	return true;
}

void sync_backup_tick(struct failover *f)
{
	struct sync_backup *b = &f->sync_in;
	struct in_addr master;

	if (b->pruning)
		prune_step(f, SYNC_WALK_CHUNK);
	if (!sync_enabled(f))
		return;
	if (f->state != SLB_FAILOVER_BACKUP) {
		disconnect(f, NULL);
		return;
	}
	master = master_addr(f);
	if (b->conn && master.s_addr && master.s_addr != b->conn->addr.s_addr)
		disconnect(f, "another node is master now");
	if (b->conn && f->now_ms >= b->conn->last_rx_ms + SYNC_SILENCE_MS)
		disconnect(f, b->connecting ? "connect timed out" : "the master is silent");
	if (!b->conn && master.s_addr && f->now_ms >= b->retry_ms)
		connect_master(f, master);
}

uint64_t sync_backup_next_due(const struct failover *f)
{
	const struct sync_backup *b = &f->sync_in;

	if (b->pruning)
		return f->now_ms; /* the next chunk, after a look at the sockets */
	if (!sync_enabled(f) || f->state != SLB_FAILOVER_BACKUP)
		return UINT64_MAX;
	if (b->conn)
		return b->conn->last_rx_ms + SYNC_SILENCE_MS;
	return master_addr(f).s_addr ? b->retry_ms : UINT64_MAX; /* else an advert wakes us */
}

bool sync_backup_ready(const struct failover *f)
{
	return !sync_enabled(f) || (f->sync_in.bulk_done && !f->sync_in.pruning);
}

void sync_backup_close(struct failover *f)
{
	disconnect(f, NULL);
}

void sync_backup_take_over(struct failover *f)
{
	struct sync_backup *b = &f->sync_in;

	if (b->conn && b->hello_done)
		receive(f, TAKE_OVER_MAX_READS); /* all there is: the master is gone or stepping down */
	disconnect(f, b->conn && b->hello_done ? "this node takes over" : NULL);
	if (b->pruning)
		prune_step(f, UINT32_MAX);
}
