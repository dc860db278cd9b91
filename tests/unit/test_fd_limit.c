/*
 * test_fd_limit.c - the open-file limit: a low soft limit is raised to the
 * hard one with one line at info, a second call changes and says nothing,
 * and a hard limit below what max_connections needs (two descriptors per
 * tcp/http connection, one per udp flow) is a warning.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "fd_limit.h"
#include "log.h"
#include "log_capture.h"

static void set_limits(rlim_t soft, rlim_t hard)
{
	struct rlimit lim = { .rlim_cur = soft, .rlim_max = hard };

	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
}

static rlim_t soft_limit(void)
{
	struct rlimit lim;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &lim), 0);
	return lim.rlim_cur;
}

static void test_soft_raised_to_hard(void **state)
{
	(void)state;
	set_limits(256, 4096);
	assert_int_equal(slb_fd_limit_raise(NULL), 0);
	assert_int_equal(soft_limit(), 4096);
	assert_int_equal(log_capture_count("info: raised the open-file limit from 256 to 4096"), 1);
	assert_int_equal(slb_fd_limit_raise(NULL), 0);
	assert_int_equal(soft_limit(), 4096);
	assert_int_equal(log_capture_count("raised the open-file limit"), 1);
}

static void test_warns_below_max_connections(void **state)
{
	struct slb_listener_conf listeners[3] = {
		{ .protocol = SLB_PROTO_TCP, .max_connections = 1000 },
		{ .protocol = SLB_PROTO_UDP, .max_connections = 500 },
		{ .protocol = SLB_PROTO_HTTP, .max_connections = 0 }, /* unlimited: not counted */
	};
	struct slb_config config = { .nlisteners = 3, .listeners = listeners };
	const char *warning = "warning: the open-file limit 2000 is below the 2567 descriptors";

	(void)state;
	/* 64 + 3 listeners + 2 x 1000 + 500 = 2567 needed. */
	set_limits(2567, 2567);
	assert_int_equal(slb_fd_limit_raise(&config), 0);
	assert_int_equal(log_capture_count("is below the"), 0);
	set_limits(2000, 2000);
	assert_int_equal(slb_fd_limit_raise(&config), 0);
	assert_int_equal(log_capture_count(warning), 1);
	/* The children pass no config: no warning of theirs. */
	assert_int_equal(slb_fd_limit_raise(NULL), 0);
	assert_int_equal(log_capture_count("is below the"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soft_raised_to_hard),
		cmocka_unit_test(test_warns_below_max_connections),
	};

	return cmocka_run_group_tests(tests, log_capture_setup, log_capture_teardown);
}
