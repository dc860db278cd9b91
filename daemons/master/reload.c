/*
 * reload.c - SIGHUP: validate the file again and, only if all of it is
 * valid, switch to it without refusing a connection.
 *
 * Order: new config validated -> new listening sockets bound (existing
 * ones kept) -> server table updated in place -> new generation of workers
 * started on the same sockets -> once they are all ready, the old ones stop
 * accepting and drain. Anything failing before the switch leaves the
 * running configuration untouched.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd_limit.h"
#include "log.h"
#include "master.h"
#include "vip.h"

static bool vip_equal(const struct slb_vip_conf *a, const struct slb_vip_conf *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->interface, b->interface) == 0 &&
	       memcmp(&a->address, &b->address, sizeof(a->address)) == 0;
}

static bool vip_listed(const struct slb_vip_conf *vip, const struct slb_config *config)
{
	for (unsigned i = 0; i < config->nvips; i++)
		if (vip_equal(vip, &config->vips[i]))
			return true;
	return false;
}

/* slb-failover is restarted (handing over its state) only when its part changed. */
static bool failover_changed(const struct slb_config *a, const struct slb_config *b)
{
	const struct slb_failover_conf *fa = &a->failover, *fb = &b->failover;

	if (a->nvips != b->nvips || fa->enabled != fb->enabled || fa->vrid != fb->vrid ||
	    fa->priority != fb->priority || fa->advert_interval_ms != fb->advert_interval_ms ||
	    fa->npeers != fb->npeers || fa->preempt != fb->preempt ||
	    fa->preempt_delay_ms != fb->preempt_delay_ms || fa->track_weight != fb->track_weight ||
	    fa->garp_interval_ms != fb->garp_interval_ms || strcmp(fa->notify, fb->notify) != 0 ||
	    strcmp(fa->interface, fb->interface) != 0 ||
	    strcmp(fa->auth_key_file, fb->auth_key_file) != 0 ||
	    memcmp(fa->peers, fb->peers, sizeof(fa->peers)) != 0 ||
	    a->node.zone != b->node.zone)
		return true;
	/* track_group is an index: compare what it names. */
	if ((fa->track_group < 0) != (fb->track_group < 0) ||
	    (fa->track_group >= 0 &&
	     strcmp(a->groups[fa->track_group].name, b->groups[fb->track_group].name) != 0))
		return true;
	for (unsigned i = 0; i < a->nvips; i++)
		if (!vip_listed(&a->vips[i], b))
			return true;
	return false;
}

/* VIPs the new configuration dropped: the next slb-failover will not know them. */
static void remove_dropped_vips(const struct slb_config *old, const struct slb_config *next)
{
	struct slb_vip_ctl *ctl = NULL;

	for (unsigned i = 0; i < old->nvips; i++) {
		if (vip_listed(&old->vips[i], next))
			continue;
		if (!ctl)
			ctl = slb_vip_open();
		if (ctl && slb_vip_remove(ctl, &old->vips[i], NULL) == 0)
			slb_info("vip %s: removed from the configuration, released", old->vips[i].name);
	}
	slb_vip_close(ctl);
}

static void log_errors(char *text)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		slb_err("%s", line);
}

/* Validates the file and the run-time changes over it; NULL (errors logged)
 * when the running config must stay. */
static struct slb_config *reload_validate(struct master *m, int *fd_out, int *file_fd_out)
{
	struct slb_config *next = NULL;
	char *errors = NULL;
	size_t errlen = 0;
	FILE *errstream = open_memstream(&errors, &errlen);
	int file_fd = errstream ? master_config_snapshot(m->config_path, errstream) : -1;
	int fd = -1;

	if (file_fd >= 0)
		fd = master_config_effective(m, &m->state, file_fd, &next, errstream);
	if (errstream)
		fclose(errstream);
	if (errors)
		log_errors(errors);
	free(errors);
	if (next && strcmp(next->global.instance, m->config->global.instance) != 0) {
		slb_err("%s: [global] instance: cannot change on reload (restart instead)",
			m->config_path);
		slb_config_free(next);
		next = NULL;
	}
	if (!next) {
		if (fd >= 0)
			close(fd);
		if (file_fd >= 0)
			close(file_fd);
		return NULL;
	}
	*fd_out = fd;
	*file_fd_out = file_fd;
	return next;
}

int master_switch(struct master *m, struct slb_config *next, int fd, int file_fd)
{
	struct slb_config *old = m->config;
	bool restart_failover;
	int *fds;

	fds = master_listeners_bind(m, next);
	if (!fds)
		return -1;
	if (slb_shm_apply_config(&m->shm, next) == -1) {
		master_listeners_discard(m, fds, next->nlisteners);
		return -1;
	}

	restart_failover = failover_changed(old, next);
	if (restart_failover)
		remove_dropped_vips(old, next);
	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		struct master_child *c = &m->children[i];

		if (!c->used || c->retired)
			continue;
		if (c->kind == MASTER_WORKER) {
			master_child_retire(m, c, false); /* drains once the new ones are ready */
		} else if (c->kind == MASTER_CHECKER) {
			master_child_retire(m, c, false);
			if (c->pid)
				kill(c->pid, SIGTERM);
		} else if (restart_failover) {
			master_child_retire(m, c, true); /* exits, leaving the VIPs in place */
		}
	}
	master_listeners_switch(m, fds, next);
	close(m->config_fd);
	close(m->file_fd);
	slb_config_free(old);
	m->config = next;
	m->config_fd = fd;
	m->file_fd = file_fd;
	m->generation++;
	master_metrics_reload(m);
	if (master_start_generation(m, restart_failover) == -1)
		slb_err("reload: could not start every process of generation %u", m->generation);
	return 0;
}

void master_reload(struct master *m)
{
	struct slb_config *next;
	int fd, file_fd;

	slb_info("reloading %s", m->config_path);
	master_sd_notify("RELOADING=1");
	next = reload_validate(m, &fd, &file_fd);
	if (!next)
		goto keep;
	if (next->global.session_table_size != m->config->global.session_table_size)
		slb_warn("%s: [global] session_table_size: the table keeps %u entries until the "
			 "next restart", m->config_path, slb_sessions_capacity(m->shm.sessions));
	if (master_switch(m, next, fd, file_fd) == -1) {
		slb_config_free(next);
		close(fd);
		close(file_fd);
		goto keep;
	}
	slb_info("reloaded %s (generation %u)", m->config_path, m->generation);
	slb_fd_limit_raise(m->config);
	master_sd_notify("READY=1");
	return;
keep:
	slb_err("reload failed: keeping the running configuration");
	master_sd_notify("READY=1");
}
