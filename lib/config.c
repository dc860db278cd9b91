/*
 * config.c - slb.ini into struct slb_config: the schema tables, the passes
 * of a load, the cross-checks, and the gate for features not built yet.
 *
 * A load finds every error of the file in one go:
 *   0. read the bytes once; config_scan.c checks lines, repeats and syntax;
 *      only a clean file is handed to iniparser, which reads the same bytes
 *      (through /proc/self/fd) and gives back the values;
 *   1. layout: section types and names, arrays sized, group names known so
 *      that any key can resolve a group reference at once;
 *   2. keys: the table's defaults, then every key of the file;
 *   3. whole-file checks: derived defaults, cross-references, features not
 *      built yet.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/un.h>

#include <iniparser.h>

#include "config_scan.h"
#include "config_values.h"

#define CONFIG_MAX_BYTES (4u << 20)
#define MAX_TLS_CERTS (sizeof(((struct slb_listener_conf *)0)->tls_certs) / \
		       sizeof(struct slb_tls_cert_conf))

/* Enumerations are stored through an int (see set_value()). */
_Static_assert(sizeof(enum slb_protocol) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_scheduler) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_persistence) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_check_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_zone) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_proxy_protocol) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_group_type) == sizeof(int), "enum size");

enum section_kind { S_GLOBAL, S_NODE, S_FAILOVER, S_VIP, S_LISTENER, S_GROUP, S_NKINDS };

struct loader {
	struct slb_config *config;
	struct slb_scan scan;
	struct slb_scan_errors errors;
	dictionary *dict;
	int *kinds; /* per scan section: its enum section_kind, -1 when skipped */
	void **objects; /* per scan section: the struct its keys fill */
	unsigned total_servers;
};

/* ---- value tables ---- */

static const struct slb_value_word protocol_names[] = {
	{ "tcp", SLB_PROTO_TCP }, { "udp", SLB_PROTO_UDP },
	{ "http", SLB_PROTO_HTTP }, { "https", SLB_PROTO_HTTPS }, { NULL, 0 },
};
static const struct slb_value_word scheduler_names[] = {
	{ "rr", SLB_SCHED_RR }, { "wrr", SLB_SCHED_WRR }, { "wlc", SLB_SCHED_WLC },
	{ "sh", SLB_SCHED_SH }, { "ch", SLB_SCHED_CH }, { NULL, 0 },
};
static const struct slb_value_word persistence_names[] = {
	{ "none", SLB_PERSIST_NONE }, { "source_ip", SLB_PERSIST_SOURCE_IP },
	{ "cookie_insert", SLB_PERSIST_COOKIE_INSERT },
	{ "cookie_rewrite", SLB_PERSIST_COOKIE_REWRITE }, { NULL, 0 },
};
static const struct slb_value_word check_names[] = {
	{ "none", SLB_CHECK_NONE }, { "tcp", SLB_CHECK_TCP }, { "http", SLB_CHECK_HTTP },
	{ "https", SLB_CHECK_HTTPS }, { "udp", SLB_CHECK_UDP }, { NULL, 0 },
};
static const struct slb_value_word zone_names[] = {
	{ "primary", SLB_ZONE_PRIMARY }, { "backup", SLB_ZONE_BACKUP }, { NULL, 0 },
};
static const struct slb_value_word proxy_protocol_names[] = {
	{ "none", SLB_PROXY_PROTOCOL_NONE }, { "v1", SLB_PROXY_PROTOCOL_V1 },
	{ "v2", SLB_PROXY_PROTOCOL_V2 }, { NULL, 0 },
};
static const struct slb_value_word group_type_names[] = {
	{ "normal", SLB_GROUP_NORMAL }, { "primary_secondary", SLB_GROUP_PRIMARY_SECONDARY },
	{ NULL, 0 },
};
static const struct slb_value_word log_level_names[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "info", LOG_INFO },
	{ "debug", LOG_DEBUG }, { NULL, 0 },
};

static const char *name_of(const struct slb_value_word *table, int value)
{
	for (; table->name; table++)
		if (table->value == value)
			return table->name;
	return "?";
}

/* ---- small parsers the tables point to ---- */

static int parse_group_ref(const struct loader *ld, const char *value, int *out, char *err)
{
	int i = slb_config_group_index(ld->config, value);

	if (i < 0) {
		snprintf(err, SLB_VALUE_ERRLEN, "no [group %s]", value);
		return -1;
	}
	*out = i;
	return 0;
}

static int parse_workers(void *obj, const char *value, char *err)
{
	struct slb_global_conf *g = obj;
	long cpus;

	if (strcmp(value, "auto") != 0) {
		if (slb_value_uint(value, 1, SLB_MAX_WORKERS, &g->workers, err) == 0)
			return 0;
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' is neither auto nor a number 1..%d", value,
			 SLB_MAX_WORKERS);
		return -1;
	}
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	g->workers = cpus < 1 ? 1 : cpus > SLB_MAX_WORKERS ? SLB_MAX_WORKERS : (unsigned)cpus;
	return 0;
}

static int parse_metrics(void *obj, const char *value, char *err)
{
	struct slb_global_conf *g = obj;

	g->metrics_enabled = *value != '\0';
	if (!g->metrics_enabled) {
		memset(&g->metrics, 0, sizeof(g->metrics));
		return 0;
	}
	return slb_value_sockaddr(value, &g->metrics, err);
}

static int parse_log(void *obj, const char *value, char *err)
{
	struct slb_global_conf *g = obj;

	g->log_file[0] = '\0';
	if (strcmp(value, "syslog") == 0) {
		g->log = SLB_LOG_SYSLOG;
	} else if (strcmp(value, "stderr") == 0) {
		g->log = SLB_LOG_STDERR;
	} else if (value[0] == '/' && strlen(value) < sizeof(g->log_file)) {
		g->log = SLB_LOG_FILE;
		snprintf(g->log_file, sizeof(g->log_file), "%s", value);
	} else {
		snprintf(err, SLB_VALUE_ERRLEN,
			 "'%s' is not syslog, stderr or an absolute path to a file", value);
		return -1;
	}
	return 0;
}

static int parse_peers(void *obj, const char *value, char *err)
{
	struct slb_failover_conf *f = obj;

	return slb_value_ipv4_list(value, f->peers, SLB_MAX_PEERS, &f->npeers, err);
}

static int parse_acl_allow(void *obj, const char *value, char *err)
{
	struct slb_listener_conf *l = obj;

	return slb_value_cidr_list(value, l->acl_allow, SLB_MAX_ACL, &l->nacl_allow, err);
}

static int parse_acl_deny(void *obj, const char *value, char *err)
{
	struct slb_listener_conf *l = obj;

	return slb_value_cidr_list(value, l->acl_deny, SLB_MAX_ACL, &l->nacl_deny, err);
}

static int parse_check_codes(void *obj, const char *value, char *err)
{
	struct slb_group_conf *g = obj;

	return slb_value_status_classes(value, &g->check_codes, err);
}

static int add_tls_cert(struct slb_listener_conf *l, const char *name, const char *path,
			char *err)
{
	struct slb_tls_cert_conf *c;

	if (l->ntls_certs == MAX_TLS_CERTS) {
		snprintf(err, SLB_VALUE_ERRLEN, "more than %zu certificates", MAX_TLS_CERTS);
		return -1;
	}
	c = &l->tls_certs[l->ntls_certs];
	if (path[0] != '/' || strlen(path) >= sizeof(c->path)) {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' is not an absolute path", path);
		return -1;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->path, sizeof(c->path), "%s", path);
	l->ntls_certs++;
	return 0;
}

static int parse_tls_cert(void *obj, const char *value, char *err)
{
	return add_tls_cert(obj, "", value, err);
}

/* ---- dynamic keys: server.NAME, rule.NAME, tls_cert.NAME ---- */

static int parse_server(struct loader *ld, void *obj, const char *name, const char *value,
			int line, char *err)
{
	struct slb_group_conf *g = obj;
	struct slb_server_conf s = { .line = line };
	unsigned i;

	snprintf(s.name, sizeof(s.name), "%s", name);
	if (slb_value_server(value, &s, err) == -1)
		return -1;
	for (i = 0; i < g->nservers; i++) {
		if (slb_sockaddr_equal(&g->servers[i].addr, &s.addr)) {
			snprintf(err, SLB_VALUE_ERRLEN, "same address as server.%s (line %d)",
				 g->servers[i].name, g->servers[i].line);
			return -1;
		}
	}
	if (g->nservers == SLB_MAX_SERVERS_PER_GROUP) {
		snprintf(err, SLB_VALUE_ERRLEN, "more than %d servers in one group",
			 SLB_MAX_SERVERS_PER_GROUP);
		return -1;
	}
	if (ld->total_servers == SLB_MAX_SERVERS) {
		snprintf(err, SLB_VALUE_ERRLEN, "more than %d servers over all groups",
			 SLB_MAX_SERVERS);
		return -1;
	}
	/* layout() sized the array to the group's server.* keys. */
	g->servers[g->nservers++] = s;
	ld->total_servers++;
	return 0;
}

static int parse_rule(struct loader *ld, void *obj, const char *name, const char *value,
		      int line, char *err)
{
	struct slb_listener_conf *l = obj;
	struct slb_rule_conf r = { .line = line };
	char group[SLB_NAME_MAX];

	snprintf(r.name, sizeof(r.name), "%s", name);
	if (slb_value_rule(value, &r, group, err) == -1 ||
	    parse_group_ref(ld, group, &r.group, err) == -1)
		return -1;
	if (l->nrules == SLB_MAX_RULES) {
		snprintf(err, SLB_VALUE_ERRLEN, "more than %d rules", SLB_MAX_RULES);
		return -1;
	}
	l->rules[l->nrules++] = r;
	return 0;
}

static int parse_named_tls_cert(struct loader *ld, void *obj, const char *name,
				const char *value, int line, char *err)
{
	(void)ld;
	(void)line;
	return add_tls_cert(obj, name, value, err);
}

/* ---- schema tables ---- */

enum key_kind {
	K_TEXT, /* a string; .max = longest length (default: the field's size - 1) */
	K_NAME, /* a name as slb_value_name() allows */
	K_UINT,
	K_DURATION, /* milliseconds in a uint32_t */
	K_SIZE, /* in a uint32_t */
	K_BOOL,
	K_ENUM, /* .names */
	K_SOCKADDR,
	K_CIDR,
	K_GROUP, /* index of a group, an int */
	K_SPECIAL, /* .parse */
};

#define F_REQUIRED 1u
#define F_EMPTY_OK 2u /* "key =" is a value (off, none) */
#define F_SLASH 4u /* must start with '/' (a path) */

struct key_def {
	const char *name;
	enum key_kind kind;
	size_t offset, size;
	uint64_t min, max;
	const struct slb_value_word *names;
	int (*parse)(void *obj, const char *value, char *err);
	const char *def; /* the default, written as in the file; NULL = none */
	unsigned flags;
};

struct dynamic_def {
	const char *prefix; /* the key is "prefix.NAME" */
	int (*parse)(struct loader *ld, void *obj, const char *name, const char *value, int line,
		     char *err);
};

#define AT(type, f) .offset = offsetof(type, f), .size = sizeof(((type *)0)->f)
#define SEC(n) ((n) * 1000)
#define HOUR(n) ((n) * 60 * 60 * 1000)

#define GL(f) AT(struct slb_global_conf, f)
static const struct key_def global_keys[] = {
	{ "instance", K_NAME, GL(instance), .def = "slb" },
	{ "workers", K_SPECIAL, GL(workers), .parse = parse_workers, .def = "auto" },
	{ "user", K_TEXT, GL(user), .def = "slb" },
	/* Default derived from instance in finish_global(). */
	{ "control_socket", K_TEXT, GL(control_socket),
	  .max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1, .flags = F_SLASH },
	{ "pid_file", K_TEXT, GL(pid_file), .flags = F_SLASH },
	{ "metrics", K_SPECIAL, GL(metrics), .parse = parse_metrics, .def = "127.0.0.1:9180",
	  .flags = F_EMPTY_OK },
	{ "log", K_SPECIAL, GL(log), .parse = parse_log, .def = "syslog" },
	{ "log_level", K_ENUM, GL(log_level), .names = log_level_names, .def = "info" },
	{ "session_table_size", K_SIZE, GL(session_table_size), .min = 1024,
	  .max = 64 * 1024 * 1024, .def = "1048576" },
	{ "drain_timeout", K_DURATION, GL(drain_timeout_ms), .max = HOUR(1), .def = "30s" },
	{ .name = NULL },
};

#define ND(f) AT(struct slb_node_conf, f)
static const struct key_def node_keys[] = {
	/* Default: the host name, in finish_node(). */
	{ "name", K_TEXT, ND(name) },
	{ "zone", K_ENUM, ND(zone), .names = zone_names, .def = "primary" },
	{ .name = NULL },
};

#define FO(f) AT(struct slb_failover_conf, f)
static const struct key_def failover_keys[] = {
	{ "interface", K_TEXT, FO(interface), .flags = F_REQUIRED },
	{ "vrid", K_UINT, FO(vrid), .min = 1, .max = 255, .flags = F_REQUIRED },
	{ "priority", K_UINT, FO(priority), .min = 1, .max = 254, .def = "100" },
	{ "advert_interval", K_DURATION, FO(advert_interval_ms), .min = 10, .max = SEC(40),
	  .def = "1s" },
	{ "peers", K_SPECIAL, FO(peers), .parse = parse_peers, .def = "", .flags = F_EMPTY_OK },
	{ "preempt", K_BOOL, FO(preempt), .def = "yes" },
	{ "preempt_delay", K_DURATION, FO(preempt_delay_ms), .max = HOUR(1), .def = "0s" },
	{ "auth_key_file", K_TEXT, FO(auth_key_file), .def = "", .flags = F_EMPTY_OK | F_SLASH },
	{ "sync", K_BOOL, FO(sync), .def = "yes" },
	{ "sync_port", K_UINT, FO(sync_port), .min = 1, .max = 65535, .def = "7801" },
	{ "track_group", K_GROUP, FO(track_group) },
	{ "track_weight", K_UINT, FO(track_weight), .min = 1, .max = 253, .def = "50" },
	{ .name = NULL },
};

#define VP(f) AT(struct slb_vip_conf, f)
static const struct key_def vip_keys[] = {
	{ "address", K_CIDR, VP(address), .flags = F_REQUIRED },
	{ "interface", K_TEXT, VP(interface), .flags = F_REQUIRED },
	{ .name = NULL },
};

#define LI(f) AT(struct slb_listener_conf, f)
static const struct key_def listener_keys[] = {
	{ "protocol", K_ENUM, LI(protocol), .names = protocol_names, .flags = F_REQUIRED },
	{ "bind", K_SOCKADDR, LI(bind), .flags = F_REQUIRED },
	/* Absent: the group named "default", resolved in check_listener(). */
	{ "group", K_GROUP, LI(group) },
	{ "scheduler", K_ENUM, LI(scheduler), .names = scheduler_names, .def = "wrr" },
	{ "persistence", K_ENUM, LI(persistence), .names = persistence_names, .def = "none" },
	{ "persistence_timeout", K_DURATION, LI(persistence_timeout_ms), .min = SEC(1),
	  .max = HOUR(24), .def = "1000s" },
	{ "cookie", K_TEXT, LI(cookie), .def = "", .flags = F_EMPTY_OK },
	{ "backup_group", K_GROUP, LI(backup_group) },
	{ "failover_threshold", K_UINT, LI(failover_threshold), .min = 1,
	  .max = SLB_MAX_SERVERS_PER_GROUP, .def = "1" },
	{ "x_forwarded_for", K_BOOL, LI(x_forwarded_for), .def = "yes" },
	{ "gzip", K_BOOL, LI(gzip), .def = "no" },
	{ "tls_cert", K_SPECIAL, LI(tls_certs), .parse = parse_tls_cert },
	{ "tls_key", K_TEXT, LI(tls_key), .flags = F_SLASH },
	{ "proxy_protocol", K_ENUM, LI(proxy_protocol), .names = proxy_protocol_names,
	  .def = "none" },
	{ "acl_allow", K_SPECIAL, LI(acl_allow), .parse = parse_acl_allow, .flags = F_EMPTY_OK },
	{ "acl_deny", K_SPECIAL, LI(acl_deny), .parse = parse_acl_deny, .flags = F_EMPTY_OK },
	{ "connect_timeout", K_DURATION, LI(connect_timeout_ms), .min = 10, .max = HOUR(24),
	  .def = "5s" },
	{ "idle_timeout", K_DURATION, LI(idle_timeout_ms), .min = 10, .max = HOUR(24),
	  .def = "60s" },
	{ "header_timeout", K_DURATION, LI(header_timeout_ms), .min = 10, .max = HOUR(24),
	  .def = "10s" },
	{ "body_timeout", K_DURATION, LI(body_timeout_ms), .min = 10, .max = HOUR(24),
	  .def = "10s" },
	{ "keepalive_timeout", K_DURATION, LI(keepalive_timeout_ms), .min = 10, .max = HOUR(24),
	  .def = "10s" },
	{ "server_timeout", K_DURATION, LI(server_timeout_ms), .min = 10, .max = HOUR(24),
	  .def = "60s" },
	{ "max_connections", K_UINT, LI(max_connections), .max = 10000000, .def = "0" },
	{ .name = NULL },
};

static const struct dynamic_def listener_dynamic[] = {
	{ "rule", parse_rule },
	{ "tls_cert", parse_named_tls_cert },
	{ NULL, NULL },
};

#define GR(f) AT(struct slb_group_conf, f)
static const struct key_def group_keys[] = {
	{ "type", K_ENUM, GR(type), .names = group_type_names, .def = "normal" },
	{ "check", K_ENUM, GR(check), .names = check_names, .def = "tcp" },
	{ "check_port", K_UINT, GR(check_port), .max = 65535, .def = "0" },
	{ "check_path", K_TEXT, GR(check_path), .def = "/", .flags = F_SLASH },
	{ "check_host", K_TEXT, GR(check_host), .def = "", .flags = F_EMPTY_OK },
	{ "check_codes", K_SPECIAL, GR(check_codes), .parse = parse_check_codes,
	  .def = "2xx,3xx" },
	{ "check_interval", K_DURATION, GR(check_interval_ms), .min = 100, .max = HOUR(1),
	  .def = "2s" },
	{ "check_timeout", K_DURATION, GR(check_timeout_ms), .min = 10, .max = HOUR(1),
	  .def = "1s" },
	{ "healthy_threshold", K_UINT, GR(healthy_threshold), .min = 1, .max = 10, .def = "3" },
	{ "unhealthy_threshold", K_UINT, GR(unhealthy_threshold), .min = 1, .max = 10,
	  .def = "3" },
	{ .name = NULL },
};

static const struct dynamic_def group_dynamic[] = {
	{ "server", parse_server },
	{ NULL, NULL },
};

static const struct section_type {
	const char *name;
	bool named; /* [TYPE NAME] rather than [TYPE] */
	const struct key_def *keys;
	const struct dynamic_def *dynamic; /* NULL: none */
} section_types[S_NKINDS] = {
	[S_GLOBAL] = { "global", false, global_keys, NULL },
	[S_NODE] = { "node", false, node_keys, NULL },
	[S_FAILOVER] = { "failover", false, failover_keys, NULL },
	[S_VIP] = { "vip", true, vip_keys, NULL },
	[S_LISTENER] = { "listener", true, listener_keys, listener_dynamic },
	[S_GROUP] = { "group", true, group_keys, group_dynamic },
};

/* ---- applying a value ---- */

static int set_text(char *field, const struct key_def *def, const char *value, char *err)
{
	size_t max = def->max ? def->max : def->size - 1;

	if (strlen(value) > max) {
		snprintf(err, SLB_VALUE_ERRLEN, "longer than %zu characters", max);
		return -1;
	}
	if ((def->flags & F_SLASH) && value[0] != '/' && value[0] != '\0') {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' must start with '/'", value);
		return -1;
	}
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

/* Parses <value> for <def> into the section struct <obj>; 0, or -1 with <err>. */
static int set_value(struct loader *ld, const struct key_def *def, void *obj, const char *value,
		     char *err)
{
	char *field = (char *)obj + def->offset;
	uint64_t size;
	int e;

	if (*value == '\0' && !(def->flags & F_EMPTY_OK)) {
		snprintf(err, SLB_VALUE_ERRLEN, "empty value");
		return -1;
	}
	switch (def->kind) {
	case K_TEXT:
		return set_text(field, def, value, err);
	case K_NAME:
		if (slb_value_name(value, err) == -1)
			return -1;
		return set_text(field, def, value, err);
	case K_UINT:
		return slb_value_uint(value, (unsigned)def->min, (unsigned)def->max,
				      (unsigned *)(void *)field, err);
	case K_DURATION:
		return slb_value_duration(value, (uint32_t)def->min, (uint32_t)def->max,
					  (uint32_t *)(void *)field, err);
	case K_SIZE:
		if (slb_value_size(value, def->min, def->max, &size, err) == -1)
			return -1;
		*(uint32_t *)(void *)field = (uint32_t)size;
		return 0;
	case K_BOOL:
		return slb_value_bool(value, (bool *)field, err);
	case K_ENUM:
		if (slb_value_enum(value, def->names, &e, err) == -1)
			return -1;
		memcpy(field, &e, sizeof(e));
		return 0;
	case K_SOCKADDR:
		return slb_value_sockaddr(value, (struct slb_sockaddr *)(void *)field, err);
	case K_CIDR:
		return slb_value_cidr(value, (struct slb_cidr *)(void *)field, err);
	case K_GROUP:
		return parse_group_ref(ld, value, (int *)(void *)field, err);
	case K_SPECIAL:
		return def->parse(obj, value, err);
	}
	return -1;
}

/* Writes every default of <keys> into <obj>; a bad default is a bug in the table. */
static void apply_defaults(struct loader *ld, const struct key_def *keys, void *obj)
{
	char err[SLB_VALUE_ERRLEN];

	for (; keys->name; keys++)
		if (keys->def && set_value(ld, keys, obj, keys->def, err) == -1)
			slb_scan_error(&ld->errors, 0, NULL, keys->name, "bad built-in default: %s",
				       err);
}

/* ---- pass 2: the keys of one section ---- */

static const char *value_of(const struct loader *ld, const struct slb_scan_section *sec,
			    const char *key)
{
	char entry[2 * SLB_SCAN_LINE_MAX + 2];
	const char *v;

	snprintf(entry, sizeof(entry), "%s:%s", sec->dict_name, key);
	v = iniparser_getstring(ld->dict, entry, NULL);
	return v ? v : "";
}

/* Reports an unknown key, with the closest spelling the section accepts. */
static void unknown_key(struct loader *ld, const struct slb_scan_section *sec,
			const struct section_type *type, const struct slb_scan_key *key)
{
	const char *dot = strchr(key->name, '.');
	const struct dynamic_def *d;
	const struct key_def *k;
	struct slb_suggest sg;
	const char *best;

	slb_suggest_init(&sg, key->name);
	for (k = type->keys; k->name; k++)
		slb_suggest_offer(&sg, k->name);
	for (d = type->dynamic; d && d->prefix; d++) {
		char candidate[SLB_SCAN_LINE_MAX + 64];

		/* "servr.web1" is close to "server.web1", not to "server.NAME". */
		snprintf(candidate, sizeof(candidate), "%s.%s", d->prefix, dot ? dot + 1 : "NAME");
		slb_suggest_offer(&sg, candidate);
	}
	best = slb_suggest_result(&sg);
	if (best)
		slb_scan_error(&ld->errors, key->line, sec->name, key->name,
			       "unknown key (did you mean '%s'?)", best);
	else
		slb_scan_error(&ld->errors, key->line, sec->name, key->name, "unknown key");
}

/* Returns true when <key> was a "prefix.NAME" key of <type> (handled, or reported). */
static bool dynamic_key(struct loader *ld, const struct slb_scan_section *sec,
			const struct section_type *type, void *obj, const struct slb_scan_key *key)
{
	const struct dynamic_def *d;
	char err[SLB_VALUE_ERRLEN];

	for (d = type->dynamic; d && d->prefix; d++) {
		size_t plen = strlen(d->prefix);
		const char *name;

		if (strcmp(key->name, d->prefix) == 0) {
			slb_scan_error(&ld->errors, key->line, sec->name, key->name,
				       "needs a name: %s.NAME", d->prefix);
			return true;
		}
		if (strncmp(key->name, d->prefix, plen) != 0 || key->name[plen] != '.')
			continue;
		name = key->name + plen + 1;
		if (slb_value_name(name, err) == -1 ||
		    d->parse(ld, obj, name, value_of(ld, sec, key->name), key->line, err) == -1)
			slb_scan_error(&ld->errors, key->line, sec->name, key->name, "%s", err);
		return true;
	}
	return false;
}

static void parse_section(struct loader *ld, const struct slb_scan_section *sec,
			  const struct section_type *type, void *obj)
{
	char err[SLB_VALUE_ERRLEN];
	const struct key_def *def;
	unsigned i;

	for (i = 0; i < sec->nkeys; i++) {
		const struct slb_scan_key *key = &sec->keys[i];

		for (def = type->keys; def->name; def++)
			if (strcmp(def->name, key->name) == 0)
				break;
		if (def->name) {
			if (set_value(ld, def, obj, value_of(ld, sec, key->name), err) == -1)
				slb_scan_error(&ld->errors, key->line, sec->name, key->name, "%s",
					       err);
		} else if (!dynamic_key(ld, sec, type, obj, key)) {
			unknown_key(ld, sec, type, key);
		}
	}
	for (def = type->keys; def->name; def++)
		if ((def->flags & F_REQUIRED) && !slb_scan_find_key(sec, def->name))
			slb_scan_error(&ld->errors, sec->line, sec->name, def->name, "missing");
}

/* ---- pass 1: layout ---- */

/* Returns the kind of <sec> ("TYPE" or "TYPE NAME"), or -1 when it is unusable (reported). */
static int classify(struct loader *ld, const struct slb_scan_section *sec)
{
	const char *space = strchr(sec->name, ' '), *name = space ? space + 1 : NULL;
	size_t tlen = space ? (size_t)(space - sec->name) : strlen(sec->name);
	char type[SLB_SCAN_LINE_MAX + 1], err[SLB_VALUE_ERRLEN];
	struct slb_suggest sg;
	int k;

	memcpy(type, sec->name, tlen);
	type[tlen] = '\0';
	for (k = 0; k < S_NKINDS; k++)
		if (strcmp(type, section_types[k].name) == 0)
			break;
	if (k == S_NKINDS) {
		slb_suggest_init(&sg, type);
		for (k = 0; k < S_NKINDS; k++)
			slb_suggest_offer(&sg, section_types[k].name);
		if (slb_suggest_result(&sg))
			slb_scan_error(&ld->errors, sec->line, sec->name, NULL,
				       "unknown section type '%s' (did you mean '%s'?)", type,
				       slb_suggest_result(&sg));
		else
			slb_scan_error(&ld->errors, sec->line, sec->name, NULL,
				       "unknown section type '%s' (expected global, node, failover, "
				       "vip, listener or group)", type);
		return -1;
	}
	if (section_types[k].named && !name) {
		slb_scan_error(&ld->errors, sec->line, sec->name, NULL, "needs a name: [%s NAME]",
			       type);
		return -1;
	}
	if (!section_types[k].named && name) {
		slb_scan_error(&ld->errors, sec->line, sec->name, NULL, "[%s] takes no name", type);
		return -1;
	}
	if (name && slb_value_name(name, err) == -1) {
		slb_scan_error(&ld->errors, sec->line, sec->name, NULL, "%s", err);
		return -1;
	}
	return k;
}

static unsigned count_servers(const struct slb_scan_section *sec)
{
	unsigned i, n = 0;

	for (i = 0; i < sec->nkeys; i++)
		n += strncmp(sec->keys[i].name, "server.", 7) == 0;
	return n;
}

/* Gives every usable section its struct; returns -1 when memory ran out. */
static int layout(struct loader *ld)
{
	static const unsigned limits[S_NKINDS] = {
		[S_GLOBAL] = 1, [S_NODE] = 1, [S_FAILOVER] = 1,
		[S_VIP] = SLB_MAX_VIPS, [S_LISTENER] = SLB_MAX_LISTENERS, [S_GROUP] = SLB_MAX_GROUPS,
	};
	struct slb_config *c = ld->config;
	unsigned counts[S_NKINDS] = { 0 }, i;
	const char *name;

	ld->kinds = calloc(ld->scan.nsections + 1, sizeof(*ld->kinds));
	ld->objects = calloc(ld->scan.nsections + 1, sizeof(*ld->objects));
	if (!ld->kinds || !ld->objects)
		return -1;
	for (i = 0; i < ld->scan.nsections; i++) {
		const struct slb_scan_section *sec = &ld->scan.sections[i];
		int k = classify(ld, sec);

		if (k >= 0 && counts[k] == limits[k]) {
			slb_scan_error(&ld->errors, sec->line, sec->name, NULL,
				       "more than %u [%s] sections", limits[k], section_types[k].name);
			k = -1;
		}
		ld->kinds[i] = k;
		if (k >= 0)
			counts[k]++;
	}
	c->vips = calloc(counts[S_VIP] + 1, sizeof(*c->vips));
	c->listeners = calloc(counts[S_LISTENER] + 1, sizeof(*c->listeners));
	c->groups = calloc(counts[S_GROUP] + 1, sizeof(*c->groups));
	if (!c->vips || !c->listeners || !c->groups)
		return -1;
	for (i = 0; i < ld->scan.nsections; i++) {
		const struct slb_scan_section *sec = &ld->scan.sections[i];
		struct slb_vip_conf *v;
		struct slb_listener_conf *l;
		struct slb_group_conf *g;

		/* For the named types, classify() accepted "TYPE NAME". */
		name = strchr(sec->name, ' ');
		switch (ld->kinds[i]) {
		case S_GLOBAL:
			ld->objects[i] = &c->global;
			break;
		case S_NODE:
			ld->objects[i] = &c->node;
			break;
		case S_FAILOVER:
			c->failover.enabled = true;
			c->failover.line = sec->line;
			ld->objects[i] = &c->failover;
			break;
		case S_VIP:
			v = &c->vips[c->nvips++];
			snprintf(v->name, sizeof(v->name), "%s", name + 1);
			v->line = sec->line;
			ld->objects[i] = v;
			break;
		case S_LISTENER:
			l = &c->listeners[c->nlisteners++];
			snprintf(l->name, sizeof(l->name), "%s", name + 1);
			l->line = sec->line;
			l->group = l->backup_group = -1;
			apply_defaults(ld, listener_keys, l);
			ld->objects[i] = l;
			break;
		case S_GROUP:
			g = &c->groups[c->ngroups++];
			snprintf(g->name, sizeof(g->name), "%s", name + 1);
			g->line = sec->line;
			g->servers = calloc(count_servers(sec) + 1, sizeof(*g->servers));
			if (!g->servers)
				return -1;
			apply_defaults(ld, group_keys, g);
			ld->objects[i] = g;
			break;
		}
	}
	return 0;
}

/* ---- pass 3: whole-file checks ---- */

static const struct slb_scan_section *section_at(const struct loader *ld, int line)
{
	unsigned i;

	for (i = 0; i < ld->scan.nsections; i++)
		if (ld->scan.sections[i].line == line)
			return &ld->scan.sections[i];
	return NULL;
}

/* The line of <key> in the section at <section_line>, or the section's own line. */
static int key_line(const struct loader *ld, int section_line, const char *key)
{
	const struct slb_scan_section *sec = section_at(ld, section_line);
	const struct slb_scan_key *k = sec && key ? slb_scan_find_key(sec, key) : NULL;

	return k ? k->line : section_line;
}

static bool key_set(const struct loader *ld, int section_line, const char *key)
{
	const struct slb_scan_section *sec = section_at(ld, section_line);

	return sec && slb_scan_find_key(sec, key);
}

/*
 * Reports an error on <key> (NULL: the section itself) of the section at
 * <section_line>, at the key's line when the file sets it.
 */
static void report(struct loader *ld, int section_line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct loader *ld, int section_line, const char *key, const char *fmt, ...)
{
	const struct slb_scan_section *sec = section_at(ld, section_line);
	char msg[SLB_VALUE_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	slb_scan_error(&ld->errors, key_line(ld, section_line, key), sec ? sec->name : NULL, key,
		       "%s", msg);
}

static void finish_global(struct slb_global_conf *g)
{
	if (!g->control_socket[0])
		snprintf(g->control_socket, sizeof(g->control_socket), "/run/slb/%s.sock",
			 g->instance);
	if (!g->pid_file[0])
		snprintf(g->pid_file, sizeof(g->pid_file), "/run/slb/%s.pid", g->instance);
}

static void finish_node(struct slb_node_conf *n)
{
	if (n->name[0])
		return;
	if (gethostname(n->name, sizeof(n->name)) == -1)
		snprintf(n->name, sizeof(n->name), "localhost");
	n->name[sizeof(n->name) - 1] = '\0';
}

/* The key names "server.NAME" and "rule.NAME", written into <buf> of SLB_NAME_MAX + 8. */
static const char *server_key(const struct slb_server_conf *s, char *buf)
{
	snprintf(buf, SLB_NAME_MAX + 8, "server.%s", s->name);
	return buf;
}

static const char *rule_key(const struct slb_rule_conf *r, char *buf)
{
	snprintf(buf, SLB_NAME_MAX + 8, "rule.%s", r->name);
	return buf;
}

static bool is_http(enum slb_protocol p)
{
	return p == SLB_PROTO_HTTP || p == SLB_PROTO_HTTPS;
}

static void check_listener(struct loader *ld, unsigned idx)
{
	struct slb_listener_conf *l = &ld->config->listeners[idx];
	const char *proto = name_of(protocol_names, (int)l->protocol);
	char addr[SLB_SOCKADDR_STRLEN], key[SLB_NAME_MAX + 8];
	unsigned i;

	if (l->group < 0 && !key_set(ld, l->line, "group")) {
		l->group = slb_config_group_index(ld->config, "default");
		if (l->group < 0)
			report(ld, l->line, "group", "not set, and there is no [group default]");
	}
	if (l->backup_group >= 0 && l->backup_group == l->group)
		report(ld, l->line, "backup_group", "is the listener's own group");
	/* tcp, http and https share the TCP port space; udp has its own. */
	for (i = 0; i < idx && l->bind.len; i++) {
		const struct slb_listener_conf *o = &ld->config->listeners[i];

		if ((o->protocol == SLB_PROTO_UDP) == (l->protocol == SLB_PROTO_UDP) &&
		    slb_sockaddr_equal(&o->bind, &l->bind)) {
			report(ld, l->line, "bind", "%s is already bound by [listener %s] (line %d)",
			       slb_sockaddr_format(&l->bind, addr), o->name,
			       key_line(ld, o->line, "bind"));
			break;
		}
	}
	if (l->protocol == SLB_PROTO_HTTPS && l->ntls_certs == 0)
		report(ld, l->line, "tls_cert", "missing (https needs a certificate)");
	if (l->protocol == SLB_PROTO_HTTPS && !l->tls_key[0])
		report(ld, l->line, "tls_key", "missing (https needs a private key)");
	if (l->protocol != SLB_PROTO_HTTPS && (l->ntls_certs || l->tls_key[0]))
		report(ld, l->line, l->ntls_certs ? "tls_cert" : "tls_key",
		       "only applies to protocol = https, not %s", proto);
	for (i = 0; i < l->nrules && !is_http(l->protocol); i++)
		report(ld, l->line, rule_key(&l->rules[i], key),
		       "rules only apply to http and https, not %s", proto);
	if (l->persistence == SLB_PERSIST_COOKIE_INSERT ||
	    l->persistence == SLB_PERSIST_COOKIE_REWRITE) {
		if (!is_http(l->protocol))
			report(ld, l->line, "persistence",
			       "'%s' only applies to http and https, not %s",
			       name_of(persistence_names, (int)l->persistence), proto);
		if (!l->cookie[0])
			report(ld, l->line, "cookie", "missing (persistence = %s needs a cookie name)",
			       name_of(persistence_names, (int)l->persistence));
	}
	if (l->proxy_protocol != SLB_PROXY_PROTOCOL_NONE && l->protocol != SLB_PROTO_TCP)
		report(ld, l->line, "proxy_protocol", "only applies to protocol = tcp, not %s", proto);
}

static void check_group(struct loader *ld, struct slb_group_conf *g)
{
	char interval[16], key[SLB_NAME_MAX + 8];
	unsigned i, primaries = 0, secondaries = 0;

	for (i = 0; i < g->nservers; i++) {
		primaries += g->servers[i].role == SLB_ROLE_PRIMARY;
		secondaries += g->servers[i].role == SLB_ROLE_SECONDARY;
		if (g->type == SLB_GROUP_NORMAL && g->servers[i].role != SLB_ROLE_NONE)
			report(ld, g->line, server_key(&g->servers[i], key),
			       "role= only applies to type = primary_secondary");
	}
	if (g->type == SLB_GROUP_PRIMARY_SECONDARY &&
	    (g->nservers != 2 || primaries != 1 || secondaries != 1))
		report(ld, g->line, "type", "primary_secondary needs exactly two servers, one "
		       "role=primary and one role=secondary");
	if (g->check_timeout_ms > g->check_interval_ms) {
		slb_value_format_duration(g->check_interval_ms, interval, sizeof(interval));
		report(ld, g->line, "check_timeout", "longer than check_interval (%s)", interval);
	}
}

static void check_vips(struct loader *ld)
{
	struct slb_vip_conf *v = ld->config->vips;
	unsigned i, j;

	for (i = 0; i < ld->config->nvips; i++) {
		for (j = 0; j < i; j++) {
			size_t len = v[i].address.family == AF_INET ? sizeof(struct in_addr)
								    : sizeof(struct in6_addr);

			if (v[i].address.family == v[j].address.family &&
			    memcmp(&v[i].address.addr, &v[j].address.addr, len) == 0) {
				report(ld, v[i].line, "address", "same address as [vip %s] (line %d)",
				       v[j].name, key_line(ld, v[j].line, "address"));
				break;
			}
		}
	}
}

/*
 * FEATURES NOT BUILT YET. Each check below refuses a setting this version
 * parses but does not implement, so that a file never promises more than
 * the daemons do. Remove a check in the change that builds its feature.
 */
static void reject_unbuilt_features(struct loader *ld)
{
	static const char *const later = "is not supported by this version yet";
	const struct slb_config *c = ld->config;
	char key[SLB_NAME_MAX + 8];
	unsigned i, j;

	if (c->failover.enabled)
		report(ld, c->failover.line, NULL, "the VRRP election %s; remove the section to "
		       "run standalone", later);
	for (i = 0; i < c->nlisteners; i++) {
		const struct slb_listener_conf *l = &c->listeners[i];

		if (l->protocol != SLB_PROTO_TCP)
			report(ld, l->line, "protocol", "'%s' %s",
			       name_of(protocol_names, (int)l->protocol), later);
		if (l->scheduler == SLB_SCHED_SH || l->scheduler == SLB_SCHED_CH)
			report(ld, l->line, "scheduler", "'%s' %s",
			       name_of(scheduler_names, (int)l->scheduler), later);
		if (l->persistence != SLB_PERSIST_NONE)
			report(ld, l->line, "persistence", "'%s' %s",
			       name_of(persistence_names, (int)l->persistence), later);
		if (l->proxy_protocol != SLB_PROXY_PROTOCOL_NONE)
			report(ld, l->line, "proxy_protocol", "'%s' %s",
			       name_of(proxy_protocol_names, (int)l->proxy_protocol), later);
		if (key_set(ld, l->line, "backup_group"))
			report(ld, l->line, "backup_group", "a backup group %s", later);
		if (l->gzip)
			report(ld, l->line, "gzip", "compression %s", later);
		for (j = 0; j < l->nrules; j++)
			report(ld, l->line, rule_key(&l->rules[j], key),
			       "forwarding rules are not supported by this version yet");
		if (l->ntls_certs || l->tls_key[0])
			report(ld, l->line, l->ntls_certs ? "tls_cert" : "tls_key", "TLS %s", later);
	}
	for (i = 0; i < c->ngroups; i++) {
		const struct slb_group_conf *g = &c->groups[i];

		if (g->type != SLB_GROUP_NORMAL)
			report(ld, g->line, "type", "'%s' %s",
			       name_of(group_type_names, (int)g->type), later);
		if (g->check != SLB_CHECK_NONE && g->check != SLB_CHECK_TCP)
			report(ld, g->line, "check", "'%s' %s", name_of(check_names, (int)g->check),
			       later);
		for (j = 0; j < g->nservers; j++)
			if (g->servers[j].role != SLB_ROLE_NONE)
				report(ld, g->line, server_key(&g->servers[j], key), "'role=' %s",
				       later);
	}
}

static void check_config(struct loader *ld)
{
	struct slb_config *c = ld->config;
	unsigned i;

	finish_global(&c->global);
	finish_node(&c->node);
	for (i = 0; i < c->nlisteners; i++)
		check_listener(ld, i);
	for (i = 0; i < c->ngroups; i++)
		check_group(ld, &c->groups[i]);
	check_vips(ld);
	reject_unbuilt_features(ld);
}

/* ---- the load ---- */

/* Reads all of <fd> from offset 0; NULL (reported) on failure. */
static char *read_file(struct loader *ld, int fd, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *bigger;
	ssize_t r;

	for (;;) {
		if (n == cap) {
			if (cap >= CONFIG_MAX_BYTES) {
				slb_scan_error(&ld->errors, 0, NULL, NULL,
					       "the file is too large (the limit is %u bytes)",
					       CONFIG_MAX_BYTES);
				goto fail;
			}
			cap = cap ? cap * 2 : 64 * 1024;
			bigger = realloc(buf, cap);
			if (!bigger) {
				slb_scan_error(&ld->errors, 0, NULL, NULL, "out of memory");
				goto fail;
			}
			buf = bigger;
		}
		r = pread(fd, buf + n, cap - n, (off_t)n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			slb_scan_error(&ld->errors, 0, NULL, NULL, "cannot read: %s", strerror(errno));
			goto fail;
		}
		if (r == 0) {
			*len = n;
			return buf;
		}
		n += (size_t)r;
	}
fail:
	free(buf);
	return NULL;
}

/* iniparser 4.1 prints its complaints to stderr; the scan has already said it better. */
static int iniparser_quiet(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

static struct slb_config *load(struct loader *ld, int fd)
{
	char proc_path[64];
	size_t len = 0;
	unsigned i;
	char *text;
	int rc;

	text = read_file(ld, fd, &len);
	if (!text)
		return NULL;
	rc = slb_scan_text(text, len, &ld->scan, &ld->errors);
	free(text);
	if (rc == -1 || ld->errors.count)
		return NULL;
	/* iniparser reads by name: the same open file, from its start. */
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	iniparser_set_error_callback(iniparser_quiet);
	ld->dict = iniparser_load(proc_path);
	if (!ld->dict) {
		slb_scan_error(&ld->errors, 0, NULL, NULL,
			       "iniparser cannot read %s (is /proc mounted?)", proc_path);
		return NULL;
	}
	ld->config = calloc(1, sizeof(*ld->config));
	if (!ld->config)
		goto oom;
	ld->config->failover.track_group = -1;
	apply_defaults(ld, global_keys, &ld->config->global);
	apply_defaults(ld, node_keys, &ld->config->node);
	apply_defaults(ld, failover_keys, &ld->config->failover);
	if (layout(ld) == -1)
		goto oom;
	for (i = 0; i < ld->scan.nsections; i++)
		if (ld->kinds[i] >= 0)
			parse_section(ld, &ld->scan.sections[i], &section_types[ld->kinds[i]],
				      ld->objects[i]);
	check_config(ld);
	return ld->config;
oom:
	slb_scan_error(&ld->errors, 0, NULL, NULL, "out of memory");
	return ld->config;
}

struct slb_config *slb_config_load_fd(int fd, const char *display_name, FILE *errors)
{
	struct loader ld;
	struct slb_config *c;

	memset(&ld, 0, sizeof(ld));
	ld.errors.file = display_name;
	c = load(&ld, fd);
	if (ld.errors.count) {
		slb_config_free(c);
		c = NULL;
	} else {
		snprintf(c->path, sizeof(c->path), "%s", display_name);
	}
	slb_scan_errors_write(&ld.errors, errors);
	if (ld.dict)
		iniparser_freedict(ld.dict);
	slb_scan_free(&ld.scan);
	free(ld.kinds);
	free(ld.objects);
	return c;
}

struct slb_config *slb_config_load(const char *path, FILE *errors)
{
	struct slb_config *c;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		fprintf(errors, "%s:0: cannot open: %s\n", path, strerror(errno));
		return NULL;
	}
	c = slb_config_load_fd(fd, path, errors);
	close(fd);
	return c;
}

void slb_config_free(struct slb_config *config)
{
	unsigned i;

	if (!config)
		return;
	for (i = 0; i < config->ngroups; i++)
		free(config->groups[i].servers);
	free(config->groups);
	free(config->listeners);
	free(config->vips);
	free(config);
}

int slb_config_group_index(const struct slb_config *config, const char *name)
{
	unsigned i;

	for (i = 0; i < config->ngroups; i++)
		if (strcasecmp(config->groups[i].name, name) == 0)
			return (int)i;
	return -1;
}
