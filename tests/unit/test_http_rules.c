/*
 * test_http_rules.c - forwarding rules: a table of requests against one rule
 * set (exact, wildcard and no host; path prefixes; ties in file order; ports,
 * case, trailing dots and queries), the host checks of the config, and a
 * listener without rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config_values.h"
#include "http_rules.h"

enum { G_DEFAULT, G_API, G_APIV2, G_WILD, G_DEEPWILD, G_STATIC, G_FIRST, G_SECOND, G_ANYHOST };

static struct slb_listener_conf listener;

/* Written in an order unlike the specificity order, on purpose. */
static const struct {
	const char *spec;
	int group;
} rule_specs[] = {
	{ "path=/static/", G_STATIC },
	{ "host=*.example.com", G_WILD },
	{ "host=api.example.com", G_API },
	{ "host=API.example.com path=/v2/", G_APIV2 },
	{ "host=*.eu.example.com", G_DEEPWILD },
	{ "host=tie.example.org path=/a", G_FIRST },
	{ "host=tie.example.org path=/b", G_ANYHOST },
	{ "path=/a host=tie.example.org", G_SECOND },
	{ "path=/", G_ANYHOST },
};

static int setup(void **state)
{
	char err[SLB_VALUE_ERRLEN], group[SLB_NAME_MAX];
	unsigned i;

	(void)state;
	memset(&listener, 0, sizeof(listener));
	listener.group = G_DEFAULT;
	for (i = 0; i < sizeof(rule_specs) / sizeof(rule_specs[0]); i++) {
		struct slb_rule_conf *r = &listener.rules[listener.nrules++];
		char spec[256];

		snprintf(spec, sizeof(spec), "%s group=g", rule_specs[i].spec);
		snprintf(r->name, sizeof(r->name), "r%u", i);
		if (slb_value_rule(spec, r, group, err) == -1)
			fail_msg("%s: %s", spec, err);
		r->group = rule_specs[i].group;
	}
	return 0;
}

static void test_match_table(void **state)
{
	static const struct {
		const char *host, *path;
		int group;
	} cases[] = {
		/* exact host beats wildcard beats any */
		{ "api.example.com", "/x", G_API },
		{ "www.example.com", "/x", G_WILD },
		{ "other.org", "/x", G_ANYHOST },
		/* exact host, longer path first */
		{ "api.example.com", "/v2/users", G_APIV2 },
		{ "api.example.com", "/v2", G_API }, /* "/v2" is not under "/v2/" */
		/* a host rule beats a path rule of a less specific host */
		{ "api.example.com", "/static/a.css", G_API },
		{ "x.org", "/static/a.css", G_STATIC },
		/* case, port, trailing dot */
		{ "API.Example.COM:8443", "/v2/x", G_APIV2 },
		{ "api.example.com.", "/x", G_API },
		{ "WWW.EXAMPLE.COM:80", "/", G_WILD },
		/* wildcards: longer suffix first, deep names, never the bare domain */
		{ "a.eu.example.com", "/", G_DEEPWILD },
		{ "a.b.c.example.com", "/", G_WILD },
		{ "example.com", "/", G_ANYHOST },
		{ ".example.com", "/", G_ANYHOST },
		{ "badexample.com", "/", G_ANYHOST },
		{ "example.com.evil.org", "/", G_ANYHOST },
		/* ties go to the rule written first */
		{ "tie.example.org", "/abc", G_FIRST },
		{ "tie.example.org", "/b", G_ANYHOST },
		/* the query is not part of the path */
		{ "api.example.com", "/v1?x=/v2/", G_API },
		{ "x.org", "/?/static/", G_ANYHOST },
		{ "x.org", "/static/?a", G_STATIC },
		/* no Host at all: only host-less rules */
		{ NULL, "/static/x", G_STATIC },
		{ "", "/x", G_ANYHOST },
		/* paths are case-sensitive */
		{ "x.org", "/STATIC/a", G_ANYHOST },
		/* IPv6 literal with a port */
		{ "[::1]:80", "/static/", G_STATIC },
	};
	struct slb_http_rules rules;
	const struct slb_http_rule *m;
	unsigned i, failed = 0;

	(void)state;
	slb_http_rules_compile(&rules, &listener);
	assert_int_equal(rules.n, listener.nrules);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *h = cases[i].host;
		int g = slb_http_rules_match(&rules, h, h ? strlen(h) : 0, cases[i].path,
					     strlen(cases[i].path), &m);

		if (g != cases[i].group) {
			print_error("host %s path %s: group %d, expected %d (rule %s)\n",
				    h ? h : "(none)", cases[i].path, g, cases[i].group,
				    m ? m->conf->name : "none");
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void test_default_group(void **state)
{
	struct slb_listener_conf empty = { .group = 7 };
	struct slb_http_rules rules;
	const struct slb_http_rule *m = (const void *)&rules;

	(void)state;
	slb_http_rules_compile(&rules, &empty);
	assert_int_equal(slb_http_rules_match(&rules, "a.org", 5, "/", 1, &m), 7);
	assert_null(m);
	/* A listener whose rules all miss falls back to its group too. */
	memset(&empty, 0, sizeof(empty));
	empty.group = 3;
	empty.nrules = 1;
	snprintf(empty.rules[0].host, sizeof(empty.rules[0].host), "only.org");
	empty.rules[0].group = 1;
	slb_http_rules_compile(&rules, &empty);
	assert_int_equal(slb_http_rules_match(&rules, "ONLY.org", 8, "/", 1, &m), 1);
	assert_string_equal(m->host, "only.org");
	assert_int_equal(slb_http_rules_match(&rules, "other.org", 9, "/", 1, &m), 3);
	assert_null(m);
}

static void test_host_name_len(void **state)
{
	(void)state;
	assert_int_equal(slb_http_host_name_len("a.b:80", 6), 3);
	assert_int_equal(slb_http_host_name_len("a.b.", 4), 3);
	assert_int_equal(slb_http_host_name_len("a.b.:80", 7), 3);
	assert_int_equal(slb_http_host_name_len("[::1]:80", 8), 5);
	assert_int_equal(slb_http_host_name_len("[::1", 4), 4);
	assert_int_equal(slb_http_host_name_len(".", 1), 1);
	assert_int_equal(slb_http_host_name_len("", 0), 0);
}

static void test_config_host_and_path(void **state)
{
	static const char *const bad[] = {
		"host=a.example.com:80 group=g", "host=*example.com group=g", "host=a.*.com group=g",
		"host=a..com group=g", "host=.a.com group=g", "host=a.com. group=g",
		"host=* group=g", "host=[::1] group=g", "host=a/b group=g",
		"path=/a?b group=g", "path=/a#b group=g", "path=/\x7f group=g",
		"path=/\xc3\xa9 group=g",
	};
	char err[SLB_VALUE_ERRLEN], group[SLB_NAME_MAX];
	struct slb_rule_conf r;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (slb_value_rule(bad[i], &r, group, err) != -1)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(slb_value_rule("host=*.Ex-1_a.COM path=/A group=g", &r, group, err), 0);
	assert_string_equal(r.host, "*.ex-1_a.com");
	assert_string_equal(r.path, "/A");
	assert_int_equal(slb_value_rule("host=10.0.0.1 group=g", &r, group, err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_match_table, setup),
		cmocka_unit_test(test_default_group),
		cmocka_unit_test(test_host_name_len),
		cmocka_unit_test(test_config_host_and_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
