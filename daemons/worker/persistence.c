/*
 * persistence.c - source_ip persistence: a client that has a live session on
 * a listener goes back to the server it was given, as long as that server
 * still holds its slot, is up, has weight and belongs to the listener's
 * groups; otherwise it is scheduled as usual and the new choice becomes its
 * session. Sessions live in the shared table, so every worker agrees and a
 * worker's crash or a reload loses none. Every protocol path (TCP, UDP)
 * picks through worker_persistence_pick().
 */
#include "sessions.h"
#include "worker.h"

#include <netinet/in.h>

/* Whether the server a session names may still take its client. */
static bool session_server_usable(struct worker *w, struct worker_listener *l,
				  const struct slb_session *s, int exclude_slot)
{
	struct slb_shm_server *srv;

	if (s->server_slot >= SLB_MAX_SERVERS || (int)s->server_slot == exclude_slot)
		return false;
	srv = &w->shm.servers[s->server_slot];
	return atomic_load_explicit(&srv->serial, memory_order_acquire) == s->server_serial &&
	       atomic_load_explicit(&srv->health, memory_order_relaxed) == SLB_HEALTH_UP &&
	       atomic_load_explicit(&srv->weight, memory_order_relaxed) > 0 &&
	       worker_listener_serves(l, s->server_slot, s->server_serial);
}

int worker_persistence_pick(struct worker *w, struct worker_listener *l, int exclude_slot,
			    const struct sockaddr *client)
{
	struct slb_session_key key;
	struct slb_session s;
	uint64_t expires = w->now_ms + l->conf->persistence_timeout_ms;
	int protocol = l->conf->protocol == SLB_PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	int slot;

	if (l->conf->persistence != SLB_PERSIST_SOURCE_IP || !client || !l->stats)
		return worker_pick(w, l, exclude_slot, client);
	slb_session_key_make(&key, (uint32_t)(l->stats - w->shm.listeners), protocol, client,
			     false);
	if (slb_sessions_lookup(w->shm.sessions, &key, w->now_ms, &s) &&
	    session_server_usable(w, l, &s, exclude_slot)) {
		slb_sessions_touch(w->shm.sessions, &key, expires, w->now_ms);
		return (int)s.server_slot;
	}
	slot = worker_pick(w, l, exclude_slot, client);
	if (slot >= 0)
		slb_sessions_put(w->shm.sessions, &key, (uint32_t)slot,
				 atomic_load_explicit(&w->shm.servers[slot].serial,
						      memory_order_relaxed),
				 expires, w->now_ms);
	return slot;
}
