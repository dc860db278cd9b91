/*
 * http_policy.h - what an HTTP listener decides per request beyond framing:
 * the group (forwarding rules), the server (cookie persistence over the
 * scheduler), and the cookie fields towards the server and the client. The
 * HTTP proxy asks it through http_route() and when it writes heads; the
 * policy keeps no per-connection state.
 *
 * Persistence cookies (lib/http_cookie.h): the token of every server a
 * listener can reach is computed once at setup; a request whose token names
 * a server of the group its rules chose (or of the backup group, for the
 * listener's own group), that still holds its slot, is up and has weight,
 * goes there; any other request (no cookie, a cookie for a server that is
 * down, drained, removed, or of another group) is scheduled as usual and
 * gets a fresh cookie with its response (cookie_insert). Under
 * cookie_insert, each group a rule reaches, other than the listener's own
 * (whose cookie, with the backup group, is `cookie` itself), has its own
 * cookie name (slb_cookie_group_name()): a client the rules send to two
 * groups keeps a server in both. A rule group whose own cookie is absent
 * still reads `cookie`, which was every group's before, and then sets its own. The token key comes
 * from [failover] auth_key_file when it is set (the pair's shared secret, so
 * both nodes agree), else from the instance name: tokens never show an
 * address or a name, but only a secret key makes them unguessable.
 */
#ifndef SLB_WORKER_HTTP_POLICY_H
#define SLB_WORKER_HTTP_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "http_cookie.h"
#include "http_head.h"
#include "http_parser.h"
#include "http_rules.h"
#include "tls.h"
#include "worker.h"

/* A group a listener's requests may go to, with its members' cookie tokens. */
struct http_policy_group {
	struct slb_sched_group *sched;
	char (*tokens)[SLB_COOKIE_TOKEN_LEN + 1]; /* per member */
	char cookie_name[SLB_COOKIE_NAME_MAX]; /* the cookie that names its server */
};

struct http_policy {
	struct slb_http_rules rules;
	struct slb_sched_group *rule_sched; /* one per rule, in the file's order */
	struct http_policy_group *rule_groups; /* the same, with tokens */
	struct http_policy_group main, backup; /* the listener's group and backup_group */
	bool cookie; /* cookie_insert or cookie_rewrite */
	enum slb_cookie_mode cookie_mode;
	struct slb_cookie_key key;
	const char *cookie_name;
	bool secure; /* https: Secure on inserted cookies */
	uint32_t max_age_ms; /* persistence_timeout: Max-Age of inserted cookies */
	struct slb_tls_server *tls; /* https: certificates, loaded before privileges drop */
	const struct slb_group_conf *groups; /* the config's, to index group_tls */
	unsigned ngroups;
	SSL_CTX **group_tls; /* per config group with server_tls = yes that it reaches */
	const struct slb_group_conf **tls_group; /* per server slot: its server_tls group, or NULL */
};

/*
 * Sets up <p> for HTTP listener <l> of worker <w> (its sched groups already
 * bound). Returns 0, or -1 (logged) when memory ran out, a rule's group has
 * a server without a slot, or the key file or (https) a certificate cannot
 * be read.
 */
int http_policy_init(struct http_policy *p, struct worker *w, struct worker_listener *l);

void http_policy_free(struct http_policy *p);

/* What routing found out about one request. */
struct http_route_result {
	int slot; /* the server, -1 = none can take the request */
	const struct slb_http_rule *rule; /* the rule that chose the group, NULL = none */
	bool sticky; /* the client's cookie named this server: no new cookie needed */
	const char *cookie_name; /* the cookie of the group it went to */
};

/*
 * The server for request <m> of <client> on <l>, avoiding <exclude> (a slot
 * that just failed, or -1). With <m> NULL (a retry), <prev> is the first
 * attempt's result and gives the rule.
 */
void http_policy_route(struct worker *w, struct worker_listener *l, struct http_policy *p,
		       const struct slb_http_msg *m, const struct http_route_result *prev,
		       int exclude, const struct sockaddr *client, struct http_route_result *out);

/* Sets how <fwd> writes the Cookie field towards the server (see struct http_forward). */
void http_policy_forward_cookie(const struct http_policy *p, struct http_forward *fwd);

/*
 * A Set-Cookie value for the response: with cookie_insert, when <route>
 * was not sticky, slb's own cookie for <route>'s server; written into <out>.
 * Returns its length, 0 when none is due, -1 when it does not fit.
 */
int http_policy_insert_cookie(const struct http_policy *p, struct worker *w,
			      const struct http_route_result *route, char *out, size_t cap);

/* Whether the listener rewrites the servers' Set-Cookie fields (cookie_rewrite). */
bool http_policy_rewrites_set_cookie(const struct http_policy *p);

/*
 * With cookie_rewrite: the Set-Cookie value <h> of the response of server
 * <slot> with its token prefixed when <h> sets the configured cookie,
 * written into <out>. Returns the length, 0 to send <h> unchanged, -1 when
 * it does not fit.
 */
long http_policy_rewrite_set_cookie(const struct http_policy *p, struct worker *w, int slot,
				    const struct slb_http_header *h, char *out, size_t cap);

/*
 * A TLS session for a new connection <fd> to the server in <slot>, when its
 * group has server_tls = yes (SNI: the group's check_host, if set); NULL
 * otherwise, with <*wanted> saying whether TLS was due (then NULL is a failure).
 */
SSL *http_policy_server_ssl(const struct http_policy *p, int slot, int fd, bool *wanted);

#endif
