/*
 * control.c - the control socket: slbctl's requests, served from the
 * master's epoll loop.
 *
 * One request per connection: a line of at most SLB_CTL_REQUEST_MAX bytes
 * (ctl.h), one response, then the master closes. Everything is
 * non-blocking and bounded: at most CONTROL_MAX_CONNS connections (a new
 * one evicts the oldest when all are taken), CONTROL_TIMEOUT_MS to send the
 * request and read the answer (checked whenever the socket is active), and
 * a request that is too long or not text gets an error answer. A client can
 * neither block nor crash the master.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "files.h"
#include "log.h"

#define CONTROL_MAX_CONNS 16
#define CONTROL_TIMEOUT_MS 10000
#define CONTROL_BACKLOG 16

struct control_conn {
	int fd; /* -1 = free slot */
	uint64_t opened_ms;
	size_t inlen;
	char in[SLB_CTL_REQUEST_MAX + 1];
	char *out; /* NULL while reading the request */
	size_t outlen, outoff;
};

struct master_control {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct control_conn conns[CONTROL_MAX_CONNS];
};

static void conn_close(struct master *m, struct control_conn *c)
{
	(void)m;
	if (c->fd == -1)
		return;
	close(c->fd); /* also leaves the epoll set */
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->inlen = c->outlen = c->outoff = 0;
}

/* A socket file at <path> that nobody answers on is stale and removed.
 * Returns 0, or -1 when something else is there or a master listens. */
static int remove_stale(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		slb_err("control socket %s: exists and is not a socket, not removing it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		slb_err("control socket %s: another process serves it (another slb-master?)", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		slb_err("control socket %s: cannot remove the stale one: %m", path);
		return -1;
	}
	return 0;
}

/* Mode 0660, group of [global] user (when it is not root and exists). */
static int set_owner(const char *path, const char *user)
{
	const struct passwd *pw = strcmp(user, "root") != 0 ? getpwnam(user) : NULL;

	if (chmod(path, 0660) == -1) {
		slb_err("control socket %s: chmod: %m", path);
		return -1;
	}
	if (pw && chown(path, (uid_t)-1, pw->pw_gid) == -1) {
		slb_err("control socket %s: chown to group %u: %m", path, (unsigned)pw->pw_gid);
		return -1;
	}
	return 0;
}

int master_control_open(struct master *m)
{
	const struct slb_global_conf *g = &m->config->global;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = MASTER_CONTROL_TAG_BASE };
	struct master_control *ctl;
	mode_t old_umask;
	int rc;

	if (strlen(g->control_socket) >= sizeof(sun.sun_path)) {
		slb_err("control socket %s: path longer than %zu bytes", g->control_socket,
			sizeof(sun.sun_path) - 1);
		return -1;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		slb_err("control socket: out of memory");
		return -1;
	}
	for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++)
		ctl->conns[i].fd = -1;
	snprintf(ctl->path, sizeof(ctl->path), "%s", g->control_socket);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ctl->path);
	slb_make_parent_dir(ctl->path, 0755);
	if (remove_stale(ctl->path) == -1)
		goto bad;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd == -1) {
		slb_err("control socket: socket: %m");
		goto bad;
	}
	/* Born 0600, then opened to the group: never wider than meant. */
	old_umask = umask(0177);
	rc = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (rc == -1) {
		slb_err("control socket %s: bind: %m", ctl->path);
		goto bad_fd;
	}
	if (set_owner(ctl->path, g->user) == -1)
		goto bad_unlink;
	if (listen(ctl->fd, CONTROL_BACKLOG) == -1 ||
	    epoll_ctl(m->epfd, EPOLL_CTL_ADD, ctl->fd, &ev) == -1) {
		slb_err("control socket %s: %m", ctl->path);
		goto bad_unlink;
	}
	m->control = ctl;
	slb_debug("control socket %s: listening", ctl->path);
	return 0;
bad_unlink:
	unlink(ctl->path);
bad_fd:
	close(ctl->fd);
bad:
	free(ctl);
	return -1;
}

void master_control_close(struct master *m)
{
	struct master_control *ctl = m->control;

	if (!ctl)
		return;
	for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++)
		conn_close(m, &ctl->conns[i]);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
	m->control = NULL;
}

/*
 * Builds the response to the request in <c->in> (<len> bytes) into c->out,
 * or an error response saying <fail> when that is not NULL.
 */
static void conn_answer(struct master *m, struct control_conn *c, size_t len, const char *fail)
{
	struct slb_ctl_request req;
	char err[512] = "";
	char *body = NULL;
	size_t bodylen = 0;
	FILE *out = open_memstream(&body, &bodylen);
	FILE *resp;
	int rc = -1;

	req.json = false;
	if (fail || !out) {
		snprintf(err, sizeof(err), "%s", fail ? fail : "out of memory");
	} else if (slb_ctl_parse_line(c->in, len, &req, err, sizeof(err)) == 0) {
		slb_debug("control: %.*s", (int)(len && c->in[len - 1] == '\n' ? len - 1 : len),
			  c->in);
		rc = control_run(m, &req, out, err, sizeof(err));
	}
	if (out)
		fclose(out);
	resp = open_memstream(&c->out, &c->outlen);
	if (!resp) {
		free(body);
		conn_close(m, c);
		return;
	}
	if (rc == 0) {
		fputs("ok\n", resp);
		fwrite(body, 1, bodylen, resp);
	} else if (req.json) {
		fputs("error\n{\"error\": ", resp);
		slb_ctl_json_string(resp, err);
		fputs("}\n", resp);
	} else {
		fprintf(resp, "error\n%s\n", err);
	}
	fclose(resp);
	free(body);
}

/* Writes what is left of the answer; closes the connection once it is out. */
static void conn_write(struct master *m, struct control_conn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT,
				  .data.u64 = MASTER_CONTROL_TAG_BASE + 1 +
					      (uint64_t)(c - m->control->conns) };

	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
				conn_close(m, c);
			return;
		}
		if (n <= 0) {
			conn_close(m, c);
			return;
		}
		c->outoff += (size_t)n;
	}
	conn_close(m, c);
}

/* Reads what has come of the request; answers once it is complete. */
static void conn_read(struct master *m, struct control_conn *c)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->inlen);
		ssize_t n;

		if (nl) {
			conn_answer(m, c, (size_t)(nl - c->in) + 1, NULL);
			break;
		}
		if (c->inlen == SLB_CTL_REQUEST_MAX) {
			conn_answer(m, c, 0, "request longer than 4096 bytes");
			break;
		}
		n = recv(c->fd, c->in + c->inlen, SLB_CTL_REQUEST_MAX - c->inlen, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1 || (n == 0 && c->inlen == 0)) {
			conn_close(m, c);
			return;
		}
		if (n == 0) { /* end of request without a newline: take what came */
			conn_answer(m, c, c->inlen, NULL);
			break;
		}
		c->inlen += (size_t)n;
	}
	if (c->fd != -1)
		conn_write(m, c);
}

/* Closes connections that have been open too long. */
static void control_expire(struct master *m)
{
	uint64_t now = slb_now_ms();

	for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct control_conn *c = &m->control->conns[i];

		if (c->fd != -1 && now - c->opened_ms > CONTROL_TIMEOUT_MS) {
			slb_debug("control: closing a client idle for %u ms", CONTROL_TIMEOUT_MS);
			conn_close(m, c);
		}
	}
}

static void control_accept(struct master *m)
{
	struct master_control *ctl = m->control;

	for (;;) {
		struct control_conn *c = NULL;
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			static struct slb_log_limit accept_log = SLB_LOG_LIMIT(10000);

			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				slb_log_limited(&accept_log, LOG_WARNING, "control socket: accept: %m");
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++) {
			struct control_conn *t = &ctl->conns[i];

			if (t->fd == -1) {
				c = t;
				break;
			}
			if (!c || t->opened_ms < c->opened_ms)
				c = t;
		}
		if (c->fd != -1) {
			slb_debug("control: %u clients open, closing the oldest", CONTROL_MAX_CONNS);
			conn_close(m, c);
		}
		c->fd = fd;
		c->opened_ms = slb_now_ms();
		ev.data.u64 = MASTER_CONTROL_TAG_BASE + 1 + (uint64_t)(c - ctl->conns);
		if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			slb_warn("control socket: epoll_ctl: %m");
			conn_close(m, c);
		}
	}
}

void master_control_event(struct master *m, uint64_t tag, uint32_t events)
{
	struct master_control *ctl = m->control;
	uint64_t i = tag - MASTER_CONTROL_TAG_BASE;
	struct control_conn *c;

	if (!ctl)
		return;
	control_expire(m);
	if (i == 0) {
		control_accept(m);
		return;
	}
	if (i > CONTROL_MAX_CONNS)
		return;
	c = &ctl->conns[i - 1];
	if (c->fd == -1)
		return;
	if (c->out)
		conn_write(m, c);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(m, c);
}
