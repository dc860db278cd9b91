/*
 * test_log.c - logging: lines in a file carry the program and the level,
 * the level filter holds, a limited message is written at most once per
 * interval with the count of what was held back, and -f's stderr gives way
 * to syslog only when stderr is the journal.
 */
#include <setjmp.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "log_capture.h"

static void test_lines_and_levels(void **state)
{
	(void)state;
	slb_info("hello %d", 42);
	slb_debug("not at info level");
	assert_int_equal(log_capture_count("slb-test["), 1);
	assert_int_equal(log_capture_count("]: info: hello 42"), 1);
	assert_int_equal(log_capture_count("not at info level"), 0);
}

static void test_limited(void **state)
{
	struct slb_log_limit limit = SLB_LOG_LIMIT(200);

	(void)state;
	for (int i = 0; i < 5; i++)
		slb_log_limited(&limit, LOG_WARNING, "accept failed (%d)", i);
	assert_int_equal(log_capture_count("accept failed"), 1);
	assert_int_equal(log_capture_count("warning: accept failed (0)"), 1);
	usleep(250000);
	slb_log_limited(&limit, LOG_WARNING, "accept failed (%d)", 5);
	assert_int_equal(log_capture_count("accept failed"), 2);
	assert_int_equal(log_capture_count("accept failed (5) (4 more like it held back)"), 1);
	/* Below the level: neither written nor counted. */
	slb_log_limited(&limit, LOG_DEBUG, "quiet");
	assert_int_equal(log_capture_count("quiet"), 0);
}

/* log = syslog under -f, with JOURNAL_STREAM = <journal>, stderr being our file. */
static int stderr_lines_with_journal(const char *journal, const char *marker)
{
	int saved = dup(2), fd = open(log_path, O_WRONLY | O_APPEND | O_CLOEXEC);

	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	if (journal)
		setenv("JOURNAL_STREAM", journal, 1);
	else
		unsetenv("JOURNAL_STREAM");
	slb_log_force_stderr(true);
	slb_log_open("slb-test", SLB_LOG_SYSLOG, NULL, LOG_INFO);
	slb_info("%s", marker);
	slb_log_force_stderr(false);
	unsetenv("JOURNAL_STREAM");
	slb_log_open("slb-test", SLB_LOG_FILE, log_path, LOG_INFO);
	dup2(saved, 2);
	close(saved);
	return log_capture_count(marker);
}

static void test_journal_stream(void **state)
{
	char journal[64], junk[72];
	struct stat st;

	(void)state;
	assert_int_equal(stat(log_path, &st), 0);
	snprintf(journal, sizeof(journal), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	snprintf(junk, sizeof(junk), "%sx", journal);
	/* stderr is the journal: the line goes to syslog, not to stderr. */
	assert_int_equal(stderr_lines_with_journal(journal, "to the journal"), 0);
	/* Anything else keeps -f's stderr. */
	assert_int_equal(stderr_lines_with_journal(NULL, "no journal"), 1);
	assert_int_equal(stderr_lines_with_journal("1:1", "another stream"), 1);
	assert_int_equal(stderr_lines_with_journal(junk, "malformed"), 1);
	assert_int_equal(stderr_lines_with_journal("", "empty"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_levels),
		cmocka_unit_test(test_limited),
		cmocka_unit_test(test_journal_stream),
	};

	return cmocka_run_group_tests(tests, log_capture_setup, log_capture_teardown);
}
