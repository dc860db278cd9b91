/*
 * log.h - one logging path for every daemon: syslog, stderr or a file,
 * filtered by level. Levels are syslog's (LOG_ERR .. LOG_DEBUG).
 */
#ifndef SLB_LOG_H
#define SLB_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "config.h"

/* Until slb_log_open() is called, messages go to stderr at LOG_INFO. */
void slb_log_open(const char *ident, enum slb_log_target target, const char *file, int level);

/* Sets up logging from the [global] section of <config>. */
void slb_log_configure(const char *ident, const struct slb_global_conf *global);

/*
 * Keeps stderr logging for processes started with -f when log = syslog,
 * unless stderr is the journal (systemd's JOURNAL_STREAM): syslog goes there
 * too, and keeps each line's level.
 */
void slb_log_force_stderr(bool force);

void slb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether a line at <level> would be written: skip preparing one that would not. */
bool slb_log_enabled(int level);

/*
 * A line that may repeat at the rate of its cause (accept failing, bad
 * packets) is written at most once per <interval_ms>; the next line written
 * says how many were held back. Keep one per kind of message.
 */
struct slb_log_limit {
	uint32_t interval_ms;
	uint64_t last_ms; /* monotonic time of the last line written, 0 = never */
	uint64_t held_back;
};

#define SLB_LOG_LIMIT(ms) { .interval_ms = (ms) }

void slb_log_limited(struct slb_log_limit *limit, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define slb_err(...) slb_log(LOG_ERR, __VA_ARGS__)
#define slb_warn(...) slb_log(LOG_WARNING, __VA_ARGS__)
#define slb_info(...) slb_log(LOG_INFO, __VA_ARGS__)
#define slb_debug(...) slb_log(LOG_DEBUG, __VA_ARGS__)

#endif
