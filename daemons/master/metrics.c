/*
 * metrics.c - the Prometheus endpoint: GET /metrics at [global] metrics,
 * served from the master's epoll loop, and the text it answers.
 *
 * A deliberately small HTTP/1.x server, built like the control socket
 * (control.c): one request per connection, then the master closes.
 * Everything is non-blocking and bounded: at most METRICS_MAX_CONNS clients
 * (a new one evicts the oldest), a request head of at most METRICS_HEAD_MAX
 * bytes, METRICS_TIMEOUT_MS to send it and again to read the answer (a
 * timerfd enforces both, so an idle client is closed even when nothing else
 * happens). Only `GET` or `HEAD /metrics` gets 200; any other path is 404,
 * another method on /metrics 405, anything that is not a well-formed
 * HTTP/1.0 or 1.1 request head 400. Every answer says `Connection: close`;
 * the master then shuts its side down and reads what the client still sends
 * for a moment (at most METRICS_LINGER_MS, METRICS_LINGER_BYTES), so the
 * answer is not lost to a reset.
 *
 * The values are read from the shared memory at each scrape; nothing is
 * cached. slb_failover_state is one-hot: one series per state name, the
 * current one 1, the others 0.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "vrrp.h"

#define METRICS_MAX_CONNS 64
#define METRICS_HEAD_MAX 8192
#define METRICS_TIMEOUT_MS 5000
#define METRICS_LINGER_MS 1000
#define METRICS_LINGER_BYTES 65536
#define METRICS_BACKLOG 64
#define METRICS_ACCEPTS_PER_EVENT 64
#define METRICS_TAG_LISTEN MASTER_METRICS_TAG_BASE
#define METRICS_TAG_TIMER (MASTER_METRICS_TAG_BASE + 1)
#define METRICS_TAG_CONN0 (MASTER_METRICS_TAG_BASE + 2)

enum metrics_conn_state { CONN_FREE, CONN_READING, CONN_WRITING, CONN_LINGERING };

struct metrics_conn {
	int fd;
	enum metrics_conn_state state;
	uint64_t opened_ms;
	uint64_t deadline_ms; /* of the current state */
	size_t inlen; /* request head bytes, then bytes discarded while lingering */
	char in[METRICS_HEAD_MAX];
	char *out;
	size_t outlen, outoff;
};

struct master_metrics {
	int fd; /* listening socket */
	int timerfd;
	struct slb_sockaddr addr;
	struct slb_log_limit accept_log;
	struct metrics_conn conns[METRICS_MAX_CONNS];
};

/* --- the exposition ------------------------------------------------------ */

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* <s> as a quoted label value: backslash, double quote and newline escaped. */
static void label_value(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* <v>, or <v> microseconds written as seconds when <micros>. */
static void value(FILE *out, uint64_t v, bool micros)
{
	if (micros)
		fprintf(out, " %llu.%06llu\n", (unsigned long long)(v / 1000000u),
			(unsigned long long)(v % 1000000u));
	else
		fprintf(out, " %llu\n", (unsigned long long)v);
}

/* A family of per-listener or per-server series; a name in _seconds reads microseconds. */
struct metric_family {
	const char *name, *type, *help;
	unsigned field;
};

static bool in_seconds(const struct metric_family *fam)
{
	return strstr(fam->name, "_seconds") != NULL;
}

enum {
	LF_TOTAL,
	LF_ACTIVE,
	LF_BYTES_IN,
	LF_BYTES_OUT,
	LF_NO_SERVER,
	LF_REQUESTS,
	LF_DENIED,
	LF_ON_BACKUP,
};

static const struct metric_family listener_families[] = {
	{ "slb_listener_connections_total", "counter", "Client connections accepted.", LF_TOTAL },
	{ "slb_listener_active_connections", "gauge", "Client connections open now.", LF_ACTIVE },
	{ "slb_listener_bytes_in_total", "counter", "Bytes received from clients.", LF_BYTES_IN },
	{ "slb_listener_bytes_out_total", "counter", "Bytes sent to clients.", LF_BYTES_OUT },
	{ "slb_listener_no_server_total", "counter",
	  "Clients closed because no server was available.", LF_NO_SERVER },
	{ "slb_listener_http_requests_total", "counter", "HTTP requests received.", LF_REQUESTS },
	{ "slb_listener_denied_total", "counter",
	  "Clients refused by the acl or max_connections.", LF_DENIED },
	{ "slb_listener_backup_active", "gauge",
	  "1 while new connections go to the listener's backup_group, else 0.", LF_ON_BACKUP },
};

static uint64_t listener_value(const struct slb_shm_listener *l, unsigned field)
{
	switch (field) {
	case LF_TOTAL: return atomic_load(&l->total);
	case LF_ACTIVE: return atomic_load(&l->active);
	case LF_BYTES_IN: return atomic_load(&l->bytes_in);
	case LF_BYTES_OUT: return atomic_load(&l->bytes_out);
	case LF_NO_SERVER: return atomic_load(&l->no_server);
	case LF_REQUESTS: return atomic_load(&l->requests);
	case LF_ON_BACKUP: return atomic_load(&l->on_backup);
	default: return atomic_load(&l->denied);
	}
}

static void write_listeners(const struct slb_shm *shm, FILE *out)
{
	for (size_t f = 0; f < sizeof(listener_families) / sizeof(listener_families[0]); f++) {
		const struct metric_family *fam = &listener_families[f];

		family(out, fam->name, fam->type, fam->help);
		for (unsigned i = 0; i < SLB_MAX_LISTENERS; i++) {
			const struct slb_shm_listener *l = &shm->listeners[i];

			if (atomic_load_explicit(&l->serial, memory_order_acquire) == 0)
				continue;
			fprintf(out, "%s{listener=", fam->name);
			label_value(out, l->name);
			fputc('}', out);
			value(out, listener_value(l, fam->field), in_seconds(fam));
		}
	}
}

enum {
	SF_TOTAL,
	SF_ACTIVE,
	SF_FAILED,
	SF_BYTES_IN,
	SF_BYTES_OUT,
	SF_REQUESTS,
	SF_RETRIES,
	SF_REUSE_ABORTS,
	SF_UP,
	SF_WEIGHT,
	SF_LATENCY,
	SF_TRANSITIONS,
};

static const struct metric_family server_families[] = {
	{ "slb_server_connections_total", "counter", "Connections established to the server.",
	  SF_TOTAL },
	{ "slb_server_active_connections", "gauge", "Connections open to the server now.",
	  SF_ACTIVE },
	{ "slb_server_failed_connects_total", "counter", "Connect attempts that failed.",
	  SF_FAILED },
	{ "slb_server_bytes_in_total", "counter", "Bytes received from the server.", SF_BYTES_IN },
	{ "slb_server_bytes_out_total", "counter", "Bytes sent to the server.", SF_BYTES_OUT },
	{ "slb_server_http_requests_total", "counter", "HTTP responses the server gave.",
	  SF_REQUESTS },
	{ "slb_server_http_retries_total", "counter",
	  "HTTP requests sent again on a new connection: the pooled one had closed unanswered.",
	  SF_RETRIES },
	{ "slb_server_http_reuse_aborts_total", "counter",
	  "HTTP requests that cannot go twice whose pooled connection closed unanswered: "
	  "the client's connection was closed without a response.",
	  SF_REUSE_ABORTS },
	{ "slb_server_up", "gauge", "1 when the health checks find the server up, else 0.", SF_UP },
	{ "slb_server_weight", "gauge", "The server's weight now (0 = drained).", SF_WEIGHT },
	{ "slb_server_check_latency_seconds", "gauge",
	  "Duration of the last health check (0 before the first).", SF_LATENCY },
	{ "slb_server_health_transitions_total", "counter",
	  "Times the server went up or down.", SF_TRANSITIONS },
};

static uint64_t server_value(const struct slb_shm_server *s, unsigned field)
{
	switch (field) {
	case SF_TOTAL: return atomic_load(&s->total);
	case SF_ACTIVE: return atomic_load(&s->active);
	case SF_FAILED: return atomic_load(&s->failed);
	case SF_BYTES_IN: return atomic_load(&s->bytes_in);
	case SF_BYTES_OUT: return atomic_load(&s->bytes_out);
	case SF_REQUESTS: return atomic_load(&s->requests);
	case SF_RETRIES: return atomic_load(&s->retries);
	case SF_REUSE_ABORTS: return atomic_load(&s->reuse_aborts);
	case SF_UP: return atomic_load(&s->health) == SLB_HEALTH_UP;
	case SF_WEIGHT: return atomic_load(&s->weight);
	case SF_LATENCY: return atomic_load(&s->check_latency_us);
	default: return atomic_load(&s->transitions);
	}
}

static void write_servers(const struct slb_shm *shm, FILE *out)
{
	for (size_t f = 0; f < sizeof(server_families) / sizeof(server_families[0]); f++) {
		const struct metric_family *fam = &server_families[f];

		family(out, fam->name, fam->type, fam->help);
		for (unsigned i = 0; i < SLB_MAX_SERVERS; i++) {
			const struct slb_shm_server *s = &shm->servers[i];
			char addr[SLB_SOCKADDR_STRLEN];

			if (atomic_load_explicit(&s->serial, memory_order_acquire) == 0)
				continue;
			fprintf(out, "%s{group=", fam->name);
			label_value(out, s->group);
			fputs(",server=", out);
			label_value(out, s->name);
			fputs(",address=", out);
			label_value(out, slb_sockaddr_format(&s->addr, addr));
			fputc('}', out);
			value(out, server_value(s, fam->field), in_seconds(fam));
		}
	}
}

static void gauge(FILE *out, const char *name, const char *type, const char *help, uint64_t v,
		  bool micros)
{
	family(out, name, type, help);
	fputs(name, out);
	value(out, v, micros);
}

static int count_by_listener(const struct slb_session *s, void *arg)
{
	uint32_t *counts = arg;

	if (s->key.listener < SLB_MAX_LISTENERS)
		counts[s->key.listener]++;
	return 0;
}

/* One scan of the session table per scrape: counts by listener slot. */
static void write_sessions(struct slb_shm *shm, FILE *out)
{
	uint32_t counts[SLB_MAX_LISTENERS] = { 0 };

	slb_sessions_walk(shm->sessions, 0, slb_now_ms(), count_by_listener, counts);
	family(out, "slb_sessions_active", "gauge",
	       "Live sessions (source_ip persistence, UDP flows) in the session table.");
	for (unsigned i = 0; i < SLB_MAX_LISTENERS; i++) {
		const struct slb_shm_listener *l = &shm->listeners[i];

		if (atomic_load_explicit(&l->serial, memory_order_acquire) == 0)
			continue;
		fputs("slb_sessions_active{listener=", out);
		label_value(out, l->name);
		fputc('}', out);
		value(out, counts[i], false);
	}
	gauge(out, "slb_sessions_capacity", "gauge",
	      "Entries the session table holds ([global] session_table_size when slb started).",
	      slb_sessions_capacity(shm->sessions), false);
}

static void write_node(struct master *m, FILE *out)
{
	static const char *const states[] = { "init", "backup", "master", "fault" };
	const struct slb_shm_failover *fo = &m->shm.hdr->failover;
	uint32_t state = atomic_load(&fo->state);

	family(out, "slb_failover_state", "gauge",
	       "The node's failover state, one-hot: 1 for the current state, 0 for the others.");
	for (uint32_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		fprintf(out, "slb_failover_state{state=\"%s\"} %u\n", states[i], i == state);
	gauge(out, "slb_failover_enabled", "gauge",
	      "1 when [failover] runs VRRP, 0 when the node holds its VIPs alone.",
	      m->config->failover.enabled, false);
	gauge(out, "slb_failover_priority", "gauge", "The VRRP priority advertised now.",
	      atomic_load(&fo->priority), false);
	gauge(out, "slb_failover_transitions_total", "counter", "Failover state changes.",
	      atomic_load(&fo->transitions), false);
	gauge(out, "slb_failover_adverts_sent_total", "counter", "VRRP adverts sent.",
	      atomic_load(&fo->adverts_sent), false);
	gauge(out, "slb_failover_adverts_received_total", "counter",
	      "Valid VRRP adverts received.", atomic_load(&fo->adverts_received), false);
	family(out, "slb_failover_dropped_packets_total", "counter",
	       "Received VRRP packets dropped, by reason.");
	for (unsigned i = SLB_VRRP_OK + 1; i < SLB_VRRP_VERDICT_COUNT && i < SLB_FAILOVER_DROP_KINDS;
	     i++) {
		fputs("slb_failover_dropped_packets_total{reason=", out);
		label_value(out, slb_vrrp_verdict_name((enum slb_vrrp_verdict)i));
		fputc('}', out);
		value(out, atomic_load(&fo->drops[i]), false);
	}
	gauge(out, "slb_failover_sync_dropped_sessions_total", "counter",
	      "Session records from the peer's sync dropped: listener or server not configured here"
	      " (a change may come, and count, twice).",
	      atomic_load(&fo->sync_dropped), false);
	gauge(out, "slb_failover_timer_late_max_seconds", "gauge",
	      "Worst lateness of an election timer.", atomic_load(&fo->timer_late_max_us), true);
	gauge(out, "slb_failover_turn_cpu_max_seconds", "gauge",
	      "Most CPU time one turn of the election loop took (its own work, whatever the load).",
	      atomic_load(&fo->turn_cpu_max_us), true);
	gauge(out, "slb_workers_alive", "gauge", "Worker processes running.",
	      atomic_load(&fo->workers_alive), false);
	gauge(out, "slb_config_generation", "gauge",
	      "Configuration generation: 0 at start, one more per successful reload.",
	      m->generation, false);
}

int metrics_write(struct master *m, FILE *out)
{
	write_listeners(&m->shm, out);
	write_sessions(&m->shm, out);
	write_servers(&m->shm, out);
	write_node(m, out);
	return ferror(out) ? -1 : 0;
}

/* --- HTTP ---------------------------------------------------------------- */

static uint64_t conn_tag(const struct master_metrics *mx, const struct metrics_conn *c)
{
	return METRICS_TAG_CONN0 + (uint64_t)(c - mx->conns);
}

static void conn_close(struct metrics_conn *c)
{
	if (c->state == CONN_FREE)
		return;
	close(c->fd); /* also leaves the epoll set */
	free(c->out);
	c->fd = -1;
	c->state = CONN_FREE;
	c->out = NULL;
	c->inlen = c->outlen = c->outoff = 0;
}

/* Arms the timer for the earliest deadline of an open connection (or disarms it). */
static void metrics_arm(struct master_metrics *mx)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	uint64_t next = UINT64_MAX, now = slb_now_ms();

	for (unsigned i = 0; i < METRICS_MAX_CONNS; i++)
		if (mx->conns[i].state != CONN_FREE && mx->conns[i].deadline_ms < next)
			next = mx->conns[i].deadline_ms;
	if (next != UINT64_MAX) {
		uint64_t ms = next > now ? next - now : 1;

		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	}
	if (timerfd_settime(mx->timerfd, 0, &its, NULL) == -1)
		slb_warn("metrics: timerfd_settime: %m");
}

/* Closes connections past their deadline. */
static void metrics_expire(struct master_metrics *mx)
{
	uint64_t now = slb_now_ms(), expirations;

	if (read(mx->timerfd, &expirations, sizeof(expirations)) == -1 && errno != EAGAIN)
		slb_warn("metrics: timerfd read: %m");
	for (unsigned i = 0; i < METRICS_MAX_CONNS; i++) {
		struct metrics_conn *c = &mx->conns[i];

		if (c->state == CONN_FREE || now < c->deadline_ms)
			continue;
		if (c->state != CONN_LINGERING)
			slb_debug("metrics: closing a client silent for %u ms", METRICS_TIMEOUT_MS);
		conn_close(c);
	}
}

static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/*
 * Checks the request head <head> of <len> bytes (up to and including the
 * blank line) and returns the status to answer: 200, 400, 404 or 405;
 * <head_only> is set for HEAD. Line ends are CRLF or LF; no control byte
 * other than tab may appear, and every header line is "name: value".
 */
static int request_status(const char *head, size_t len, bool *head_only)
{
	const char *end = head + len, *p = head, *method, *target, *version;
	size_t mlen, tlen, plen;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)head[i];

		if ((ch < ' ' && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f)
			return 400;
		if (ch == '\r' && (i + 1 == len || head[i + 1] != '\n'))
			return 400;
	}
	/* request-line = method SP request-target SP HTTP-version */
	method = p;
	while (p < end && is_tchar(*p))
		p++;
	mlen = (size_t)(p - method);
	if (mlen == 0 || p == end || *p++ != ' ')
		return 400;
	target = p;
	while (p < end && (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f)
		p++;
	tlen = (size_t)(p - target);
	if (tlen == 0 || *target != '/' || p == end || *p++ != ' ')
		return 400;
	version = p;
	if ((size_t)(end - p) < 9 ||
	    (memcmp(version, "HTTP/1.0", 8) != 0 && memcmp(version, "HTTP/1.1", 8) != 0))
		return 400;
	p += 8;
	if (*p == '\r')
		p++;
	if (p == end || *p++ != '\n')
		return 400;
	/* header-field = field-name ":" OWS field-value OWS, until the blank line */
	while (p < end && *p != '\r' && *p != '\n') {
		const char *name = p;

		while (p < end && is_tchar(*p))
			p++;
		if (p == name || p == end || *p != ':')
			return 400;
		while (p < end && *p != '\n')
			p++;
		if (p == end)
			return 400;
		p++;
	}
	*head_only = mlen == 4 && memcmp(method, "HEAD", 4) == 0;
	plen = tlen;
	for (size_t i = 0; i < tlen; i++)
		if (target[i] == '?') {
			plen = i;
			break;
		}
	if (plen != 8 || memcmp(target, "/metrics", 8) != 0)
		return 404;
	if (!*head_only && !(mlen == 3 && memcmp(method, "GET", 3) == 0))
		return 405;
	return 200;
}

/* Length of the request head in <buf> (through its blank line), or 0 if incomplete. */
static size_t head_length(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	default: return "Internal Server Error";
	}
}

/* Builds the answer for <status> into c->out; the connection is closed if it cannot. */
static void conn_answer(struct master *m, struct metrics_conn *c, int status, bool head_only)
{
	char *body = NULL;
	size_t bodylen = 0;
	FILE *f = open_memstream(&body, &bodylen);
	FILE *resp;

	if (!f) {
		conn_close(c);
		return;
	}
	if (status == 200 && metrics_write(m, f) == -1)
		status = 500;
	if (fflush(f) != 0 || ferror(f))
		status = 500;
	if (status != 200) {
		rewind(f);
		fprintf(f, "%d %s%s\n", status, status_text(status),
			status == 404 ? ": the metrics are at /metrics" : "");
		fflush(f);
		bodylen = (size_t)ftell(f);
	}
	fclose(f);
	resp = open_memstream(&c->out, &c->outlen);
	if (!resp) {
		free(body);
		conn_close(c);
		return;
	}
	fprintf(resp,
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		"Connection: close\r\n\r\n",
		status, status_text(status),
		status == 200 ? "text/plain; version=0.0.4" : "text/plain; charset=utf-8", bodylen,
		status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head_only)
		fwrite(body, 1, bodylen, resp);
	fclose(resp);
	free(body);
	if (!c->out) {
		conn_close(c);
		return;
	}
	c->state = CONN_WRITING;
	c->deadline_ms = slb_now_ms() + METRICS_TIMEOUT_MS;
	slb_debug("metrics: %d, %zu bytes", status, c->outlen);
}

/* Reads and drops what the client still sends; closes at its end. */
static void conn_linger(struct metrics_conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0 || (c->inlen += (size_t)n) > METRICS_LINGER_BYTES) {
			conn_close(c);
			return;
		}
	}
}

/* Writes what is left of the answer; once it is out, shuts down and lingers. */
static void conn_write(struct master *m, struct metrics_conn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = conn_tag(m->metrics, c) };

	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
				conn_close(c);
			return;
		}
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	ev.events = EPOLLIN;
	if (shutdown(c->fd, SHUT_WR) == -1 || epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
		conn_close(c);
		return;
	}
	free(c->out);
	c->out = NULL;
	c->state = CONN_LINGERING;
	c->inlen = 0;
	c->deadline_ms = slb_now_ms() + METRICS_LINGER_MS;
	conn_linger(c);
}

/* Reads what has come of the request head; answers once it is complete. */
static void conn_read(struct master *m, struct metrics_conn *c)
{
	size_t head = 0;
	bool head_only = false;

	for (;;) {
		ssize_t n;

		if (c->inlen == sizeof(c->in))
			break;
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1 || (n == 0 && c->inlen == 0)) {
			conn_close(c);
			return;
		}
		if (n == 0) { /* the client ended an incomplete head */
			conn_answer(m, c, 400, false);
			break;
		}
		c->inlen += (size_t)n;
		head = head_length(c->in, c->inlen);
		if (head)
			break;
	}
	if (c->state == CONN_READING) {
		if (head)
			conn_answer(m, c, request_status(c->in, head, &head_only), head_only);
		else if (c->inlen == sizeof(c->in))
			conn_answer(m, c, 400, false); /* head longer than METRICS_HEAD_MAX */
		else
			return;
	}
	if (c->state == CONN_WRITING)
		conn_write(m, c);
}

static void metrics_accept(struct master *m)
{
	struct master_metrics *mx = m->metrics;

	for (unsigned k = 0; k < METRICS_ACCEPTS_PER_EVENT; k++) {
		struct metrics_conn *c = NULL;
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = accept4(mx->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				slb_log_limited(&mx->accept_log, LOG_WARNING, "metrics: accept: %m");
			return;
		}
		for (unsigned i = 0; i < METRICS_MAX_CONNS; i++) {
			struct metrics_conn *t = &mx->conns[i];

			if (t->state == CONN_FREE) {
				c = t;
				break;
			}
			if (!c || t->opened_ms < c->opened_ms)
				c = t;
		}
		if (c->state != CONN_FREE) {
			slb_debug("metrics: %u clients open, closing the oldest", METRICS_MAX_CONNS);
			conn_close(c);
		}
		c->fd = fd;
		c->state = CONN_READING;
		c->opened_ms = slb_now_ms();
		c->deadline_ms = c->opened_ms + METRICS_TIMEOUT_MS;
		ev.data.u64 = conn_tag(mx, c);
		if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			slb_warn("metrics: epoll_ctl: %m");
			conn_close(c);
		}
	}
}

void master_metrics_event(struct master *m, uint64_t tag, uint32_t events)
{
	struct master_metrics *mx = m->metrics;
	struct metrics_conn *c;

	if (!mx)
		return;
	if (tag == METRICS_TAG_LISTEN) {
		metrics_accept(m);
	} else if (tag == METRICS_TAG_TIMER) {
		metrics_expire(mx);
	} else if (tag - METRICS_TAG_CONN0 < METRICS_MAX_CONNS) {
		c = &mx->conns[tag - METRICS_TAG_CONN0];
		if (c->state == CONN_WRITING)
			conn_write(m, c);
		else if (c->state == CONN_READING && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			conn_read(m, c);
		else if (c->state == CONN_LINGERING)
			conn_linger(c);
	}
	metrics_arm(mx);
}

/* --- the listening socket -------------------------------------------------- */

/* A listening TCP socket on <addr>, or -1 with errno set (nothing logged). */
static int metrics_listen(const struct slb_sockaddr *addr)
{
	int af = addr->u.sa.sa_family, one = 1, saved;
	int fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	/* FREEBIND: the address may be a VIP this node does not hold yet. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, af == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       af == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof(one)) == -1 ||
	    bind(fd, &addr->u.sa, addr->len) == -1 || listen(fd, METRICS_BACKLOG) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int master_metrics_open(struct master *m)
{
	const struct slb_global_conf *g = &m->config->global;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = METRICS_TAG_LISTEN };
	struct master_metrics *mx;
	char text[SLB_SOCKADDR_STRLEN];

	if (!g->metrics_enabled || m->metrics)
		return 0;
	mx = calloc(1, sizeof(*mx));
	if (!mx) {
		slb_err("metrics: out of memory");
		return -1;
	}
	mx->accept_log = (struct slb_log_limit)SLB_LOG_LIMIT(10000);
	for (unsigned i = 0; i < METRICS_MAX_CONNS; i++)
		mx->conns[i].fd = -1;
	mx->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (mx->timerfd == -1) {
		slb_err("metrics: timerfd_create: %m");
		goto bad;
	}
	mx->fd = metrics_listen(&g->metrics);
	if (mx->fd == -1) {
		slb_err("metrics: cannot listen on %s: %m", slb_sockaddr_format(&g->metrics, text));
		goto bad_timer;
	}
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, mx->fd, &ev) == -1) {
		slb_err("metrics: epoll_ctl: %m");
		goto bad_fd;
	}
	ev.data.u64 = METRICS_TAG_TIMER;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, mx->timerfd, &ev) == -1) {
		slb_err("metrics: epoll_ctl: %m");
		goto bad_fd;
	}
	mx->addr = g->metrics;
	m->metrics = mx;
	slb_info("metrics: serving http://%s/metrics", slb_sockaddr_format(&mx->addr, text));
	return 0;
bad_fd:
	close(mx->fd);
bad_timer:
	close(mx->timerfd);
bad:
	free(mx);
	return -1;
}

void master_metrics_close(struct master *m)
{
	struct master_metrics *mx = m->metrics;

	if (!mx)
		return;
	for (unsigned i = 0; i < METRICS_MAX_CONNS; i++)
		conn_close(&mx->conns[i]);
	close(mx->fd);
	close(mx->timerfd);
	free(mx);
	m->metrics = NULL;
}

/* Moves the listening socket to <addr>; the old one stays if that fails. */
static void metrics_rebind(struct master *m, const struct slb_sockaddr *addr)
{
	struct master_metrics *mx = m->metrics;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = METRICS_TAG_LISTEN };
	char old[SLB_SOCKADDR_STRLEN], next[SLB_SOCKADDR_STRLEN];
	int fd = metrics_listen(addr), err = errno;

	slb_sockaddr_format(&mx->addr, old);
	slb_sockaddr_format(addr, next);
	if (fd == -1 && err == EADDRINUSE) {
		/* Maybe in use only by the old socket (same port, a wider address):
		 * let it go and try again; take it back if that fails too. */
		close(mx->fd);
		fd = metrics_listen(addr);
		err = errno;
		if (fd == -1) {
			mx->fd = metrics_listen(&mx->addr);
			if (mx->fd == -1 || epoll_ctl(m->epfd, EPOLL_CTL_ADD, mx->fd, &ev) == -1) {
				slb_err("metrics: cannot listen on %s (%s) and lost %s: metrics are "
					"off until the next reload", next, strerror(err), old);
				master_metrics_close(m);
				return;
			}
		} else {
			mx->fd = -1;
		}
	}
	if (fd == -1) {
		slb_err("metrics: cannot listen on %s: %s; keeping %s", next, strerror(err), old);
		return;
	}
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		slb_err("metrics: epoll_ctl: %m; metrics are off until the next reload");
		close(fd);
		master_metrics_close(m);
		return;
	}
	if (mx->fd != -1)
		close(mx->fd);
	mx->fd = fd;
	mx->addr = *addr;
	slb_info("metrics: moved from %s to http://%s/metrics", old, next);
}

void master_metrics_reload(struct master *m)
{
	const struct slb_global_conf *g = &m->config->global;

	if (!g->metrics_enabled) {
		if (m->metrics)
			slb_info("metrics: turned off");
		master_metrics_close(m);
	} else if (!m->metrics) {
		if (master_metrics_open(m) == -1)
			slb_err("metrics: staying off");
	} else if (!slb_sockaddr_equal(&m->metrics->addr, &g->metrics)) {
		metrics_rebind(m, &g->metrics);
	}
}
