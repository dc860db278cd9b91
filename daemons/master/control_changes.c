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

#include "config_values.h"
#include "control.h"
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

/* The effective configuration text the daemons run now, or NULL (err set). */
static char *running_text(struct master *m, size_t *len, char *err, size_t errlen)
{
	char *text = master_fd_read(m->config_fd, len);

	if (!text)
		snprintf(err, errlen, "cannot read the running configuration back");
	return text;
}

/* --- server add | remove --------------------------------------------------------- */

int control_server_add(struct master *m, const struct slb_ctl_request *req, FILE *out,
		       char *err, size_t errlen)
{
	const struct slb_group_conf *gc = group_of(m, req->args[0], err, errlen);
	const char *name = req->args[1];
	const struct slb_server_conf *sc;
	struct slb_sockaddr addr;
	struct master_state *st;
	char why[SLB_VALUE_ERRLEN], what[2 * SLB_CTL_ARG_MAX], done[96], text[SLB_SOCKADDR_STRLEN];
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
	if (req->nargs > 3 && control_parse_weight(req->args[3], &weight, err, errlen) == -1)
		return -1;
	st = state_copy(m, err, errlen);
	if (!st)
		return -1;
	slb_sockaddr_format(&addr, text);
	if (master_state_add_server(st, gc->name, name, text, weight) == -1) {
		free(st);
		snprintf(err, errlen, "too many run-time changes kept (put them in slb.ini)");
		return -1;
	}
	snprintf(what, sizeof(what), "server %s/%s", gc->name, name);
	snprintf(done, sizeof(done), "added, %s weight %u", text, weight);
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
	text = running_text(m, &len, err, errlen);
	st = text ? state_copy(m, err, errlen) : NULL;
	if (!st) {
		free(text);
		return -1;
	}
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
