/*
 * main.c - slb-checker: probes every server of every group that has a
 * check, on the group's interval, and turns results into a health verdict
 * with the group's thresholds. The verdict is one atomic store in shared
 * memory; workers read it on their next pick. Transitions are logged once.
 *
 *   slb-checker -g GENERATION -n CONFIG_NAME [-f]     (started by slb-master)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "checker.h"
#include "child.h"
#include "clock.h"
#include "ipc.h"
#include "log.h"
#include "privileges.h"
#include "tls.h"

static volatile sig_atomic_t checker_stop;

static void on_stop(int sig)
{
	(void)sig;
	checker_stop = 1;
}

struct checker {
	struct slb_config *config;
	struct slb_shm shm;
	int epfd;
	unsigned ntargets;
	struct checker_target *targets;
	struct backup_watches backups;
	SSL_CTX **tls; /* per group, for its https checks */
};

/* Builds the target list; servers of check = none groups are marked up. */
static int checker_setup(struct checker *ck, uint64_t now)
{
	const struct slb_config *cf = ck->config;
	unsigned total = 0;

	for (unsigned g = 0; g < cf->ngroups; g++)
		total += cf->groups[g].nservers;
	ck->targets = calloc(total ? total : 1, sizeof(*ck->targets));
	ck->tls = calloc(cf->ngroups + 1, sizeof(*ck->tls));
	if (!ck->targets || !ck->tls)
		return -1;
	for (unsigned g = 0; g < cf->ngroups; g++) {
		const struct slb_group_conf *gc = &cf->groups[g];

		for (unsigned i = 0; i < gc->nservers; i++) {
			int slot = slb_shm_server_find(&ck->shm, gc->name, gc->servers[i].name);
			struct checker_target *t;

			if (slot < 0) {
				slb_err("group %s: server %s has no shared-memory slot", gc->name,
					gc->servers[i].name);
				return -1;
			}
			if (gc->check == SLB_CHECK_NONE) {
				/*
				 * The streak counts results against <health>: passes
				 * counted while down would count as failures once up.
				 */
				atomic_store(&ck->shm.servers[slot].check_streak, 0);
				atomic_store(&ck->shm.servers[slot].health, SLB_HEALTH_UP);
				continue;
			}
			t = &ck->targets[ck->ntargets++];
			t->group = gc;
			t->server = &gc->servers[i];
			t->slot = (uint32_t)slot;
			t->serial = atomic_load(&ck->shm.servers[slot].serial);
			t->addr = gc->servers[i].addr;
			if (gc->check_port)
				slb_sockaddr_set_port(&t->addr, (uint16_t)gc->check_port);
			t->fd = -1;
			if (gc->check == SLB_CHECK_HTTPS && !ck->tls[g] &&
			    !(ck->tls[g] = slb_tls_group_client(gc))) {
				slb_err("group %s: cannot set up TLS for https checks", gc->name);
				return -1;
			}
			if ((gc->check == SLB_CHECK_HTTP || gc->check == SLB_CHECK_HTTPS) &&
			    http_check_setup(t, ck->tls[g]) == -1)
				return -1;
			/* Spread the first probes over one interval instead of a burst. */
			t->next_ms = now + (uint64_t)gc->check_interval_ms * i / gc->nservers;
		}
	}
	return 0;
}

/* Applies one probe result to the server's health, with the thresholds. */
static void checker_verdict(struct checker *ck, struct checker_target *t, bool ok, uint64_t now)
{
	struct slb_shm_server *s = &ck->shm.servers[t->slot];
	uint32_t health, streak, needed;
	char addr[SLB_SOCKADDR_STRLEN];
	bool first;

	t->next_ms = t->started_ms + t->group->check_interval_ms;
	if (t->next_ms <= now)
		t->next_ms = now + 1;
	if (atomic_load(&s->serial) != t->serial)
		return; /* the slot now belongs to another server: a newer checker owns it */
	first = atomic_exchange(&s->last_check_ms, slb_realtime_ms()) == 0;
	atomic_store(&s->check_latency_us, (uint32_t)(slb_now_us() - t->started_us));
	health = atomic_load(&s->health);
	if (ok == (health == SLB_HEALTH_UP)) {
		atomic_store(&s->check_streak, 0);
		return;
	}
	streak = atomic_fetch_add(&s->check_streak, 1) + 1;
	/* A server added while running starts down: its first passing check is enough. */
	needed = ok ? (first ? 1 : t->group->healthy_threshold) : t->group->unhealthy_threshold;
	if (streak < needed)
		return;
	atomic_store(&s->check_streak, 0);
	atomic_store(&s->health, ok ? SLB_HEALTH_UP : SLB_HEALTH_DOWN);
	atomic_fetch_add(&s->transitions, 1);
	slb_sockaddr_format(&t->addr, addr);
	if (ok)
		slb_info("server %s/%s %s is UP (%u checks passed)", t->group->name,
			 t->server->name, addr, streak);
	else
		slb_warn("server %s/%s %s is DOWN (%u checks failed, last: %s)", t->group->name,
			 t->server->name, addr, streak,
			 t->why[0] ? t->why : t->last_errno ? strerror(t->last_errno) : "timeout");
	backup_watch_update(&ck->backups, &ck->shm);
}

/* Ends the probe in flight of <t> (if any) and closes its socket. */
static void checker_probe_end(struct checker *ck, struct checker_target *t)
{
	if (t->fd >= 0)
		epoll_ctl(ck->epfd, EPOLL_CTL_DEL, t->fd, NULL);
	http_check_end(t);
	tcp_check_abort(t);
}

static void checker_run_due(struct checker *ck, uint64_t now)
{
	for (unsigned i = 0; i < ck->ntargets; i++) {
		struct checker_target *t = &ck->targets[i];

		if (t->fd >= 0 && now >= t->deadline_ms) {
			checker_probe_end(ck, t);
			t->last_errno = ETIMEDOUT;
			checker_verdict(ck, t, false, now);
		}
		if (t->fd < 0 && now >= t->next_ms) {
			bool udp = t->group->check == SLB_CHECK_UDP;
			struct epoll_event ev = { .events = udp ? EPOLLIN : EPOLLOUT, .data.ptr = t };

			t->why[0] = '\0';
			if ((udp ? udp_check_start(t, now) : tcp_check_start(t, now)) == -1) {
				checker_verdict(ck, t, false, now);
			} else if (epoll_ctl(ck->epfd, EPOLL_CTL_ADD, t->fd, &ev) == -1) {
				t->last_errno = errno;
				tcp_check_abort(t);
				checker_verdict(ck, t, false, now);
			}
		}
	}
}

/* The socket of <t>'s probe is ready: step it, and conclude or wait again. */
static void checker_probe_event(struct checker *ck, struct checker_target *t, uint64_t now)
{
	enum check_result r;

	if (t->http)
		r = http_check_step(t);
	else if (t->group->check == SLB_CHECK_UDP)
		r = udp_check_step(t);
	else
		r = tcp_check_finish(t) ? CHECK_PASS : CHECK_FAIL;
	if (r == CHECK_WANT_READ || r == CHECK_WANT_WRITE) {
		struct epoll_event ev = { .events = r == CHECK_WANT_READ ? EPOLLIN : EPOLLOUT,
					  .data.ptr = t };

		if (epoll_ctl(ck->epfd, EPOLL_CTL_MOD, t->fd, &ev) == 0)
			return;
		t->last_errno = errno;
		r = CHECK_FAIL;
	}
	checker_probe_end(ck, t);
	checker_verdict(ck, t, r == CHECK_PASS, now);
}

static int next_timeout(const struct checker *ck, uint64_t now)
{
	uint64_t next = now + 1000;

	for (unsigned i = 0; i < ck->ntargets; i++) {
		const struct checker_target *t = &ck->targets[i];
		uint64_t due = t->fd >= 0 ? t->deadline_ms : t->next_ms;

		if (due < next)
			next = due;
	}
	return next <= now ? 0 : (int)(next - now);
}

static void checker_loop(struct checker *ck)
{
	struct epoll_event events[64];
	while (!checker_stop) {
		uint64_t now = slb_now_ms();
		int n;

		checker_run_due(ck, now);
		n = epoll_wait(ck->epfd, events, 64, next_timeout(ck, slb_now_ms()));
		if (n == -1 && errno != EINTR) {
			slb_err("epoll_wait: %m");
			return;
		}
		now = slb_now_ms();
		for (int i = 0; i < n; i++) {
			struct checker_target *t = events[i].data.ptr;

			if (!t) {
				struct slb_msg msg;

				int r = slb_msg_recv(SLB_FD_CHANNEL, &msg);

				/* slbctl set a weight: a backup group may have become pickable or not. */
				if (r == 1 && msg.hdr.type == SLB_MSG_WEIGHT)
					backup_watch_update(&ck->backups, &ck->shm);
				else if (r != -2) /* EOF: the master is gone; it sends nothing else */
					return;
				continue;
			}
			checker_probe_event(ck, t, now);
		}
	}
}

int main(int argc, char **argv)
{
	struct checker ck = { .epfd = -1 };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct slb_child child = { 0 };
	int rc = slb_child_start(&child, "slb-checker", argc, argv, on_stop);

	if (rc)
		return rc;
	ck.config = child.config;
	ck.shm = child.shm;
	ck.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ck.epfd == -1 || epoll_ctl(ck.epfd, EPOLL_CTL_ADD, SLB_FD_CHANNEL, &ev) == -1 ||
	    checker_setup(&ck, slb_now_ms()) == -1 ||
	    backup_watch_setup(&ck.backups, ck.config, &ck.shm) == -1)
		return 1;
	if (slb_drop_privileges(ck.config->global.user) == -1)
		return 1;
	if (slb_msg_send_ready(SLB_FD_CHANNEL, child.generation) == -1)
		return 1;
	slb_debug("checker (generation %u) probing %u servers", child.generation, ck.ntargets);
	checker_loop(&ck);
	for (unsigned i = 0; i < ck.ntargets; i++) {
		checker_probe_end(&ck, &ck.targets[i]);
		http_check_free(&ck.targets[i]);
	}
	free(ck.targets);
	for (unsigned g = 0; ck.tls && g < ck.config->ngroups; g++)
		SSL_CTX_free(ck.tls[g]);
	free(ck.tls);
	backup_watch_free(&ck.backups);
	slb_child_finish(&child);
	return 0;
}
