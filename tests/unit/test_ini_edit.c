/*
 * test_ini_edit.c - lib/ini_edit.c: values read by section and key, keys
 * set, added and removed, sections added and removed, hashes that change
 * only with content; every other line stays as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ini_edit.h"

static const char base[] = "[global]\n"
			   "workers = 2\n"
			   "\n"
			   "[group web] ; the servers\n"
			   "server.b1 = 10.0.0.1:80 weight=100\n"
			   "check = tcp\n"
			   "; a comment\n"
			   "\n"
			   "[listener web]\n"
			   "bind = 10.0.0.100:80";

static char *copy(size_t *len)
{
	*len = strlen(base);
	return strdup(base);
}

static void test_value(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(slb_ini_value(base, strlen(base), "group web", "server.b1", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "10.0.0.1:80 weight=100");
	assert_int_equal(slb_ini_value(base, strlen(base), "listener web", "bind", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "10.0.0.100:80");
	assert_int_equal(slb_ini_value(base, strlen(base), "group web", "check_port", buf, sizeof(buf)), 0);
	assert_int_equal(slb_ini_value(base, strlen(base), "group api", "check", buf, sizeof(buf)), -1);
}

static void test_set(void **state)
{
	size_t len;
	char *t = copy(&len);

	(void)state;
	/* a new key goes after the section's last key, before its comment */
	assert_int_equal(slb_ini_set(&t, &len, "group web", "server.b2", "10.0.0.2:80 weight=5"), 0);
	assert_non_null(strstr(t, "check = tcp\nserver.b2 = 10.0.0.2:80 weight=5\n; a comment\n"));
	/* an existing one is replaced in place */
	assert_int_equal(slb_ini_set(&t, &len, "group web", "check", "none"), 0);
	assert_non_null(strstr(t, "weight=100\ncheck = none\nserver.b2"));
	/* removed */
	assert_int_equal(slb_ini_set(&t, &len, "group web", "server.b1", NULL), 0);
	assert_null(strstr(t, "server.b1"));
	/* a key in the last section of a file without a final newline */
	assert_int_equal(slb_ini_set(&t, &len, "listener web", "enabled", "no"), 0);
	assert_non_null(strstr(t, "bind = 10.0.0.100:80\nenabled = no\n"));
	assert_int_equal(slb_ini_set(&t, &len, "group api", "check", "tcp"), -1);
	assert_int_equal(strlen(t), len);
	assert_memory_equal(t, base, strlen("[global]\nworkers = 2\n\n[group web]"));
	free(t);
}

static void test_sections(void **state)
{
	size_t len;
	char *t = copy(&len);

	(void)state;
	assert_int_equal(slb_ini_add_section(&t, &len, "group api"), 0);
	assert_int_equal(slb_ini_set(&t, &len, "group api", "type", "normal"), 0);
	assert_non_null(strstr(t, "bind = 10.0.0.100:80\n\n[group api]\ntype = normal\n"));
	assert_int_equal(slb_ini_remove_section(&t, &len, "group web"), 0);
	assert_string_equal(t, "[global]\nworkers = 2\n\n[listener web]\nbind = 10.0.0.100:80\n"
			       "\n[group api]\ntype = normal\n");
	assert_int_equal(slb_ini_remove_section(&t, &len, "group web"), -1);
	free(t);
}

static void test_hashes(void **state)
{
	size_t len;
	char *t = copy(&len);
	uint64_t h = slb_ini_section_hash(t, len, "group web");

	(void)state;
	assert_int_not_equal(h, 0);
	assert_int_equal(slb_ini_section_hash(t, len, "group api"), 0);
	/* comments and blank lines are not content */
	assert_int_equal(slb_ini_set(&t, &len, "global", "workers", "2"), 0);
	assert_int_equal(slb_ini_section_hash(t, len, "group web"), h);
	assert_int_equal(slb_ini_set(&t, &len, "group web", "check", "none"), 0);
	assert_int_not_equal(slb_ini_section_hash(t, len, "group web"), h);
	assert_int_equal(slb_ini_value_hash("a"), slb_ini_value_hash("a"));
	assert_int_not_equal(slb_ini_value_hash("a"), slb_ini_value_hash("b"));
	assert_int_not_equal(slb_ini_value_hash(""), slb_ini_value_hash(NULL));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_hashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
