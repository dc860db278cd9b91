/*
 * test_ctl.c - lib/ctl.c: the slbctl grammar (matching, arguments, errors),
 * request lines (printable, bounded), formatting back, JSON strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"

static int parse(const char *line, struct slb_ctl_request *req, char *err)
{
	return slb_ctl_parse_line(line, strlen(line), req, err, 256);
}

static void test_commands(void **state)
{
	struct slb_ctl_request req;
	char err[256];

	(void)state;
	assert_int_equal(parse("describe\n", &req, err), 0);
	assert_int_equal(req.cmd->id, SLB_CTL_DESCRIBE);
	assert_false(req.json);
	assert_int_equal(parse("--json  health", &req, err), 0);
	assert_int_equal(req.cmd->id, SLB_CTL_HEALTH);
	assert_true(req.json);
	assert_int_equal(parse("server set web b2 weight=0\n", &req, err), 0);
	assert_int_equal(req.cmd->id, SLB_CTL_SERVER_SET);
	assert_int_equal(req.nargs, 3);
	assert_string_equal(req.args[0], "web");
	assert_string_equal(req.args[2], "weight=0");
	/* optional trailing argument, present or not */
	assert_int_equal(parse("server add web b3 10.0.0.1:80", &req, err), 0);
	assert_int_equal(req.nargs, 3);
	assert_int_equal(parse("server add web b3 10.0.0.1:80 weight=5", &req, err), 0);
	assert_int_equal(req.nargs, 4);
	/* the longest keyword match wins: "sessions flush" is not "sessions LISTENER" */
	assert_int_equal(parse("sessions flush", &req, err), 0);
	assert_int_equal(req.cmd->id, SLB_CTL_SESSIONS_FLUSH);
	assert_int_equal(parse("sessions web", &req, err), 0);
	assert_int_equal(req.cmd->id, SLB_CTL_SESSIONS);
	assert_int_equal(req.nargs, 1);
	assert_int_equal(parse("failover status", &req, err), 0);
	assert_int_equal(req.cmd->id, SLB_CTL_FAILOVER_STATUS);
}

static void test_errors(void **state)
{
	struct slb_ctl_request req;
	char err[256], big[SLB_CTL_REQUEST_MAX + 10];

	(void)state;
	assert_int_equal(parse("", &req, err), -1);
	assert_string_equal(err, "no command (try 'help')");
	assert_int_equal(parse("frob", &req, err), -1);
	assert_string_equal(err, "unknown command 'frob' (try 'help')");
	assert_int_equal(parse("server frob", &req, err), -1);
	assert_string_equal(err, "unknown command 'server frob': 'server' takes add, set, remove");
	assert_int_equal(parse("failover", &req, err), -1);
	assert_string_equal(err, "'failover' needs one of: status, takeover, release");
	assert_int_equal(parse("server set web b2", &req, err), -1);
	assert_string_equal(err, "usage: server set GROUP NAME weight=N [drain=D]");
	assert_int_equal(parse("describe now", &req, err), -1);
	assert_string_equal(err, "usage: describe");
	assert_int_equal(parse("describe\001", &req, err), -1);
	assert_string_equal(err, "request is not one line of printable ASCII");
	assert_int_equal(parse("describe\n\n", &req, err), -1);
	assert_int_equal(slb_ctl_parse_line("desc\0ribe", 9, &req, err, sizeof(err)), -1);
	assert_int_equal(parse("a b c d e f g h i j k l m n o p q", &req, err), -1);
	assert_string_equal(err, "more than 16 words");
	memset(big, 'x', sizeof(big));
	assert_int_equal(slb_ctl_parse_line(big, SLB_CTL_REQUEST_MAX, &req, err, sizeof(err)), -1);
	assert_string_equal(err, "request longer than 4096 bytes");
	memset(big, 'x', 200);
	big[200] = '\0';
	assert_int_equal(slb_ctl_parse_line(big, 200, &req, err, sizeof(err)), -1);
}

static void test_format(void **state)
{
	struct slb_ctl_request req, back;
	char line[SLB_CTL_REQUEST_MAX + 1], err[256];
	char *words[] = { "server", "set", "web", "b2", "weight=7" };

	(void)state;
	assert_int_equal(slb_ctl_parse_words(5, words, &req, err, sizeof(err)), 0);
	req.json = true;
	assert_int_equal(slb_ctl_format(&req, line, sizeof(line)), 34);
	assert_string_equal(line, "--json server set web b2 weight=7\n");
	assert_int_equal(parse(line, &back, err), 0);
	assert_ptr_equal(back.cmd, req.cmd);
	assert_true(back.json);
	assert_string_equal(back.args[2], "weight=7");
	assert_int_equal(slb_ctl_format(&req, line, 10), -1);
}

static void test_json_string(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	slb_ctl_json_string(f, "a\"b\\c\n\x01\xff");
	fclose(f);
	assert_string_equal(text, "\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\"");
	free(text);
}

/* Every command of the table parses from its own usage line (labels as words). */
static void test_table_consistent(void **state)
{
	(void)state;
	for (unsigned i = 0; i < slb_ctl_ncommands; i++) {
		const struct slb_ctl_command *c = &slb_ctl_commands[i];
		struct slb_ctl_request req;
		char line[256], err[256];
		size_t used = 0;

		assert_int_equal((unsigned)c->id, i);
		for (unsigned k = 0; k < 3 && c->words[k]; k++)
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s ", c->words[k]);
		for (unsigned k = 0; k < SLB_CTL_MAX_ARGS && c->args[k]; k++)
			used += (size_t)snprintf(line + used, sizeof(line) - used, "x%u ", k);
		if (parse(line, &req, err) != 0)
			fail_msg("'%s': %s", line, err);
		assert_ptr_equal(req.cmd, c);
	}
}

/* A name that a command line would read as the keyword of another command. */
static void test_name_clash(void **state)
{
	(void)state;
	assert_ptr_equal(slb_ctl_name_clash("LISTENER", "flush"),
			 &slb_ctl_commands[SLB_CTL_SESSIONS_FLUSH]);
	assert_null(slb_ctl_name_clash("LISTENER", "sessions"));
	assert_null(slb_ctl_name_clash("LISTENER", "web80"));
	/* Only where that argument comes right after the keywords. */
	assert_null(slb_ctl_name_clash("GROUP", "flush"));
	assert_null(slb_ctl_name_clash("NAME", "start"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_table_consistent),
		cmocka_unit_test(test_name_clash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
