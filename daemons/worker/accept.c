/*
 * accept.c - accept4() in batches, the listener's acl and max_connections,
 * then the client goes to the proxy of the listener's protocol.
 */
#include "accept.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_proxy.h"
#include "tcp_proxy.h"
#include "worker_stats.h"

#define ACCEPT_BATCH 64

bool worker_acl_permits(const struct slb_listener_conf *lc, const struct sockaddr *client)
{
	for (unsigned i = 0; i < lc->nacl_deny; i++)
		if (slb_cidr_contains(&lc->acl_deny[i], client))
			return false;
	if (lc->nacl_allow == 0)
		return true;
	for (unsigned i = 0; i < lc->nacl_allow; i++)
		if (slb_cidr_contains(&lc->acl_allow[i], client))
			return true;
	return false;
}

bool worker_listener_admit(struct worker_listener *l, const struct sockaddr *client)
{
	struct slb_shm_listener *ls = listener_stats(l);

	if (!worker_acl_permits(l->conf, client)) {
		if (ls)
			atomic_fetch_add_explicit(&ls->denied, 1, memory_order_relaxed);
		return false;
	}
	if (!ls)
		return true;
	if (l->conf->max_connections &&
	    atomic_fetch_add_explicit(&ls->active, 1, memory_order_relaxed) >= l->conf->max_connections) {
		counter_release(&ls->active);
		atomic_fetch_add_explicit(&ls->denied, 1, memory_order_relaxed);
		return false;
	}
	if (!l->conf->max_connections)
		atomic_fetch_add_explicit(&ls->active, 1, memory_order_relaxed);
	return true;
}

void worker_accept(struct worker *w, struct worker_listener *l)
{
	for (int i = 0; i < ACCEPT_BATCH && l->fd >= 0; i++) {
		struct sockaddr_storage client;
		socklen_t len = sizeof(client);
		int fd = accept4(l->fd, (struct sockaddr *)&client, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				slb_log_limited(&l->fd_limit_log, LOG_WARNING,
						"listener %s: out of file descriptors", l->conf->name);
			return;
		}
		if (!worker_listener_admit(l, (struct sockaddr *)&client)) {
			close(fd);
			continue;
		}
		/* TCP_NODELAY comes from the listening socket (the master set it). */
		if (slb_protocol_is_http(l->conf->protocol))
			http_proxy_start(w, l, fd, (struct sockaddr *)&client);
		else
			tcp_proxy_start(w, l, fd, (struct sockaddr *)&client);
	}
}
