/*
 * main.c - slb-worker: set up from the fds the master passed, drop
 * privileges, then one epoll loop until told to drain or stop.
 *
 *   slb-worker -g GENERATION -i INDEX -n CONFIG_NAME [-f]
 *
 * fd 3 is the channel to the master, fd 4 the sealed config, fd 5 the
 * shared memory, fd 6 + i the listening socket of the config's listener i.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "accept.h"
#include "child.h"
#include "clock.h"
#include "http_policy.h"
#include "http_proxy.h"
#include "ipc.h"
#include "log.h"
#include "poll_wait.h"
#include "privileges.h"
#include "tcp_proxy.h"
#include "udp_proxy.h"
#include "worker.h"

#define TICK_MS 100

static volatile sig_atomic_t worker_stop;

static void on_stop(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static enum worker_tag channel_tag = WORKER_TAG_CHANNEL;

static int worker_setup_listeners(struct worker *w)
{
	w->nlisteners = w->config->nlisteners;
	w->listeners = calloc(w->nlisteners ? w->nlisteners : 1, sizeof(*w->listeners));
	if (!w->listeners)
		return -1;
	for (unsigned i = 0; i < w->nlisteners; i++) {
		struct worker_listener *l = &w->listeners[i];
		const struct slb_listener_conf *lc = &w->config->listeners[i];
		struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = l };
		int slot = slb_shm_listener_find(&w->shm, lc->name);

		l->tag = lc->protocol == SLB_PROTO_UDP ? WORKER_TAG_UDP_LISTENER : WORKER_TAG_LISTENER;
		l->fd_limit_log = (struct slb_log_limit)SLB_LOG_LIMIT(10000);
		l->conf = lc;
		l->fd = SLB_FD_LISTENERS + (int)i;
		l->slot = slot;
		l->pktinfo = lc->protocol == SLB_PROTO_UDP && slb_sockaddr_is_any(&lc->bind);
		if (slot >= 0) {
			l->stats = &w->shm.listeners[slot];
			l->stats_serial = atomic_load(&l->stats->serial);
		}
		if (!lc->enabled) { /* stopped: fd 6 + i only holds its place */
			close(l->fd);
			l->fd = -1;
		}
		if (slb_sched_group_init(&l->sched, lc->scheduler, &w->config->groups[lc->group],
					 &w->shm) == -1)
			return -1;
		if (lc->backup_group >= 0 &&
		    slb_sched_group_init(&l->backup, lc->scheduler,
					 &w->config->groups[lc->backup_group], &w->shm) == -1)
			return -1;
		if (slb_protocol_is_http(lc->protocol)) {
			l->http_policy = malloc(sizeof(*l->http_policy));
			if (!l->http_policy || http_policy_init(l->http_policy, w, l) == -1)
				return -1;
		}
		if (l->fd >= 0 && epoll_ctl(w->epfd, EPOLL_CTL_ADD, l->fd, &ev) == -1) {
			slb_err("listener %s: fd %d: %m", lc->name, l->fd);
			return -1;
		}
	}
	return 0;
}

/* Stops accepting: new connections go to the next generation's workers. */
static void worker_drain(struct worker *w, uint32_t timeout_ms)
{
	if (w->draining)
		return;
	w->draining = true;
	w->drain_deadline_ms = w->now_ms + timeout_ms;
	for (unsigned i = 0; i < w->nlisteners; i++) {
		struct worker_listener *l = &w->listeners[i];

		if (l->fd < 0)
			continue;
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, l->fd, NULL);
		/* A udp listener stays open: the replies of the flows still served leave through it. */
		if (l->tag == WORKER_TAG_UDP_LISTENER)
			continue;
		close(l->fd);
		l->fd = -1;
	}
	slb_info("worker %u (generation %u) draining %u connections, %u udp flows", w->index,
		 w->generation, w->nconns, w->nflows);
}

/* Returns false when the master is gone or broke the protocol. */
static bool worker_channel(struct worker *w)
{
	struct slb_msg msg;
	int r;

	while ((r = slb_msg_recv(SLB_FD_CHANNEL, &msg)) == 1)
		if (msg.hdr.type == SLB_MSG_DRAIN)
			worker_drain(w, msg.u.drain.timeout_ms);
	if (r == 0) {
		slb_info("worker %u: master gone, exiting", w->index);
		return false;
	}
	if (r == -1) {
		slb_err("worker %u: bad message from master: %m", w->index);
		return false;
	}
	return true;
}

/*
 * A server whose drain deadline has passed while it still has connections
 * (node-wide): only then are the connections walked, once per tick.
 */
static bool worker_drain_due(const struct worker *w, uint64_t now_real_ms)
{
	for (unsigned i = 0; i < SLB_MAX_SERVERS; i++) {
		const struct slb_shm_server *s = &w->shm.servers[i];
		uint64_t deadline = atomic_load_explicit(&s->drain_deadline_ms, memory_order_relaxed);

		if (deadline && deadline <= now_real_ms &&
		    atomic_load_explicit(&s->serial, memory_order_relaxed) &&
		    atomic_load_explicit(&s->active, memory_order_relaxed))
			return true;
	}
	return false;
}

static void worker_loop(struct worker *w)
{
	struct epoll_event events[256];
	uint64_t last_tick = 0;
	struct poll_wait poll;

	poll_wait_init(&poll, w->epfd, w->config->global.poll_coalesce_us);
	while (!worker_stop) {
		int n = poll_wait_next(&poll, events, 256,
				       w->nconns || w->nflows || w->draining ? TICK_MS : -1);

		w->now_ms = slb_now_ms();
		if (n == -1 && errno != EINTR) {
			slb_err("epoll_wait: %m");
			return;
		}
		for (int i = 0; i < n; i++) {
			enum worker_tag *tag = events[i].data.ptr;

			switch (*tag) {
			case WORKER_TAG_CHANNEL:
				if (!worker_channel(w))
					return;
				break;
			case WORKER_TAG_LISTENER:
				worker_accept(w, (struct worker_listener *)tag);
				break;
			case WORKER_TAG_HTTP_CLIENT:
			case WORKER_TAG_HTTP_SERVER:
				http_proxy_event(w, tag, events[i].events);
				break;
			case WORKER_TAG_UDP_LISTENER:
				udp_proxy_read(w, (struct worker_listener *)tag);
				break;
			case WORKER_TAG_UDP_FLOW:
				udp_proxy_event(w, tag, events[i].events);
				break;
			default:
				tcp_proxy_event(w, tag, events[i].events);
				break;
			}
		}
		if (w->now_ms - last_tick >= TICK_MS) {
			uint64_t now_real = slb_realtime_ms();
			bool drain = w->nconns && worker_drain_due(w, now_real);
			unsigned closed = 0;

			last_tick = w->now_ms;
			for (unsigned i = 0; i < w->nlisteners; i++) {
				struct worker_listener *l = &w->listeners[i];
				bool http = slb_protocol_is_http(l->conf->protocol);

				if (http)
					http_proxy_expire(w, l);
				else if (l->conf->protocol == SLB_PROTO_UDP)
					udp_proxy_expire(w, l);
				else
					tcp_proxy_expire(w, l);
				if (drain)
					closed += http ? http_proxy_drain_servers(w, l, now_real)
						       : tcp_proxy_drain_servers(w, l, now_real);
			}
			if (closed)
				slb_info("worker %u: closed %u connections to drained servers",
					 w->index, closed);
		}
		udp_proxy_flush(w);
		tcp_proxy_reap(w);
		http_proxy_reap(w);
		udp_proxy_reap(w);
		if (w->draining &&
		    ((w->nconns == 0 && w->nflows == 0) || w->now_ms >= w->drain_deadline_ms))
			return;
	}
}

int main(int argc, char **argv)
{
	struct worker w = { .epfd = -1 };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &channel_tag };
	struct slb_child child = { 0 };
	int rc = slb_child_start(&child, "slb-worker", argc, argv, on_stop);

	if (rc)
		return rc;
	w.config = child.config;
	w.shm = child.shm;
	w.index = child.index;
	w.generation = child.generation;
	w.epfd = epoll_create1(EPOLL_CLOEXEC);
	w.now_ms = slb_now_ms();
	if (w.epfd == -1 || epoll_ctl(w.epfd, EPOLL_CTL_ADD, SLB_FD_CHANNEL, &ev) == -1 ||
	    worker_setup_listeners(&w) == -1 || udp_proxy_init(&w) == -1)
		return 1;
	if (slb_drop_privileges(w.config->global.user) == -1)
		return 1;
	if (slb_msg_send_ready(SLB_FD_CHANNEL, w.generation) == -1)
		return 1;
	slb_debug("worker %u (generation %u) serving %u listeners", w.index, w.generation,
		  w.nlisteners);
	worker_loop(&w);
	for (unsigned i = 0; i < w.nlisteners; i++) {
		tcp_proxy_close_all(&w, &w.listeners[i]);
		http_proxy_close_all(&w, &w.listeners[i]);
		udp_proxy_close_all(&w, &w.listeners[i]);
		slb_sched_group_free(&w.listeners[i].sched);
		slb_sched_group_free(&w.listeners[i].backup);
		if (w.listeners[i].http_policy)
			http_policy_free(w.listeners[i].http_policy);
		free(w.listeners[i].http_policy);
	}
	udp_proxy_flush(&w);
	tcp_proxy_reap(&w);
	http_proxy_reap(&w);
	udp_proxy_free(&w);
	free(w.listeners);
	slb_child_finish(&child);
	return 0;
}
