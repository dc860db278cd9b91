/*
 * http_rules.c - forwarding rules: compile once per listener (sorted by
 * specificity), match per request without allocating. The order is
 * documented in http_rules.h.
 */
#include "http_rules.h"

#include <string.h>
#include <strings.h>

/* Negative when <a> is more specific than <b>; 0 only for equals. */
static int rule_order(const struct slb_http_rule *a, const struct slb_http_rule *b)
{
	if (a->host_kind != b->host_kind)
		return a->host_kind > b->host_kind ? -1 : 1;
	if (a->host_kind == SLB_HTTP_HOST_WILDCARD && a->host_len != b->host_len)
		return a->host_len > b->host_len ? -1 : 1;
	if (a->path_len != b->path_len)
		return a->path_len > b->path_len ? -1 : 1;
	return 0;
}

static void rule_compile(struct slb_http_rule *r, const struct slb_rule_conf *conf)
{
	r->conf = conf;
	r->host = conf->host;
	if (!conf->host[0])
		r->host_kind = SLB_HTTP_HOST_ANY;
	else if (conf->host[0] == '*')
		r->host_kind = SLB_HTTP_HOST_WILDCARD, r->host++; /* keep the dot */
	else
		r->host_kind = SLB_HTTP_HOST_EXACT;
	r->host_len = strlen(r->host);
	r->path = conf->path;
	r->path_len = strlen(conf->path);
}

void slb_http_rules_compile(struct slb_http_rules *rules, const struct slb_listener_conf *listener)
{
	unsigned i, j;

	rules->n = 0;
	rules->default_group = listener->group;
	/* Insertion sort, stable: equals keep the file's order. */
	for (i = 0; i < listener->nrules && i < SLB_MAX_RULES; i++) {
		struct slb_http_rule r;

		rule_compile(&r, &listener->rules[i]);
		for (j = rules->n; j > 0 && rule_order(&r, &rules->rule[j - 1]) < 0; j--)
			rules->rule[j] = rules->rule[j - 1];
		rules->rule[j] = r;
		rules->n++;
	}
}

size_t slb_http_host_name_len(const char *host, size_t len)
{
	size_t i;

	if (len && host[0] == '[') {
		const char *end = memchr(host, ']', len);

		return end ? (size_t)(end - host) + 1 : len;
	}
	for (i = 0; i < len && host[i] != ':'; i++)
		;
	if (i > 1 && host[i - 1] == '.')
		i--;
	return i;
}

static int host_matches(const struct slb_http_rule *r, const char *host, size_t len)
{
	switch (r->host_kind) {
	case SLB_HTTP_HOST_EXACT:
		return len == r->host_len && strncasecmp(host, r->host, len) == 0;
	case SLB_HTTP_HOST_WILDCARD:
		/* At least one byte of label before the suffix's dot. */
		return len > r->host_len &&
		       strncasecmp(host + len - r->host_len, r->host, r->host_len) == 0;
	case SLB_HTTP_HOST_ANY:
		break;
	}
	return 1;
}

int slb_http_rules_match(const struct slb_http_rules *rules, const char *host, size_t host_len,
			 const char *path, size_t path_len, const struct slb_http_rule **matched)
{
	const char *query = path ? memchr(path, '?', path_len) : NULL;
	size_t hlen = host ? slb_http_host_name_len(host, host_len) : 0;
	unsigned i;

	if (query)
		path_len = (size_t)(query - path);
	for (i = 0; i < rules->n; i++) {
		const struct slb_http_rule *r = &rules->rule[i];

		if (r->host_kind != SLB_HTTP_HOST_ANY && (!hlen || !host_matches(r, host, hlen)))
			continue;
		if (r->path_len && (path_len < r->path_len || memcmp(path, r->path, r->path_len)))
			continue;
		if (matched)
			*matched = r;
		return r->conf->group;
	}
	if (matched)
		*matched = NULL;
	return rules->default_group;
}
