/*
 * ctl.c - the slbctl command grammar (one table) and the request codec.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

const struct slb_ctl_command slb_ctl_commands[] = {
	{ SLB_CTL_HELP, { "help" }, { NULL }, "this list" },
	{ SLB_CTL_DESCRIBE, { "describe" }, { NULL },
	  "listeners, groups, servers, VIPs, node and failover state" },
	{ SLB_CTL_HEALTH, { "health" }, { NULL }, "every server: state, last check, latency" },
	{ SLB_CTL_SERVER_ADD, { "server", "add" },
	  { "GROUP", "NAME", "IP:PORT", "[weight=N]", "[role=R]" },
	  "add a server to a group (role=primary|secondary in a primary_secondary group)" },
	{ SLB_CTL_SERVER_SET, { "server", "set" }, { "GROUP", "NAME", "weight=N", "[drain=D]" },
	  "set a server's weight (0..100) at once; with weight=0, drain=D (30s, 5m) closes "
	  "its remaining connections after D" },
	{ SLB_CTL_SERVER_REMOVE, { "server", "remove" }, { "GROUP", "NAME" },
	  "remove a server from a group" },
	{ SLB_CTL_GROUP_CREATE, { "group", "create" }, { "NAME", "[type=T]" },
	  "create a group (type=normal|primary_secondary)" },
	{ SLB_CTL_GROUP_DELETE, { "group", "delete" }, { "NAME" },
	  "delete a group no listener uses" },
	{ SLB_CTL_GROUP_SET, { "group", "set" }, { "NAME", "KEY=VALUE" },
	  "change a group's check (check, check_port, check_path, check_host, check_codes, "
	  "check_interval, check_timeout, healthy_threshold, unhealthy_threshold)" },
	{ SLB_CTL_GROUP_LIST, { "group", "list" }, { NULL }, "groups and their servers" },
	{ SLB_CTL_LISTENER_START, { "listener", "start" }, { "NAME" },
	  "start a stopped listener again" },
	{ SLB_CTL_LISTENER_STOP, { "listener", "stop" }, { "NAME" },
	  "refuse new connections (open ones go on)" },
	{ SLB_CTL_SESSIONS, { "sessions" }, { "[LISTENER]" }, "list persistence sessions" },
	{ SLB_CTL_SESSIONS_FLUSH, { "sessions", "flush" }, { "[LISTENER]" },
	  "flush persistence sessions" },
	{ SLB_CTL_FAILOVER_STATUS, { "failover", "status" }, { NULL },
	  "state, priority, master, transitions" },
	{ SLB_CTL_FAILOVER_TAKEOVER, { "failover", "takeover" }, { NULL },
	  "become master now" },
	{ SLB_CTL_FAILOVER_RELEASE, { "failover", "release" }, { NULL },
	  "hand the VIPs to the peer" },
	{ SLB_CTL_RELOAD, { "reload" }, { NULL }, "reload the configuration file (as SIGHUP)" },
};

const unsigned slb_ctl_ncommands = sizeof(slb_ctl_commands) / sizeof(slb_ctl_commands[0]);

static unsigned count(const char *const *list, unsigned max, bool required_only)
{
	unsigned n = 0;

	while (n < max && list[n] && !(required_only && list[n][0] == '['))
		n++;
	return n;
}

static bool word_ok(const char *w)
{
	size_t len = strlen(w);

	if (len == 0 || len >= SLB_CTL_ARG_MAX)
		return false;
	for (const char *p = w; *p; p++)
		if (*p <= ' ' || *p > '~')
			return false;
	return true;
}

/* Number of keywords of <cmd> that <words> start with, or 0 unless all do. */
static unsigned match(const struct slb_ctl_command *cmd, unsigned n, char *const words[])
{
	unsigned k = count(cmd->words, 3, false);

	if (n < k)
		return 0;
	for (unsigned i = 0; i < k; i++)
		if (strcmp(cmd->words[i], words[i]) != 0)
			return 0;
	return k;
}

/* Whether the argument label <arg> is <label>, optional ("[LISTENER]") or not. */
static bool label_is(const char *arg, const char *label)
{
	size_t len = strlen(label);

	if (arg[0] == '[')
		return strncmp(arg + 1, label, len) == 0 && strcmp(arg + 1 + len, "]") == 0;
	return strcmp(arg, label) == 0;
}

const struct slb_ctl_command *slb_ctl_name_clash(const char *label, const char *name)
{
	for (unsigned i = 0; i < slb_ctl_ncommands; i++) {
		const struct slb_ctl_command *c = &slb_ctl_commands[i];
		unsigned k = count(c->words, 3, false);

		if (!c->args[0] || !label_is(c->args[0], label) || k == 3)
			continue;
		for (unsigned j = 0; j < slb_ctl_ncommands; j++) {
			const struct slb_ctl_command *d = &slb_ctl_commands[j];
			unsigned w = 0;

			while (w < k && d->words[w] && strcmp(d->words[w], c->words[w]) == 0)
				w++;
			if (w == k && d->words[k] && strcmp(d->words[k], name) == 0)
				return d;
		}
	}
	return NULL;
}

/* "add, set, remove" after "server": what a first keyword can be followed by. */
static void subcommands(const char *first, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < slb_ctl_ncommands; i++) {
		const struct slb_ctl_command *c = &slb_ctl_commands[i];

		if (strcmp(c->words[0], first) != 0 || !c->words[1])
			continue;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? ", " : "", c->words[1]);
	}
}

int slb_ctl_parse_words(unsigned n, char *const words[], struct slb_ctl_request *req, char *err,
			size_t errlen)
{
	const struct slb_ctl_command *best = NULL;
	unsigned best_k = 0, min, max;

	memset(req, 0, sizeof(*req));
	if (n > 0 && strcmp(words[0], SLB_CTL_JSON_WORD) == 0) {
		req->json = true;
		words++;
		n--;
	}
	if (n == 0) {
		snprintf(err, errlen, "no command (try 'help')");
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		if (!word_ok(words[i])) {
			snprintf(err, errlen, "word %u is empty, too long or not printable ASCII",
				 i + 1);
			return -1;
		}
	}
	for (unsigned i = 0; i < slb_ctl_ncommands; i++) {
		unsigned k = match(&slb_ctl_commands[i], n, words);

		if (k > best_k) {
			best_k = k;
			best = &slb_ctl_commands[i];
		}
	}
	if (!best) {
		char subs[256];

		subcommands(words[0], subs, sizeof(subs));
		if (subs[0] && n > 1)
			snprintf(err, errlen, "unknown command '%s %s': '%s' takes %s", words[0],
				 words[1], words[0], subs);
		else if (subs[0])
			snprintf(err, errlen, "'%s' needs one of: %s", words[0], subs);
		else
			snprintf(err, errlen, "unknown command '%s' (try 'help')", words[0]);
		return -1;
	}
	min = count(best->args, SLB_CTL_MAX_ARGS, true);
	max = count(best->args, SLB_CTL_MAX_ARGS, false);
	if (n - best_k < min || n - best_k > max) {
		size_t used = (size_t)snprintf(err, errlen, "usage:");

		for (unsigned i = 0; best->words[i] && i < 3; i++)
			used += (size_t)snprintf(err + used, used < errlen ? errlen - used : 0,
						 " %s", best->words[i]);
		for (unsigned i = 0; i < max; i++)
			used += (size_t)snprintf(err + used, used < errlen ? errlen - used : 0,
						 " %s", best->args[i]);
		return -1;
	}
	req->cmd = best;
	req->nargs = n - best_k;
	for (unsigned i = 0; i < req->nargs; i++)
		snprintf(req->args[i], sizeof(req->args[i]), "%s", words[best_k + i]);
	return 0;
}

int slb_ctl_parse_line(const char *line, size_t len, struct slb_ctl_request *req, char *err,
		       size_t errlen)
{
	char buf[SLB_CTL_REQUEST_MAX + 1];
	char *words[SLB_CTL_MAX_WORDS];
	char *save = NULL;
	unsigned n = 0;

	memset(req, 0, sizeof(*req));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len >= SLB_CTL_REQUEST_MAX) { /* the newline must fit too */
		snprintf(err, errlen, "request longer than %u bytes", SLB_CTL_REQUEST_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((line[i] < ' ' && line[i] != '\t') || line[i] > '~') {
			snprintf(err, errlen, "request is not one line of printable ASCII");
			return -1;
		}
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == SLB_CTL_MAX_WORDS) {
			snprintf(err, errlen, "more than %u words", SLB_CTL_MAX_WORDS);
			return -1;
		}
		words[n++] = w;
	}
	return slb_ctl_parse_words(n, words, req, err, errlen);
}

int slb_ctl_format(const struct slb_ctl_request *req, char *buf, size_t len)
{
	size_t used = 0;

	if (req->json)
		used += (size_t)snprintf(buf, len, "%s ", SLB_CTL_JSON_WORD);
	for (unsigned i = 0; i < 3 && req->cmd->words[i]; i++)
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 i ? " " : "", req->cmd->words[i]);
	for (unsigned i = 0; i < req->nargs; i++)
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, " %s",
					 req->args[i]);
	used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "\n");
	if (used >= len || used > SLB_CTL_REQUEST_MAX)
		return -1;
	return (int)used;
}

void slb_ctl_print_usage(FILE *out, const struct slb_ctl_command *cmd)
{
	for (unsigned i = 0; i < 3 && cmd->words[i]; i++)
		fprintf(out, "%s%s", i ? " " : "", cmd->words[i]);
	for (unsigned i = 0; i < SLB_CTL_MAX_ARGS && cmd->args[i]; i++)
		fprintf(out, " %s", cmd->args[i]);
}

void slb_ctl_print_help(FILE *out)
{
	for (unsigned i = 0; i < slb_ctl_ncommands; i++) {
		char usage[160];
		FILE *u = fmemopen(usage, sizeof(usage), "w");

		if (!u)
			return;
		slb_ctl_print_usage(u, &slb_ctl_commands[i]);
		fclose(u);
		fprintf(out, "  %-44s %s\n", usage, slb_ctl_commands[i].help);
	}
}

void slb_ctl_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}
