/*
 * control_changes.c - the slbctl commands that change the configuration at
 * run time: server add and remove, group create, delete and set, listener
 * start and stop.
 *
 * Each one checks its arguments against the running configuration first
 * (clear messages for the usual mistakes), records itself in a copy of the
 * run-time state, and commits that copy (master_state_commit): the result
 * is validated whole by the loader, saved to the state file and switched to
 * as a reload does (new workers on the same sockets, the old ones drain).
 * Any failure leaves the running configuration and the state file as they
 * were.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_values.h"
#include "control.h"
#include "ini_edit.h"
#include "log.h"

int control_parse_weight(const char *arg, uint32_t *weight, char *err, size_t errlen)
{
	const char *value = arg + 7;
	unsigned long w;
	char *end;

	if (strncmp(arg, "weight=", 7) != 0) {
		snprintf(err, errlen, "'%s': expected weight=N (0..100)", arg);
		return -1;
	}
	errno = 0;
	w = strtoul(value, &end, 10);
	if (!*value || *end || errno || value[0] == '-' || w > 100) {
		snprintf(err, errlen, "weight '%s': must be an integer from 0 to 100", value);
		return -1;
	}
	*weight = (uint32_t)w;
	return 0;
}

/* A copy of the running state to record a change in; NULL (err set) without memory. */
static struct master_state *state_copy(struct master *m, char *err, size_t errlen)
{
	struct master_state *st = malloc(sizeof(*st));

	if (!st)
		snprintf(err, errlen, "out of memory");
	else
		*st = m->state;
	return st;
}

/* Commits <st> (freed) and answers "<what>: <done>" or its JSON. */
static int commit(struct master *m, const struct slb_ctl_request *req, struct master_state *st,
		  FILE *out, char *err, size_t errlen, const char *what, const char *done)
{
	int rc = master_state_commit(m, st, err, errlen);

	free(st);
	if (rc == -1)
		return -1;
	slb_info("%s: %s (slbctl)", what, done);
	if (req->json) {
		fputs("{\"changed\": ", out);
		slb_ctl_json_string(out, what);
		fputs(", \"result\": ", out);
		slb_ctl_json_string(out, done);
		fprintf(out, ", \"generation\": %u}\n", m->generation);
	} else {
		fprintf(out, "%s: %s (generation %u)\n", what, done, m->generation);
	}
	return 0;
}

/* The running group named <name>, or NULL with err set. */
static const struct slb_group_conf *group_of(struct master *m, const char *name, char *err,
					     size_t errlen)
{
	int g = slb_config_group_index(m->config, name);

	if (g < 0) {
		snprintf(err, errlen, "no group '%s'", name);
		return NULL;
	}
	return &m->config->groups[g];
}

/* A name slb.ini would accept (it lowercases names: so must we). */
static int name_ok(const char *what, const char *name, char *err, size_t errlen)
{
	char why[SLB_VALUE_ERRLEN];

	if (slb_value_name(name, why) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", what, why);
	return -1;
}

/*
 * A copy of the running state and the text of <fd> (the running effective
 * configuration, or slb.ini's snapshot) in <*text>, <*len> bytes; NULL (err
 * set, nothing to free) when either cannot be had.
 */
static struct master_state *state_and_text(struct master *m, int fd, char **text, size_t *len,
					   char *err, size_t errlen)
{
	struct master_state *st;

	*text = master_fd_read(fd, len);
	if (!*text) {
		snprintf(err, errlen, "cannot read the running configuration back");
		return NULL;
	}
	st = state_copy(m, err, errlen);
	if (!st) {
		free(*text);
		*text = NULL;
	}
	return st;
}

/* --- server add | remove --------------------------------------------------------- */

/*
 * server add's options after IP:PORT, in any order: weight=N (default 100)
 * and role=primary|secondary. Returns 0, or -1 with err set.
 */
static int add_options(const struct slb_ctl_request *req, uint32_t *weight,
		       enum slb_server_role *role, char *err, size_t errlen)
{
	char why[SLB_VALUE_ERRLEN];
	bool have_weight = false, have_role = false;

	for (unsigned i = 3; i < req->nargs; i++) {
		const char *arg = req->args[i];

		if (strncmp(arg, "role=", 5) == 0 && !have_role) {
			have_role = true;
			if (slb_value_role(arg + 5, role, why) == -1) {
				snprintf(err, errlen, "%s", why);
				return -1;
			}
		} else if (strncmp(arg, "weight=", 7) == 0 && !have_weight) {
			have_weight = true;
			if (control_parse_weight(arg, weight, err, errlen) == -1)
				return -1;
		} else {
			snprintf(err, errlen, "'%s': expected weight=N (0..100) or "
				 "role=primary|secondary, each once", arg);
			return -1;
		}
	}
	return 0;
}

/*
 * The role rules of slb.ini (config.c check_primary_secondary) in slbctl's
 * words: role= on each server of a primary_secondary group, one primary and
 * one secondary, and on no server of a normal group. 0, or -1 with err set.
 */
static int role_fits(const struct slb_group_conf *gc, enum slb_server_role role, char *err,
		     size_t errlen)
{
	if (gc->type == SLB_GROUP_NORMAL && role != SLB_ROLE_NONE) {
		snprintf(err, errlen, "group '%s' is normal: role= only applies to a "
			 "primary_secondary group", gc->name);
		return -1;
	}
	if (gc->type == SLB_GROUP_NORMAL)
		return 0;
	if (role == SLB_ROLE_NONE) {
		snprintf(err, errlen, "group '%s' is primary_secondary: give the server "
			 "role=primary or role=secondary", gc->name);
		return -1;
	}
	for (unsigned i = 0; i < gc->nservers; i++) {
		if (gc->servers[i].role == role) {
			snprintf(err, errlen, "group '%s' has its %s already (%s): one server is "
				 "primary, the other secondary", gc->name,
				 slb_value_role_name(role), gc->servers[i].name);
			return -1;
		}
	}
	return 0;
}

int control_server_add(struct master *m, const struct slb_ctl_request *req, FILE *out,
		       char *err, size_t errlen)
{
	const struct slb_group_conf *gc = group_of(m, req->args[0], err, errlen);
	const char *name = req->args[1];
	const struct slb_server_conf *sc;
	struct slb_sockaddr addr;
	struct master_state *st;
	char why[SLB_VALUE_ERRLEN], what[2 * SLB_CTL_ARG_MAX], done[96], text[SLB_SOCKADDR_STRLEN];
	enum slb_server_role role = SLB_ROLE_NONE;
	uint32_t weight = 100;

	if (!gc || name_ok("server name", name, err, errlen) == -1)
		return -1;
	sc = slb_config_find_server(m->config, gc->name, name);
	if (sc) {
		snprintf(err, errlen, "group '%s' already has a server '%s' (%s)", gc->name, name,
			 slb_sockaddr_format(&sc->addr, text));
		return -1;
	}
	if (slb_value_sockaddr(req->args[2], &addr, why) == -1) {
		snprintf(err, errlen, "address: %s", why);
		return -1;
	}
	if (add_options(req, &weight, &role, err, errlen) == -1 ||
	    role_fits(gc, role, err, errlen) == -1)
		return -1;
	st = state_copy(m, err, errlen);
	if (!st)
		return -1;
	slb_sockaddr_format(&addr, text);
	if (master_state_add_server(st, gc->name, name, text, weight, role) == -1) {
		free(st);
		snprintf(err, errlen, "too many run-time changes kept (put them in slb.ini)");
		return -1;
	}
	snprintf(what, sizeof(what), "server %s/%s", gc->name, name);
	if (role == SLB_ROLE_NONE)
		snprintf(done, sizeof(done), "added, %s weight %u", text, weight);
	else
		snprintf(done, sizeof(done), "added, %s weight %u role %s", text, weight,
			 slb_value_role_name(role));
	return commit(m, req, st, out, err, errlen, what, done);
}

int control_server_remove(struct master *m, const struct slb_ctl_request *req, FILE *out,
			  char *err, size_t errlen)
{
	const struct slb_group_conf *gc = group_of(m, req->args[0], err, errlen);
	const struct slb_server_conf *sc;
	struct master_state *st;
	char what[2 * SLB_CTL_ARG_MAX], *text;
	size_t len;
	int rc;

	if (!gc)
		return -1;
	sc = slb_config_find_server(m->config, gc->name, req->args[1]);
	if (!sc) {
		snprintf(err, errlen, "group '%s' has no server '%s'", gc->name, req->args[1]);
		return -1;
	}
	st = state_and_text(m, m->config_fd, &text, &len, err, errlen);
	if (!st)
		return -1;
	rc = master_state_remove_server(st, text, len, gc->name, sc->name);
	free(text);
	if (rc == -1) {
		free(st);
		snprintf(err, errlen, "too many run-time changes kept (put them in slb.ini)");
		return -1;
	}
	snprintf(what, sizeof(what), "server %s/%s", gc->name, sc->name);
	return commit(m, req, st, out, err, errlen, what, "removed");
}

/* --- group create | delete | set ----------------------------------------------------- */

int control_group_create(struct master *m, const struct slb_ctl_request *req, FILE *out,
			 char *err, size_t errlen)
{
	const char *name = req->args[0], *type = "normal";
	struct master_state *st;
	char what[SLB_CTL_ARG_MAX + 8], done[64];

	if (name_ok("group name", name, err, errlen) == -1)
		return -1;
	if (slb_config_group_index(m->config, name) >= 0) {
		snprintf(err, errlen, "group '%s' exists already", name);
		return -1;
	}
	if (req->nargs > 1) {
		type = req->args[1] + 5;
		if (strncmp(req->args[1], "type=", 5) != 0 ||
		    (strcmp(type, "normal") != 0 && strcmp(type, "primary_secondary") != 0)) {
			snprintf(err, errlen, "'%s': expected type=normal or type=primary_secondary",
				 req->args[1]);
			return -1;
		}
	}
	st = state_copy(m, err, errlen);
	if (!st)
		return -1;
	if (master_state_add_group(st, name, type) == -1) {
		free(st);
		snprintf(err, errlen, "too many run-time changes kept (put them in slb.ini)");
		return -1;
	}
	snprintf(what, sizeof(what), "group %s", name);
	snprintf(done, sizeof(done), "created, type %s", type);
	return commit(m, req, st, out, err, errlen, what, done);
}

/* Who still names group <g>: a listener (group, backup_group, rule) or tracking. 0 or -1. */
static int group_unused(const struct slb_config *cf, int g, char *err, size_t errlen)
{
	const char *name = cf->groups[g].name;

	for (unsigned i = 0; i < cf->nlisteners; i++) {
		const struct slb_listener_conf *l = &cf->listeners[i];
		const char *how = l->group == g ? "group" : l->backup_group == g ? "backup_group" : NULL;

		for (unsigned r = 0; !how && r < l->nrules; r++)
			if (l->rules[r].group == g)
				how = "a rule";
		if (how) {
			snprintf(err, errlen, "group '%s' is used by listener '%s' (%s); change that first",
				 name, l->name, how);
			return -1;
		}
	}
	if (cf->failover.enabled && cf->failover.track_group == g) {
		snprintf(err, errlen, "group '%s' is [failover] track_group; change that first", name);
		return -1;
	}
	return 0;
}

int control_group_delete(struct master *m, const struct slb_ctl_request *req, FILE *out,
			 char *err, size_t errlen)
{
	const struct slb_group_conf *gc = group_of(m, req->args[0], err, errlen);
	struct master_state *st;
	char what[SLB_NAME_MAX + 8], *file;
	size_t len;
	int rc;

	if (!gc || group_unused(m->config, (int)(gc - m->config->groups), err, errlen) == -1)
		return -1;
	st = state_and_text(m, m->file_fd, &file, &len, err, errlen);
	if (!st)
		return -1;
	rc = master_state_delete_group(st, file, len, gc->name);
	free(file);
	if (rc == -1) {
		free(st);
		snprintf(err, errlen, "too many run-time changes kept (put them in slb.ini)");
		return -1;
	}
	snprintf(what, sizeof(what), "group %s", gc->name);
	return commit(m, req, st, out, err, errlen, what, "deleted");
}

/* The group keys `group set` changes: its checks. Servers have their own commands. */
static const char *const group_set_keys[] = {
	"check", "check_port", "check_path", "check_host", "check_codes", "check_interval",
	"check_timeout", "healthy_threshold", "unhealthy_threshold", NULL,
};

/* Changes <key> of section TYPE <section> to <value> (the loader judges the value). */
static int set_key(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
		   size_t errlen, const char *type, const char *section, const char *key,
		   const char *value)
{
	struct master_state *st;
	char what[2 * SLB_CTL_ARG_MAX], done[SLB_CTL_ARG_MAX + 8], *text;
	size_t len;
	int rc;

	st = state_and_text(m, m->config_fd, &text, &len, err, errlen);
	if (!st)
		return -1;
	rc = master_state_set(st, text, len, type, section, key, value);
	free(text);
	if (rc == -1) {
		free(st);
		snprintf(err, errlen, "too many run-time changes kept (put them in slb.ini)");
		return -1;
	}
	snprintf(what, sizeof(what), "%s %s %s", type, section, key);
	snprintf(done, sizeof(done), "%s", value);
	return commit(m, req, st, out, err, errlen, what, done);
}

int control_group_set(struct master *m, const struct slb_ctl_request *req, FILE *out,
		      char *err, size_t errlen)
{
	const struct slb_group_conf *gc = group_of(m, req->args[0], err, errlen);
	char key[SLB_CTL_ARG_MAX];
	const char *eq = strchr(req->args[1], '=');
	unsigned i;

	if (!gc)
		return -1;
	if (!eq || eq == req->args[1] || !eq[1]) {
		snprintf(err, errlen, "'%s': expected KEY=VALUE", req->args[1]);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - req->args[1]), req->args[1]);
	for (i = 0; group_set_keys[i] && strcmp(group_set_keys[i], key) != 0; i++)
		;
	if (!group_set_keys[i]) {
		snprintf(err, errlen,
			 "'%s': group set changes check, check_port, check_path, check_host, "
			 "check_codes, check_interval, check_timeout, healthy_threshold, "
			 "unhealthy_threshold",
			 key);
		return -1;
	}
	/* slb.ini would read the rest as a comment: refuse rather than cut it. */
	if (strpbrk(eq + 1, ";#")) {
		snprintf(err, errlen, "'%s': ';' and '#' start a comment in slb.ini, not allowed "
			 "in a value", eq + 1);
		return -1;
	}
	return set_key(m, req, out, err, errlen, "group", gc->name, key, eq + 1);
}

/* --- listener start | stop ---------------------------------------------------------- */

/*
 * listener start | stop NAME: `enabled` of [listener NAME]. A change back to
 * what slb.ini says forgets the earlier one instead of recording another.
 */
int control_listener_switch(struct master *m, const struct slb_ctl_request *req, FILE *out,
			    char *err, size_t errlen)
{
	bool start = req->cmd->id == SLB_CTL_LISTENER_START, file_enabled = true;
	const struct slb_listener_conf *lc = NULL;
	char section[SLB_NAME_MAX + 16], value[64], why[SLB_VALUE_ERRLEN], *file;
	struct master_state *st;
	size_t len;
	int rc = 0;

	for (unsigned i = 0; i < m->config->nlisteners && !lc; i++)
		if (strcasecmp(m->config->listeners[i].name, req->args[0]) == 0)
			lc = &m->config->listeners[i];
	if (!lc) {
		snprintf(err, errlen, "no listener '%s'", req->args[0]);
		return -1;
	}
	if (lc->enabled == start) {
		if (req->json)
			fprintf(out, "{\"listener\": \"%s\", \"state\": \"%s\", \"changed\": false}\n",
				lc->name, start ? "started" : "stopped");
		else
			fprintf(out, "listener %s: already %s\n", lc->name, start ? "started" : "stopped");
		return 0;
	}
	st = state_and_text(m, m->file_fd, &file, &len, err, errlen);
	if (!st)
		return -1;
	for (unsigned i = 0; i < st->nchanges; i++) {
		const struct master_change *c = &st->changes[i];

		if (c->kind == MASTER_CHANGE_SET && strcmp(c->type, "listener") == 0 &&
		    strcmp(c->section, lc->name) == 0 && strcmp(c->key, "enabled") == 0) {
			master_state_forget(st, i);
			break;
		}
	}
	snprintf(section, sizeof(section), "listener %s", lc->name);
	if (slb_ini_value(file, len, section, "enabled", value, sizeof(value)) == 1)
		slb_value_bool(value, &file_enabled, why);
	if (file_enabled != start)
		rc = master_state_set(st, file, len, "listener", lc->name, "enabled",
				      start ? "yes" : "no");
	free(file);
	if (rc == -1) {
		free(st);
		snprintf(err, errlen, "too many run-time changes kept (put them in slb.ini)");
		return -1;
	}
	snprintf(section, sizeof(section), "listener %s", lc->name);
	return commit(m, req, st, out, err, errlen, section, start ? "started" : "stopped");
}
