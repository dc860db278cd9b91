/*
 * test_config.c - the slb.ini loader: valid files and the values they give,
 * invalid files and the exact messages an operator reads, the memfd path
 * (the caller's fd left as it was), and the value parsers of config_values.c.
 *
 * Each file is written to a mkstemp() file and loaded with slb_config_load();
 * messages are captured with open_memstream() and the temporary name is
 * replaced by "slb.ini" before comparing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "config.h"
#include "config_values.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/unit/configs"
#endif

/* ---- helpers ---- */

static void write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		assert_true(n > 0);
		data += n;
		len -= (size_t)n;
	}
}

/* Replaces every <from> in <s> (heap) by <to>; returns the new heap string. */
static char *replace_all(char *s, const char *from, const char *to)
{
	size_t flen = strlen(from);
	char *out, *p, *hit;
	FILE *f;
	size_t size;

	f = open_memstream(&out, &size);
	assert_non_null(f);
	for (p = s; (hit = strstr(p, from)); p = hit + flen)
		fprintf(f, "%.*s%s", (int)(hit - p), p, to);
	fputs(p, f);
	fclose(f);
	free(s);
	return out;
}

/*
 * Loads <len> bytes of <text> from a temporary file; returns the config and
 * sets <errors> to what the loader wrote, with the file named "slb.ini".
 */
static struct slb_config *load_bytes(const char *text, size_t len, char **errors)
{
	char path[] = "/tmp/slb-test-config-XXXXXX";
	struct slb_config *c;
	size_t size;
	FILE *err;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	write_all(fd, text, len);
	close(fd);
	err = open_memstream(errors, &size);
	assert_non_null(err);
	c = slb_config_load(path, err);
	fclose(err);
	unlink(path);
	*errors = replace_all(*errors, path, "slb.ini");
	return c;
}

static struct slb_config *load_text(const char *text, char **errors)
{
	return load_bytes(text, strlen(text), errors);
}

static void assert_addr(const struct slb_sockaddr *a, const char *expected)
{
	char buf[SLB_SOCKADDR_STRLEN];

	assert_string_equal(slb_sockaddr_format(a, buf), expected);
}

/* ---- valid files ---- */

#define MINIMAL_LISTENER \
	"[listener web80]\nprotocol = tcp\nbind = 198.18.0.1:80\n[group default]\n"

static void check_defaults(const struct slb_config *c)
{
	char host[64] = "";
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	assert_string_equal(c->global.instance, "slb");
	assert_int_equal(c->global.workers, cpus > SLB_MAX_WORKERS ? SLB_MAX_WORKERS : cpus);
	assert_string_equal(c->global.user, "slb");
	assert_string_equal(c->global.control_socket, "/run/slb/slb.sock");
	assert_string_equal(c->global.pid_file, "/run/slb/slb.pid");
	assert_true(c->global.metrics_enabled);
	assert_addr(&c->global.metrics, "127.0.0.1:9180");
	assert_int_equal(c->global.log, SLB_LOG_SYSLOG);
	assert_int_equal(c->global.log_level, LOG_INFO);
	assert_int_equal(c->global.session_table_size, 1048576);
	assert_int_equal(c->global.drain_timeout_ms, 30000);
	assert_int_equal(c->global.poll_coalesce_us, 30);
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(c->node.name, host);
	assert_int_equal(c->node.zone, SLB_ZONE_PRIMARY);
	assert_false(c->failover.enabled);
	assert_int_equal(c->failover.track_group, -1);
	assert_int_equal(c->nvips, 0);
}

static void check_empty(const struct slb_config *c)
{
	check_defaults(c);
	assert_int_equal(c->nlisteners, 0);
	assert_int_equal(c->ngroups, 0);
}

static void check_listener_defaults(const struct slb_config *c)
{
	const struct slb_listener_conf *l = &c->listeners[0];
	const struct slb_group_conf *g = &c->groups[0];

	check_defaults(c);
	assert_int_equal(c->nlisteners, 1);
	assert_string_equal(l->name, "web80");
	assert_int_equal(l->line, 1);
	assert_int_equal(l->protocol, SLB_PROTO_TCP);
	assert_addr(&l->bind, "198.18.0.1:80");
	assert_int_equal(l->group, 0);
	assert_int_equal(l->scheduler, SLB_SCHED_WRR);
	assert_int_equal(l->persistence, SLB_PERSIST_NONE);
	assert_int_equal(l->persistence_timeout_ms, 1000000);
	assert_string_equal(l->cookie, "");
	assert_int_equal(l->backup_group, -1);
	assert_int_equal(l->failover_threshold, 1);
	assert_int_equal(l->nrules, 0);
	assert_true(l->x_forwarded_for);
	assert_false(l->gzip);
	assert_int_equal(l->ntls_certs, 0);
	assert_string_equal(l->tls_key, "");
	assert_int_equal(l->proxy_protocol, SLB_PROXY_PROTOCOL_NONE);
	assert_int_equal(l->nacl_allow, 0);
	assert_int_equal(l->nacl_deny, 0);
	assert_int_equal(l->connect_timeout_ms, 5000);
	assert_int_equal(l->idle_timeout_ms, 60000);
	assert_int_equal(l->header_timeout_ms, 10000);
	assert_int_equal(l->body_timeout_ms, 10000);
	assert_int_equal(l->keepalive_timeout_ms, 10000);
	assert_int_equal(l->server_timeout_ms, 60000);
	assert_int_equal(l->max_connections, 0);
	assert_int_equal(c->ngroups, 1);
	assert_string_equal(g->name, "default");
	assert_int_equal(g->line, 4);
	assert_int_equal(g->type, SLB_GROUP_NORMAL);
	assert_int_equal(g->nservers, 0);
	assert_int_equal(g->check, SLB_CHECK_TCP);
	assert_int_equal(g->check_port, 0);
	assert_int_equal(g->check_method, SLB_CHECK_GET);
	assert_false(g->server_tls);
	assert_string_equal(g->check_path, "/");
	assert_string_equal(g->check_host, "");
	assert_int_equal(g->check_codes, (1u << 2) | (1u << 3));
	assert_int_equal(g->check_interval_ms, 2000);
	assert_int_equal(g->check_timeout_ms, 1000);
	assert_int_equal(g->healthy_threshold, 3);
	assert_int_equal(g->unhealthy_threshold, 3);
}

static void check_full(const struct slb_config *c)
{
	const struct slb_listener_conf *l = &c->listeners[0];
	const struct slb_group_conf *g = &c->groups[0];
	struct sockaddr_in in;

	assert_string_equal(c->global.instance, "edge");
	assert_int_equal(c->global.workers, 3);
	assert_string_equal(c->global.user, "nobody");
	assert_string_equal(c->global.control_socket, "/run/slb/edge.sock");
	assert_string_equal(c->global.pid_file, "/run/slb/edge.pid");
	assert_false(c->global.metrics_enabled);
	assert_int_equal(c->global.log, SLB_LOG_FILE);
	assert_string_equal(c->global.log_file, "/var/log/slb.log");
	assert_int_equal(c->global.log_level, LOG_DEBUG);
	assert_int_equal(c->global.session_table_size, 65536);
	assert_int_equal(c->global.drain_timeout_ms, 120000);
	assert_string_equal(c->node.name, "lb2");
	assert_int_equal(c->node.zone, SLB_ZONE_BACKUP);

	assert_int_equal(c->nvips, 1);
	assert_string_equal(c->vips[0].name, "web");
	assert_int_equal(c->vips[0].address.family, AF_INET);
	assert_int_equal(c->vips[0].address.prefix_len, 24);
	assert_string_equal(c->vips[0].interface, "eth1");
	assert_int_equal(c->vips[0].line, 16);

	assert_int_equal(c->nlisteners, 1);
	assert_string_equal(l->name, "web443");
	assert_int_equal(l->group, 0);
	assert_int_equal(l->scheduler, SLB_SCHED_WLC);
	assert_int_equal(l->nacl_allow, 3);
	assert_int_equal(l->acl_allow[1].prefix_len, 16);
	assert_int_equal(l->acl_allow[2].family, AF_INET6);
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", &in.sin_addr);
	assert_true(slb_cidr_contains(&l->acl_allow[0], (struct sockaddr *)&in));
	assert_int_equal(l->nacl_deny, 0);
	assert_int_equal(l->connect_timeout_ms, 250);
	assert_int_equal(l->idle_timeout_ms, 3600000);
	assert_int_equal(l->max_connections, 1000);
	assert_false(l->x_forwarded_for);

	assert_int_equal(c->ngroups, 2);
	assert_string_equal(g->name, "web");
	assert_int_equal(g->nservers, 3);
	assert_string_equal(g->servers[0].name, "a");
	assert_addr(&g->servers[0].addr, "198.18.0.11:8080");
	assert_int_equal(g->servers[0].weight, 100);
	assert_int_equal(g->servers[0].role, SLB_ROLE_NONE);
	assert_int_equal(g->servers[0].line, 33);
	assert_int_equal(g->servers[1].weight, 0);
	assert_string_equal(g->servers[2].name, "c-1");
	assert_addr(&g->servers[2].addr, "[2001:db8::1]:8080");
	assert_int_equal(g->servers[2].weight, 42);
	assert_int_equal(g->check, SLB_CHECK_NONE);
	assert_int_equal(g->check_port, 9000);
	assert_int_equal(g->check_codes, (1u << 2) | (1u << 4));
	assert_int_equal(g->check_interval_ms, 5000);
	assert_int_equal(g->check_timeout_ms, 500);
	assert_int_equal(g->healthy_threshold, 1);
	assert_int_equal(g->unhealthy_threshold, 10);
	assert_string_equal(c->groups[1].name, "default");
	assert_int_equal(c->groups[1].nservers, 0);
}

/* Names are case-insensitive; inline comments, quotes and CRLF are iniparser's. */
static const char spelling_file[] =
	"[GLOBAL]\r\n"
	"User = \"slb-user\" ; quoted\r\n"
	"INSTANCE = blue # comment\r\n"
	"[Listener   Web80]\r\n"
	"  Protocol=tcp\r\n"
	"BIND = [::1]:8080;comment\r\n"
	"Group = WEB\r\n"
	"[group web]\r\n"
	"Server.Web1 = 198.18.0.11:80 weight=7\r\n";

static void check_spelling(const struct slb_config *c)
{
	assert_string_equal(c->global.user, "slb-user");
	assert_string_equal(c->global.instance, "blue");
	assert_string_equal(c->listeners[0].name, "web80");
	assert_addr(&c->listeners[0].bind, "[::1]:8080");
	assert_int_equal(c->listeners[0].group, 0);
	assert_string_equal(c->groups[0].servers[0].name, "web1");
	assert_int_equal(c->groups[0].servers[0].weight, 7);
}

/*
 * A comment may follow a section header (as in CONFIG.md), holding anything,
 * even ']' or '='; the line numbers after it do not move.
 */
static const char section_comments_file[] =
	"[global] ; the defaults, mostly\n"
	"instance = blue\n"
	"[listener web80]    # the site [www] = public\n"
	"protocol = tcp\n"
	"bind = 198.18.0.1:80\n"
	"[Group   Default];servers=2\r\n"
	"server.a = 198.18.0.11:80\n"
	"server.b = 198.18.0.12:80 ; the spare\n";

static void check_section_comments(const struct slb_config *c)
{
	assert_string_equal(c->global.instance, "blue");
	assert_int_equal(c->nlisteners, 1);
	assert_string_equal(c->listeners[0].name, "web80");
	assert_int_equal(c->listeners[0].line, 3);
	assert_addr(&c->listeners[0].bind, "198.18.0.1:80");
	assert_int_equal(c->ngroups, 1);
	assert_string_equal(c->groups[0].name, "default");
	assert_int_equal(c->groups[0].line, 6);
	assert_int_equal(c->groups[0].nservers, 2);
	assert_int_equal(c->groups[0].servers[1].line, 8);
	assert_addr(&c->groups[0].servers[1].addr, "198.18.0.12:80");
}

/* Listeners may share a port on different addresses, and an address on different ports. */
static const char two_listeners_file[] =
	"[listener a]\nprotocol = tcp\nbind = 198.18.0.1:80\n"
	"[listener b]\nprotocol = tcp\nbind = 198.18.0.2:80\n"
	"[listener c]\nprotocol = tcp\nbind = 198.18.0.1:81\ngroup = other\n"
	"[group default]\n[group other]\nserver.x = 198.18.0.1:80\n";

static void check_two_listeners(const struct slb_config *c)
{
	assert_int_equal(c->nlisteners, 3);
	assert_int_equal(c->listeners[0].group, 0);
	assert_int_equal(c->listeners[2].group, 1);
	assert_int_equal(slb_config_group_index(c, "OTHER"), 1);
	assert_int_equal(slb_config_group_index(c, "nope"), -1);
}

/* udp shares no port space with tcp: the same address:port is two listeners. */
static const char udp_listener_file[] =
	"[listener dns]\nprotocol = udp\nbind = 198.18.0.1:53\nidle_timeout = 30s\n"
	"acl_deny = 10.0.0.0/8\nmax_connections = 100\n"
	"[listener dnstcp]\nprotocol = tcp\nbind = 198.18.0.1:53\n"
	"[group default]\nserver.x = 198.18.0.11:53\n";

static void check_udp_listener(const struct slb_config *c)
{
	assert_int_equal(c->nlisteners, 2);
	assert_int_equal(c->listeners[0].protocol, SLB_PROTO_UDP);
	assert_int_equal(c->listeners[0].idle_timeout_ms, 30000);
	assert_int_equal(c->listeners[0].nacl_deny, 1);
	assert_int_equal(c->listeners[0].max_connections, 100);
	assert_int_equal(c->listeners[1].protocol, SLB_PROTO_TCP);
}

/* tcp listeners send the PROXY header of either version, with any scheduler. */
static const char proxy_protocol_file[] =
	"[listener v1]\nprotocol = tcp\nbind = 198.18.0.1:80\nproxy_protocol = v1\n"
	"scheduler = sh\npersistence = source_ip\n"
	"[listener v2]\nprotocol = tcp\nbind = 198.18.0.1:81\nproxy_protocol = v2\n"
	"scheduler = ch\n"
	"[listener none]\nprotocol = tcp\nbind = 198.18.0.1:82\nproxy_protocol = none\n"
	"[group default]\n";

static void check_proxy_protocol(const struct slb_config *c)
{
	assert_int_equal(c->nlisteners, 3);
	assert_int_equal(c->listeners[0].proxy_protocol, SLB_PROXY_PROTOCOL_V1);
	assert_int_equal(c->listeners[1].proxy_protocol, SLB_PROXY_PROTOCOL_V2);
	assert_int_equal(c->listeners[2].proxy_protocol, SLB_PROXY_PROTOCOL_NONE);
}

/*
 * primary_secondary groups with fewer than two servers, which only run-time
 * changes make (slbctl fills them a server at a time): a listener may use
 * one; the one server keeps its role.
 */
static const char partial_primary_secondary_file[] =
	"[listener web]\nprotocol = tcp\nbind = 198.18.0.1:80\ngroup = solo\n"
	"[group solo]\ntype = primary_secondary\nserver.s = 198.18.0.12:80 role=secondary\n"
	"[group none]\ntype = primary_secondary\n";

static void check_partial_primary_secondary(const struct slb_config *c)
{
	assert_int_equal(c->ngroups, 2);
	assert_int_equal(c->listeners[0].group, 0);
	assert_int_equal(c->groups[0].type, SLB_GROUP_PRIMARY_SECONDARY);
	assert_int_equal(c->groups[0].nservers, 1);
	assert_int_equal(c->groups[0].servers[0].role, SLB_ROLE_SECONDARY);
	assert_int_equal(c->groups[1].type, SLB_GROUP_PRIMARY_SECONDARY);
	assert_int_equal(c->groups[1].nservers, 0);
}

struct good_case {
	const char *name;
	const char *text;
	void (*check)(const struct slb_config *c);
};

static const struct good_case good_cases[] = {
	{ "empty file", "", check_empty },
	{ "comments only", "; nothing\n# at all\n\n   \n", check_empty },
	{ "one listener, defaults", MINIMAL_LISTENER, check_listener_defaults },
	{ "spelling", spelling_file, check_spelling },
	{ "two listeners", two_listeners_file, check_two_listeners },
	{ "udp listener", udp_listener_file, check_udp_listener },
	{ "proxy_protocol", proxy_protocol_file, check_proxy_protocol },
	{ "comments after section headers", section_comments_file, check_section_comments },
};

static void test_valid_files(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		char *errors = NULL;
		struct slb_config *c = load_text(good_cases[i].text, &errors);

		if (!c)
			fail_msg("case '%s' was rejected:\n%s", good_cases[i].name, errors);
		assert_string_equal(errors, "");
		good_cases[i].check(c);
		slb_config_free(c);
		free(errors);
	}
}

/* [failover] with every key, as CONFIG.md writes it. */
static void test_failover_section(void **state)
{
	char *errors = NULL;
	struct slb_config *c;

	(void)state;
	c = load_text("[failover]                  ; a comment after the header\n"
		      "interface = eth1\nvrid = 51\npriority = 150\nadvert_interval = 100ms\n"
		      "peers = 198.18.0.4, 198.18.0.5\npreempt = no\npreempt_delay = 2s\n"
		      "auth_key_file = /etc/slb/failover.key\nsync = no\nsync_port = 7802\n"
		      "track_group = web\ntrack_weight = 60\ngarp_interval = 30s\n"
		      "notify = /usr/local/bin/slb-notify\n"
		      "[vip web]\naddress = 198.18.0.100/24\ninterface = eth1\n"
		      "[group web]\nserver.a = 198.18.0.11:80\n", &errors);
	if (!c)
		fail_msg("rejected:\n%s", errors);
	assert_true(c->failover.enabled);
	assert_string_equal(c->failover.interface, "eth1");
	assert_int_equal(c->failover.vrid, 51);
	assert_int_equal(c->failover.priority, 150);
	assert_int_equal(c->failover.advert_interval_ms, 100);
	assert_int_equal(c->failover.npeers, 2);
	assert_addr(&c->failover.peers[1], "198.18.0.5:0");
	assert_false(c->failover.preempt);
	assert_int_equal(c->failover.preempt_delay_ms, 2000);
	assert_string_equal(c->failover.auth_key_file, "/etc/slb/failover.key");
	assert_false(c->failover.sync);
	assert_int_equal(c->failover.sync_port, 7802);
	assert_int_equal(c->failover.track_group, 0);
	assert_int_equal(c->failover.track_weight, 60);
	assert_int_equal(c->failover.garp_interval_ms, 30000);
	assert_string_equal(c->failover.notify, "/usr/local/bin/slb-notify");
	slb_config_free(c);
	free(errors);
}

/* Loads the file at <path>; a rejection fails the test with the messages. */
/* poll_coalesce takes microseconds or milliseconds, and 0 (off) without a unit. */
static void test_poll_coalesce_units(void **state)
{
	static const struct {
		const char *text;
		uint32_t us;
	} cases[] = { { "1ms", 1000 }, { "250us", 250 }, { "0", 0 }, { "0us", 0 } };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[64], *errors = NULL;
		struct slb_config *c;

		snprintf(text, sizeof(text), "[global]\npoll_coalesce = %s\n", cases[i].text);
		c = load_text(text, &errors);
		assert_non_null(c);
		assert_int_equal(c->global.poll_coalesce_us, cases[i].us);
		slb_config_free(c);
		free(errors);
	}
}

static struct slb_config *load_path_or_fail(const char *path)
{
	char *errors = NULL;
	struct slb_config *c;
	size_t size;
	FILE *err = open_memstream(&errors, &size);

	assert_non_null(err);
	c = slb_config_load(path, err);
	fclose(err);
	if (!c)
		fail_msg("%s was rejected:\n%s", path, errors);
	free(errors);
	return c;
}

/* A fixture with every value away from its default. */
static void test_full_file(void **state)
{
	struct slb_config *c = load_path_or_fail(TEST_DATA_DIR "/full.ini");

	(void)state;
	check_full(c);
	slb_config_free(c);
}

/*
 * A primary_secondary group: the roles as written, in any order. Backup
 * groups: the threshold as written (as many as the group has servers), or 1.
 * check = udp is accepted.
 */
static void test_groups_file(void **state)
{
	struct slb_config *c = load_path_or_fail(TEST_DATA_DIR "/groups.ini");
	const struct slb_group_conf *g = &c->groups[0];

	(void)state;
	assert_int_equal(c->listeners[0].group, 0);
	assert_int_equal(c->listeners[0].backup_group, -1);
	assert_int_equal(c->listeners[1].group, slb_config_group_index(c, "web"));
	assert_int_equal(c->listeners[1].backup_group, slb_config_group_index(c, "web-dr"));
	assert_int_equal(c->listeners[1].failover_threshold, 3);
	assert_int_equal(c->listeners[2].backup_group, 0);
	assert_int_equal(c->listeners[2].failover_threshold, 1);
	assert_int_equal(c->groups[c->listeners[1].backup_group].check, SLB_CHECK_UDP);
	assert_int_equal(c->groups[c->listeners[1].backup_group].check_port, 53);
	assert_int_equal(g->type, SLB_GROUP_PRIMARY_SECONDARY);
	assert_int_equal(g->nservers, 2);
	assert_string_equal(g->servers[0].name, "spare");
	assert_int_equal(g->servers[0].role, SLB_ROLE_SECONDARY);
	assert_int_equal(g->servers[0].weight, 100);
	assert_string_equal(g->servers[1].name, "main");
	assert_int_equal(g->servers[1].role, SLB_ROLE_PRIMARY);
	assert_int_equal(g->servers[1].weight, 50);
	assert_int_equal(g->servers[1].line, 10);
	slb_config_free(c);
}

/* etc/slb.ini is the documented default and must load as shipped. */
static void test_shipped_file(void **state)
{
	struct slb_config *c = load_path_or_fail(TEST_DATA_DIR "/../../../etc/slb.ini");

	(void)state;
	assert_int_equal(c->nvips, 1);
	assert_int_equal(c->nlisteners, 1);
	assert_int_equal(c->listeners[0].protocol, SLB_PROTO_TCP);
	assert_int_equal(c->ngroups, 1);
	assert_string_equal(c->groups[c->listeners[0].group].name, "default");
	assert_int_equal(c->groups[0].nservers, 2);
	assert_int_equal(c->groups[0].check, SLB_CHECK_TCP);
	assert_false(c->failover.enabled);
	slb_config_free(c);
}

/* ---- invalid files: the exact text an operator reads ---- */

struct bad_case {
	const char *text;
	const char *errors;
};

#define L "[listener web80]\nprotocol = tcp\nbind = 198.18.0.1:80\n"
#define G "[group default]\n"

static const struct bad_case bad_cases[] = {
	/* spelling */
	{ L "schedular = wrr\n" G,
	  "slb.ini:4: [listener web80] schedular: unknown key (did you mean 'scheduler'?)\n" },
	{ L "frobnicate = 1\n" G, "slb.ini:4: [listener web80] frobnicate: unknown key\n" },
	{ "[listner web80]\nprotocol = tcp\n" G,
	  "slb.ini:1: [listner web80]: unknown section type 'listner' (did you mean 'listener'?)\n" },
	{ "[frontend x]\n",
	  "slb.ini:1: [frontend x]: unknown section type 'frontend' (expected global, node, "
	  "failover, vip, listener or group)\n" },
	{ L "scheduler = wrrr\n" G,
	  "slb.ini:4: [listener web80] scheduler: unknown value 'wrrr' (expected rr, wrr, wlc, sh, "
	  "ch)\n" },
	{ G "servr.web1 = 198.18.0.1:80\n",
	  "slb.ini:2: [group default] servr.web1: unknown key (did you mean 'server.web1'?)\n" },
	{ G "server = 198.18.0.1:80\n",
	  "slb.ini:2: [group default] server: needs a name: server.NAME\n" },
	/* values */
	{ "[group web]\ncheck_interval = 2\n",
	  "slb.ini:2: [group web] check_interval: '2' needs a unit (ms, s, m, h)\n" },
	{ "[group web]\ncheck_interval = 2sec\n",
	  "slb.ini:2: [group web] check_interval: '2sec' is not a duration (e.g. 250ms, 2s, 5m, "
	  "1h)\n" },
	{ "[group web]\ncheck_interval = 2h\n",
	  "slb.ini:2: [group web] check_interval: '2h' is out of range (100ms..1h)\n" },
	{ "[group web]\ncheck_interval = 2s\ncheck_timeout = 3s\n",
	  "slb.ini:3: [group web] check_timeout: longer than check_interval (2s)\n" },
	{ L "x_forwarded_for = maybe\n" G,
	  "slb.ini:4: [listener web80] x_forwarded_for: 'maybe' is not a boolean (yes, no, true, "
	  "false, on, off, 1, 0)\n" },
	{ G "server.a = 198.18.0.1:80 weight=101\n",
	  "slb.ini:2: [group default] server.a: 'weight=101': the weight must be 0..100\n" },
	{ G "server.a = 198.18.0.1:80 weight=-1\n",
	  "slb.ini:2: [group default] server.a: 'weight=-1': the weight must be 0..100\n" },
	{ G "server.a = 198.18.0.1:80 wieght=5\n",
	  "slb.ini:2: [group default] server.a: unexpected 'wieght=5' (expected IP:PORT "
	  "[weight=N] [role=primary|secondary])\n" },
	{ G "server.a = 198.18.0.1:80\nserver.b = 198.18.0.1:80\n",
	  "slb.ini:3: [group default] server.b: same address as server.a (line 2)\n" },
	{ G "server.a/b = 198.18.0.1:80\n",
	  "slb.ini:2: [group default] server.a/b: 'a/b' is not a valid name (1..31 characters "
	  "of a-z, 0-9, '_', '.', '-')\n" },
	{ "[listener web80]\nprotocol = tcp\nbind = 198.18.0.1\n" G,
	  "slb.ini:3: [listener web80] bind: '198.18.0.1' is not an address 'IP:PORT' (port "
	  "1..65535)\n" },
	{ "[listener web80]\nprotocol = tcp\nbind = 198.18.0.1:0\n" G,
	  "slb.ini:3: [listener web80] bind: '198.18.0.1:0' is not an address 'IP:PORT' (port "
	  "1..65535)\n" },
	{ "[listener web80]\nprotocol = tcp\nbind =\n" G,
	  "slb.ini:3: [listener web80] bind: empty value\n" },
	{ L "acl_allow = 10.0.0.0/8, 10.0.0.0/33\n" G,
	  "slb.ini:4: [listener web80] acl_allow: '10.0.0.0/33' is not an address prefix "
	  "'IP/LEN'\n" },
	{ L "acl_deny = 10.0.0.0/8,\n" G,
	  "slb.ini:4: [listener web80] acl_deny: empty item in the list '10.0.0.0/8,'\n" },
	{ "[global]\nworkers = 0\nlog = relative.log\nsession_table_size = 1g\n"
	  "log_level = verbose\nmetrics = localhost:9180\ninstance = Blue\n",
	  "slb.ini:2: [global] workers: '0' is neither auto nor a number 1..64\n"
	  "slb.ini:3: [global] log: 'relative.log' is not syslog, stderr or an absolute path to "
	  "a file\n"
	  "slb.ini:4: [global] session_table_size: '1g' is not a size (a number, optionally "
	  "followed by k or m)\n"
	  "slb.ini:5: [global] log_level: unknown value 'verbose' (expected error, warning, info, "
	  "debug)\n"
	  "slb.ini:6: [global] metrics: 'localhost:9180' is not an address 'IP:PORT' (port "
	  "1..65535)\n"
	  "slb.ini:7: [global] instance: 'Blue' is not a valid name (1..31 characters of a-z, "
	  "0-9, '_', '.', '-')\n" },
	{ "[global]\nsession_table_size = 128m\ncontrol_socket = run/slb.sock\n",
	  "slb.ini:2: [global] session_table_size: '128m' is out of range (1024..67108864)\n"
	  "slb.ini:3: [global] control_socket: 'run/slb.sock' must start with '/'\n" },
	{ "[global]\npoll_coalesce = 30\n",
	  "slb.ini:2: [global] poll_coalesce: '30' is not a duration in us or ms (e.g. 0, 50us, 1ms)\n" },
	{ "[global]\npoll_coalesce = 2ms\n",
	  "slb.ini:2: [global] poll_coalesce: '2ms' is out of range (0..1000us)\n" },
	{ "[global]\npoll_coalesce = 1001us\n",
	  "slb.ini:2: [global] poll_coalesce: '1001us' is out of range (0..1000us)\n" },
	{ "[global]\npoll_coalesce = -1us\n",
	  "slb.ini:2: [global] poll_coalesce: '-1us' is not a duration in us or ms (e.g. 0, 50us, "
	  "1ms)\n" },
	{ "[group web]\ncheck_codes = 200\n",
	  "slb.ini:2: [group web] check_codes: '200' is not a status class (1xx, 2xx, 3xx, 4xx, "
	  "5xx)\n" },
	{ "[vip web]\naddress = 198.18.0.100/24\n",
	  "slb.ini:1: [vip web] interface: missing\n" },
	{ "[vip web]\naddress = 198.18.0.100/24\ninterface = a-very-long-interface\n",
	  "slb.ini:3: [vip web] interface: longer than 15 characters\n" },
	{ "[vip a]\naddress = 198.18.0.100/24\ninterface = eth0\n"
	  "[vip b]\naddress = 198.18.0.100/32\ninterface = eth0\n",
	  "slb.ini:5: [vip b] address: same address as [vip a] (line 2)\n" },
	/* required keys: at the section's line */
	{ "[listener web80]\n" G,
	  "slb.ini:1: [listener web80] protocol: missing\n"
	  "slb.ini:1: [listener web80] bind: missing\n" },
	/* primary_secondary groups */
#define PS "[group default]\ntype = primary_secondary\n"
	{ PS "server.a = 198.18.0.1:80 role=primary\nserver.b = 198.18.0.2:80 role=secondary\n"
	  "server.c = 198.18.0.3:80 role=secondary\n",
	  "slb.ini:2: [group default] type: primary_secondary needs two servers (one primary, one "
	  "secondary), not 3\n" },
	{ PS "server.a = 198.18.0.1:80 role=primary\n",
	  "slb.ini:2: [group default] type: primary_secondary needs two servers (one primary, one "
	  "secondary), not 1\n" },
	{ PS, "slb.ini:2: [group default] type: primary_secondary needs two servers (one primary, "
	      "one secondary), not 0\n" },
	{ PS "server.a = 198.18.0.1:80\nserver.b = 198.18.0.2:80 role=primary\n",
	  "slb.ini:3: [group default] server.a: needs role=primary or role=secondary (type = "
	  "primary_secondary)\n" },
	{ PS "server.a = 198.18.0.1:80 role=primary\nserver.b = 198.18.0.2:80\n",
	  "slb.ini:4: [group default] server.b: needs role=primary or role=secondary (type = "
	  "primary_secondary)\n" },
	{ PS "server.a = 198.18.0.1:80 role=primary\nserver.b = 198.18.0.2:80 role=primary\n",
	  "slb.ini:4: [group default] server.b: role=primary again (a has it): one server is "
	  "primary, the other secondary\n" },
	{ PS "server.a = 198.18.0.1:80 role=secondary\nserver.b = 198.18.0.2:80 role=secondary\n",
	  "slb.ini:4: [group default] server.b: role=secondary again (a has it): one server is "
	  "primary, the other secondary\n" },
	{ PS "server.a = 198.18.0.1:80 role=backup\nserver.b = 198.18.0.2:80 role=primary\n",
	  "slb.ini:3: [group default] server.a: 'role=backup': the role must be primary or "
	  "secondary\n" },
	{ G "server.a = 198.18.0.1:80 role=primary\nserver.b = 198.18.0.2:80\n",
	  "slb.ini:2: [group default] server.a: role= only applies to type = primary_secondary\n" },
	{ "[group default]\ntype = active_standby\n",
	  "slb.ini:2: [group default] type: unknown value 'active_standby' (expected normal, "
	  "primary_secondary)\n" },
#undef PS
	/* backup groups */
#define GA G "server.a = 198.18.0.1:80\nserver.b = 198.18.0.2:80\n"
	{ L "backup_group = dr\n" GA, "slb.ini:4: [listener web80] backup_group: no [group dr]\n" },
	{ L "backup_group = default\n" GA,
	  "slb.ini:4: [listener web80] backup_group: is the listener's own group\n" },
	{ L "backup_group = dr\nfailover_threshold = 3\n" GA "[group dr]\n",
	  "slb.ini:5: [listener web80] failover_threshold: 3 is more than the 2 servers of "
	  "[group default]\n" },
	{ L "backup_group = dr\nfailover_threshold = 0\n" GA "[group dr]\n",
	  "slb.ini:5: [listener web80] failover_threshold: '0' is out of range (1..256)\n" },
	{ L "failover_threshold = 2\n" GA,
	  "slb.ini:4: [listener web80] failover_threshold: only applies with a backup_group\n" },
	{ L "backup_group = dr\n" G "[group dr]\n",
	  "slb.ini:4: [listener web80] backup_group: [group default] has no server that could "
	  "fail\n" },
#undef GA
	/* cross-references */
	{ L "group = api\n" G, "slb.ini:4: [listener web80] group: no [group api]\n" },
	{ L, "slb.ini:1: [listener web80] group: not set, and there is no [group default]\n" },
	{ L "[listener b]\nprotocol = tcp\nbind = 198.18.0.1:80\n" G,
	  "slb.ini:6: [listener b] bind: 198.18.0.1:80 is already bound by [listener web80] "
	  "(line 3)\n" },
	/* repeats */
	{ G "[listener web80]\nprotocol = tcp\nbind = 198.18.0.1:80\n[GROUP   default]\n",
	  "slb.ini:5: [group default]: repeated section (first at line 1)\n" },
	{ "[listener web80]\nprotocol = tcp\nbind = 198.18.0.1:80\nBind = 198.18.0.1:81\n" G,
	  "slb.ini:4: [listener web80] bind: repeated key (first at line 3)\n" },
	/* lines iniparser would read differently */
	{ G "this is not ini\n",
	  "slb.ini:2: syntax error: 'this is not ini' is not '[section]', 'key = value' or a "
	  "comment\n" },
	{ G "server.a = 198.18.0.1:80 \\\n  weight=5\n",
	  "slb.ini:2: the line ends with '\\': line continuation is not supported\n" },
	{ "; a comment \\\n" G,
	  "slb.ini:1: the line ends with '\\': line continuation is not supported\n" },
	{ "[group default\nserver.a = 198.18.0.1:80\n",
	  "slb.ini:1: syntax error: '[group default' has no closing ']'\n" },
	{ "[group default] the servers\n",
	  "slb.ini:1: syntax error: 'the servers' after a section header (a comment starts with "
	  "';' or '#')\n" },
	{ "[group a[b] ; the servers\n",
	  "slb.ini:1: syntax error: '[group a[b]' is not a section header\n" },
	/* a comment after a section header: the section is read, errors keep their lines */
	{ "[group web] ; the servers\ncheck_interval = 2\n",
	  "slb.ini:2: [group web] check_interval: '2' needs a unit (ms, s, m, h)\n" },
	{ "[grup web] # typo\n",
	  "slb.ini:1: [grup web]: unknown section type 'grup' (did you mean 'group'?)\n" },
	{ G "[group default] ; again\n",
	  "slb.ini:2: [group default]: repeated section (first at line 1)\n" },
	{ "[]\n", "slb.ini:1: syntax error: empty section header '[]'\n" },
	{ "\xef\xbb\xbf[global]\n",
	  "slb.ini:1: the file starts with a UTF-8 byte order mark: save it without one\n" },
	{ "user = slb\n[global]\n",
	  "slb.ini:1: user: key outside any section (a [section] header must come first)\n" },
	{ G " = x\n", "slb.ini:2: syntax error: no key name before '='\n" },
	/* section names */
	{ "[group Web!]\n",
	  "slb.ini:1: [group web!]: 'web!' is not a valid name (1..31 characters of a-z, 0-9, "
	  "'_', '.', '-')\n" },
	{ "[group abcdefghijklmnopqrstuvwxyz012345]\n",
	  "slb.ini:1: [group abcdefghijklmnopqrstuvwxyz012345]: "
	  "'abcdefghijklmnopqrstuvwxyz012345' is not a valid name (1..31 characters of a-z, 0-9, "
	  "'_', '.', '-')\n" },
	{ "[listener]\n", "slb.ini:1: [listener]: needs a name: [listener NAME]\n" },
	{ "[global main]\n", "slb.ini:1: [global main]: [global] takes no name\n" },
	/* `slbctl sessions flush` could never list a listener "flush"'s sessions */
	{ "[listener flush]\nprotocol = tcp\nbind = 198.18.0.1:80\n" G,
	  "slb.ini:1: [listener flush]: 'flush' cannot name a listener: 'slbctl sessions flush' "
	  "is the command to flush persistence sessions, so this listener could not be named "
	  "there; choose another name\n" },
	/* slbctl reads a word starting with '-' as an option: "--json" anywhere */
	{ "[listener --json]\nprotocol = tcp\nbind = 198.18.0.1:80\n" G,
	  "slb.ini:1: [listener --json]: '--json' is not a valid name: it may not start with "
	  "'-', which slbctl reads as an option\n" },
	{ "[group -web]\n",
	  "slb.ini:1: [group -web]: '-web' is not a valid name: it may not start with '-', "
	  "which slbctl reads as an option\n" },
	{ G "server.--json = 198.18.0.1:80\n",
	  "slb.ini:2: [group default] server.--json: '--json' is not a valid name: it may not "
	  "start with '-', which slbctl reads as an option\n" },
	/* features not built yet */
	{ "[failover]                  ; absent = standalone: this node simply holds its VIPs\n"
	  "interface = eth0\npriority = 255            ; 1..254\n" "[vip v]\naddress = 198.18.0.100/24\ninterface = eth0\n",
	  "slb.ini:1: [failover] vrid: missing\n"
	  "slb.ini:3: [failover] priority: '255' is out of range (1..254)\n" },
	{ "[failover]\ninterface = eth0\nvrid = 51\npeers = 10.0.0.1, 10.0.0.300\n" "[vip v]\naddress = 198.18.0.100/24\ninterface = eth0\n",
	  "slb.ini:4: [failover] peers: '10.0.0.300' is not an IPv4 address\n" },
	{ "[failover]\npeers = 10.0.0.1,,10.0.0.2\ntrack_group = web\nvrid = 256\n" "[vip v]\naddress = 198.18.0.100/24\ninterface = eth0\n",
	  "slb.ini:1: [failover] interface: missing\n"
	  "slb.ini:2: [failover] peers: empty item in the list '10.0.0.1,,10.0.0.2'\n"
	  "slb.ini:3: [failover] track_group: no [group web]\n"
	  "slb.ini:4: [failover] vrid: '256' is out of range (1..255)\n" },
	{ "[failover]\ninterface = eth0\nvrid = 1\n[vip v6]\naddress = 2001:db8::1/64\ninterface = eth0\n",
	  "slb.ini:1: [failover]: needs at least one IPv4 [vip] to advertise\n" },
	{ "[failover]\ninterface = eth0\nvrid = 1\npeers = 10.0.0.1:7801\n" "[vip v]\naddress = 198.18.0.100/24\ninterface = eth0\n",
	  "slb.ini:4: [failover] peers: '10.0.0.1:7801' is not an IPv4 address\n" },
	/* udp refuses what it cannot honour */
	{ "[listener dns]\nprotocol = udp\nbind = 198.18.0.1:53\nx_forwarded_for = no\n"
	  "connect_timeout = 1s\nkeepalive_timeout = 5s\ncookie = SID\n" G,
	  "slb.ini:4: [listener dns] x_forwarded_for: only applies to http and https, not udp\n"
	  "slb.ini:5: [listener dns] connect_timeout: does not apply to udp (datagrams need no "
	  "connection; idle_timeout ends a flow)\n"
	  "slb.ini:6: [listener dns] keepalive_timeout: only applies to http and https, not udp\n"
	  "slb.ini:7: [listener dns] cookie: only applies to http and https, not udp\n" },
	{ "[listener dns]\nprotocol = udp\nbind = 198.18.0.1:53\nproxy_protocol = v1\n" G,
	  "slb.ini:4: [listener dns] proxy_protocol: only applies to protocol = tcp, not udp\n" },
	/* http and https speak to servers in HTTP: no PROXY header there. */
	{ "[listener web]\nprotocol = http\nbind = 198.18.0.1:80\nproxy_protocol = v1\n" G,
	  "slb.ini:4: [listener web] proxy_protocol: only applies to protocol = tcp, not http\n" },
	{ "[listener web]\nprotocol = https\nbind = 198.18.0.1:443\ntls_cert = /nonexistent.pem\n"
	  "tls_key = /nonexistent.key\nproxy_protocol = v2\n" G,
	  "slb.ini:6: [listener web] proxy_protocol: only applies to protocol = tcp, not https\n" },
	{ L "proxy_protocol = v3\n" G,
	  "slb.ini:4: [listener web80] proxy_protocol: unknown value 'v3' (expected none, v1, v2)\n" },
	/* The sync port: in range, and not a port every address already listens on. */
	{ "[failover]\ninterface = eth0\nvrid = 1\nsync_port = 0\n" "[vip v]\naddress = 198.18.0.100/24\ninterface = eth0\n",
	  "slb.ini:4: [failover] sync_port: '0' is out of range (1..65535)\n" },
	{ "[failover]\ninterface = eth0\nvrid = 1\nsync_port = 8080\n" "[vip v]\naddress = 198.18.0.100/24\ninterface = eth0\n"
	  "[listener any]\nprotocol = tcp\nbind = 0.0.0.0:8080\n" G,
	  "slb.ini:4: [failover] sync_port: 8080 is also the port of [listener any], bound to every address\n" },
	{ "[global]\nmetrics = [::]:7801\n[failover]\ninterface = eth0\nvrid = 1\n" "[vip v]\naddress = 198.18.0.100/24\ninterface = eth0\n",
	  "slb.ini:3: [failover] sync_port: 7801 is also the port of [global] metrics, bound to every address\n" },
	{ L "persistence = cookie_insert\ncookie = SLBID\n" G,
	  "slb.ini:4: [listener web80] persistence: 'cookie_insert' only applies to http and "
	  "https, not tcp\n" },
	{ L "gzip = yes\n" G,
	  "slb.ini:4: [listener web80] gzip: only applies to http and https, not tcp\n" },
	/* cookie persistence: rewrite needs the server's cookie name; names are tokens */
	{ "[listener web80]\nprotocol = http\nbind = 198.18.0.1:80\npersistence = cookie_rewrite\n"
	  G,
	  "slb.ini:1: [listener web80] cookie: missing (persistence = cookie_rewrite needs the name "
	  "of the server's cookie)\n" },
	{ "[listener web80]\nprotocol = http\nbind = 198.18.0.1:80\npersistence = cookie_insert\n"
	  "cookie = a,b\n" G,
	  "slb.ini:5: [listener web80] cookie: 'a,b' is not a cookie name (letters, digits and "
	  "!#$%&'*+-.^_`|~, at most 63)\n" },
	{ L "tls_cert = /etc/slb/site.pem\n" G,
	  "slb.ini:4: [listener web80] tls_cert: only applies to protocol = https, not tcp\n" },
	{ L "websocket = yes\n" G,
	  "slb.ini:4: [listener web80] websocket: only applies to http and https, not tcp\n" },
	{ L G "server_tls = yes\n",
	  "slb.ini:1: [listener web80] group: a group with server_tls = yes serves http and https "
	  "listeners only, not tcp\n" },
	{ "[group default]\nserver_tls_ca = /etc/slb/ca.pem\n",
	  "slb.ini:2: [group default] server_tls_ca: only applies with server_tls = yes or check = "
	  "https\n"
	  "slb.ini:2: [group default] server_tls_ca: needs check_host: the name the servers' "
	  "certificates must carry\n" },
	{ L "redirect_https = yes\n" G,
	  "slb.ini:4: [listener web80] redirect_https: only applies to protocol = http, not tcp\n" },
	/* http and https checks: a path and a host that fit in a request line */
	{ "[group default]\ncheck = http\ncheck_path = /a b\ncheck_host = a/b\n",
	  "slb.ini:3: [group default] check_path: '/a b' is not a request path (printable ASCII, "
	  "no spaces, no '#')\n"
	  "slb.ini:4: [group default] check_host: 'a/b' is not a host name\n" },

	/* rules */
	{ "[listener web80]\nprotocol = http\nbind = 198.18.0.1:80\n"
	  "rule.a = host=x path=v1 group=default\nrule.b = host=x\nrule.c = group=nope path=/\n"
	  G,
	  "slb.ini:4: [listener web80] rule.a: 'path=v1': the path must start with '/'\n"
	  "slb.ini:5: [listener web80] rule.b: needs group=GROUP\n"
	  "slb.ini:6: [listener web80] rule.c: no [group nope]\n" },
	/* every error, in file order, from every pass */
	{ "[listener a]\nprotocol = tcp\nbind = 198.18.0.1:80\ngroup = nope\n"
	  "[group web]\ncheck_interval = 1\nbogus = 1\n[vip v]\n",
	  "slb.ini:4: [listener a] group: no [group nope]\n"
	  "slb.ini:6: [group web] check_interval: '1' needs a unit (ms, s, m, h)\n"
	  "slb.ini:7: [group web] bogus: unknown key\n"
	  "slb.ini:8: [vip v] address: missing\n"
	  "slb.ini:8: [vip v] interface: missing\n" },
};

static void test_invalid_files(void **state)
{
	unsigned i, failed = 0;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char *errors = NULL;
		struct slb_config *c = load_text(bad_cases[i].text, &errors);

		if (c || strcmp(errors, bad_cases[i].errors) != 0) {
			print_error("case %u (%s):\n--- file\n%s--- expected\n%s--- got\n%s\n", i,
				    c ? "accepted" : "rejected", bad_cases[i].text,
				    bad_cases[i].errors, errors);
			failed++;
		}
		slb_config_free(c);
		free(errors);
	}
	assert_int_equal(failed, 0);
}

/* Bytes that cannot be written in a C string table. */
static void test_invalid_bytes(void **state)
{
	static const char nul[] = "[group default]\nserver.a = 198.18.0.1:80\0 weight=5\n";
	char long_line[2048], *errors = NULL;
	struct slb_config *c;

	(void)state;
	c = load_bytes(nul, sizeof(nul) - 1, &errors);
	assert_null(c);
	assert_string_equal(errors, "slb.ini:2: the line holds a NUL byte\n");
	free(errors);

	snprintf(long_line, sizeof(long_line), "[group default]\ncheck_host = %01100d\n", 0);
	c = load_text(long_line, &errors);
	assert_null(c);
	assert_string_equal(errors, "slb.ini:2: the line is longer than 1000 characters\n");
	free(errors);
}

/* A file of garbage: the first errors, then how many more there were. */
static void test_many_errors(void **state)
{
	char *text, *errors = NULL, *last;
	struct slb_config *c;
	size_t size;
	FILE *f;
	int i;

	(void)state;
	f = open_memstream(&text, &size);
	for (i = 0; i < 150; i++)
		fputs("garbage\n", f);
	fclose(f);
	c = load_text(text, &errors);
	assert_null(c);
	last = strrchr(errors, '\n');
	*last = '\0';
	last = strrchr(errors, '\n');
	assert_string_equal(last + 1, "slb.ini:0: 50 more errors not shown");
	assert_non_null(strstr(errors, "slb.ini:100: syntax error: 'garbage'"));
	assert_null(strstr(errors, "slb.ini:101:"));
	free(errors);
	free(text);
}

static void test_missing_file(void **state)
{
	char *errors = NULL;
	size_t size;
	FILE *err;

	(void)state;
	err = open_memstream(&errors, &size);
	assert_null(slb_config_load("/nonexistent/slb.ini", err));
	fclose(err);
	assert_string_equal(errors, "/nonexistent/slb.ini:0: cannot open: No such file or directory\n");
	free(errors);
}

/* The daemons load from a sealed memfd, whatever its file offset. */
static void test_load_memfd(void **state)
{
	static const char text[] = MINIMAL_LISTENER "server.a = 198.18.0.1:8080\n";
	struct slb_config *c;
	char *errors = NULL;
	size_t size;
	FILE *err;
	int fd;

	(void)state;
	fd = memfd_create("slb-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	write_all(fd, text, sizeof(text) - 1);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK), 0);
	err = open_memstream(&errors, &size);
	c = slb_config_load_fd(fd, "memfd:slb.ini", err);
	fclose(err);
	assert_non_null(c);
	assert_string_equal(errors, "");
	assert_string_equal(c->path, "memfd:slb.ini");
	assert_int_equal(c->groups[0].nservers, 1);
	slb_config_free(c);
	free(errors);

	/* The same fd again, bad this time: messages carry the display name. */
	close(fd);
	fd = memfd_create("slb-config", MFD_CLOEXEC);
	write_all(fd, "[group x]\ncheck = tcpp\n", 23);
	err = open_memstream(&errors, &size);
	assert_null(slb_config_load_fd(fd, "memfd:slb.ini", err));
	fclose(err);
	assert_string_equal(errors, "memfd:slb.ini:2: [group x] check: unknown value 'tcpp' "
				    "(expected none, tcp, http, https, udp)\n");
	free(errors);
	close(fd);
}

/*
 * slb.ini with run-time changes applied may leave a primary_secondary group
 * short of a server; slb.ini as written may not.
 */
static void test_load_changed(void **state)
{
	static const char text[] = "[group x]\ncheck = tcp\n";
	struct slb_config *c;
	char *errors = NULL;
	size_t size;
	FILE *err;
	int fd;

	(void)state;
	fd = memfd_create("slb-config", MFD_CLOEXEC);
	assert_true(fd >= 0);
	write_all(fd, partial_primary_secondary_file, sizeof(partial_primary_secondary_file) - 1);
	err = open_memstream(&errors, &size);
	c = slb_config_load_changed_fd(fd, "memfd:slb.ini", err);
	fclose(err);
	assert_string_equal(errors, "");
	assert_non_null(c);
	check_partial_primary_secondary(c);
	slb_config_free(c);
	free(errors);

	err = open_memstream(&errors, &size);
	assert_null(slb_config_load_fd(fd, "memfd:slb.ini", err));
	fclose(err);
	assert_string_equal(errors,
			    "memfd:slb.ini:6: [group solo] type: primary_secondary needs two servers "
			    "(one primary, one secondary), not 1\n"
			    "memfd:slb.ini:9: [group none] type: primary_secondary needs two servers "
			    "(one primary, one secondary), not 0\n");
	free(errors);
	close(fd);

	/* Everything else is checked alike. */
	fd = memfd_create("slb-config", MFD_CLOEXEC);
	write_all(fd, text, sizeof(text) - 1);
	write_all(fd, "check_interval = 0s\n", 19);
	err = open_memstream(&errors, &size);
	assert_null(slb_config_load_changed_fd(fd, "memfd:slb.ini", err));
	fclose(err);
	assert_non_null(strstr(errors, "check_interval"));
	free(errors);
	close(fd);
}

/*
 * The loader blanks a comment after a section header in its own copy: the
 * caller's fd, writable here, keeps its bytes and its offset.
 */
static void test_load_leaves_fd(void **state)
{
	static const char text[] = MINIMAL_LISTENER "[node] ; this box\n";
	char back[sizeof(text)], *errors = NULL;
	struct slb_config *c;
	size_t size;
	FILE *err;
	int fd;

	(void)state;
	fd = memfd_create("slb-config", MFD_CLOEXEC);
	assert_true(fd >= 0);
	write_all(fd, text, sizeof(text) - 1);
	assert_int_equal(lseek(fd, 7, SEEK_SET), 7);
	err = open_memstream(&errors, &size);
	c = slb_config_load_fd(fd, "memfd:slb.ini", err);
	fclose(err);
	assert_string_equal(errors, "");
	assert_non_null(c);
	slb_config_free(c);
	free(errors);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 7);
	assert_int_equal(pread(fd, back, sizeof(back), 0), sizeof(text) - 1);
	assert_memory_equal(back, text, sizeof(text) - 1);
	close(fd);
}

/* iniparser must never write to stderr on its own. */
static void test_quiet_stderr(void **state)
{
	char path[] = "/tmp/slb-test-stderr-XXXXXX", *errors = NULL;
	int fd = mkstemp(path), saved = dup(2);
	struct slb_config *c;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	c = load_text(MINIMAL_LISTENER, &errors);
	slb_config_free(c);
	free(errors);
	assert_null(load_text("[group\nno equals sign\n", &errors));
	free(errors);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(lseek(fd, 0, SEEK_END), 0);
	close(fd);
	unlink(path);
}

/* ---- config_values.c ---- */

static void test_values(void **state)
{
	char err[SLB_VALUE_ERRLEN], buf[16];
	struct slb_suggest sg;
	uint32_t ms = 7;
	uint64_t size;
	unsigned u;
	bool b;

	(void)state;
	assert_int_equal(slb_value_duration("250ms", 0, UINT32_MAX, &ms, err), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(slb_value_duration("5m", 0, UINT32_MAX, &ms, err), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(slb_value_duration("1h", 0, UINT32_MAX, &ms, err), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(slb_value_duration("2000h", 0, UINT32_MAX, &ms, err), -1);
	assert_int_equal(slb_value_duration("", 0, UINT32_MAX, &ms, err), -1);
	assert_int_equal(slb_value_duration("-1s", 0, UINT32_MAX, &ms, err), -1);
	assert_int_equal(slb_value_duration("1 s", 0, UINT32_MAX, &ms, err), -1);
	assert_int_equal(ms, 3600000);
	/* '-' inside a name, not first: slbctl would take "-web" as an option */
	assert_int_equal(slb_value_name("web-1.a_b", err), 0);
	assert_int_equal(slb_value_name("-web", err), -1);
	assert_int_equal(slb_value_name("--json", err), -1);
	slb_value_format_duration(90000, buf, sizeof(buf));
	assert_string_equal(buf, "90s");
	slb_value_format_duration(7200000, buf, sizeof(buf));
	assert_string_equal(buf, "2h");
	slb_value_format_duration(1500, buf, sizeof(buf));
	assert_string_equal(buf, "1500ms");

	assert_int_equal(slb_value_size("1m", 0, UINT64_MAX, &size, err), 0);
	assert_int_equal(size, 1048576);
	assert_int_equal(slb_value_size("3K", 0, UINT64_MAX, &size, err), 0);
	assert_int_equal(size, 3072);
	assert_int_equal(slb_value_size("1km", 0, UINT64_MAX, &size, err), -1);
	assert_int_equal(slb_value_size("99999999999999999999", 0, UINT64_MAX, &size, err), -1);

	assert_int_equal(slb_value_bool("On", &b, err), 0);
	assert_true(b);
	assert_int_equal(slb_value_bool("0", &b, err), 0);
	assert_false(b);
	assert_int_equal(slb_value_bool("2", &b, err), -1);

	assert_int_equal(slb_value_uint("65535", 1, 65535, &u, err), 0);
	assert_int_equal(u, 65535);
	assert_int_equal(slb_value_uint("+1", 0, 10, &u, err), -1);
	assert_string_equal(err, "'+1' is not a number");
	assert_int_equal(slb_value_uint("0x10", 0, 100, &u, err), -1);

	assert_int_equal(slb_value_distance("scheduler", "schedular"), 1);
	assert_int_equal(slb_value_distance("", "abc"), 3);
	assert_int_equal(slb_value_distance("kitten", "sitting"), 3);
	slb_suggest_init(&sg, "chek");
	slb_suggest_offer(&sg, "check_port");
	slb_suggest_offer(&sg, "check");
	assert_string_equal(slb_suggest_result(&sg), "check");
	slb_suggest_init(&sg, "zz");
	slb_suggest_offer(&sg, "rr");
	assert_null(slb_suggest_result(&sg));
}

/* Cookie names (and any header-name-like value) are RFC 9110 tokens. */
static void test_tokens(void **state)
{
	(void)state;
	assert_true(slb_value_token("SLBID", 63));
	assert_true(slb_value_token("__Host-x", 63));
	assert_false(slb_value_token("", 63));
	assert_false(slb_value_token("abc", 2));
	assert_false(slb_value_token("a=b", 63));
	assert_false(slb_value_token("a;b", 63));
	assert_false(slb_value_token("a b", 63));
	assert_false(slb_value_token("a\"b", 63));
	assert_false(slb_value_token("\xc3\xa9", 63));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_valid_files),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_groups_file),
		cmocka_unit_test(test_failover_section),
		cmocka_unit_test(test_shipped_file),
		cmocka_unit_test(test_invalid_files),
		cmocka_unit_test(test_invalid_bytes),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_load_memfd),
		cmocka_unit_test(test_load_changed),
		cmocka_unit_test(test_poll_coalesce_units),
		cmocka_unit_test(test_load_leaves_fd),
		cmocka_unit_test(test_quiet_stderr),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
