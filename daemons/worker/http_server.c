/*
 * http_server.c - server-side connections of the HTTP proxy and their pool.
 */
#include "http_server.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_pool.h"
#include "worker_stats.h"

struct http_worker *http_worker_get(struct worker *w)
{
	if (w->http)
		return w->http;
	w->http = calloc(1, sizeof(*w->http));
	if (!w->http)
		return NULL;
	w->http->idle_by_slot = calloc(SLB_MAX_SERVERS, sizeof(struct dlist));
	if (!w->http->idle_by_slot) {
		free(w->http);
		w->http = NULL;
	}
	return w->http;
}

static void pool_remove(struct http_server *s)
{
	if (!s->lru_node.list)
		return;
	dlist_remove(&s->slot_node);
	dlist_remove(&s->lru_node);
}

void http_server_close(struct worker *w, struct http_server *s, bool failed)
{
	struct slb_shm_server *st = server_stats(w, s->slot, s->serial);

	if (s->closed)
		return;
	if (st) {
		if (s->owner)
			counter_release(&st->active);
		if (failed)
			counter_add(&st->failed, 1);
		counter_add(&st->bytes_in, s->bytes_in);
		counter_add(&st->bytes_out, s->bytes_out);
	}
	pool_remove(s);
	close(s->fd);
	http_tls_free(&s->tls);
	http_buf_release(&s->in);
	http_buf_release(&s->out);
	s->closed = true;
	s->owner = NULL;
	s->next_dead = w->http->dead_servers;
	w->http->dead_servers = s;
}

void http_server_reap(struct worker *w)
{
	while (w->http && w->http->dead_servers) {
		struct http_server *s = w->http->dead_servers;

		w->http->dead_servers = s->next_dead;
		conn_pool_put(s, sizeof(*s));
	}
}

static struct http_server *take_idle(struct worker *w, int slot)
{
	struct http_worker *hw = w->http;
	struct dlist *list = &hw->idle_by_slot[slot];
	uint32_t serial = atomic_load_explicit(&w->shm.servers[slot].serial, memory_order_relaxed);

	while (list->tail) {
		/* The most recently parked: the least likely to have been closed by the server. */
		struct http_server *s = dlist_entry(list->tail, struct http_server, slot_node);

		pool_remove(s);
		if (s->serial == serial && !s->eof)
			return s;
		http_server_close(w, s, false);
	}
	return NULL;
}

static struct http_server *connect_new(struct worker *w, int slot)
{
	struct slb_shm_server *st = &w->shm.servers[slot];
	struct http_server *s = conn_pool_get(sizeof(*s));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	int one = 1;

	if (!s)
		return NULL;
	s->tag = WORKER_TAG_HTTP_SERVER;
	s->slot = slot;
	s->serial = atomic_load_explicit(&st->serial, memory_order_relaxed);
	s->fd = socket(st->addr.u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		counter_add(&st->failed, 1);
		conn_pool_put(s, sizeof(*s));
		return NULL;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev.data.ptr = &s->tag;
	if ((connect(s->fd, &st->addr.u.sa, st->addr.len) == -1 && errno != EINPROGRESS) ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->fd, &ev) == -1) {
		counter_add(&st->failed, 1);
		close(s->fd);
		conn_pool_put(s, sizeof(*s));
		return NULL;
	}
	s->connecting = true;
	s->watch_out = true;
	return s;
}

struct http_server *http_server_get(struct worker *w, int slot, bool may_reuse,
				    struct http_conn *owner)
{
	struct http_server *s = may_reuse ? take_idle(w, slot) : NULL;

	if (s) {
		s->reused = true;
		s->readable = false; /* anything that came while idle closed it */
		s->writable = true;
	} else if ((s = connect_new(w, slot)) != NULL) {
		bool tls;
		SSL *ssl = http_policy_server_ssl(owner->l->http_policy, slot, s->fd, &tls);

		if (tls && http_tls_start(&s->tls, ssl) == -1) {
			http_server_close(w, s, true);
			return NULL;
		}
	}
	if (!s)
		return NULL;
	s->owner = owner;
	atomic_fetch_add_explicit(&w->shm.servers[slot].active, 1, memory_order_relaxed);
	return s;
}

/*
 * Bytes the server sent past the end of its response, or its FIN, still in
 * the socket or in OpenSSL: a socket not known to be drained (a splice reads
 * no further than the body) gets no new event for them once parked, and the
 * next request would take them for its answer. OpenSSL keeps the rest of a
 * record that did not fit in the buffer, whatever the socket says.
 */
static bool unread_in_socket(const struct http_server *s)
{
	char byte;

	return http_tls_pending(&s->tls) ||
	       (s->readable && (recv(s->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 || errno != EAGAIN));
}

void http_server_park(struct worker *w, struct http_server *s)
{
	struct http_worker *hw = w->http;
	struct slb_shm_server *st = server_stats(w, s->slot, s->serial);
	struct dlist *list = &hw->idle_by_slot[s->slot];

	if (!st || s->eof || http_buf_len(&s->in) || http_buf_len(&s->out) || unread_in_socket(s)) {
		http_server_close(w, s, false);
		return;
	}
	counter_release(&st->active);
	counter_add(&st->bytes_in, s->bytes_in);
	counter_add(&st->bytes_out, s->bytes_out);
	s->bytes_in = s->bytes_out = 0;
	s->owner = NULL;
	http_buf_release(&s->in);
	http_buf_release(&s->out);
	s->idle_since_ms = w->now_ms;
	dlist_append(list, &s->slot_node);
	dlist_append(&hw->idle, &s->lru_node);
	if (list->len > HTTP_SERVER_IDLE_MAX)
		http_server_close(w, dlist_entry(list->head, struct http_server, slot_node), false);
}

void http_server_idle_event(struct worker *w, struct http_server *s, uint32_t events)
{
	/* Writability coming back is no news; anything to read or a close is. */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		http_server_close(w, s, false);
}

void http_server_expire(struct worker *w, bool all)
{
	struct http_worker *hw = w->http;

	while (hw && hw->idle.head) {
		struct http_server *s = dlist_entry(hw->idle.head, struct http_server, lru_node);

		if (!all && s->idle_since_ms + HTTP_SERVER_IDLE_MS > w->now_ms)
			break;
		http_server_close(w, s, false);
	}
}
