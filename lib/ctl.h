/*
 * ctl.h - the control protocol between slbctl and slb-master, and its
 * command grammar.
 *
 * One table (slb_ctl_commands) is the grammar: slbctl parses its command
 * line and prints `slbctl help` from it, and the master parses requests with
 * it, so the two can never disagree on what a command looks like.
 *
 * Wire format, one request per connection on the Unix stream socket:
 *   request   one line of printable ASCII words separated by spaces, at most
 *             SLB_CTL_REQUEST_MAX bytes with its '\n'; a first word "--json"
 *             asks for a JSON answer.
 *   response  "ok\n" or "error\n", then the body (text, or one JSON value);
 *             the master closes the connection after it.
 */
#ifndef SLB_CTL_H
#define SLB_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SLB_CTL_REQUEST_MAX 4096
#define SLB_CTL_MAX_WORDS 16
#define SLB_CTL_MAX_ARGS 5
#define SLB_CTL_ARG_MAX 128 /* one argument, NUL included */
#define SLB_CTL_JSON_WORD "--json"

enum slb_ctl_cmd {
	SLB_CTL_HELP,
	SLB_CTL_DESCRIBE,
	SLB_CTL_HEALTH,
	SLB_CTL_SERVER_ADD,
	SLB_CTL_SERVER_SET,
	SLB_CTL_SERVER_REMOVE,
	SLB_CTL_GROUP_CREATE,
	SLB_CTL_GROUP_DELETE,
	SLB_CTL_GROUP_SET,
	SLB_CTL_GROUP_LIST,
	SLB_CTL_LISTENER_START,
	SLB_CTL_LISTENER_STOP,
	SLB_CTL_SESSIONS,
	SLB_CTL_SESSIONS_FLUSH,
	SLB_CTL_FAILOVER_STATUS,
	SLB_CTL_FAILOVER_TAKEOVER,
	SLB_CTL_FAILOVER_RELEASE,
	SLB_CTL_RELOAD,
	SLB_CTL_COUNT
};

/*
 * One command: its keywords, then its arguments by label ("GROUP"); a label
 * in brackets ("[weight=N]") is optional and only trailing ones may be.
 */
struct slb_ctl_command {
	enum slb_ctl_cmd id;
	const char *words[3]; /* keywords, NULL-terminated */
	const char *args[SLB_CTL_MAX_ARGS + 1]; /* labels, NULL-terminated */
	const char *help;
};

extern const struct slb_ctl_command slb_ctl_commands[];
extern const unsigned slb_ctl_ncommands;

struct slb_ctl_request {
	const struct slb_ctl_command *cmd;
	bool json;
	unsigned nargs;
	char args[SLB_CTL_MAX_ARGS][SLB_CTL_ARG_MAX];
};

/*
 * Matches <words> (<n> of them, a leading "--json" allowed) against the
 * table into <req>. Returns 0, or -1 with a one-line reason in <err> of
 * <errlen> bytes (unknown command, wrong arguments, a word that is not
 * printable ASCII or too long). <req> is undefined after a failure except
 * for req->json.
 */
int slb_ctl_parse_words(unsigned n, char *const words[], struct slb_ctl_request *req, char *err,
			size_t errlen);

/*
 * The command that <name>, given as the argument labelled <label> ("LISTENER")
 * right after a command's keywords, would be read as instead: another command
 * whose next keyword it is ('sessions flush' for a listener named "flush").
 * NULL when <name> reads as the argument everywhere.
 */
const struct slb_ctl_command *slb_ctl_name_clash(const char *label, const char *name);

/*
 * Splits one request line <line> (of <len> bytes, a trailing '\n' allowed,
 * no NUL inside) into words and parses them as slb_ctl_parse_words() does.
 */
int slb_ctl_parse_line(const char *line, size_t len, struct slb_ctl_request *req, char *err,
		       size_t errlen);

/* Writes <req> as a request line, '\n' included, into <buf> of <len> bytes.
 * Returns the length, or -1 if it does not fit SLB_CTL_REQUEST_MAX or <len>. */
int slb_ctl_format(const struct slb_ctl_request *req, char *buf, size_t len);

/* "server set GROUP NAME weight=N" for <cmd>. */
void slb_ctl_print_usage(FILE *out, const struct slb_ctl_command *cmd);

/* Every command with its usage and help, one per line, aligned. */
void slb_ctl_print_help(FILE *out);

/* Writes <s> as a JSON string (quotes included, control bytes escaped). */
void slb_ctl_json_string(FILE *out, const char *s);

#endif
