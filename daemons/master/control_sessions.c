/*
 * control_sessions.c - slbctl `sessions [LISTENER]` and `sessions flush
 * [LISTENER]`: the session table in shared memory as a table or JSON, and
 * emptied by listener. A listing stops at SESSIONS_LIST_MAX rows (the table
 * may hold millions) and says how many it left out.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "clock.h"
#include "control.h"
#include "log.h"
#include "sessions.h"

#define SESSIONS_LIST_MAX 10000u

struct session_list {
	int listener; /* shm slot, -1: all */
	unsigned n, total;
	struct slb_session *rows;
};

static int collect(const struct slb_session *s, void *arg)
{
	struct session_list *list = arg;

	if (list->listener >= 0 && s->key.listener != (uint16_t)list->listener)
		return 0;
	if (list->n < SESSIONS_LIST_MAX)
		list->rows[list->n++] = *s;
	list->total++;
	return 0;
}

/* The listener's shm slot from the command's optional argument: -1 = all, -2 = unknown. */
static int listener_arg(struct master *m, const struct slb_ctl_request *req, char *err,
			size_t errlen)
{
	int slot;

	if (req->nargs == 0)
		return -1;
	slot = slb_shm_listener_find(&m->shm, req->args[0]);
	if (slot < 0) {
		snprintf(err, errlen, "no listener '%s'", req->args[0]);
		return -2;
	}
	return slot;
}

/* "198.18.0.10", or "[2001:db8::1]:5353" / "198.18.0.10:5353" for a UDP flow. */
static void client_text(const struct slb_session_key *k, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	bool v6 = k->family == AF_INET6;

	inet_ntop(v6 ? AF_INET6 : AF_INET, k->addr, ip, sizeof(ip));
	if (!k->port)
		snprintf(buf, len, "%s", ip);
	else
		snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", ip, ntohs(k->port));
}

/* The server a session names, or NULL when its slot went to another server. */
static const struct slb_shm_server *session_server(struct master *m, const struct slb_session *s)
{
	const struct slb_shm_server *srv;

	if (s->server_slot >= SLB_MAX_SERVERS)
		return NULL;
	srv = &m->shm.servers[s->server_slot];
	return atomic_load(&srv->serial) == s->server_serial ? srv : NULL;
}

struct session_row {
	char listener[SLB_NAME_MAX], client[SLB_SOCKADDR_STRLEN];
	char server[2 * SLB_NAME_MAX + 1], expires[32];
};

static void row_fill(struct master *m, const struct slb_session *s, uint64_t now,
		     struct session_row *r)
{
	const struct slb_shm_server *srv = session_server(m, s);
	uint64_t left = s->expires_ms > now ? s->expires_ms - now : 0;

	const struct slb_shm_listener *l = s->key.listener < SLB_MAX_LISTENERS ?
		&m->shm.listeners[s->key.listener] : NULL;

	/* A listener a reload removed leaves its sessions to expire. */
	snprintf(r->listener, sizeof(r->listener), "%s",
		 l && atomic_load(&l->serial) ? l->name : "-");
	client_text(&s->key, r->client, sizeof(r->client));
	if (srv)
		snprintf(r->server, sizeof(r->server), "%s/%s", srv->group, srv->name);
	else
		snprintf(r->server, sizeof(r->server), "-");
	snprintf(r->expires, sizeof(r->expires), "%llu.%llus", (unsigned long long)(left / 1000),
		 (unsigned long long)(left % 1000 / 100));
}

static void print_json(struct master *m, const struct session_list *list, uint64_t now, FILE *out)
{
	fputs("{\"sessions\": [", out);
	for (unsigned i = 0; i < list->n; i++) {
		const struct slb_session *s = &list->rows[i];
		const struct slb_shm_server *srv = session_server(m, s);
		struct session_row r;

		row_fill(m, s, now, &r);
		fputs(i ? ", {\"listener\": " : "{\"listener\": ", out);
		slb_ctl_json_string(out, r.listener);
		fprintf(out, ", \"protocol\": \"%s\", \"client\": \"%s\", \"group\": ",
			s->key.protocol == IPPROTO_UDP ? "udp" : "tcp", r.client);
		if (srv) {
			slb_ctl_json_string(out, srv->group);
			fputs(", \"server\": ", out);
			slb_ctl_json_string(out, srv->name);
		} else {
			fputs("null, \"server\": null", out);
		}
		fprintf(out, ", \"expires_in_ms\": %llu}",
			(unsigned long long)(s->expires_ms > now ? s->expires_ms - now : 0));
	}
	fprintf(out, "], \"count\": %u, \"listed\": %u}\n", list->total, list->n);
}

static void print_table(struct master *m, const struct session_list *list, uint64_t now, FILE *out)
{
	int w[3] = { (int)strlen("LISTENER"), (int)strlen("CLIENT"), (int)strlen("SERVER") };
	struct session_row r;

	for (unsigned i = 0; i < list->n; i++) {
		row_fill(m, &list->rows[i], now, &r);
		w[0] = (int)strlen(r.listener) > w[0] ? (int)strlen(r.listener) : w[0];
		w[1] = (int)strlen(r.client) > w[1] ? (int)strlen(r.client) : w[1];
		w[2] = (int)strlen(r.server) > w[2] ? (int)strlen(r.server) : w[2];
	}
	fprintf(out, "%-*s  %-*s  %-*s  %s\n", w[0], "LISTENER", w[1], "CLIENT", w[2], "SERVER",
		"EXPIRES_IN");
	for (unsigned i = 0; i < list->n; i++) {
		row_fill(m, &list->rows[i], now, &r);
		fprintf(out, "%-*s  %-*s  %-*s  %s\n", w[0], r.listener, w[1], r.client, w[2],
			r.server, r.expires);
	}
	if (list->total > list->n)
		fprintf(out, "(%u more not listed)\n", list->total - list->n);
}

int control_sessions(struct master *m, const struct slb_ctl_request *req, FILE *out, char *err,
		     size_t errlen)
{
	struct session_list list = { .listener = listener_arg(m, req, err, errlen) };
	uint64_t now = slb_now_ms();

	if (list.listener == -2)
		return -1;
	list.rows = malloc(sizeof(*list.rows) * SESSIONS_LIST_MAX);
	if (!list.rows) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	slb_sessions_walk(m->shm.sessions, 0, now, collect, &list);
	if (req->json)
		print_json(m, &list, now, out);
	else
		print_table(m, &list, now, out);
	free(list.rows);
	return 0;
}

int control_sessions_flush(struct master *m, const struct slb_ctl_request *req, FILE *out,
			   char *err, size_t errlen)
{
	int listener = listener_arg(m, req, err, errlen);
	unsigned n;

	if (listener == -2)
		return -1;
	n = slb_sessions_flush(m->shm.sessions, listener);
	slb_info("sessions flushed%s%s: %u (slbctl)", req->nargs ? " on listener " : "",
		 req->nargs ? req->args[0] : "", n);
	if (req->json)
		fprintf(out, "{\"flushed\": %u}\n", n);
	else
		fprintf(out, "flushed %u session%s\n", n, n == 1 ? "" : "s");
	return 0;
}
