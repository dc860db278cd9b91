/*
 * master.h - slb-master: the one process that reads /etc, owns the
 * listening sockets and the shared memory, and runs the other daemons.
 */
#ifndef SLB_MASTER_H
#define SLB_MASTER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "shm.h"
#include "state.h"

#define MASTER_MAX_CHILDREN 512
/* epoll tags: child i is i, the control socket this, its connections above */
#define MASTER_CONTROL_TAG_BASE (UINT64_C(1) << 32)
/* the metrics endpoint's socket, timer and connections, from this up */
#define MASTER_METRICS_TAG_BASE (UINT64_C(2) << 32)

struct master_control;
struct master_metrics;

enum master_child_kind { MASTER_WORKER, MASTER_CHECKER, MASTER_FAILOVER };

struct master_child {
	bool used;
	enum master_child_kind kind;
	unsigned index; /* worker number within its generation */
	uint32_t generation;
	pid_t pid; /* 0 = not running */
	int channel; /* master's end of the socketpair, -1 = none */
	bool ready;
	bool retired; /* replaced by a newer generation: never respawned */
	bool drain_sent;
	unsigned quick_deaths; /* deaths in a row soon after start: the backoff */
	uint64_t started_ms;
	uint64_t respawn_at_ms; /* 0 = no respawn pending */
	uint64_t kill_at_ms; /* retired: SIGKILL if still alive then, 0 = none */
};

/*
 * A udp listening socket the configuration no longer has (listeners.c), kept
 * while workers of <generation> or older may hold it.
 */
struct master_parked_udp {
	int fd;
	struct slb_sockaddr bind;
	uint32_t generation;
};

struct master {
	const char *config_path;
	bool foreground;
	struct slb_config *config;
	int config_fd; /* sealed memfd: the exact bytes validated, run-time changes applied */
	int file_fd; /* sealed memfd: slb.ini as it was read, what run-time changes apply to */
	int *listen_fds; /* one per config listener */
	struct master_parked_udp *parked; /* udp sockets dropped by a reload, still held */
	unsigned nparked;
	struct slb_shm shm;
	uint32_t generation;
	struct master_child children[MASTER_MAX_CHILDREN];
	int epfd;
	int sigfd;
	char exec_dir[PATH_MAX];
	bool stopping;
	struct master_state state; /* run-time changes over slb.ini (state.h) */
	struct master_control *control; /* control.c */
	struct master_metrics *metrics; /* metrics.c, NULL = off */
};

/* config snapshot (main.c) */
int master_config_snapshot(const char *path, FILE *errors);
/* <changed>: the file carries the run-time changes (slb_config_load_changed_fd()). */
struct slb_config *master_config_load(struct master *m, int fd, bool changed, FILE *errors);

/* children.c */
void master_find_exec_dir(struct master *m, const char *argv0);
int master_start_generation(struct master *m, bool with_failover);
void master_child_spawn(struct master *m, struct master_child *c);
void master_child_exited(struct master *m, pid_t pid, int status);
void master_child_channel(struct master *m, struct master_child *c);
void master_child_retire(struct master *m, struct master_child *c, bool drain);
void master_children_tick(struct master *m);
int master_children_next_timeout(const struct master *m);
unsigned master_children_alive(const struct master *m);
void master_children_signal(struct master *m, int sig);
struct master_child *master_child_alloc(struct master *m, enum master_child_kind kind,
					 unsigned index);

/* listeners.c: the sockets of <next> (one per listener, -1 for a stopped one):
 * the running or parked ones on the same address kept, the others bound now;
 * NULL (logged) when one cannot be bound, nothing changed. */
int *master_listeners_bind(struct master *m, const struct slb_config *next);
/* A switch that failed after the bind: closes what it opened, frees <fds>. */
void master_listeners_discard(struct master *m, int *fds, unsigned n);
/* The switch to <next> (before m->config and m->generation move on): <fds> become
 * the running sockets, the old ones are closed or, for udp, parked. */
void master_listeners_switch(struct master *m, int *fds, const struct slb_config *next);
/* After a worker exited: closes the parked sockets no worker may hold any more. */
void master_listeners_release(struct master *m);

/* reload.c: SIGHUP; the switch to a validated <next> (its sealed <fd>, slb.ini's
 * <file_fd>): 0, or -1 (logged) with nothing changed and nothing taken over */
void master_reload(struct master *m);
int master_switch(struct master *m, struct slb_config *next, int fd, int file_fd);

/* effective.c: sealed memfd of <len> bytes (or -1); all of <fd> (malloc'd, or NULL);
 * slb.ini's snapshot <file_fd> with <st>'s changes: its sealed fd and *out, or -1
 * with the errors written (changes that no longer apply are dropped, logged, saved) */
int master_memfd_sealed(const char *bytes, size_t len);
char *master_fd_read(int fd, size_t *len);
int master_config_effective(struct master *m, struct master_state *st, int file_fd,
			    struct slb_config **out, FILE *errors);
/* Makes <st> (the running state with changes made) the running one: rendered over
 * the running slb.ini, validated, saved, switched to. 0, or -1 with <err>. */
int master_state_commit(struct master *m, struct master_state *st, char *err, size_t errlen);

/* control.c: the slbctl socket (0 or -1 logged), its epoll events, its removal */
int master_control_open(struct master *m);
void master_control_event(struct master *m, uint64_t tag, uint32_t events);
void master_control_close(struct master *m);

/* metrics.c: the Prometheus endpoint at [global] metrics (0, or -1 logged; 0 when
 * off), its epoll events, the move to a reloaded address, its removal */
int master_metrics_open(struct master *m);
void master_metrics_event(struct master *m, uint64_t tag, uint32_t events);
void master_metrics_reload(struct master *m);
void master_metrics_close(struct master *m);

/* sd_notify.c: "READY=1", "RELOADING=1", "STOPPING=1" to systemd, if it asked */
void master_sd_notify(const char *state);

/* daemonize.c */
int master_daemonize(int *ready_fd);
void master_daemonize_done(int ready_fd);
int master_pidfile_write(const char *path);
void master_pidfile_remove(const char *path);

#endif
