/*
 * http_rules.h - a listener's forwarding rules (`rule.NAME = host=... path=...
 * group=...`) compiled into a matcher that picks the group of a request.
 *
 * Specificity, most specific first:
 *   1. the host: an exact host beats a wildcard, a wildcard beats a rule
 *      without host=; of two wildcards the longer suffix wins
 *      (`*.api.example.com` before `*.example.com`);
 *   2. then the path: a longer prefix beats a shorter one, and any prefix
 *      beats a rule without path=;
 *   3. ties (same host kind and length, same path length: in practice a host
 *      and its own duplicates) go to the rule written first in the file.
 * The first rule in that order that matches wins; no match means the
 * listener's own group.
 *
 * Host matching is case-insensitive on the request's Host without its port
 * (`Example.COM:8080` is `example.com`) and without one trailing dot. A
 * wildcard `*.example.com` matches any name ending in `.example.com` (one
 * label or more, like nginx's server_name), never `example.com` itself.
 * Path matching is a byte-wise, case-sensitive prefix of the origin-form
 * path, the query excluded: `path=/v1` matches `/v1`, `/v1/x` and `/v1x`
 * (write `/v1/` for the directory only). An absolute-form target
 * (`http://host/v1/x`) is matched as its authority and path (http_policy.c).
 *
 * The matcher points into the listener's configuration, which must outlive
 * it. A match allocates nothing and scans at most SLB_MAX_RULES rules.
 */
#ifndef SLB_HTTP_RULES_H
#define SLB_HTTP_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum slb_http_host_kind { SLB_HTTP_HOST_ANY, SLB_HTTP_HOST_WILDCARD, SLB_HTTP_HOST_EXACT };

struct slb_http_rule {
	const struct slb_rule_conf *conf; /* name, group, line */
	enum slb_http_host_kind host_kind;
	const char *host; /* exact: the name; wildcard: the suffix from its dot (".example.com") */
	size_t host_len;
	const char *path; /* prefix, "" = any */
	size_t path_len;
};

struct slb_http_rules {
	unsigned n;
	int default_group; /* the listener's group */
	struct slb_http_rule rule[SLB_MAX_RULES]; /* most specific first */
};

/* Compiles the rules of <listener> into <rules>, in the order above. */
void slb_http_rules_compile(struct slb_http_rules *rules, const struct slb_listener_conf *listener);

/*
 * The group for a request to <host> (the Host header's value, <host_len>
 * bytes, port allowed; NULL or empty when the request has none) and <path>
 * (<path_len> bytes of the request target; a query from '?' on is ignored).
 * Stores the matching rule in <*matched> (NULL: none, the listener's group)
 * when <matched> is not NULL.
 */
int slb_http_rules_match(const struct slb_http_rules *rules, const char *host, size_t host_len,
			 const char *path, size_t path_len, const struct slb_http_rule **matched);

/*
 * The length of <host> (<len> bytes) without its port and one trailing dot:
 * "a.b:80" -> 3 + 1 + 1, "[::1]:80" -> 5. Case is left to the caller.
 */
size_t slb_http_host_name_len(const char *host, size_t len);

#endif
