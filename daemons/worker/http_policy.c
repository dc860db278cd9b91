/*
 * http_policy.c - forwarding rules and cookie persistence for one HTTP
 * listener (see http_policy.h).
 */
#include "http_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* The secret tokens are derived from: the failover key file, else the instance name. */
static int cookie_key(struct slb_cookie_key *key, const struct slb_config *cf)
{
	const char *path = cf->failover.auth_key_file;
	unsigned char buf[4096];
	ssize_t n;
	int fd;

	if (!path[0]) {
		slb_cookie_key_derive(key, cf->global.instance, strlen(cf->global.instance));
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		slb_err("cookie persistence: cannot read %s: %m", path);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0) {
		slb_err("cookie persistence: %s is empty or unreadable", path);
		return -1;
	}
	slb_cookie_key_derive(key, buf, (size_t)n);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

/* The listener's certificates; the master checked them, but files can change meanwhile. */
static int load_tls(struct http_policy *p, struct worker *w, const struct slb_listener_conf *lc)
{
	char *errors = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&errors, &len);

	if (!f)
		return -1;
	p->tls = slb_tls_server_new(lc, w->config->path, f);
	fclose(f);
	if (!p->tls)
		slb_err("%.*s", len ? (int)len - 1 : 0, errors ? errors : ""); /* without its newline */
	free(errors);
	return p->tls ? 0 : -1;
}

/*
 * Sets up <g> for <sched> of config group <gc>: its cookie name (`cookie`
 * for the listener's own group <own>) and its members' tokens.
 */
static int group_tokens(struct http_policy *p, struct worker *w, struct http_policy_group *g,
			struct slb_sched_group *sched, const struct slb_group_conf *gc, int own)
{
	g->sched = sched;
	if (p->cookie_mode == SLB_COOKIE_INSERT && gc - w->config->groups != own)
		slb_cookie_group_name(&p->key, p->cookie_name, gc->name, g->cookie_name);
	else
		snprintf(g->cookie_name, sizeof(g->cookie_name), "%s", p->cookie_name);
	if (!p->cookie || !sched->nmembers)
		return 0;
	g->tokens = calloc(sched->nmembers, sizeof(*g->tokens));
	if (!g->tokens)
		return -1;
	for (unsigned i = 0; i < sched->nmembers; i++) {
		const struct slb_shm_server *s = &w->shm.servers[sched->members[i].slot];

		slb_cookie_token(&p->key, s->group, s->name, g->tokens[i]);
	}
	return 0;
}

/* Marks the slots of <sched>'s members when its group <gc> reaches its servers over TLS. */
static int mark_tls(struct http_policy *p, const struct slb_sched_group *sched,
		    const struct slb_group_conf *gc)
{
	SSL_CTX **ctx = &p->group_tls[gc - p->groups];

	if (!gc->server_tls)
		return 0;
	if (!*ctx && !(*ctx = slb_tls_group_client(gc)))
		return -1;
	if (!p->tls_group && !(p->tls_group = calloc(SLB_MAX_SERVERS, sizeof(*p->tls_group))))
		return -1;
	for (unsigned i = 0; i < sched->nmembers; i++)
		p->tls_group[sched->members[i].slot] = gc;
	return 0;
}

SSL *http_policy_server_ssl(const struct http_policy *p, int slot, int fd, bool *wanted)
{
	const struct slb_group_conf *gc = p->tls_group ? p->tls_group[slot] : NULL;

	*wanted = gc != NULL;
	return gc ? slb_tls_client_ssl(p->group_tls[gc - p->groups], fd, gc->check_host) : NULL;
}

int http_policy_init(struct http_policy *p, struct worker *w, struct worker_listener *l)
{
	const struct slb_listener_conf *lc = l->conf;
	unsigned i;

	memset(p, 0, sizeof(*p));
	slb_http_rules_compile(&p->rules, lc);
	p->cookie = lc->persistence == SLB_PERSIST_COOKIE_INSERT ||
		    lc->persistence == SLB_PERSIST_COOKIE_REWRITE;
	p->cookie_mode = lc->persistence == SLB_PERSIST_COOKIE_REWRITE ? SLB_COOKIE_REWRITE
								       : SLB_COOKIE_INSERT;
	p->cookie_name = lc->cookie[0] ? lc->cookie : SLB_COOKIE_DEFAULT_NAME;
	p->secure = lc->protocol == SLB_PROTO_HTTPS;
	p->max_age_ms = lc->persistence_timeout_ms;
	if (p->cookie && cookie_key(&p->key, w->config) == -1)
		return -1;
	if (lc->protocol == SLB_PROTO_HTTPS && load_tls(p, w, lc) == -1)
		return -1;
	p->groups = w->config->groups;
	p->ngroups = w->config->ngroups;
	p->rule_sched = calloc(lc->nrules + 1, sizeof(*p->rule_sched));
	p->rule_groups = calloc(lc->nrules + 1, sizeof(*p->rule_groups));
	p->group_tls = calloc(p->ngroups + 1, sizeof(*p->group_tls));
	if (!p->rule_sched || !p->rule_groups || !p->group_tls)
		goto oom;
	for (i = 0; i < lc->nrules; i++) {
		if (slb_sched_group_init(&p->rule_sched[i], lc->scheduler,
					 &w->config->groups[lc->rules[i].group], &w->shm) == -1)
			return -1;
		if (group_tokens(p, w, &p->rule_groups[i], &p->rule_sched[i],
				 &w->config->groups[lc->rules[i].group], lc->group) == -1 ||
		    mark_tls(p, &p->rule_sched[i], &w->config->groups[lc->rules[i].group]) == -1)
			goto oom;
	}
	if (group_tokens(p, w, &p->main, &l->sched, &w->config->groups[lc->group], lc->group) == -1 ||
	    (lc->backup_group >= 0 &&
	     group_tokens(p, w, &p->backup, &l->backup, &w->config->groups[lc->backup_group],
			  lc->backup_group) == -1) ||
	    mark_tls(p, &l->sched, &w->config->groups[lc->group]) == -1 ||
	    (lc->backup_group >= 0 &&
	     mark_tls(p, &l->backup, &w->config->groups[lc->backup_group]) == -1))
		goto oom;
	return 0;
oom:
	slb_err("listener %s: out of memory", lc->name);
	return -1;
}

void http_policy_free(struct http_policy *p)
{
	unsigned i;

	for (i = 0; p->rule_sched && i < p->rules.n; i++) {
		slb_sched_group_free(&p->rule_sched[i]);
		free(p->rule_groups[i].tokens);
	}
	free(p->rule_sched);
	free(p->rule_groups);
	free(p->main.tokens);
	free(p->backup.tokens);
	slb_tls_server_free(p->tls);
	for (i = 0; p->group_tls && i < p->ngroups; i++)
		SSL_CTX_free(p->group_tls[i]);
	free(p->group_tls);
	free(p->tls_group);
	memset(p, 0, sizeof(*p));
}

/* The value of <m>'s Host field, or NULL. */
static const struct slb_http_header *host_of(const struct slb_http_msg *m)
{
	return m->host >= 0 ? &m->headers[m->host] : NULL;
}

/* The slot of the member of <g> whose token is <token>, if it may take a request; else -1. */
static int sticky_member(struct worker *w, const struct http_policy_group *g, const char *token,
			 int exclude)
{
	for (unsigned i = 0; g->tokens && i < g->sched->nmembers; i++) {
		const struct slb_sched_member *mb = &g->sched->members[i];
		struct slb_shm_server *s = &w->shm.servers[mb->slot];

		if (memcmp(g->tokens[i], token, SLB_COOKIE_TOKEN_LEN) != 0)
			continue;
		if ((int)mb->slot == exclude ||
		    atomic_load_explicit(&s->serial, memory_order_acquire) != mb->serial ||
		    atomic_load_explicit(&s->health, memory_order_relaxed) != SLB_HEALTH_UP ||
		    atomic_load_explicit(&s->weight, memory_order_relaxed) == 0)
			return -1;
		return (int)mb->slot;
	}
	return -1;
}

/*
 * The server <m>'s cookie for <g> names, if it may take the request (with
 * <backup>, a member of the backup group too); -1 otherwise. <*sticky>:
 * the group's own cookie named it, no new one is due. A rule group whose
 * own cookie is absent reads the listener's `cookie`, every group's cookie
 * before each had its own, and then gets its own cookie.
 */
static int cookie_member(struct worker *w, const struct http_policy *p,
			 const struct http_policy_group *g, bool backup, const struct slb_http_msg *m,
			 int exclude, bool *sticky)
{
	char token[SLB_COOKIE_TOKEN_LEN + 1];
	int slot = -1;

	if (slb_cookie_request_token(m, g->cookie_name, p->cookie_mode, token)) {
		slot = sticky_member(w, g, token, exclude);
		if (slot < 0 && backup)
			slot = sticky_member(w, &p->backup, token, exclude);
		*sticky = slot >= 0;
	} else if (strcmp(g->cookie_name, p->cookie_name) != 0 &&
		   slb_cookie_request_token(m, p->cookie_name, p->cookie_mode, token)) {
		slot = sticky_member(w, g, token, exclude);
	}
	return slot;
}

void http_policy_forward_cookie(const struct http_policy *p, struct http_forward *fwd)
{
	fwd->cookie = p->cookie ? p->cookie_name : NULL;
	fwd->cookie_mode = p->cookie_mode;
}

void http_policy_route(struct worker *w, struct worker_listener *l, struct http_policy *p,
		       const struct slb_http_msg *m, const struct http_route_result *prev,
		       int exclude, const struct sockaddr *client, struct http_route_result *out)
{
	const struct slb_http_header *host = m ? host_of(m) : NULL;
	const struct http_policy_group *g;
	unsigned idx;

	out->rule = prev ? prev->rule : NULL;
	out->sticky = false;
	if (m && m->authority) {
		/* absolute-form: the rules see its path; its authority is the host (the parser
		 * made sure a Host field agrees) */
		const char *path = m->authority + m->authority_len;

		slb_http_rules_match(&p->rules, m->authority, m->authority_len, path,
				     m->target_len - (size_t)(path - m->target), &out->rule);
	} else if (m)
		slb_http_rules_match(&p->rules, host ? host->value : NULL, host ? host->value_len : 0,
				     m->target, m->target_len, &out->rule);
	idx = out->rule ? (unsigned)(out->rule->conf - l->conf->rules) : 0;
	g = out->rule ? &p->rule_groups[idx] : &p->main;
	out->cookie_name = g->cookie_name;
	if (p->cookie && m) {
		out->slot = cookie_member(w, p, g, !out->rule, m, exclude, &out->sticky);
		if (out->slot >= 0)
			return;
	}
	out->slot = out->rule ? slb_sched_pick(g->sched, w->shm.servers, exclude, client)
			      : worker_persistence_pick(w, l, exclude, client);
}

/* The token of the server in <slot>, from its names in shm. */
static void slot_token(const struct http_policy *p, struct worker *w, int slot,
		       char token[SLB_COOKIE_TOKEN_LEN + 1])
{
	const struct slb_shm_server *s = &w->shm.servers[slot];

	slb_cookie_token(&p->key, s->group, s->name, token);
}

int http_policy_insert_cookie(const struct http_policy *p, struct worker *w,
			      const struct http_route_result *route, char *out, size_t cap)
{
	char token[SLB_COOKIE_TOKEN_LEN + 1];

	if (!p->cookie || p->cookie_mode != SLB_COOKIE_INSERT || route->sticky || route->slot < 0)
		return 0;
	slot_token(p, w, route->slot, token);
	return slb_cookie_insert_set_cookie(route->cookie_name, token,
					    p->max_age_ms / 1000, p->secure, out, cap);
}

bool http_policy_rewrites_set_cookie(const struct http_policy *p)
{
	return p->cookie && p->cookie_mode == SLB_COOKIE_REWRITE;
}

long http_policy_rewrite_set_cookie(const struct http_policy *p, struct worker *w, int slot,
				    const struct slb_http_header *h, char *out, size_t cap)
{
	char token[SLB_COOKIE_TOKEN_LEN + 1];
	size_t len;
	int rc;

	if (!http_policy_rewrites_set_cookie(p) || slot < 0 || h->field != SLB_HTTP_F_SET_COOKIE)
		return 0;
	slot_token(p, w, slot, token);
	rc = slb_cookie_rewrite_set_cookie(h->value, h->value_len, p->cookie_name, token, out, cap,
					   &len);
	return rc == 1 ? (long)len : rc;
}
