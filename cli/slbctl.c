/*
 * slbctl.c - the command line of the control socket.
 *
 *   slbctl [-s SOCKET] [--json] COMMAND...
 *
 * The grammar is the table in lib/ctl.c: the command is checked here before
 * anything is sent (a usage error never reaches the master), and `slbctl
 * help` is printed from the same table. The master answers "ok" or "error"
 * and a body, which is printed as it came.
 *
 * Exit status: 0 success, 1 the master answered an error, 2 a usage error or
 * no answer (socket missing, refused, timed out).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "ctl.h"

#define DEFAULT_SOCKET "/run/slb/slb.sock"
#define ANSWER_TIMEOUT_MS 60000
#define ANSWER_MAX (64u << 20)

static void usage(FILE *out)
{
	fprintf(out, "usage: slbctl [-s SOCKET] [--json] COMMAND...\n"
		     "  -s, --socket SOCKET  the master's control socket (default: control_socket\n"
		     "                       of %s/slb/slb.ini, else %s)\n"
		     "  -j, --json           answer in JSON\n"
		     "commands:\n",
		SLB_SYSCONFDIR, DEFAULT_SOCKET);
	slb_ctl_print_help(out);
}

/* control_socket of the installed config when there is one, else the default. */
static void default_socket(char *buf, size_t len)
{
	char path[512];
	struct slb_config *config;
	FILE *devnull;

	snprintf(buf, len, "%s", DEFAULT_SOCKET);
	snprintf(path, sizeof(path), "%s/slb/slb.ini", SLB_SYSCONFDIR);
	if (access(path, R_OK) == -1)
		return;
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		return;
	config = slb_config_load(path, devnull);
	fclose(devnull);
	if (!config) {
		fprintf(stderr, "slbctl: warning: %s is not valid (slb-master -t says why); using %s\n",
			path, buf);
		return;
	}
	snprintf(buf, len, "%s", config->global.control_socket);
	slb_config_free(config);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "slbctl: %s: socket path too long\n", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "slbctl: cannot connect to %s: %s%s\n", path, strerror(errno),
			errno == ENOENT || errno == ECONNREFUSED ? " (is slb-master running?)" : "");
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the whole answer (until the master closes) into a NUL-terminated buffer. */
static char *read_answer(int fd, const char *path)
{
	uint64_t deadline = slb_now_ms() + ANSWER_TIMEOUT_MS;
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	while (buf) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = slb_now_ms();
		ssize_t n;

		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0) {
			fprintf(stderr, "slbctl: %s: no answer within %u s\n", path,
				ANSWER_TIMEOUT_MS / 1000);
			break;
		}
		if (len + 1 == cap) {
			char *more = cap < ANSWER_MAX ? realloc(buf, cap * 2) : NULL;

			if (!more) {
				fprintf(stderr, "slbctl: %s: answer too large\n", path);
				break;
			}
			buf = more;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "slbctl: %s: %s\n", path, strerror(errno));
			break;
		}
		if (n == 0) {
			buf[len] = '\0';
			return buf;
		}
		len += (size_t)n;
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char sock[512] = "", line[SLB_CTL_REQUEST_MAX + 1], err[512];
	struct slb_ctl_request req;
	bool json = false;
	char *answer, *body;
	int opt, fd, len;

	/* "+": options stop at the command, whose words are not ours. */
	while ((opt = getopt_long(argc, argv, "+s:jh", options, NULL)) != -1) {
		switch (opt) {
		case 's': snprintf(sock, sizeof(sock), "%s", optarg); break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* --json after the command words is taken too ("slbctl describe --json"). */
	for (int i = optind, k = optind; i < argc; i++) {
		if (strcmp(argv[i], SLB_CTL_JSON_WORD) == 0)
			json = true;
		else
			argv[k++] = argv[i];
		if (i + 1 == argc)
			argc = k;
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (slb_ctl_parse_words((unsigned)(argc - optind), argv + optind, &req, err,
				sizeof(err)) == -1) {
		fprintf(stderr, "slbctl: %s\n", err);
		return 2;
	}
	req.json = req.json || json;
	if (req.cmd->id == SLB_CTL_HELP && !req.json) {
		usage(stdout);
		return 0;
	}
	len = slb_ctl_format(&req, line, sizeof(line));
	if (len < 0) {
		fprintf(stderr, "slbctl: command longer than %u bytes\n", SLB_CTL_REQUEST_MAX);
		return 2;
	}
	if (!sock[0])
		default_socket(sock, sizeof(sock));
	fd = connect_to(sock);
	if (fd == -1)
		return 2;
	if (send_all(fd, line, (size_t)len) == -1) {
		fprintf(stderr, "slbctl: %s: cannot send: %s\n", sock, strerror(errno));
		close(fd);
		return 2;
	}
	shutdown(fd, SHUT_WR);
	answer = read_answer(fd, sock);
	close(fd);
	if (!answer)
		return 2;
	body = strchr(answer, '\n');
	if (body)
		*body++ = '\0';
	if (!body || (strcmp(answer, "ok") != 0 && strcmp(answer, "error") != 0)) {
		fprintf(stderr, "slbctl: %s: malformed answer\n", sock);
		free(answer);
		return 2;
	}
	if (strcmp(answer, "ok") == 0) {
		fputs(body, stdout);
		free(answer);
		return 0;
	}
	/* JSON errors go to stdout, where a script parses; text ones to stderr. */
	if (req.json)
		fputs(body, stdout);
	else
		fprintf(stderr, "slbctl: %s", body);
	free(answer);
	return 1;
}
