/*
 * log_capture.h - for unit tests that assert on log lines: the group setup
 * sends slb's log to a temporary file, log_capture_count() counts its lines
 * holding a string. Static: each test program includes it once.
 */
#ifndef SLB_TEST_LOG_CAPTURE_H
#define SLB_TEST_LOG_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char log_path[] = "/tmp/slb-test-log-XXXXXX";

static int log_capture_setup(void **state)
{
	int fd = mkstemp(log_path);

	(void)state;
	if (fd == -1)
		return -1;
	close(fd);
	slb_log_open("slb-test", SLB_LOG_FILE, log_path, LOG_INFO);
	return 0;
}

static int log_capture_teardown(void **state)
{
	(void)state;
	slb_log_open("slb-test", SLB_LOG_STDERR, NULL, LOG_INFO);
	unlink(log_path);
	return 0;
}

/* The log's lines that contain <needle>. */
static int log_capture_count(const char *needle)
{
	char line[1024];
	FILE *f = fopen(log_path, "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

#endif
