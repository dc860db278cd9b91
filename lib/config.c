/*
 * config.c - slb.ini into struct slb_config: the passes of a load, the
 * cross-checks, and the gate for features not built yet. What each section
 * may hold is config_schema.c's tables.
 *
 * A load finds every error of the file in one go:
 *   0. read the bytes once; config_scan.c checks lines, repeats and syntax,
 *      and blanks what iniparser would misread (a comment after a section
 *      header); only a clean file is handed to iniparser, as a private copy
 *      of those normalized bytes (a memfd read through /proc/self/fd), and
 *      iniparser gives back the values;
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
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/mman.h>

#include <iniparser.h>

#include "config_scan.h"
#include "config_schema.h"
#include "config_values.h"
#include "ctl.h"

#define CONFIG_MAX_BYTES (4u << 20)

struct loader {
	struct slb_config *config;
	struct slb_scan scan;
	struct slb_scan_errors errors;
	dictionary *dict;
	int *kinds; /* per scan section: its enum slb_section_kind, -1 when skipped */
	void **objects; /* per scan section: the struct its keys fill */
	struct slb_schema_context schema;
	bool changed; /* slb.ini with run-time changes: see slb_config_load_changed_fd() */
};

/* Writes every default of a <kind> section into <section>; a bad one is a bug in the table. */
static void apply_defaults(struct loader *ld, enum slb_section_kind kind, void *section)
{
	const struct slb_key_def *def;
	char err[SLB_VALUE_ERRLEN];

	for (def = slb_section_types[kind].keys; def->name; def++)
		if (def->def &&
		    slb_schema_set_value(&ld->schema, def, section, def->def, err) == -1)
			slb_scan_error(&ld->errors, 0, NULL, def->name, "bad built-in default: %s",
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
			const struct slb_section_type *type, const struct slb_scan_key *key)
{
	const char *dot = strchr(key->name, '.');
	const struct slb_dynamic_key_def *d;
	const struct slb_key_def *k;
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
			const struct slb_section_type *type, void *obj,
			const struct slb_scan_key *key)
{
	const struct slb_dynamic_key_def *d;
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
		    d->parse(&ld->schema, obj, name, value_of(ld, sec, key->name), key->line,
			     err) == -1)
			slb_scan_error(&ld->errors, key->line, sec->name, key->name, "%s", err);
		return true;
	}
	return false;
}

static void parse_section(struct loader *ld, const struct slb_scan_section *sec,
			  const struct slb_section_type *type, void *obj)
{
	char err[SLB_VALUE_ERRLEN];
	const struct slb_key_def *def;
	unsigned i;

	for (i = 0; i < sec->nkeys; i++) {
		const struct slb_scan_key *key = &sec->keys[i];

		def = slb_schema_find_key(type, key->name);
		if (def) {
			if (slb_schema_set_value(&ld->schema, def, obj,
						 value_of(ld, sec, key->name), err) == -1)
				slb_scan_error(&ld->errors, key->line, sec->name, key->name, "%s",
					       err);
		} else if (!dynamic_key(ld, sec, type, obj, key)) {
			unknown_key(ld, sec, type, key);
		}
	}
	for (def = type->keys; def->name; def++)
		if (def->required && !slb_scan_find_key(sec, def->name))
			slb_scan_error(&ld->errors, sec->line, sec->name, def->name, "missing");
}

/* ---- pass 1: layout ---- */

/*
 * A listener named like a keyword slbctl reads after `sessions` could not be
 * named there: `slbctl sessions flush` would flush every listener's sessions
 * instead of listing those of a listener "flush". Reports it and says true.
 */
static bool listener_name_clashes(struct loader *ld, const struct slb_scan_section *sec,
				  const char *name)
{
	const struct slb_ctl_command *clash = slb_ctl_name_clash("LISTENER", name);
	char words[3 * SLB_NAME_MAX] = "";

	if (!clash)
		return false;
	for (unsigned i = 0; i < 3 && clash->words[i]; i++)
		snprintf(words + strlen(words), sizeof(words) - strlen(words), "%s%s", i ? " " : "",
			 clash->words[i]);
	slb_scan_error(&ld->errors, sec->line, sec->name, NULL,
		       "'%s' cannot name a listener: 'slbctl %s' is the command to %s, so this "
		       "listener could not be named there; choose another name", name, words,
		       clash->help);
	return true;
}

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
	for (k = 0; k < SLB_SECTION_KINDS; k++)
		if (strcmp(type, slb_section_types[k].name) == 0)
			break;
	if (k == SLB_SECTION_KINDS) {
		slb_suggest_init(&sg, type);
		for (k = 0; k < SLB_SECTION_KINDS; k++)
			slb_suggest_offer(&sg, slb_section_types[k].name);
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
	if (slb_section_types[k].named && !name) {
		slb_scan_error(&ld->errors, sec->line, sec->name, NULL, "needs a name: [%s NAME]",
			       type);
		return -1;
	}
	if (!slb_section_types[k].named && name) {
		slb_scan_error(&ld->errors, sec->line, sec->name, NULL, "[%s] takes no name", type);
		return -1;
	}
	if (name && slb_value_name(name, err) == -1) {
		slb_scan_error(&ld->errors, sec->line, sec->name, NULL, "%s", err);
		return -1;
	}
	if (k == SLB_SECTION_LISTENER && listener_name_clashes(ld, sec, name))
		return -1;
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
	static const unsigned limits[SLB_SECTION_KINDS] = {
		[SLB_SECTION_GLOBAL] = 1, [SLB_SECTION_NODE] = 1, [SLB_SECTION_FAILOVER] = 1,
		[SLB_SECTION_VIP] = SLB_MAX_VIPS, [SLB_SECTION_LISTENER] = SLB_MAX_LISTENERS,
		[SLB_SECTION_GROUP] = SLB_MAX_GROUPS,
	};
	struct slb_config *c = ld->config;
	unsigned counts[SLB_SECTION_KINDS] = { 0 }, i;
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
				       "more than %u [%s] sections", limits[k],
				       slb_section_types[k].name);
			k = -1;
		}
		ld->kinds[i] = k;
		if (k >= 0)
			counts[k]++;
	}
	c->vips = calloc(counts[SLB_SECTION_VIP] + 1, sizeof(*c->vips));
	c->listeners = calloc(counts[SLB_SECTION_LISTENER] + 1, sizeof(*c->listeners));
	c->groups = calloc(counts[SLB_SECTION_GROUP] + 1, sizeof(*c->groups));
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
		case SLB_SECTION_GLOBAL:
			ld->objects[i] = &c->global;
			break;
		case SLB_SECTION_NODE:
			ld->objects[i] = &c->node;
			break;
		case SLB_SECTION_FAILOVER:
			c->failover.enabled = true;
			c->failover.line = sec->line;
			ld->objects[i] = &c->failover;
			break;
		case SLB_SECTION_VIP:
			v = &c->vips[c->nvips++];
			snprintf(v->name, sizeof(v->name), "%s", name + 1);
			v->line = sec->line;
			ld->objects[i] = v;
			break;
		case SLB_SECTION_LISTENER:
			l = &c->listeners[c->nlisteners++];
			snprintf(l->name, sizeof(l->name), "%s", name + 1);
			l->line = sec->line;
			l->group = l->backup_group = -1;
			apply_defaults(ld, SLB_SECTION_LISTENER, l);
			ld->objects[i] = l;
			break;
		case SLB_SECTION_GROUP:
			g = &c->groups[c->ngroups++];
			snprintf(g->name, sizeof(g->name), "%s", name + 1);
			g->line = sec->line;
			g->servers = calloc(count_servers(sec) + 1, sizeof(*g->servers));
			if (!g->servers)
				return -1;
			apply_defaults(ld, SLB_SECTION_GROUP, g);
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
	if (!g->state_file[0])
		snprintf(g->state_file, sizeof(g->state_file), "/var/lib/slb/%s.state", g->instance);
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

/* backup_group names another group; failover_threshold counts servers of group. */
static void check_backup_group(struct loader *ld, const struct slb_listener_conf *l)
{
	const struct slb_group_conf *g = l->group >= 0 ? &ld->config->groups[l->group] : NULL;

	if (l->backup_group < 0) {
		if (key_set(ld, l->line, "failover_threshold"))
			report(ld, l->line, "failover_threshold", "only applies with a backup_group");
		return;
	}
	if (l->backup_group == l->group)
		report(ld, l->line, "backup_group", "is the listener's own group");
	else if (g && g->nservers == 0)
		report(ld, l->line, "backup_group", "[group %s] has no server that could fail",
		       g->name);
	else if (g && l->failover_threshold > g->nservers)
		report(ld, l->line, "failover_threshold",
		       "%u is more than the %u servers of [group %s]", l->failover_threshold,
		       g->nservers, g->name);
}

/*
 * Keys a udp listener cannot honour: HTTP's, and connect_timeout (a UDP
 * "connect" only sets the peer, it cannot time out). Set, they are errors
 * rather than silently ignored.
 */
static void check_udp_listener(struct loader *ld, const struct slb_listener_conf *l)
{
	static const char *const http_only[] = {
		"x_forwarded_for", "gzip", "cookie", "header_timeout", "body_timeout",
		"keepalive_timeout", "server_timeout",
	};

	for (size_t i = 0; i < sizeof(http_only) / sizeof(http_only[0]); i++)
		if (key_set(ld, l->line, http_only[i]))
			report(ld, l->line, http_only[i], "only applies to http and https, not udp");
	if (key_set(ld, l->line, "connect_timeout"))
		report(ld, l->line, "connect_timeout",
		       "does not apply to udp (datagrams need no connection; idle_timeout ends a flow)");
}

static void check_listener(struct loader *ld, unsigned idx)
{
	struct slb_listener_conf *l = &ld->config->listeners[idx];
	const char *proto = slb_value_enum_name(slb_protocol_words, (int)l->protocol);
	char addr[SLB_SOCKADDR_STRLEN], key[SLB_NAME_MAX + 8];
	unsigned i;

	if (l->group < 0 && !key_set(ld, l->line, "group")) {
		l->group = slb_config_group_index(ld->config, "default");
		if (l->group < 0)
			report(ld, l->line, "group", "not set, and there is no [group default]");
	}
	check_backup_group(ld, l);
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
	for (i = 0; i < l->ntls_certs; i++) {
		struct slb_tls_cert_conf *c = &l->tls_certs[i];

		snprintf(key, sizeof(key), c->name[0] ? "tls_cert.%s" : "tls_cert", c->name);
		c->line = key_line(ld, l->line, key);
	}
	l->tls_key_line = key_line(ld, l->line, "tls_key");
	if (l->protocol == SLB_PROTO_HTTPS && l->ntls_certs == 0)
		report(ld, l->line, "tls_cert", "missing (https needs a certificate)");
	if (l->protocol == SLB_PROTO_HTTPS && !l->tls_key[0])
		report(ld, l->line, "tls_key", "missing (https needs a private key)");
	if (l->protocol != SLB_PROTO_HTTPS && (l->ntls_certs || l->tls_key[0]))
		report(ld, l->line, l->ntls_certs ? "tls_cert" : "tls_key",
		       "only applies to protocol = https, not %s", proto);
	for (i = 0; i < l->nrules && !slb_protocol_is_http(l->protocol); i++)
		report(ld, l->line, rule_key(&l->rules[i], key),
		       "rules only apply to http and https, not %s", proto);
	if (l->persistence == SLB_PERSIST_COOKIE_INSERT ||
	    l->persistence == SLB_PERSIST_COOKIE_REWRITE) {
		if (!slb_protocol_is_http(l->protocol))
			report(ld, l->line, "persistence",
			       "'%s' only applies to http and https, not %s",
			       slb_value_enum_name(slb_persistence_words, (int)l->persistence),
			       proto);
		if (l->persistence == SLB_PERSIST_COOKIE_REWRITE && !l->cookie[0])
			report(ld, l->line, "cookie", "missing (persistence = cookie_rewrite needs the "
			       "name of the server's cookie)");
	}
	if (!slb_protocol_is_http(l->protocol) &&
	    ((l->group >= 0 && ld->config->groups[l->group].server_tls) ||
	     (l->backup_group >= 0 && ld->config->groups[l->backup_group].server_tls)))
		report(ld, l->line, "group", "a group with server_tls = yes serves http and https "
		       "listeners only, not %s", proto);
	if (l->redirect_https && l->protocol != SLB_PROTO_HTTP)
		report(ld, l->line, "redirect_https", "only applies to protocol = http, not %s", proto);
	if (l->websocket && !slb_protocol_is_http(l->protocol))
		report(ld, l->line, "websocket", "only applies to http and https, not %s", proto);
	if (l->gzip && !slb_protocol_is_http(l->protocol))
		report(ld, l->line, "gzip", "only applies to http and https, not %s", proto);
	if (l->cookie[0] && !slb_value_token(l->cookie, sizeof(l->cookie) - 1))
		report(ld, l->line, "cookie", "'%s' is not a cookie name (letters, digits and "
		       "!#$%%&'*+-.^_`|~, at most 63)", l->cookie);
	if (l->proxy_protocol != SLB_PROXY_PROTOCOL_NONE && l->protocol != SLB_PROTO_TCP)
		report(ld, l->line, "proxy_protocol", "only applies to protocol = tcp, not %s", proto);
	if (l->protocol == SLB_PROTO_UDP)
		check_udp_listener(ld, l);
}

/*
 * Two servers, each with a role, one primary and one secondary. With the
 * run-time changes applied, fewer is allowed so that slbctl can fill the
 * group or replace one of its servers a step at a time: the group then
 * serves with the one it has (a secondary alone takes every connection, as
 * with its primary down). Servers are counted as written: one whose value
 * was rejected was reported already.
 */
static void check_primary_secondary(struct loader *ld, const struct slb_group_conf *g)
{
	const struct slb_server_conf *s = g->servers;
	unsigned i, written = count_servers(section_at(ld, g->line));
	char key[SLB_NAME_MAX + 8];

	if (written > 2 || (written < 2 && !ld->changed))
		report(ld, g->line, "type",
		       "primary_secondary needs two servers (one primary, one secondary), not %u",
		       written);
	for (i = 0; i < g->nservers; i++)
		if (s[i].role == SLB_ROLE_NONE)
			report(ld, g->line, server_key(&s[i], key),
			       "needs role=primary or role=secondary (type = primary_secondary)");
	if (g->nservers == 2 && s[0].role != SLB_ROLE_NONE && s[0].role == s[1].role)
		report(ld, g->line, server_key(&s[1], key),
		       "role=%s again (%s has it): one server is primary, the other secondary",
		       s[1].role == SLB_ROLE_PRIMARY ? "primary" : "secondary", s[0].name);
}

static void check_group(struct loader *ld, struct slb_group_conf *g)
{
	char interval[16], key[SLB_NAME_MAX + 8];
	unsigned i;

	if (g->type == SLB_GROUP_PRIMARY_SECONDARY)
		check_primary_secondary(ld, g);
	for (i = 0; i < g->nservers && g->type == SLB_GROUP_NORMAL; i++)
		if (g->servers[i].role != SLB_ROLE_NONE)
			report(ld, g->line, server_key(&g->servers[i], key),
			       "role= only applies to type = primary_secondary");
	if ((g->check == SLB_CHECK_HTTP || g->check == SLB_CHECK_HTTPS) &&
	    !slb_value_visible(g->check_path, "#"))
		report(ld, g->line, "check_path", "'%s' is not a request path (printable ASCII, "
		       "no spaces, no '#')", g->check_path);
	if ((g->check == SLB_CHECK_HTTP || g->check == SLB_CHECK_HTTPS) &&
	    !slb_value_visible(g->check_host, "/?#@"))
		report(ld, g->line, "check_host", "'%s' is not a host name", g->check_host);
	g->server_tls_ca_line = key_line(ld, g->line, "server_tls_ca");
	if (g->server_tls_ca[0] && !g->server_tls && g->check != SLB_CHECK_HTTPS)
		report(ld, g->line, "server_tls_ca", "only applies with server_tls = yes or "
		       "check = https");
	if (g->server_tls_ca[0] && !g->check_host[0])
		report(ld, g->line, "server_tls_ca", "needs check_host: the name the servers' "
		       "certificates must carry");
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

/* The election advertises the VIPs: VRRP for IPv4 needs at least one. */
/* True when <a> is bound to every address (0.0.0.0 or ::) on <port>. */
static bool binds_everywhere_on(const struct slb_sockaddr *a, unsigned port)
{
	if (slb_sockaddr_port(a) != port)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in4.sin_addr.s_addr == htonl(INADDR_ANY);
	return a->u.sa.sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
}

/*
 * slb-failover listens for the session sync on the node's own address and
 * sync_port: a TCP listener or the metrics bound to every address on that
 * port would take it first.
 */
static void check_sync_port(struct loader *ld)
{
	const struct slb_config *c = ld->config;
	const struct slb_failover_conf *fc = &c->failover;

	for (unsigned i = 0; i < c->nlisteners; i++)
		if (c->listeners[i].protocol != SLB_PROTO_UDP &&
		    binds_everywhere_on(&c->listeners[i].bind, fc->sync_port))
			report(ld, fc->line, "sync_port",
			       "%u is also the port of [listener %s], bound to every address",
			       fc->sync_port, c->listeners[i].name);
	if (c->global.metrics_enabled && binds_everywhere_on(&c->global.metrics, fc->sync_port))
		report(ld, fc->line, "sync_port",
		       "%u is also the port of [global] metrics, bound to every address",
		       fc->sync_port);
}

static void check_failover(struct loader *ld)
{
	const struct slb_config *c = ld->config;
	unsigned i, nipv4 = 0;

	if (!c->failover.enabled)
		return;
	for (i = 0; i < c->nvips; i++)
		nipv4 += c->vips[i].address.family == AF_INET;
	if (nipv4 == 0)
		report(ld, c->failover.line, NULL, "needs at least one IPv4 [vip] to advertise");
	if (c->failover.sync)
		check_sync_port(ld);
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
	check_failover(ld);
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

/*
 * Gives iniparser the <len> bytes of <text> the scan normalized. iniparser
 * 4.1 reads only by name, so they go to a private memfd, opened again through
 * /proc/self/fd: the caller's fd is never read twice, and iniparser parses
 * exactly the bytes the scan checked. Returns NULL (reported) on failure.
 */
static dictionary *iniparser_load_text(struct loader *ld, const char *text, size_t len)
{
	dictionary *dict = NULL;
	char proc_path[64];
	size_t done = 0;
	ssize_t n;
	int fd;

	fd = memfd_create("slb.ini", MFD_CLOEXEC);
	if (fd == -1) {
		slb_scan_error(&ld->errors, 0, NULL, NULL, "memfd_create: %s", strerror(errno));
		return NULL;
	}
	while (done < len) {
		n = write(fd, text + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			slb_scan_error(&ld->errors, 0, NULL, NULL,
				       "cannot copy the file for iniparser: %s", strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	iniparser_set_error_callback(iniparser_quiet);
	dict = iniparser_load(proc_path);
	if (!dict)
		slb_scan_error(&ld->errors, 0, NULL, NULL,
			       "iniparser cannot read %s (is /proc mounted?)", proc_path);
out:
	close(fd);
	return dict;
}

static struct slb_config *load(struct loader *ld, int fd)
{
	size_t len = 0;
	unsigned i;
	char *text;

	text = read_file(ld, fd, &len);
	if (!text)
		return NULL;
	if (slb_scan_text(text, len, &ld->scan, &ld->errors) == 0 && ld->errors.count == 0)
		ld->dict = iniparser_load_text(ld, text, len);
	free(text);
	if (!ld->dict)
		return NULL;
	ld->config = calloc(1, sizeof(*ld->config));
	if (!ld->config)
		goto oom;
	ld->schema.config = ld->config;
	ld->config->failover.track_group = -1;
	apply_defaults(ld, SLB_SECTION_GLOBAL, &ld->config->global);
	apply_defaults(ld, SLB_SECTION_NODE, &ld->config->node);
	apply_defaults(ld, SLB_SECTION_FAILOVER, &ld->config->failover);
	if (layout(ld) == -1)
		goto oom;
	for (i = 0; i < ld->scan.nsections; i++)
		if (ld->kinds[i] >= 0)
			parse_section(ld, &ld->scan.sections[i], &slb_section_types[ld->kinds[i]],
				      ld->objects[i]);
	check_config(ld);
	return ld->config;
oom:
	slb_scan_error(&ld->errors, 0, NULL, NULL, "out of memory");
	return ld->config;
}

static struct slb_config *load_fd(int fd, const char *display_name, bool changed, FILE *errors)
{
	struct loader ld;
	struct slb_config *c;

	memset(&ld, 0, sizeof(ld));
	ld.errors.file = display_name;
	ld.changed = changed;
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

struct slb_config *slb_config_load_fd(int fd, const char *display_name, FILE *errors)
{
	return load_fd(fd, display_name, false, errors);
}

struct slb_config *slb_config_load_changed_fd(int fd, const char *display_name, FILE *errors)
{
	return load_fd(fd, display_name, true, errors);
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

struct slb_server_conf *slb_config_find_server(const struct slb_config *config, const char *group,
					       const char *name)
{
	int g = slb_config_group_index(config, group);

	if (g < 0)
		return NULL;
	for (unsigned i = 0; i < config->groups[g].nservers; i++)
		if (strcasecmp(config->groups[g].servers[i].name, name) == 0)
			return &config->groups[g].servers[i];
	return NULL;
}
