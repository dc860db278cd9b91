/*
 * main.c - slb-master: command line, start-up, the supervision loop, stop.
 *
 *   slb-master [-c FILE] [-t] [-f]
 *     -c FILE  configuration (default /etc/slb/slb.ini)
 *     -t       check the file: "configuration OK" and exit 0, or the errors and exit 1
 *     -f       stay in the foreground, log to stderr unless `log` names a file
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "fd_limit.h"
#include "log.h"
#include "master.h"
#include "tls.h"
#include "vip.h"

#define CONFIG_MAX_BYTES (16u << 20)
#define STOP_GRACE_MS 5000
#define SIGFD_TAG UINT64_MAX

int master_config_snapshot(const char *path, FILE *errors)
{
	char *buf = NULL;
	size_t len = 0;
	int in, fd;

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in == -1) {
		fprintf(errors, "%s:0: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	buf = master_fd_read(in, &len);
	if (!buf && errno == 0)
		errno = EIO;
	close(in);
	if (!buf || len > CONFIG_MAX_BYTES) {
		fprintf(errors, "%s:0: cannot read: %s\n", path, strerror(buf ? EFBIG : errno));
		free(buf);
		return -1;
	}
	fd = master_memfd_sealed(buf, len);
	free(buf);
	if (fd == -1)
		fprintf(errors, "%s:0: cannot snapshot: %s\n", path, strerror(errno));
	return fd;
}

struct slb_config *master_config_load(struct master *m, int fd, bool changed, FILE *errors)
{
	struct slb_config *config = changed ? slb_config_load_changed_fd(fd, m->config_path, errors)
					    : slb_config_load_fd(fd, m->config_path, errors);

	if (!config)
		return NULL;
	/* The file is valid only if its workers can actually become that user. */
	if (strcmp(config->global.user, "root") != 0 && !getpwnam(config->global.user)) {
		fprintf(errors, "%s: [global] user: unknown user '%s'\n", m->config_path,
			config->global.user);
		slb_config_free(config);
		return NULL;
	}
	if (config->failover.notify[0] && access(config->failover.notify, X_OK) == -1) {
		fprintf(errors, "%s: [failover] notify: cannot run %s: %s\n", m->config_path,
			config->failover.notify, strerror(errno));
		slb_config_free(config);
		return NULL;
	}
	/* Certificates and keys are read here, not in lib/config.c, which knows no OpenSSL. */
	if (slb_tls_check_config(config, errors) == -1 ||
	    slb_tls_check_groups(config, errors) == -1) {
		slb_config_free(config);
		return NULL;
	}
	if (config->failover.auth_key_file[0] && access(config->failover.auth_key_file, R_OK) == -1) {
		fprintf(errors, "%s: [failover] auth_key_file: cannot read %s: %s\n", m->config_path,
			config->failover.auth_key_file, strerror(errno));
		slb_config_free(config);
		return NULL;
	}
	return config;
}

static int master_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/*
 * Reaps children, reloads, or begins the stop, as the signals that came ask.
 * All pending signals are read first and the stop is handled before any
 * exit: when the whole process group gets SIGTERM (systemd, ^C), children
 * die at the same moment, and they must not be respawned.
 */
static void master_on_signals(struct master *m)
{
	struct signalfd_siginfo si;
	bool stop = false, reload = false, reap = false;
	unsigned stop_signo = 0;

	while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap = true;
		} else if (si.ssi_signo == SIGHUP) {
			reload = true;
		} else {
			stop = true;
			stop_signo = si.ssi_signo;
		}
	}
	if (stop && !m->stopping) {
		slb_info("stopping (signal %u)", stop_signo);
		master_sd_notify("STOPPING=1");
		m->stopping = true;
		master_children_signal(m, SIGTERM);
	}
	if (reap) {
		int status;
		pid_t pid;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			master_child_exited(m, pid, status);
	}
	if (reload && !m->stopping)
		master_reload(m);
}

static void master_loop(struct master *m)
{
	uint64_t stop_deadline = 0;

	for (;;) {
		struct epoll_event events[32];
		int timeout = m->stopping ? 100 : master_children_next_timeout(m);
		int n = epoll_wait(m->epfd, events, 32, timeout);

		if (n == -1 && errno != EINTR) {
			slb_err("epoll_wait: %m");
			return;
		}
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 == SIGFD_TAG) {
				master_on_signals(m);
			} else if (events[i].data.u64 >= MASTER_METRICS_TAG_BASE) {
				master_metrics_event(m, events[i].data.u64, events[i].events);
			} else if (events[i].data.u64 >= MASTER_CONTROL_TAG_BASE) {
				master_control_event(m, events[i].data.u64, events[i].events);
			} else {
				struct master_child *c = &m->children[events[i].data.u64];

				if (c->used && c->channel >= 0)
					master_child_channel(m, c);
			}
		}
		master_children_tick(m);
		if (!m->stopping)
			continue;
		if (!stop_deadline)
			stop_deadline = slb_now_ms() + STOP_GRACE_MS;
		if (master_children_alive(m) == 0)
			return;
		if (slb_now_ms() >= stop_deadline) {
			master_children_signal(m, SIGKILL);
			while (waitpid(-1, NULL, 0) > 0)
				;
			return;
		}
	}
}

/* Whatever a dead slb-failover could not release, the master does. */
static void master_release_vips(const struct slb_config *config)
{
	struct slb_vip_ctl *ctl;

	if (config->nvips == 0)
		return;
	ctl = slb_vip_open();
	if (!ctl)
		return;
	for (unsigned i = 0; i < config->nvips; i++)
		slb_vip_remove(ctl, &config->vips[i], NULL);
	slb_vip_close(ctl);
}

static int master_check(struct master *m)
{
	int fd = master_config_snapshot(m->config_path, stderr);

	if (fd >= 0)
		m->config = master_config_load(m, fd, false, stderr);
	if (!m->config)
		return 1;
	printf("configuration OK\n");
	slb_config_free(m->config);
	close(fd);
	return 0;
}

static int master_run(struct master *m)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = SIGFD_TAG };
	const struct slb_global_conf *g;
	int ready_fd = -1;

	m->file_fd = master_config_snapshot(m->config_path, stderr);
	if (m->file_fd >= 0)
		m->config = master_config_load(m, m->file_fd, false, stderr);
	if (!m->config)
		return 1;
	if (!m->foreground && master_daemonize(&ready_fd) == -1) {
		slb_err("cannot go to the background: %m");
		return 1;
	}
	slb_log_configure("slb-master", &m->config->global);
	master_state_load(&m->state, m->config->global.state_file);
	slb_config_free(m->config);
	m->config = NULL;
	m->config_fd = master_config_effective(m, &m->state, m->file_fd, &m->config, stderr);
	if (m->config_fd == -1) {
		slb_err("%s: not valid with the run-time changes of the state file", m->config_path);
		return 1;
	}
	g = &m->config->global;
	slb_fd_limit_raise(m->config);
	if (master_pidfile_write(g->pid_file) == -1)
		return 1;
	m->sigfd = master_signals();
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->sigfd == -1 || m->epfd == -1 || epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->sigfd, &ev) == -1)
		goto bad;
	if (slb_shm_create(&m->shm, g->instance, g->session_table_size) == -1)
		goto bad;
	if (slb_shm_apply_config(&m->shm, m->config) == -1)
		goto bad_shm;
	m->listen_fds = master_listeners_bind(m, m->config);
	if (!m->listen_fds)
		goto bad_shm;
	if (master_control_open(m) == -1 || master_metrics_open(m) == -1 ||
	    master_start_generation(m, true) == -1)
		goto bad_shm;
	slb_info("started: %u workers, %u listeners, %u groups, %u vips (config %s)", g->workers,
		 m->config->nlisteners, m->config->ngroups, m->config->nvips, m->config_path);
	if (!m->foreground)
		master_daemonize_done(ready_fd);
	master_sd_notify("READY=1");
	master_loop(m);
	master_control_close(m);
	master_metrics_close(m);
	master_release_vips(m->config);
	slb_shm_unlink(m->config->global.instance);
	master_pidfile_remove(m->config->global.pid_file);
	slb_info("stopped");
	return 0;
bad_shm:
	master_control_close(m);
	master_metrics_close(m);
	master_children_signal(m, SIGKILL);
	slb_shm_unlink(g->instance);
bad:
	master_pidfile_remove(g->pid_file);
	return 1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: slb-master [-c FILE] [-t] [-f]\n"
		     "  -c FILE  configuration (default %s/slb/slb.ini)\n"
		     "  -t       check the configuration and exit\n"
		     "  -f       stay in the foreground\n",
		SLB_SYSCONFDIR);
}

int main(int argc, char **argv)
{
	static struct master m;
	char default_path[PATH_MAX];
	bool check_only = false;
	int opt;

	snprintf(default_path, sizeof(default_path), "%s/slb/slb.ini", SLB_SYSCONFDIR);
	m.config_path = default_path;
	m.config_fd = m.file_fd = -1;
	while ((opt = getopt(argc, argv, "c:tfh")) != -1) {
		switch (opt) {
		case 'c': m.config_path = optarg; break;
		case 't': check_only = true; break;
		case 'f': m.foreground = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check_only)
		return master_check(&m);
	slb_log_force_stderr(m.foreground);
	master_find_exec_dir(&m, argv[0]);
	return master_run(&m);
}
