/*
 * children.c - exec'ing, watching and respawning the daemons.
 *
 * Each child is fork+exec'd with the same fd layout (ipc.h): its channel,
 * the sealed config, the shared memory and, for workers, every listening
 * socket. A child that dies is respawned with a growing delay while it
 * keeps dying soon after start (keepalived's habit), so a crash loop costs
 * little and a one-off crash is repaired at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "ipc.h"
#include "log.h"
#include "master.h"

#define QUICK_DEATH_MS 10000 /* dying sooner than this after start counts as a crash loop */
#define RESPAWN_BASE_MS 250
#define RESPAWN_MAX_MS 16000
#define DRAIN_GRACE_MS 5000 /* past drain_timeout, before SIGKILL */

static const char *kind_program(enum master_child_kind kind)
{
	switch (kind) {
	case MASTER_WORKER: return "slb-worker";
	case MASTER_CHECKER: return "slb-checker";
	default: return "slb-failover";
	}
}

static bool is_executable(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, X_OK) == 0;
}

void master_find_exec_dir(struct master *m, const char *argv0)
{
	const char *env = getenv("SLB_LIBEXECDIR");
	char self[PATH_MAX];
	ssize_t n;

	(void)argv0;
	if (env && *env) {
		snprintf(m->exec_dir, sizeof(m->exec_dir), "%s", env);
		return;
	}
	/* Run from a build tree, the daemons sit next to slb-master. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (is_executable(self, "slb-worker")) {
				snprintf(m->exec_dir, sizeof(m->exec_dir), "%s", self);
				return;
			}
		}
	}
	snprintf(m->exec_dir, sizeof(m->exec_dir), "%s", SLB_LIBEXECDIR);
}

/*
 * In the forked child: put <fds> at 3, 4, ... and close everything else.
 * Sources are first copied above the target range so no dup2 overwrites a
 * source that is still to be moved.
 */
static void child_arrange_fds(const int *fds, unsigned n)
{
	int tmp[SLB_MAX_LISTENERS + 4];

	for (unsigned i = 0; i < n; i++) {
		tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + (int)n);
		if (tmp[i] == -1)
			_exit(126);
	}
	for (unsigned i = 0; i < n; i++)
		if (dup2(tmp[i], 3 + (int)i) == -1)
			_exit(126);
	close_range(3 + n, ~0u, 0);
}

void master_child_spawn(struct master *m, struct master_child *c)
{
	int fds[SLB_MAX_LISTENERS + 4];
	char path[PATH_MAX + 32], gen[16], idx[16];
	const char *program = kind_program(c->kind);
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned nfds = 0;
	int sv[2];
	pid_t pid;

	c->respawn_at_ms = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		slb_err("%s: socketpair: %m", program);
		c->respawn_at_ms = slb_now_ms() + RESPAWN_MAX_MS;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", m->exec_dir, program);
	snprintf(gen, sizeof(gen), "%u", c->generation);
	snprintf(idx, sizeof(idx), "%u", c->index);
	fds[nfds++] = sv[1];
	fds[nfds++] = m->config_fd;
	fds[nfds++] = m->shm.fd;
	/* A stopped listener's place is held by the config memfd: the worker closes it. */
	if (c->kind == MASTER_WORKER)
		for (unsigned i = 0; i < m->config->nlisteners; i++)
			fds[nfds++] = m->listen_fds[i] >= 0 ? m->listen_fds[i] : m->config_fd;
	pid = fork();
	if (pid == 0) {
		char *argv[10];
		unsigned argc = 0;
		sigset_t all;

		argv[argc++] = (char *)program;
		argv[argc++] = "-g";
		argv[argc++] = gen;
		if (c->kind == MASTER_WORKER) {
			argv[argc++] = "-i";
			argv[argc++] = idx;
		}
		argv[argc++] = "-n";
		argv[argc++] = (char *)m->config_path;
		if (m->foreground)
			argv[argc++] = "-f";
		argv[argc] = NULL;

		/* The master blocks signals for its signalfd; the child must not inherit that. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		child_arrange_fds(fds, nfds);
		execv(path, argv);
		_exit(127);
	}
	close(sv[1]);
	if (pid == -1) {
		slb_err("%s: fork: %m", program);
		close(sv[0]);
		c->respawn_at_ms = slb_now_ms() + RESPAWN_MAX_MS;
		return;
	}
	c->pid = pid;
	c->channel = sv[0];
	c->ready = false;
	c->started_ms = slb_now_ms();
	fcntl(c->channel, F_SETFL, O_NONBLOCK);
	ev.data.u64 = (uint64_t)(c - m->children);
	epoll_ctl(m->epfd, EPOLL_CTL_ADD, c->channel, &ev);
	slb_debug("%s %u (generation %u) started, pid %d", program, c->index, c->generation, pid);
}

struct master_child *master_child_alloc(struct master *m, enum master_child_kind kind,
					 unsigned index)
{
	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		struct master_child *c = &m->children[i];

		if (c->used)
			continue;
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->kind = kind;
		c->index = index;
		c->generation = m->generation;
		c->channel = -1;
		return c;
	}
	slb_err("too many child processes (%d)", MASTER_MAX_CHILDREN);
	return NULL;
}

int master_start_generation(struct master *m, bool with_failover)
{
	struct master_child *c;

	for (unsigned i = 0; i < m->config->global.workers; i++) {
		c = master_child_alloc(m, MASTER_WORKER, i);
		if (!c)
			return -1;
		master_child_spawn(m, c);
	}
	c = master_child_alloc(m, MASTER_CHECKER, 0);
	if (!c)
		return -1;
	master_child_spawn(m, c);
	if (with_failover) {
		c = master_child_alloc(m, MASTER_FAILOVER, 0);
		if (!c)
			return -1;
		master_child_spawn(m, c);
	}
	return 0;
}

static void child_close_channel(struct master *m, struct master_child *c)
{
	if (c->channel < 0)
		return;
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->channel, NULL);
	close(c->channel);
	c->channel = -1;
}

/* What slb-failover reads to give up the VIPs when no worker serves. */
static void publish_workers_alive(struct master *m)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		const struct master_child *c = &m->children[i];

		if (c->used && c->kind == MASTER_WORKER && c->pid && c->ready && !c->drain_sent)
			n++;
	}
	atomic_store(&m->shm.hdr->failover.workers_alive, n);
}

static bool generation_ready(const struct master *m)
{
	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		const struct master_child *c = &m->children[i];

		if (c->used && !c->retired && c->kind == MASTER_WORKER && !c->ready)
			return false;
	}
	return true;
}

/*
 * Retired workers keep accepting until every worker of the new generation
 * is ready: then they are told to drain. That ordering is what makes a
 * reload refuse nothing.
 */
static void drain_retired_workers(struct master *m)
{
	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		struct master_child *c = &m->children[i];

		if (c->used && c->retired && c->kind == MASTER_WORKER && !c->drain_sent && c->pid)
			master_child_retire(m, c, true);
	}
}

void master_child_retire(struct master *m, struct master_child *c, bool drain)
{
	uint32_t timeout = m->config->global.drain_timeout_ms;

	c->retired = true;
	c->respawn_at_ms = 0;
	if (!c->pid) {
		c->used = false;
		return;
	}
	if (!drain)
		return;
	c->drain_sent = true;
	c->kill_at_ms = slb_now_ms() + timeout + DRAIN_GRACE_MS;
	if (c->channel < 0 || slb_msg_send(c->channel, SLB_MSG_DRAIN, c->generation, &timeout) == -1)
		kill(c->pid, SIGTERM);
}

void master_child_channel(struct master *m, struct master_child *c)
{
	struct slb_msg msg;
	int r;

	while ((r = slb_msg_recv(c->channel, &msg)) == 1) {
		if (msg.hdr.type == SLB_MSG_READY && !c->ready) {
			c->ready = true;
			publish_workers_alive(m);
			if (c->kind == MASTER_WORKER && !c->retired && generation_ready(m))
				drain_retired_workers(m);
		}
	}
	if (r == -2)
		return;
	if (r == -1 && c->pid) {
		/* A child that breaks the protocol is not trusted to go on. */
		slb_err("%s %u (pid %d): malformed message, restarting it", kind_program(c->kind),
			c->index, c->pid);
		kill(c->pid, SIGKILL);
	}
	child_close_channel(m, c);
}

static void describe_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

void master_child_exited(struct master *m, pid_t pid, int status)
{
	uint64_t now = slb_now_ms();
	char how[48];

	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		struct master_child *c = &m->children[i];
		uint64_t delay;

		if (!c->used || c->pid != pid)
			continue;
		child_close_channel(m, c);
		c->pid = 0;
		publish_workers_alive(m);
		describe_status(status, how, sizeof(how));
		if (c->retired || m->stopping) {
			slb_debug("%s %u (generation %u, pid %d) %s", kind_program(c->kind), c->index,
				  c->generation, pid, how);
			c->used = false;
			if (c->kind == MASTER_WORKER)
				master_listeners_release(m);
			return;
		}
		if (now - c->started_ms < QUICK_DEATH_MS)
			c->quick_deaths++;
		else
			c->quick_deaths = 0;
		/* A first crash is repaired at once; only a crash loop waits. */
		delay = c->quick_deaths <= 1 ? 0 : (uint64_t)RESPAWN_BASE_MS << (c->quick_deaths - 2);
		if (c->quick_deaths > 8 || delay > RESPAWN_MAX_MS)
			delay = RESPAWN_MAX_MS;
		slb_warn("%s %u (pid %d) %s; restarting in %llu ms", kind_program(c->kind), c->index,
			 pid, how, (unsigned long long)delay);
		c->respawn_at_ms = now + delay;
		if (delay == 0)
			master_child_spawn(m, c);
		return;
	}
}

void master_children_tick(struct master *m)
{
	uint64_t now = slb_now_ms();

	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		struct master_child *c = &m->children[i];

		if (!c->used)
			continue;
		if (!c->pid && c->respawn_at_ms && now >= c->respawn_at_ms && !m->stopping)
			master_child_spawn(m, c);
		if (c->pid && c->kill_at_ms && now >= c->kill_at_ms) {
			slb_warn("%s %u (generation %u, pid %d) did not drain in time, killing it",
				 kind_program(c->kind), c->index, c->generation, c->pid);
			kill(c->pid, SIGKILL);
			c->kill_at_ms = 0;
		}
	}
}

int master_children_next_timeout(const struct master *m)
{
	uint64_t now = slb_now_ms(), next = UINT64_MAX;

	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		const struct master_child *c = &m->children[i];

		if (!c->used)
			continue;
		if (!c->pid && c->respawn_at_ms && c->respawn_at_ms < next)
			next = c->respawn_at_ms;
		if (c->pid && c->kill_at_ms && c->kill_at_ms < next)
			next = c->kill_at_ms;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

unsigned master_children_alive(const struct master *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++)
		if (m->children[i].used && m->children[i].pid)
			n++;
	return n;
}

void master_children_signal(struct master *m, int sig)
{
	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++)
		if (m->children[i].used && m->children[i].pid)
			kill(m->children[i].pid, sig);
}
