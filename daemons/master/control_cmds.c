/*
 * control_cmds.c - what each slbctl command does and answers, in text
 * (aligned tables) or JSON. Values come from the running configuration and
 * the shared memory tables; the only writes are a server's weight in shm and
 * a reload.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "clock.h"
#include "config_values.h"
#include "control.h"
#include "ipc.h"
#include "log.h"

#define TABLE_MAX_COLS 12
#define CELL_MAX 64

/* An aligned text table: rows of cells, printed with padded columns. */
struct table {
	unsigned ncols, nrows, cap;
	char (*cells)[TABLE_MAX_COLS][CELL_MAX];
	bool failed;
};

static void table_row(struct table *t, ...)
{
	va_list ap;

	if (t->failed)
		return;
	if (t->nrows == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 16;
		void *p = realloc(t->cells, cap * sizeof(*t->cells));

		if (!p) {
			t->failed = true;
			return;
		}
		t->cells = p;
		t->cap = cap;
	}
	va_start(ap, t);
	for (unsigned i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);

		snprintf(t->cells[t->nrows][i], CELL_MAX, "%s", s ? s : "-");
	}
	va_end(ap);
	t->nrows++;
}

/* Prints and frees <t>. Returns -1 if a row could not be stored. */
static int table_print(struct table *t, FILE *out)
{
	size_t width[TABLE_MAX_COLS] = { 0 };

	for (unsigned r = 0; r < t->nrows; r++)
		for (unsigned i = 0; i < t->ncols; i++)
			if (strlen(t->cells[r][i]) > width[i])
				width[i] = strlen(t->cells[r][i]);
	for (unsigned r = 0; r < t->nrows; r++) {
		for (unsigned i = 0; i < t->ncols; i++) {
			if (i + 1 == t->ncols)
				fprintf(out, "%s\n", t->cells[r][i]);
			else
				fprintf(out, "%-*s  ", (int)width[i], t->cells[r][i]);
		}
	}
	free(t->cells);
	t->cells = NULL;
	return t->failed ? -1 : 0;
}

/* Number formatting into a caller's buffer, for table cells. */
static const char *num(char *buf, uint64_t v)
{
	snprintf(buf, CELL_MAX, "%llu", (unsigned long long)v);
	return buf;
}

static const char *protocol_name(enum slb_protocol p)
{
	static const char *const names[] = { "tcp", "udp", "http", "https" };

	return (unsigned)p < 4 ? names[p] : "?";
}

static const char *scheduler_name(enum slb_scheduler s)
{
	static const char *const names[] = { "rr", "wrr", "wlc", "sh", "ch" };

	return (unsigned)s < 5 ? names[s] : "?";
}

static const char *check_name(enum slb_check_type c)
{
	static const char *const names[] = { "none", "tcp", "http", "https", "udp" };

	return (unsigned)c < 5 ? names[c] : "?";
}

static const char *failover_state_name(uint32_t s)
{
	static const char *const names[] = { "INIT", "BACKUP", "MASTER", "FAULT" };

	return s < 4 ? names[s] : "UNKNOWN";
}

static const char *health_name(uint32_t h)
{
	return h == SLB_HEALTH_UP ? "UP" : "DOWN";
}

/* "2024-05-01T12:00:00Z" for a CLOCK_REALTIME <ms>, or NULL for 0 (never). */
static const char *time_text(char *buf, size_t len, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || !gmtime_r(&t, &tm))
		return NULL;
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static void json_time(FILE *out, uint64_t ms)
{
	char buf[32];

	if (time_text(buf, sizeof(buf), ms))
		slb_ctl_json_string(out, buf);
	else
		fputs("null", out);
}

static struct slb_shm_server *server_slot(struct master *m, const char *group, const char *name)
{
	int i = slb_shm_server_find(&m->shm, group, name);

	return i < 0 ? NULL : &m->shm.servers[i];
}

/* --- failover ---------------------------------------------------------------- */

struct failover_view {
	const char *state;
	uint32_t priority;
	char master[INET_ADDRSTRLEN];
	uint64_t transitions, since_ms, sent, received;
	char reason[SLB_FAILOVER_REASON_MAX];
};

static void failover_read(struct master *m, struct failover_view *v)
{
	struct slb_shm_failover *f = &m->shm.hdr->failover;
	uint32_t addr = atomic_load(&f->master_addr);

	v->state = failover_state_name(atomic_load(&f->state));
	v->priority = atomic_load(&f->priority);
	v->transitions = atomic_load(&f->transitions);
	v->since_ms = atomic_load(&f->since_ms);
	v->sent = atomic_load(&f->adverts_sent);
	v->received = atomic_load(&f->adverts_received);
	v->master[0] = '\0';
	if (addr)
		inet_ntop(AF_INET, &addr, v->master, sizeof(v->master));
	/* Written by another process without a lock: copy, bound and clean it. */
	memcpy(v->reason, f->reason, sizeof(v->reason));
	v->reason[sizeof(v->reason) - 1] = '\0';
	for (char *p = v->reason; *p; p++)
		if (*p < ' ' || *p > '~')
			*p = '?';
}

static void failover_json(struct master *m, FILE *out)
{
	struct failover_view v;

	failover_read(m, &v);
	fprintf(out, "{\"mode\": \"%s\", \"state\": \"%s\", \"priority\": %u, \"master\": ",
		m->config->failover.enabled ? "vrrp" : "standalone", v.state, v.priority);
	if (v.master[0])
		slb_ctl_json_string(out, v.master);
	else
		fputs("null", out);
	fprintf(out, ", \"transitions\": %llu, \"since\": ", (unsigned long long)v.transitions);
	json_time(out, v.since_ms);
	fputs(", \"reason\": ", out);
	slb_ctl_json_string(out, v.reason);
	fprintf(out, ", \"adverts_sent\": %llu, \"adverts_received\": %llu}",
		(unsigned long long)v.sent, (unsigned long long)v.received);
}

static int failover_text(struct master *m, FILE *out)
{
	struct table t = { .ncols = 2 };
	struct failover_view v;
	char b[4][CELL_MAX], since[32];

	failover_read(m, &v);
	table_row(&t, "mode", m->config->failover.enabled ? "vrrp" : "standalone");
	table_row(&t, "state", v.state);
	table_row(&t, "priority", num(b[0], v.priority));
	table_row(&t, "master", v.master[0] ? v.master : NULL);
	table_row(&t, "transitions", num(b[1], v.transitions));
	table_row(&t, "since", time_text(since, sizeof(since), v.since_ms));
	table_row(&t, "reason", v.reason[0] ? v.reason : NULL);
	table_row(&t, "adverts sent", num(b[2], v.sent));
	table_row(&t, "adverts received", num(b[3], v.received));
	return table_print(&t, out);
}

static int cmd_failover_status(struct master *m, const struct slb_ctl_request *req, FILE *out,
			       char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (!req->json)
		return failover_text(m, out);
	failover_json(m, out);
	fputc('\n', out);
	return 0;
}

/* --- describe ------------------------------------------------------------------ */

static void describe_listeners_json(struct master *m, FILE *out)
{
	const struct slb_config *cf = m->config;

	fputs("\"listeners\": [", out);
	for (unsigned i = 0; i < cf->nlisteners; i++) {
		const struct slb_listener_conf *l = &cf->listeners[i];
		int slot = slb_shm_listener_find(&m->shm, l->name);
		struct slb_shm_listener zero = { .serial = 0 };
		struct slb_shm_listener *s = slot < 0 ? &zero : &m->shm.listeners[slot];
		char addr[SLB_SOCKADDR_STRLEN];

		fputs(i ? ", {\"name\": " : "{\"name\": ", out);
		slb_ctl_json_string(out, l->name);
		fprintf(out, ", \"state\": \"%s\", \"protocol\": \"%s\", \"bind\": \"%s\", \"group\": ",
			l->enabled ? "started" : "stopped", protocol_name(l->protocol),
			slb_sockaddr_format(&l->bind, addr));
		slb_ctl_json_string(out, cf->groups[l->group].name);
		fputs(", \"backup_group\": ", out);
		if (l->backup_group >= 0)
			slb_ctl_json_string(out, cf->groups[l->backup_group].name);
		else
			fputs("null", out);
		fprintf(out,
			", \"scheduler\": \"%s\", \"active\": %u, \"total\": %llu, "
			"\"no_server\": %llu, \"denied\": %llu, \"bytes_in\": %llu, "
			"\"bytes_out\": %llu}",
			scheduler_name(l->scheduler), atomic_load(&s->active),
			(unsigned long long)atomic_load(&s->total),
			(unsigned long long)atomic_load(&s->no_server),
			(unsigned long long)atomic_load(&s->denied),
			(unsigned long long)atomic_load(&s->bytes_in),
			(unsigned long long)atomic_load(&s->bytes_out));
	}
	fputs("]", out);
}

static int describe_listeners_text(struct master *m, FILE *out)
{
	const struct slb_config *cf = m->config;
	struct table t = { .ncols = 12 };

	table_row(&t, "LISTENER", "PROTOCOL", "BIND", "GROUP", "SCHEDULER", "ACTIVE", "TOTAL",
		  "NO_SERVER", "DENIED", "BYTES_IN", "BYTES_OUT", "STATE");
	for (unsigned i = 0; i < cf->nlisteners; i++) {
		const struct slb_listener_conf *l = &cf->listeners[i];
		int slot = slb_shm_listener_find(&m->shm, l->name);
		struct slb_shm_listener zero = { .serial = 0 };
		struct slb_shm_listener *s = slot < 0 ? &zero : &m->shm.listeners[slot];
		char addr[SLB_SOCKADDR_STRLEN], b[6][CELL_MAX];

		table_row(&t, l->name, protocol_name(l->protocol),
			  slb_sockaddr_format(&l->bind, addr), cf->groups[l->group].name,
			  scheduler_name(l->scheduler), num(b[0], atomic_load(&s->active)),
			  num(b[1], atomic_load(&s->total)), num(b[2], atomic_load(&s->no_server)),
			  num(b[3], atomic_load(&s->denied)), num(b[4], atomic_load(&s->bytes_in)),
			  num(b[5], atomic_load(&s->bytes_out)), l->enabled ? "started" : "stopped");
	}
	return table_print(&t, out);
}

static void server_json(FILE *out, const struct slb_server_conf *sc, struct slb_shm_server *s)
{
	char addr[SLB_SOCKADDR_STRLEN];

	fputs("{\"name\": ", out);
	slb_ctl_json_string(out, sc->name);
	fprintf(out, ", \"address\": \"%s\", \"role\": ", slb_sockaddr_format(&sc->addr, addr));
	if (sc->role == SLB_ROLE_NONE)
		fputs("null", out);
	else
		fprintf(out, "\"%s\"", slb_value_role_name(sc->role));
	if (!s) { /* cannot happen while the master lays the table out; say so anyway */
		fputs(", \"weight\": null, \"health\": null}", out);
		return;
	}
	fprintf(out,
		", \"weight\": %u, \"health\": \"%s\", \"active\": %u, \"total\": %llu, "
		"\"failed\": %llu, \"bytes_in\": %llu, \"bytes_out\": %llu, \"drain_deadline\": ",
		atomic_load(&s->weight), health_name(atomic_load(&s->health)),
		atomic_load(&s->active), (unsigned long long)atomic_load(&s->total),
		(unsigned long long)atomic_load(&s->failed),
		(unsigned long long)atomic_load(&s->bytes_in),
		(unsigned long long)atomic_load(&s->bytes_out));
	json_time(out, atomic_load(&s->drain_deadline_ms));
	fputc('}', out);
}

static void describe_groups_json(struct master *m, FILE *out)
{
	const struct slb_config *cf = m->config;

	fputs("\"groups\": [", out);
	for (unsigned g = 0; g < cf->ngroups; g++) {
		const struct slb_group_conf *gc = &cf->groups[g];

		fputs(g ? ", {\"name\": " : "{\"name\": ", out);
		slb_ctl_json_string(out, gc->name);
		fprintf(out,
			", \"type\": \"%s\", \"check\": \"%s\", \"check_interval_ms\": %u, "
			"\"check_timeout_ms\": %u, \"servers\": [",
			gc->type == SLB_GROUP_NORMAL ? "normal" : "primary_secondary",
			check_name(gc->check), gc->check_interval_ms, gc->check_timeout_ms);
		for (unsigned i = 0; i < gc->nservers; i++) {
			if (i)
				fputs(", ", out);
			server_json(out, &gc->servers[i],
				    server_slot(m, gc->name, gc->servers[i].name));
		}
		fputs("]}", out);
	}
	fputs("]", out);
}

static int describe_groups_text(struct master *m, FILE *out)
{
	const struct slb_config *cf = m->config;
	struct table t = { .ncols = 10 };

	table_row(&t, "GROUP", "SERVER", "ADDRESS", "WEIGHT", "HEALTH", "ACTIVE", "TOTAL",
		  "FAILED", "CHECK", "ROLE");
	for (unsigned g = 0; g < cf->ngroups; g++) {
		const struct slb_group_conf *gc = &cf->groups[g];

		for (unsigned i = 0; i < gc->nservers; i++) {
			const struct slb_server_conf *sc = &gc->servers[i];
			struct slb_shm_server *s = server_slot(m, gc->name, sc->name);
			char addr[SLB_SOCKADDR_STRLEN], b[4][CELL_MAX];

			table_row(&t, gc->name, sc->name, slb_sockaddr_format(&sc->addr, addr),
				  s ? num(b[0], atomic_load(&s->weight)) : NULL,
				  s ? health_name(atomic_load(&s->health)) : NULL,
				  s ? num(b[1], atomic_load(&s->active)) : NULL,
				  s ? num(b[2], atomic_load(&s->total)) : NULL,
				  s ? num(b[3], atomic_load(&s->failed)) : NULL,
				  check_name(gc->check), slb_value_role_name(sc->role));
		}
	}
	return table_print(&t, out);
}

static void describe_vips_json(struct master *m, FILE *out)
{
	const struct slb_config *cf = m->config;

	fputs("\"vips\": [", out);
	for (unsigned i = 0; i < cf->nvips; i++) {
		char addr[SLB_CIDR_STRLEN];

		fputs(i ? ", {\"name\": " : "{\"name\": ", out);
		slb_ctl_json_string(out, cf->vips[i].name);
		fprintf(out, ", \"address\": \"%s\", \"interface\": ",
			slb_cidr_format(&cf->vips[i].address, addr));
		slb_ctl_json_string(out, cf->vips[i].interface);
		fputs("}", out);
	}
	fputs("]", out);
}

static int describe_vips_text(struct master *m, FILE *out)
{
	const struct slb_config *cf = m->config;
	struct table t = { .ncols = 3 };

	table_row(&t, "VIP", "ADDRESS", "INTERFACE");
	for (unsigned i = 0; i < cf->nvips; i++) {
		char addr[SLB_CIDR_STRLEN];

		table_row(&t, cf->vips[i].name, slb_cidr_format(&cf->vips[i].address, addr),
			  cf->vips[i].interface);
	}
	return table_print(&t, out);
}

static int cmd_describe(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
			size_t errlen)
{
	const struct slb_config *cf = m->config;
	const char *zone = cf->node.zone == SLB_ZONE_PRIMARY ? "primary" : "backup";
	int rc = 0;

	if (req->json) {
		fputs("{\"node\": {\"name\": ", out);
		slb_ctl_json_string(out, cf->node.name);
		fprintf(out, ", \"zone\": \"%s\", \"instance\": ", zone);
		slb_ctl_json_string(out, cf->global.instance);
		fprintf(out, ", \"generation\": %u, \"workers\": %u}, \"failover\": ",
			m->generation, cf->global.workers);
		failover_json(m, out);
		fputs(", ", out);
		describe_listeners_json(m, out);
		fputs(", ", out);
		describe_groups_json(m, out);
		fputs(", ", out);
		describe_vips_json(m, out);
		fputs("}\n", out);
		return 0;
	}
	fprintf(out, "node %s, zone %s, instance %s, generation %u, %u workers\n\n", cf->node.name,
		zone, cf->global.instance, m->generation, cf->global.workers);
	fputs("FAILOVER\n", out);
	rc |= failover_text(m, out);
	fputc('\n', out);
	rc |= describe_listeners_text(m, out);
	fputc('\n', out);
	rc |= describe_groups_text(m, out);
	fputc('\n', out);
	rc |= describe_vips_text(m, out);
	if (rc)
		snprintf(err, errlen, "out of memory");
	return rc ? -1 : 0;
}

/* Closes a listing: the JSON array, or the table printed at last. */
static int listing_end(const struct slb_ctl_request *req, struct table *t, FILE *out, char *err,
		       size_t errlen)
{
	if (req->json) {
		fputs("]}\n", out);
		return 0;
	}
	if (table_print(t, out) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* --- health -------------------------------------------------------------------- */

static int cmd_health(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
		      size_t errlen)
{
	const struct slb_config *cf = m->config;
	struct table t = { .ncols = 10 };
	bool first = true;

	if (req->json)
		fputs("{\"servers\": [", out);
	else
		table_row(&t, "GROUP", "SERVER", "ADDRESS", "CHECK", "STATE", "LAST_CHECK",
			  "LATENCY_MS", "TRANSITIONS", "ACTIVE", "DRAIN_UNTIL");
	for (unsigned g = 0; g < cf->ngroups; g++) {
		const struct slb_group_conf *gc = &cf->groups[g];

		for (unsigned i = 0; i < gc->nservers; i++) {
			const struct slb_server_conf *sc = &gc->servers[i];
			struct slb_shm_server *s = server_slot(m, gc->name, sc->name);
			char addr[SLB_SOCKADDR_STRLEN], when[32], lat[CELL_MAX], tr[CELL_MAX];
			char active[CELL_MAX], drain[32];
			uint64_t last = s ? atomic_load(&s->last_check_ms) : 0;
			uint32_t us = s ? atomic_load(&s->check_latency_us) : 0;

			if (!s)
				continue;
			slb_sockaddr_format(&sc->addr, addr);
			if (!req->json) {
				snprintf(lat, sizeof(lat), "%u.%03u", us / 1000, us % 1000);
				table_row(&t, gc->name, sc->name, addr, check_name(gc->check),
					  health_name(atomic_load(&s->health)),
					  time_text(when, sizeof(when), last), last ? lat : NULL,
					  num(tr, atomic_load(&s->transitions)),
					  num(active, atomic_load(&s->active)),
					  time_text(drain, sizeof(drain),
						    atomic_load(&s->drain_deadline_ms)));
				continue;
			}
			fputs(first ? "{\"group\": " : ", {\"group\": ", out);
			first = false;
			slb_ctl_json_string(out, gc->name);
			fputs(", \"name\": ", out);
			slb_ctl_json_string(out, sc->name);
			fprintf(out, ", \"address\": \"%s\", \"check\": \"%s\", \"state\": \"%s\"",
				addr, check_name(gc->check), health_name(atomic_load(&s->health)));
			fputs(", \"last_check\": ", out);
			json_time(out, last);
			fprintf(out, ", \"last_check_ms\": %llu, \"latency_us\": ",
				(unsigned long long)last);
			if (last)
				fprintf(out, "%u", us);
			else
				fputs("null", out);
			fprintf(out, ", \"transitions\": %llu, \"active\": %u, \"drain_deadline\": ",
				(unsigned long long)atomic_load(&s->transitions),
				atomic_load(&s->active));
			json_time(out, atomic_load(&s->drain_deadline_ms));
			fputc('}', out);
		}
	}
	return listing_end(req, &t, out, err, errlen);
}

/* --- group list ---------------------------------------------------------------- */

static int cmd_group_list(struct master *m, const struct slb_ctl_request *req, FILE *out,
			  char *err, size_t errlen)
{
	const struct slb_config *cf = m->config;
	struct table t = { .ncols = 5 };

	if (req->json)
		fputs("{\"groups\": [", out);
	else
		table_row(&t, "GROUP", "TYPE", "CHECK", "SERVERS", "UP");
	for (unsigned g = 0; g < cf->ngroups; g++) {
		const struct slb_group_conf *gc = &cf->groups[g];
		const char *type = gc->type == SLB_GROUP_NORMAL ? "normal" : "primary_secondary";
		unsigned up = 0;
		char b[2][CELL_MAX];

		for (unsigned i = 0; i < gc->nservers; i++) {
			struct slb_shm_server *s = server_slot(m, gc->name, gc->servers[i].name);

			up += s && atomic_load(&s->health) == SLB_HEALTH_UP;
		}
		if (!req->json) {
			table_row(&t, gc->name, type, check_name(gc->check),
				  num(b[0], gc->nservers), num(b[1], up));
			continue;
		}
		fputs(g ? ", {\"name\": " : "{\"name\": ", out);
		slb_ctl_json_string(out, gc->name);
		fprintf(out, ", \"type\": \"%s\", \"check\": \"%s\", \"servers\": %u, \"up\": %u}",
			type, check_name(gc->check), gc->nservers, up);
	}
	return listing_end(req, &t, out, err, errlen);
}

/* --- server set ---------------------------------------------------------------- */

/*
 * Tells the checker that server <s>'s weight changed: whether a listener's
 * backup group can take new traffic depends on it, and the checker, which
 * logs that switch and keeps slb_listener_backup_active, recounts.
 */
static void tell_checker_weight(struct master *m, const struct slb_shm_server *s)
{
	uint32_t slot = (uint32_t)(s - m->shm.servers);

	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		struct master_child *c = &m->children[i];

		if (!c->used || c->retired || c->kind != MASTER_CHECKER || !c->pid || c->channel < 0)
			continue;
		if (slb_msg_send(c->channel, SLB_MSG_WEIGHT, c->generation, &slot) == -1)
			slb_warn("weight change not sent to slb-checker (pid %d): %m", (int)c->pid);
	}
}

static int cmd_server_set(struct master *m, const struct slb_ctl_request *req, FILE *out,
			  char *err, size_t errlen)
{
	const struct slb_config *cf = m->config;
	const struct slb_group_conf *gc;
	const struct slb_server_conf *sc = NULL;
	struct slb_shm_server *s;
	uint32_t weight, old, drain_ms = 0;
	uint64_t deadline = 0;
	char why[SLB_VALUE_ERRLEN], when[32];
	int g;

	if (control_parse_weight(req->args[2], &weight, err, errlen) == -1)
		return -1;
	if (req->nargs > 3) {
		if (strncmp(req->args[3], "drain=", 6) != 0) {
			snprintf(err, errlen, "'%s': expected drain=DURATION (30s, 5m)", req->args[3]);
			return -1;
		}
		if (weight != 0) {
			snprintf(err, errlen, "drain= needs weight=0 (a server with a weight takes "
					      "new connections)");
			return -1;
		}
		if (slb_value_duration(req->args[3] + 6, 0, 24 * 3600 * 1000, &drain_ms, why) == -1) {
			snprintf(err, errlen, "drain: %s", why);
			return -1;
		}
		deadline = slb_realtime_ms() + drain_ms;
	}
	g = slb_config_group_index(cf, req->args[0]);
	if (g < 0) {
		snprintf(err, errlen, "no group '%s'", req->args[0]);
		return -1;
	}
	gc = &cf->groups[g];
	sc = slb_config_find_server(cf, gc->name, req->args[1]);
	if (!sc) {
		snprintf(err, errlen, "group '%s' has no server '%s'", gc->name, req->args[1]);
		return -1;
	}
	s = server_slot(m, gc->name, sc->name);
	if (!s) {
		snprintf(err, errlen, "server %s/%s has no slot in shared memory", gc->name,
			 sc->name);
		return -1;
	}
	old = atomic_exchange(&s->weight, weight);
	/* Any new weight ends a drain in progress; drain= starts one. */
	atomic_store(&s->drain_deadline_ms, deadline);
	if (old != weight)
		tell_checker_weight(m, s);
	slb_info("server %s/%s: weight %u -> %u%s%s (slbctl)", gc->name, sc->name, old, weight,
		 deadline ? ", connections left closed at " : "",
		 deadline ? time_text(when, sizeof(when), deadline) : "");
	/* Kept for reloads and restarts; a failure to save is logged, the change holds. */
	master_state_set_weight(&m->state, gc->name, sc->name, weight, sc->weight);
	if (req->json) {
		fputs("{\"group\": ", out);
		slb_ctl_json_string(out, gc->name);
		fputs(", \"server\": ", out);
		slb_ctl_json_string(out, sc->name);
		fprintf(out, ", \"weight\": %u, \"previous_weight\": %u, \"active\": %u, "
			     "\"drain_deadline\": ", weight, old, atomic_load(&s->active));
		json_time(out, deadline);
		fputs("}\n", out);
	} else if (deadline) {
		fprintf(out, "server %s/%s: weight %u -> %u, %u connections open, closed at %s\n",
			gc->name, sc->name, old, weight, atomic_load(&s->active), when);
	} else {
		fprintf(out, "server %s/%s: weight %u -> %u\n", gc->name, sc->name, old, weight);
	}
	return 0;
}

/* --- reload ---------------------------------------------------------------------- */

/* The validation errors of the file as it is now, for a failed reload's answer. */
static void reload_errors(struct master *m, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct slb_config *c = NULL;
	int fd = -1;

	if (f) {
		fd = master_config_snapshot(m->config_path, f);
		if (fd >= 0)
			c = master_config_load(m, fd, false, f);
		fclose(f);
	}
	if (c)
		slb_config_free(c);
	if (fd >= 0)
		close(fd);
	if (text && len) {
		/* one line per error, joined with "; " to stay one line */
		for (char *p = text; *p; p++)
			if (*p == '\n')
				*p = p[1] ? ';' : '\0';
		snprintf(err, errlen, "reload failed, keeping the running configuration: %s", text);
	} else {
		snprintf(err, errlen, "reload failed, keeping the running configuration (see the log)");
	}
	free(text);
}

static int cmd_reload(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
		      size_t errlen)
{
	uint32_t before = m->generation;

	if (m->stopping) {
		snprintf(err, errlen, "slb-master is stopping");
		return -1;
	}
	slb_info("reload asked by slbctl");
	master_reload(m);
	if (m->generation == before) {
		reload_errors(m, err, errlen);
		return -1;
	}
	if (req->json)
		fprintf(out, "{\"reloaded\": true, \"generation\": %u}\n", m->generation);
	else
		fprintf(out, "reloaded %s (generation %u)\n", m->config_path, m->generation);
	return 0;
}

static int cmd_help(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
		    size_t errlen)
{
	(void)m;
	(void)err;
	(void)errlen;
	if (!req->json) {
		slb_ctl_print_help(out);
		return 0;
	}
	fputs("{\"commands\": [", out);
	for (unsigned i = 0; i < slb_ctl_ncommands; i++) {
		char usage[160];
		FILE *u = fmemopen(usage, sizeof(usage), "w");

		if (!u)
			break;
		slb_ctl_print_usage(u, &slb_ctl_commands[i]);
		fclose(u);
		fputs(i ? ", {\"usage\": " : "{\"usage\": ", out);
		slb_ctl_json_string(out, usage);
		fputs(", \"help\": ", out);
		slb_ctl_json_string(out, slb_ctl_commands[i].help);
		fputs("}", out);
	}
	fputs("]}\n", out);
	return 0;
}

/* failover takeover | release: handed to slb-failover; `failover status` shows the result. */
static int cmd_failover_manual(struct master *m, const struct slb_ctl_request *req, FILE *out,
			       char *err, size_t errlen)
{
	uint32_t op = req->cmd->id == SLB_CTL_FAILOVER_TAKEOVER ? SLB_FAILOVER_MANUAL_TAKEOVER
								 : SLB_FAILOVER_MANUAL_RELEASE;
	const char *what = req->cmd->words[1];

	if (!m->config->failover.enabled) {
		snprintf(err, errlen, "failover %s: this node is standalone (no [failover] section)",
			 what);
		return -1;
	}
	for (unsigned i = 0; i < MASTER_MAX_CHILDREN; i++) {
		struct master_child *c = &m->children[i];

		if (!c->used || c->retired || c->kind != MASTER_FAILOVER || !c->pid || c->channel < 0)
			continue;
		if (slb_msg_send(c->channel, SLB_MSG_FAILOVER_MANUAL, c->generation, &op) == -1)
			break;
		slb_info("failover %s asked by slbctl", what);
		if (req->json)
			fprintf(out, "{\"requested\": \"%s\"}\n", what);
		else
			fprintf(out, "failover %s requested (see: slbctl failover status)\n", what);
		return 0;
	}
	snprintf(err, errlen, "failover %s: slb-failover is not running", what);
	return -1;
}

typedef int control_fn(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
		       size_t errlen);

/* A handler for every command of the grammar (lib/ctl.c). */
static control_fn *const handlers[SLB_CTL_COUNT] = {
	[SLB_CTL_HELP] = cmd_help,
	[SLB_CTL_DESCRIBE] = cmd_describe,
	[SLB_CTL_HEALTH] = cmd_health,
	[SLB_CTL_SERVER_ADD] = control_server_add,
	[SLB_CTL_SERVER_SET] = cmd_server_set,
	[SLB_CTL_SERVER_REMOVE] = control_server_remove,
	[SLB_CTL_GROUP_CREATE] = control_group_create,
	[SLB_CTL_GROUP_DELETE] = control_group_delete,
	[SLB_CTL_GROUP_SET] = control_group_set,
	[SLB_CTL_GROUP_LIST] = cmd_group_list,
	[SLB_CTL_SESSIONS] = control_sessions,
	[SLB_CTL_SESSIONS_FLUSH] = control_sessions_flush,
	[SLB_CTL_LISTENER_START] = control_listener_switch,
	[SLB_CTL_LISTENER_STOP] = control_listener_switch,
	[SLB_CTL_FAILOVER_STATUS] = cmd_failover_status,
	[SLB_CTL_FAILOVER_TAKEOVER] = cmd_failover_manual,
	[SLB_CTL_FAILOVER_RELEASE] = cmd_failover_manual,
	[SLB_CTL_RELOAD] = cmd_reload,
};

int control_run(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
		size_t errlen)
{
	control_fn *fn = handlers[req->cmd->id];

	if (!fn) { /* a grammar entry added without its handler: refuse, don't crash */
		snprintf(err, errlen, "%s: no handler in this build", req->cmd->words[0]);
		return -1;
	}
	return fn(m, req, out, err, errlen);
}
