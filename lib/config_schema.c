/*
 * config_schema.c - the keys of every section of slb.ini: the tables (type,
 * bounds, default, where the value goes) and the parsers of the keys a table
 * entry cannot describe alone. Adding a key is adding a line here; how the
 * loader walks the file is config.c's business.
 */
#include "config_schema.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/un.h>

#define MAX_TLS_CERTS (sizeof(((struct slb_listener_conf *)0)->tls_certs) / \
		       sizeof(struct slb_tls_cert_conf))

/* Enumerations are stored through an int (see slb_schema_set_value()). */
_Static_assert(sizeof(enum slb_protocol) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_scheduler) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_persistence) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_check_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_zone) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_proxy_protocol) == sizeof(int), "enum size");
_Static_assert(sizeof(enum slb_group_type) == sizeof(int), "enum size");

/* ---- the words of enumerated values ---- */

const struct slb_value_word slb_protocol_words[] = {
	{ "tcp", SLB_PROTO_TCP }, { "udp", SLB_PROTO_UDP },
	{ "http", SLB_PROTO_HTTP }, { "https", SLB_PROTO_HTTPS }, { NULL, 0 },
};
const struct slb_value_word slb_scheduler_words[] = {
	{ "rr", SLB_SCHED_RR }, { "wrr", SLB_SCHED_WRR }, { "wlc", SLB_SCHED_WLC },
	{ "sh", SLB_SCHED_SH }, { "ch", SLB_SCHED_CH }, { NULL, 0 },
};
const struct slb_value_word slb_persistence_words[] = {
	{ "none", SLB_PERSIST_NONE }, { "source_ip", SLB_PERSIST_SOURCE_IP },
	{ "cookie_insert", SLB_PERSIST_COOKIE_INSERT },
	{ "cookie_rewrite", SLB_PERSIST_COOKIE_REWRITE }, { NULL, 0 },
};
const struct slb_value_word slb_check_words[] = {
	{ "none", SLB_CHECK_NONE }, { "tcp", SLB_CHECK_TCP }, { "http", SLB_CHECK_HTTP },
	{ "https", SLB_CHECK_HTTPS }, { "udp", SLB_CHECK_UDP }, { NULL, 0 },
};
const struct slb_value_word slb_check_method_words[] = {
	{ "GET", SLB_CHECK_GET }, { "HEAD", SLB_CHECK_HEAD }, { NULL, 0 },
};
const struct slb_value_word slb_proxy_protocol_words[] = {
	{ "none", SLB_PROXY_PROTOCOL_NONE }, { "v1", SLB_PROXY_PROTOCOL_V1 },
	{ "v2", SLB_PROXY_PROTOCOL_V2 }, { NULL, 0 },
};
const struct slb_value_word slb_group_type_words[] = {
	{ "normal", SLB_GROUP_NORMAL }, { "primary_secondary", SLB_GROUP_PRIMARY_SECONDARY },
	{ NULL, 0 },
};
static const struct slb_value_word zone_words[] = {
	{ "primary", SLB_ZONE_PRIMARY }, { "backup", SLB_ZONE_BACKUP }, { NULL, 0 },
};
static const struct slb_value_word log_level_words[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "info", LOG_INFO },
	{ "debug", LOG_DEBUG }, { NULL, 0 },
};

/* ---- keys the tables cannot describe alone ---- */

static int parse_group_ref(const struct slb_schema_context *ctx, const char *value, int *out,
			   char *err)
{
	int i = slb_config_group_index(ctx->config, value);

	if (i < 0) {
		snprintf(err, SLB_VALUE_ERRLEN, "no [group %s]", value);
		return -1;
	}
	*out = i;
	return 0;
}

static int parse_workers(void *section, const char *value, char *err)
{
	struct slb_global_conf *g = section;
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

static int parse_poll_coalesce(void *section, const char *value, char *err)
{
	struct slb_global_conf *g = section;

	return slb_value_microseconds(value, SLB_POLL_COALESCE_MAX_US, &g->poll_coalesce_us, err);
}

static int parse_metrics(void *section, const char *value, char *err)
{
	struct slb_global_conf *g = section;

	g->metrics_enabled = *value != '\0';
	if (!g->metrics_enabled) {
		memset(&g->metrics, 0, sizeof(g->metrics));
		return 0;
	}
	return slb_value_sockaddr(value, &g->metrics, err);
}

static int parse_log(void *section, const char *value, char *err)
{
	struct slb_global_conf *g = section;

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

static int parse_peers(void *section, const char *value, char *err)
{
	struct slb_failover_conf *f = section;

	return slb_value_ipv4_list(value, f->peers, SLB_MAX_PEERS, &f->npeers, err);
}

static int parse_acl_allow(void *section, const char *value, char *err)
{
	struct slb_listener_conf *l = section;

	return slb_value_cidr_list(value, l->acl_allow, SLB_MAX_ACL, &l->nacl_allow, err);
}

static int parse_acl_deny(void *section, const char *value, char *err)
{
	struct slb_listener_conf *l = section;

	return slb_value_cidr_list(value, l->acl_deny, SLB_MAX_ACL, &l->nacl_deny, err);
}

static int parse_check_codes(void *section, const char *value, char *err)
{
	struct slb_group_conf *g = section;

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

static int parse_tls_cert(void *section, const char *value, char *err)
{
	return add_tls_cert(section, "", value, err);
}

/* ---- dynamic keys: server.NAME, rule.NAME, tls_cert.NAME ---- */

static int parse_server(struct slb_schema_context *ctx, void *section, const char *name,
			const char *value, int line, char *err)
{
	struct slb_group_conf *g = section;
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
	if (ctx->total_servers == SLB_MAX_SERVERS) {
		snprintf(err, SLB_VALUE_ERRLEN, "more than %d servers over all groups",
			 SLB_MAX_SERVERS);
		return -1;
	}
	/* The loader sized the array to the group's server.* keys. */
	g->servers[g->nservers++] = s;
	ctx->total_servers++;
	return 0;
}

static int parse_rule(struct slb_schema_context *ctx, void *section, const char *name,
		      const char *value, int line, char *err)
{
	struct slb_listener_conf *l = section;
	struct slb_rule_conf r = { .line = line };
	char group[SLB_NAME_MAX];

	snprintf(r.name, sizeof(r.name), "%s", name);
	if (slb_value_rule(value, &r, group, err) == -1 ||
	    parse_group_ref(ctx, group, &r.group, err) == -1)
		return -1;
	if (l->nrules == SLB_MAX_RULES) {
		snprintf(err, SLB_VALUE_ERRLEN, "more than %d rules", SLB_MAX_RULES);
		return -1;
	}
	l->rules[l->nrules++] = r;
	return 0;
}

static int parse_named_tls_cert(struct slb_schema_context *ctx, void *section,
				const char *name, const char *value, int line, char *err)
{
	(void)ctx;
	(void)line;
	return add_tls_cert(section, name, value, err);
}

/* ---- the tables ---- */

#define AT(type, f) .offset = offsetof(type, f), .size = sizeof(((type *)0)->f)
#define SEC(n) ((n) * 1000)
#define HOUR(n) ((n) * 60 * 60 * 1000)

#define GL(f) AT(struct slb_global_conf, f)
static const struct slb_key_def global_keys[] = {
	{ "instance", SLB_KEY_NAME, GL(instance), .def = "slb" },
	{ "workers", SLB_KEY_SPECIAL, GL(workers), .parse = parse_workers, .def = "auto" },
	{ "user", SLB_KEY_TEXT, GL(user), .def = "slb" },
	/* The loader derives the default from instance. */
	{ "control_socket", SLB_KEY_TEXT, GL(control_socket),
	  .max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1, .path = true },
	{ "pid_file", SLB_KEY_TEXT, GL(pid_file), .path = true },
	{ "state_file", SLB_KEY_TEXT, GL(state_file), .path = true },
	{ "metrics", SLB_KEY_SPECIAL, GL(metrics), .parse = parse_metrics,
	  .def = "127.0.0.1:9180", .empty_ok = true },
	{ "log", SLB_KEY_SPECIAL, GL(log), .parse = parse_log, .def = "syslog" },
	{ "log_level", SLB_KEY_ENUM, GL(log_level), .words = log_level_words, .def = "info" },
	{ "session_table_size", SLB_KEY_SIZE, GL(session_table_size), .min = 1024,
	  .max = 64 * 1024 * 1024, .def = "1048576" },
	{ "drain_timeout", SLB_KEY_DURATION, GL(drain_timeout_ms), .max = HOUR(1), .def = "30s" },
	{ "poll_coalesce", SLB_KEY_SPECIAL, GL(poll_coalesce_us), .parse = parse_poll_coalesce,
	  .def = "30us" },
	{ .name = NULL },
};

#define ND(f) AT(struct slb_node_conf, f)
static const struct slb_key_def node_keys[] = {
	/* Default: the host name, set by the loader. */
	{ "name", SLB_KEY_TEXT, ND(name) },
	{ "zone", SLB_KEY_ENUM, ND(zone), .words = zone_words, .def = "primary" },
	{ .name = NULL },
};

#define FO(f) AT(struct slb_failover_conf, f)
static const struct slb_key_def failover_keys[] = {
	{ "interface", SLB_KEY_TEXT, FO(interface), .required = true },
	{ "vrid", SLB_KEY_UINT, FO(vrid), .min = 1, .max = 255, .required = true },
	{ "priority", SLB_KEY_UINT, FO(priority), .min = 1, .max = 254, .def = "100" },
	{ "advert_interval", SLB_KEY_DURATION, FO(advert_interval_ms), .min = 10,
	  .max = SEC(40), .def = "1s" },
	{ "peers", SLB_KEY_SPECIAL, FO(peers), .parse = parse_peers, .def = "",
	  .empty_ok = true },
	{ "preempt", SLB_KEY_BOOL, FO(preempt), .def = "yes" },
	{ "preempt_delay", SLB_KEY_DURATION, FO(preempt_delay_ms), .max = HOUR(1), .def = "0s" },
	{ "auth_key_file", SLB_KEY_TEXT, FO(auth_key_file), .def = "", .empty_ok = true,
	  .path = true },
	{ "sync", SLB_KEY_BOOL, FO(sync), .def = "yes" },
	{ "sync_port", SLB_KEY_UINT, FO(sync_port), .min = 1, .max = 65535, .def = "7801" },
	{ "track_group", SLB_KEY_GROUP, FO(track_group) },
	{ "track_weight", SLB_KEY_UINT, FO(track_weight), .min = 1, .max = 253, .def = "50" },
	{ "garp_interval", SLB_KEY_DURATION, FO(garp_interval_ms), .max = HOUR(1), .def = "0s" },
	{ "notify", SLB_KEY_TEXT, FO(notify), .def = "", .empty_ok = true, .path = true },
	{ .name = NULL },
};

#define VP(f) AT(struct slb_vip_conf, f)
static const struct slb_key_def vip_keys[] = {
	{ "address", SLB_KEY_CIDR, VP(address), .required = true },
	{ "interface", SLB_KEY_TEXT, VP(interface), .required = true },
	{ .name = NULL },
};

#define LI(f) AT(struct slb_listener_conf, f)
static const struct slb_key_def listener_keys[] = {
	{ "protocol", SLB_KEY_ENUM, LI(protocol), .words = slb_protocol_words,
	  .required = true },
	{ "bind", SLB_KEY_SOCKADDR, LI(bind), .required = true },
	/* Absent: the group named "default", resolved by the loader's cross-checks. */
	{ "group", SLB_KEY_GROUP, LI(group) },
	{ "scheduler", SLB_KEY_ENUM, LI(scheduler), .words = slb_scheduler_words, .def = "wrr" },
	{ "persistence", SLB_KEY_ENUM, LI(persistence), .words = slb_persistence_words,
	  .def = "none" },
	{ "persistence_timeout", SLB_KEY_DURATION, LI(persistence_timeout_ms), .min = SEC(1),
	  .max = HOUR(24), .def = "1000s" },
	{ "cookie", SLB_KEY_TEXT, LI(cookie), .def = "", .empty_ok = true },
	{ "backup_group", SLB_KEY_GROUP, LI(backup_group) },
	{ "failover_threshold", SLB_KEY_UINT, LI(failover_threshold), .min = 1,
	  .max = SLB_MAX_SERVERS_PER_GROUP, .def = "1" },
	{ "x_forwarded_for", SLB_KEY_BOOL, LI(x_forwarded_for), .def = "yes" },
	{ "redirect_https", SLB_KEY_BOOL, LI(redirect_https), .def = "no" },
	{ "websocket", SLB_KEY_BOOL, LI(websocket), .def = "no" },
	{ "gzip", SLB_KEY_BOOL, LI(gzip), .def = "no" },
	{ "tls_cert", SLB_KEY_SPECIAL, LI(tls_certs), .parse = parse_tls_cert },
	{ "tls_key", SLB_KEY_TEXT, LI(tls_key), .path = true },
	{ "proxy_protocol", SLB_KEY_ENUM, LI(proxy_protocol), .words = slb_proxy_protocol_words,
	  .def = "none" },
	{ "acl_allow", SLB_KEY_SPECIAL, LI(acl_allow), .parse = parse_acl_allow,
	  .empty_ok = true },
	{ "acl_deny", SLB_KEY_SPECIAL, LI(acl_deny), .parse = parse_acl_deny, .empty_ok = true },
	{ "connect_timeout", SLB_KEY_DURATION, LI(connect_timeout_ms), .min = 10,
	  .max = HOUR(24), .def = "5s" },
	{ "idle_timeout", SLB_KEY_DURATION, LI(idle_timeout_ms), .min = 10, .max = HOUR(24),
	  .def = "60s" },
	{ "header_timeout", SLB_KEY_DURATION, LI(header_timeout_ms), .min = 10,
	  .max = HOUR(24), .def = "10s" },
	{ "body_timeout", SLB_KEY_DURATION, LI(body_timeout_ms), .min = 10, .max = HOUR(24),
	  .def = "10s" },
	{ "keepalive_timeout", SLB_KEY_DURATION, LI(keepalive_timeout_ms), .min = 10,
	  .max = HOUR(24), .def = "10s" },
	{ "server_timeout", SLB_KEY_DURATION, LI(server_timeout_ms), .min = 10,
	  .max = HOUR(24), .def = "60s" },
	{ "max_connections", SLB_KEY_UINT, LI(max_connections), .max = 10000000, .def = "0" },
	{ "enabled", SLB_KEY_BOOL, LI(enabled), .def = "yes" },
	{ .name = NULL },
};

static const struct slb_dynamic_key_def listener_dynamic_keys[] = {
	{ "rule", parse_rule },
	{ "tls_cert", parse_named_tls_cert },
	{ NULL, NULL },
};

#define GR(f) AT(struct slb_group_conf, f)
static const struct slb_key_def group_keys[] = {
	{ "type", SLB_KEY_ENUM, GR(type), .words = slb_group_type_words, .def = "normal" },
	{ "check", SLB_KEY_ENUM, GR(check), .words = slb_check_words, .def = "tcp" },
	{ "check_port", SLB_KEY_UINT, GR(check_port), .max = 65535, .def = "0" },
	{ "server_tls", SLB_KEY_BOOL, GR(server_tls), .def = "no" },
	{ "server_tls_ca", SLB_KEY_TEXT, GR(server_tls_ca), .def = "", .empty_ok = true,
	  .path = true },
	{ "check_method", SLB_KEY_ENUM, GR(check_method), .words = slb_check_method_words,
	  .def = "GET" },
	{ "check_path", SLB_KEY_TEXT, GR(check_path), .def = "/", .path = true },
	{ "check_host", SLB_KEY_TEXT, GR(check_host), .def = "", .empty_ok = true },
	{ "check_codes", SLB_KEY_SPECIAL, GR(check_codes), .parse = parse_check_codes,
	  .def = "2xx,3xx" },
	{ "check_interval", SLB_KEY_DURATION, GR(check_interval_ms), .min = 100,
	  .max = HOUR(1), .def = "2s" },
	{ "check_timeout", SLB_KEY_DURATION, GR(check_timeout_ms), .min = 10, .max = HOUR(1),
	  .def = "1s" },
	{ "healthy_threshold", SLB_KEY_UINT, GR(healthy_threshold), .min = 1, .max = 10,
	  .def = "3" },
	{ "unhealthy_threshold", SLB_KEY_UINT, GR(unhealthy_threshold), .min = 1, .max = 10,
	  .def = "3" },
	{ .name = NULL },
};

static const struct slb_dynamic_key_def group_dynamic_keys[] = {
	{ "server", parse_server },
	{ NULL, NULL },
};

const struct slb_section_type slb_section_types[SLB_SECTION_KINDS] = {
	[SLB_SECTION_GLOBAL] = { "global", false, global_keys, NULL },
	[SLB_SECTION_NODE] = { "node", false, node_keys, NULL },
	[SLB_SECTION_FAILOVER] = { "failover", false, failover_keys, NULL },
	[SLB_SECTION_VIP] = { "vip", true, vip_keys, NULL },
	[SLB_SECTION_LISTENER] = { "listener", true, listener_keys, listener_dynamic_keys },
	[SLB_SECTION_GROUP] = { "group", true, group_keys, group_dynamic_keys },
};

/* ---- applying a value ---- */

const struct slb_key_def *slb_schema_find_key(const struct slb_section_type *type,
					      const char *name)
{
	const struct slb_key_def *def;

	for (def = type->keys; def->name; def++)
		if (strcmp(def->name, name) == 0)
			return def;
	return NULL;
}

static int set_text(char *field, const struct slb_key_def *def, const char *value, char *err)
{
	size_t max = def->max ? def->max : def->size - 1;

	if (strlen(value) > max) {
		snprintf(err, SLB_VALUE_ERRLEN, "longer than %zu characters", max);
		return -1;
	}
	if (def->path && value[0] != '/' && value[0] != '\0') {
		snprintf(err, SLB_VALUE_ERRLEN, "'%s' must start with '/'", value);
		return -1;
	}
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

int slb_schema_set_value(struct slb_schema_context *ctx, const struct slb_key_def *def,
			 void *section, const char *value, char *err)
{
	char *field = (char *)section + def->offset;
	uint64_t size;
	int e;

	if (*value == '\0' && !def->empty_ok) {
		snprintf(err, SLB_VALUE_ERRLEN, "empty value");
		return -1;
	}
	switch (def->type) {
	case SLB_KEY_TEXT:
		return set_text(field, def, value, err);
	case SLB_KEY_NAME:
		if (slb_value_name(value, err) == -1)
			return -1;
		return set_text(field, def, value, err);
	case SLB_KEY_UINT:
		return slb_value_uint(value, (unsigned)def->min, (unsigned)def->max,
				      (unsigned *)(void *)field, err);
	case SLB_KEY_DURATION:
		return slb_value_duration(value, (uint32_t)def->min, (uint32_t)def->max,
					  (uint32_t *)(void *)field, err);
	case SLB_KEY_SIZE:
		if (slb_value_size(value, def->min, def->max, &size, err) == -1)
			return -1;
		*(uint32_t *)(void *)field = (uint32_t)size;
		return 0;
	case SLB_KEY_BOOL:
		return slb_value_bool(value, (bool *)field, err);
	case SLB_KEY_ENUM:
		if (slb_value_enum(value, def->words, &e, err) == -1)
			return -1;
		memcpy(field, &e, sizeof(e));
		return 0;
	case SLB_KEY_SOCKADDR:
		return slb_value_sockaddr(value, (struct slb_sockaddr *)(void *)field, err);
	case SLB_KEY_CIDR:
		return slb_value_cidr(value, (struct slb_cidr *)(void *)field, err);
	case SLB_KEY_GROUP:
		return parse_group_ref(ctx, value, (int *)(void *)field, err);
	case SLB_KEY_SPECIAL:
		return def->parse(section, value, err);
	}
	return -1;
}
