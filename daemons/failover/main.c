/*
 * main.c - slb-failover.
 *
 *   slb-failover -g GENERATION -n CONFIG_NAME [-f]     (started by slb-master)
 *
 * Without a [failover] section the node is standalone and simply holds
 * every [vip] while it runs. With one, it runs the election (election.c).
 *
 * SIGTERM, or the master gone: release the VIPs (a master first sends a
 * priority-0 advert so the backup takes over at once) and exit.
 * SLB_MSG_DRAIN from the master (a reload): exit and leave VIPs and state
 * in place; the next slb-failover resumes from shared memory without a gap.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <ifaddrs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "failover.h"
#include "ipc.h"
#include "log.h"
#include "privileges.h"

static volatile sig_atomic_t failover_stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	failover_stop_asked = 1;
}

enum wake { WAKE_TIMER, WAKE_STOP, WAKE_HANDOVER };

/* Waits for the channel, the sockets or the next timer; says what to do. */
static enum wake failover_wait(struct failover *f, int epfd, int timeout_ms)
{
	struct epoll_event ev[8];
	int n = epoll_wait(epfd, ev, 8, timeout_ms);

	f->now_ms = slb_now_ms();
	f->turn_cpu_us = slb_thread_cpu_us();
	if (failover_stop_asked)
		return WAKE_STOP;
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;

		if (fd == SLB_FD_CHANNEL) {
			struct slb_msg msg;
			int r = slb_msg_recv(SLB_FD_CHANNEL, &msg);

			if (r == 1 && msg.hdr.type == SLB_MSG_DRAIN)
				return WAKE_HANDOVER;
			if (r == 1 && msg.hdr.type == SLB_MSG_FAILOVER_MANUAL && f->fc->enabled)
				failover_manual(f, msg.u.manual.op);
			if (r == 0 || r == -1)
				return WAKE_STOP; /* master gone: nobody serves behind the VIPs */
		} else if (fd == f->recv_fd) {
			struct slb_vrrp_advert a;
			struct in_addr from;
			int r;

			while ((r = vrrp_receive(f, &a, &from)) >= 0)
				if (r == 1)
					failover_on_advert(f, &a, from);
		} else if (fd == f->link_fd) {
			if (link_watch_read(f) == 1)
				failover_on_link(f, f->link_up);
		} else if (!sync_master_on_event(f, fd, ev[i].events)) {
			sync_backup_on_event(f, fd, ev[i].events);
		}
	}
	return WAKE_TIMER;
}

/*
 * The turn's CPU time, the worst kept: what this loop's own work (a chunk of
 * a walk, a burst of frames) can make a timer wait, measured apart from the
 * time a busy machine does not run it.
 */
static void note_turn_cpu(struct failover *f)
{
	uint64_t used = slb_thread_cpu_us() - f->turn_cpu_us;

	if (used > atomic_load(&f->shared->turn_cpu_max_us))
		atomic_store(&f->shared->turn_cpu_max_us, used);
}

/* This node's own IPv4 address on <ifname>: the first that is not a VIP. */
static int find_self(struct failover *f)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (i = ifa; i; i = i->ifa_next) {
		bool vip = false;
		struct in_addr a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, f->fc->interface) != 0)
			continue;
		a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		for (unsigned v = 0; v < f->config->nvips; v++)
			vip |= f->config->vips[v].address.family == AF_INET &&
			       f->config->vips[v].address.addr.in4.s_addr == a.s_addr;
		if (!vip) {
			f->self = a;
			freeifaddrs(ifa);
			return 0;
		}
	}
	freeifaddrs(ifa);
	errno = EADDRNOTAVAIL;
	return -1;
}

static int read_key(struct failover *f)
{
	ssize_t n;
	int fd;

	if (!f->fc->auth_key_file[0])
		return 0;
	fd = open(f->fc->auth_key_file, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		slb_err("failover: auth_key_file %s: %m", f->fc->auth_key_file);
		return -1;
	}
	n = read(fd, f->key_bytes, sizeof(f->key_bytes));
	close(fd);
	/* A trailing newline from `echo secret > file` is not part of the key. */
	while (n > 0 && (f->key_bytes[n - 1] == '\n' || f->key_bytes[n - 1] == '\r'))
		n--;
	if (n <= 0) {
		slb_err("failover: auth_key_file %s is empty or unreadable", f->fc->auth_key_file);
		return -1;
	}
	f->key.bytes = f->key_bytes;
	f->key.len = (size_t)n;
	return 0;
}

/* Timers that fire late make failovers slow: ask for real time, and no paging. */
static void failover_realtime(void)
{
	struct sched_param sp = { .sched_priority = 10 };

	if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) == -1)
		slb_warn("failover: no real-time scheduling: %m");
	if (mlockall(MCL_CURRENT | MCL_FUTURE) == -1)
		slb_warn("failover: cannot lock memory: %m");
}

/* Set up, nothing is left to do but addresses and packets. */
static int failover_drop_caps(void)
{
	static const int keep[] = { CAP_NET_ADMIN, CAP_NET_RAW };

	return slb_keep_only_caps(keep, 2);
}

static int failover_setup(struct failover *f, int epfd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	f->ifindex = (int)if_nametoindex(f->fc->interface);
	if (f->ifindex == 0) {
		slb_err("failover: interface %s: %m", f->fc->interface);
		return -1;
	}
	if (find_self(f) == -1) {
		slb_err("failover: %s has no IPv4 address of its own: %m", f->fc->interface);
		return -1;
	}
	if (read_key(f) == -1 || vrrp_socket_open(f) == -1 || garp_open(f) == -1 ||
	    link_watch_open(f) == -1)
		return -1;
	ev.data.fd = f->recv_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, f->recv_fd, &ev) == -1)
		return -1;
	ev.data.fd = f->link_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, f->link_fd, &ev) == -1)
		return -1;
	/* Without its sync port the node still runs the election: said, not fatal. */
	if (sync_enabled(f))
		sync_master_open(f);
	f->link_up = link_is_up(f->ifindex);
	f->base_priority = failover_base_priority(f->fc, f->config->node.zone);
	failover_realtime();
	return failover_drop_caps();
}

static int run_election(struct failover *f, int epfd, uint32_t generation)
{
	bool resume = atomic_load(&f->shared->state) == SLB_FAILOVER_MASTER;

	if (failover_setup(f, epfd) == -1)
		return 1;
	f->now_ms = slb_now_ms();
	failover_start(f, resume);
	if (slb_msg_send_ready(SLB_FD_CHANNEL, generation) == -1)
		return 1;
	for (;;) {
		uint64_t due = failover_next_due(f);
		enum wake w;

		if (sync_master_next_due(f) < due)
			due = sync_master_next_due(f);
		if (sync_backup_next_due(f) < due)
			due = sync_backup_next_due(f);
		w = failover_wait(f, epfd, due > f->now_ms ? (int)(due - f->now_ms) : 0);

		if (w == WAKE_STOP) {
			failover_stop(f);
			return 0;
		}
		if (w == WAKE_HANDOVER)
			return 0;
		failover_on_timers(f);
		sync_master_tick(f);
		sync_backup_tick(f);
		note_turn_cpu(f);
	}
}

/* No [failover]: hold every VIP until stopped. */
static int run_standalone(struct failover *f, int epfd, uint32_t generation)
{
	f->now_ms = slb_now_ms();
	if (failover_drop_caps() == -1)
		return 1;
	if (failover_vips_add(f) == -1) {
		failover_vips_remove(f);
		return 1;
	}
	atomic_store(&f->shared->state, SLB_FAILOVER_MASTER);
	atomic_fetch_add(&f->shared->transitions, 1);
	atomic_store(&f->shared->since_ms, slb_realtime_ms());
	snprintf(f->shared->reason, sizeof(f->shared->reason), "standalone");
	if (slb_msg_send_ready(SLB_FD_CHANNEL, generation) == -1)
		return 1;
	for (;;) {
		enum wake w = failover_wait(f, epfd, -1);

		if (w == WAKE_HANDOVER)
			return 0;
		if (w == WAKE_STOP) {
			failover_vips_remove(f);
			atomic_store(&f->shared->state, SLB_FAILOVER_INIT);
			return 0;
		}
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = SLB_FD_CHANNEL };
	struct failover f = { .recv_fd = -1, .send_fd = -1, .garp_fd = -1, .link_fd = -1,
			      .sync_listen_fd = -1 };
	struct slb_child child = { 0 };
	int epfd, rc = slb_child_start(&child, "slb-failover", argc, argv, on_stop);

	if (rc)
		return rc;
	f.config = child.config;
	f.fc = &child.config->failover;
	f.shm = &child.shm;
	f.shared = &child.shm.hdr->failover;
	/* notify programs run in the background: let the kernel reap them. */
	signal(SIGCHLD, SIG_IGN);
	f.vips = slb_vip_open();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	f.epfd = epfd;
	if (!f.vips || epfd == -1 || epoll_ctl(epfd, EPOLL_CTL_ADD, SLB_FD_CHANNEL, &ev) == -1)
		return 1;
	rc = f.fc->enabled ? run_election(&f, epfd, child.generation)
			   : run_standalone(&f, epfd, child.generation);
	sync_master_close(&f);
	sync_backup_close(&f);
	link_watch_close(&f);
	slb_vip_close(f.vips);
	slb_child_finish(&child);
	return rc;
}
