/*
 * test_fd_limit.c - the open-file limit: a low soft limit is raised to the
 * hard one with one line at info, a second call changes and says nothing,
 * and a hard limit below what max_connections needs (six descriptors per
 * tcp connection, four per http one, one per udp flow, and the idle pipes)
 * is a warning.
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
		{ .protocol = SLB_PROTO_TCP, .max_connections = 400 },
		{ .protocol = SLB_PROTO_UDP, .max_connections = 500 },
		{ .protocol = SLB_PROTO_HTTP, .max_connections = 0 }, /* unlimited: not counted */
	};
	struct slb_config config = { .nlisteners = 3, .listeners = listeners };
	const char *warning = "warning: the open-file limit 3500 is below the 3991 descriptors";

	(void)state;
	/* 64 + 1024 (idle pipes) + 3 listeners + 6 x 400 (tcp) + 500 (udp) = 3991 needed. */
	set_limits(3991, 3991);
	assert_int_equal(slb_fd_limit_raise(&config), 0);
	assert_int_equal(log_capture_count("is below the"), 0);
	set_limits(3500, 3500);
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
