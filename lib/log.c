/*
 * log.c - syslog, stderr or file logging with a level filter.
 *
 * File and stderr lines carry a timestamp, the program name and its pid, so
 * the bats tests can assert on them the same way an operator greps them.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static struct {
	char ident[32];
	enum slb_log_target target;
	int fd;
	int level;
	bool force_stderr;
} slb_logger = { "slb", SLB_LOG_STDERR, 2, LOG_INFO, false };

static const char *level_name(int level)
{
	switch (level) {
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

void slb_log_open(const char *ident, enum slb_log_target target, const char *file, int level)
{
	if (slb_logger.target == SLB_LOG_FILE && slb_logger.fd > 2)
		close(slb_logger.fd);
	if (slb_logger.target == SLB_LOG_SYSLOG)
		closelog();
	snprintf(slb_logger.ident, sizeof(slb_logger.ident), "%s", ident);
	slb_logger.level = level;
	slb_logger.target = target;
	slb_logger.fd = 2;
	if (slb_logger.force_stderr && target == SLB_LOG_SYSLOG)
		slb_logger.target = SLB_LOG_STDERR;
	if (slb_logger.target == SLB_LOG_FILE) {
		int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

		if (fd == -1) {
			slb_logger.target = SLB_LOG_STDERR;
			slb_log(LOG_ERR, "cannot open log file %s: %m; logging to stderr", file);
		} else {
			slb_logger.fd = fd;
		}
	} else if (slb_logger.target == SLB_LOG_SYSLOG) {
		openlog(slb_logger.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

void slb_log_configure(const char *ident, const struct slb_global_conf *global)
{
	slb_log_open(ident, global->log, global->log_file, global->log_level);
}

/*
 * Whether stderr is the journal's stream: systemd names it in JOURNAL_STREAM
 * as "DEVICE:INODE" (a redirected stderr no longer matches).
 */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2 || fstat(2, &st) == -1)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void slb_log_force_stderr(bool force)
{
	/* Run by systemd, syslog reaches the same journal with each line's level. */
	slb_logger.force_stderr = force && !stderr_is_journal();
}

bool slb_log_enabled(int level)
{
	return level <= slb_logger.level;
}

void slb_log(int level, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	if (level > slb_logger.level)
		return;
	va_start(ap, fmt);
	if (slb_logger.target == SLB_LOG_SYSLOG) {
		vsyslog(level, fmt, ap);
		va_end(ap);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ld %s[%d]: %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, slb_logger.ident, (int)getpid(),
		     level_name(level));
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line, so lines from several processes never interleave. */
	if (write(slb_logger.fd, line, (size_t)n) == -1)
		return;
}

void slb_log_limited(struct slb_log_limit *limit, int level, const char *fmt, ...)
{
	int saved_errno = errno; /* for a %m in <fmt> */
	uint64_t now = slb_now_ms();
	char text[768];
	va_list ap;

	if (level > slb_logger.level)
		return;
	if (limit->last_ms && now - limit->last_ms < limit->interval_ms) {
		limit->held_back++;
		return;
	}
	va_start(ap, fmt);
	errno = saved_errno;
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (limit->held_back)
		slb_log(level, "%s (%llu more like it held back)", text,
			(unsigned long long)limit->held_back);
	else
		slb_log(level, "%s", text);
	limit->last_ms = now;
	limit->held_back = 0;
}
