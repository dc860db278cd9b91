/*
 * http_backend.c - a deterministic HTTP/1.1 server for the bats suites.
 *
 *   slb-test-http-backend -l IP:PORT -n NAME [-r REQUEST_LOG]
 *
 * One child per connection (fork), keep-alive, requests parsed with slb's
 * own parser (so a request slb let through and this server refuses shows
 * up as a 400 from here, not as silence). Every request head it receives
 * is appended to REQUEST_LOG, so a test can assert that nothing reached
 * the server.
 *
 * The answer is chosen by the path:
 *   (any)       200, body "NAME conn=C req=R body=N\n", then the request
 *               head as received, then "--body--\n" and the body
 *   /chunked    the same body, chunked, in three chunks
 *   /chunked/N  N bytes of 'x', chunked in three chunks: a long body that
 *               slb copies (it splices only Content-Length bodies)
 *   /close      the same body, no framing: ends when the connection closes
 *   /v10        the same, as an HTTP/1.0 server would send it
 *   /hints      103 Early Hints first, then as (any)
 *   /slow       as (any) after 3 s
 *   /204 /304   no body (the 204 with a Content-Length of 5, which RFC 9110
 *               forbids, the 304 with one of 10)
 *   /big/N      N bytes of 'x' with Content-Length
 *   /seq/N      N bytes (at most 2 MiB) with Content-Length: 11-byte lines
 *               "%010u\n" giving each line's own offset, so a test sees
 *               any byte lost, doubled or out of order
 *   /short/N    Content-Length N, half of the 'x' bytes, then a close
 *   /lie/N      Content-Length N, the 'x' bytes, then a whole response more
 *               (body "extra\n") in the same write as the last 'x', 200 ms
 *               after the others: a server sending past its own framing
 *   /reset      413 at once, without reading the request body, then a
 *               reset (SO_LINGER 0) while the client may still be sending
 *   /idle-close /idle-reset  as (any) on a connection's first request; on a
 *               later one the connection is closed (FIN, or a reset) with
 *               no byte of answer and the request body unread: a server
 *               whose keep-alive timeout fired as the request came
 *   /vanish     closed (FIN) with no byte of answer, on any request
 *   /early      200 at once, before the request body, which it never reads:
 *               the body's bytes are taken for the next request (a server
 *               that frames the request as bodiless, the 0.CL desync); the
 *               answer's body ("early\n") 500 ms after its head
 *   /broken     two different Content-Lengths
 *   /garbage    not HTTP at all
 *   /ws         with Connection: upgrade and Upgrade: websocket, 101, then
 *               every byte received is sent back until the client's FIN;
 *               without them, as (any)
 * C counts connections since the start, R requests on this connection: a
 * test sees keep-alive reuse as one C with growing R. A request with
 * Expect: 100-continue gets "100 Continue" before its body is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "http_parser.h"

#define BUF_SIZE (1 << 20)
#define CHILD_LIFETIME_S 60

static const char *name = "backend";
static int log_fd = -1;
static unsigned conn_id;
static char in[BUF_SIZE];
static size_t in_len;
static char body[BUF_SIZE];
static size_t body_len;
static struct slb_http_msg msg;

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads more into <in>; returns 0 at EOF or error. */
static int write_str(int fd, const char *s)
{
	return write_all(fd, s, strlen(s));
}

static int fill(int fd)
{
	ssize_t n;

	if (in_len == sizeof(in))
		return 0;
	n = read(fd, in + in_len, sizeof(in) - in_len);
	if (n <= 0)
		return 0;
	in_len += (size_t)n;
	return 1;
}

static void drop(size_t n)
{
	memmove(in, in + n, in_len - n);
	in_len -= n;
}

/* Reads the request body as framed by <msg>; 0 on error. */
static int read_body(int fd)
{
	body_len = 0;
	if (msg.framing == SLB_HTTP_BODY_LENGTH) {
		while (in_len < msg.content_length)
			if (!fill(fd) || msg.content_length > sizeof(body))
				return 0;
		memcpy(body, in, msg.content_length);
		body_len = msg.content_length;
		drop(body_len);
	} else if (msg.framing == SLB_HTTP_BODY_CHUNKED) {
		struct slb_http_chunked ch = { 0 };

		for (;;) {
			size_t used, off, n;
			enum slb_http_chunk_result r;

			if (!in_len && !fill(fd))
				return 0;
			r = slb_http_chunked_decode(&ch, in, in_len, &used, &off, &n);
			if (r == SLB_HTTP_CHUNK_ERROR)
				return 0;
			if (r == SLB_HTTP_CHUNK_DATA && body_len + n <= sizeof(body)) {
				memcpy(body + body_len, in + off, n);
				body_len += n;
			}
			drop(used);
			if (r == SLB_HTTP_CHUNK_DONE)
				return 1;
		}
	}
	return 1;
}

static char content[2 * BUF_SIZE + 256];

/* The default body: who answered, the head it saw, the body it got. */
static size_t make_content(unsigned req, const char *head, size_t head_len)
{
	int n = snprintf(content, sizeof(content), "%s conn=%u req=%u body=%zu\n", name, conn_id,
			 req, body_len);

	memcpy(content + n, head, head_len);
	n += (int)head_len;
	memcpy(content + n, "--body--\n", 9);
	n += 9;
	memcpy(content + n, body, body_len);
	return (size_t)n + body_len;
}

static int respond(int fd, const char *path, unsigned req, const char *head, size_t head_len)
{
	char h[512];
	size_t len;
	int n;

	if (strncmp(path, "/slow", 5) == 0)
		sleep(3);
	if (strncmp(path, "/broken", 7) == 0) {
		n = snprintf(h, sizeof(h),
			     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc");
		return write_all(fd, h, (size_t)n);
	}
	if (strncmp(path, "/garbage", 8) == 0)
		return write_str(fd, "NOT HTTP\r\n\r\n");
	if (strncmp(path, "/204", 4) == 0)
		return write_str(fd, "HTTP/1.1 204 No Content\r\nX-Backend: x\r\nContent-Length: 5\r\n\r\n");
	if (strncmp(path, "/304", 4) == 0)
		return write_str(fd, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
	if (strncmp(path, "/hints", 6) == 0 &&
	    write_str(fd, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n") == -1)
		return -1;
	if (strncmp(path, "/big/", 5) == 0 || strncmp(path, "/short/", 7) == 0 ||
	    strncmp(path, "/chunked/", 9) == 0 || strncmp(path, "/lie/", 5) == 0) {
		len = strtoul(strchr(path + 1, '/') + 1, NULL, 10);
		if (len > sizeof(content) - 256) /* room for /lie's extra */
			len = sizeof(content) - 256;
		memset(content, 'x', len);
	} else if (strncmp(path, "/seq/", 5) == 0) {
		char line[12];

		len = strtoul(path + 5, NULL, 10);
		if (len > 2 * BUF_SIZE)
			len = 2 * BUF_SIZE;
		for (size_t off = 0; off < len; off += 11) {
			snprintf(line, sizeof(line), "%010zu\n", off);
			memcpy(content + off, line, len - off < 11 ? len - off : 11);
		}
	} else {
		len = make_content(req, head, head_len);
	}
	if (strncmp(path, "/chunked", 8) == 0) {
		size_t third = len / 3;

		n = snprintf(h, sizeof(h),
			     "HTTP/1.1 200 OK\r\nX-Backend: %s\r\nTransfer-Encoding: chunked\r\n\r\n", name);
		if (write_all(fd, h, (size_t)n) == -1)
			return -1;
		for (size_t off = 0; off < len;) {
			size_t part = off + third < len && third ? third : len - off;

			n = snprintf(h, sizeof(h), "%zx;ext=1\r\n", part);
			if (write_all(fd, h, (size_t)n) == -1 || write_all(fd, content + off, part) == -1 ||
			    write_str(fd, "\r\n") == -1)
				return -1;
			off += part;
		}
		return write_str(fd, "0\r\nX-Trailer: yes\r\n\r\n");
	}
	if (strncmp(path, "/close", 6) == 0 || strncmp(path, "/v10", 4) == 0) {
		n = snprintf(h, sizeof(h), "HTTP/1.%c 200 OK\r\nX-Backend: %s\r\n\r\n",
			     path[1] == 'v' ? '0' : '1', name);
		if (write_all(fd, h, (size_t)n) == -1 || write_all(fd, content, len) == -1)
			return -1;
		return 1; /* close-delimited: the caller closes */
	}
	n = snprintf(h, sizeof(h), "HTTP/1.1 200 OK\r\nX-Backend: %s\r\nContent-Length: %zu\r\n\r\n",
		     name, len);
	if (write_all(fd, h, (size_t)n) == -1)
		return -1;
	if (msg.method_id == SLB_HTTP_M_HEAD)
		return 0;
	if (strncmp(path, "/short/", 7) == 0)
		return write_all(fd, content, len / 2) == -1 ? -1 : 1;
	if (strncmp(path, "/lie/", 5) == 0 && len) {
		static const char extra[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nextra\n";

		if (write_all(fd, content, len - 1) == -1)
			return -1;
		usleep(200000);
		memcpy(content + len, extra, sizeof(extra) - 1);
		return write_all(fd, content + len - 1, sizeof(extra));
	}
	return write_all(fd, content, len);
}

/* A WebSocket stand-in: 101, then an echo of the raw bytes. */
static void echo(int fd)
{
	if (write_str(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\n\r\n") == -1 ||
	    write_all(fd, in, in_len) == -1)
		return;
	while ((in_len = 0, fill(fd)))
		if (write_all(fd, in, in_len) == -1)
			return;
}

/* The connection's close will be a reset (SO_LINGER 0), not a FIN. */
static void reset_on_close(int fd)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
}

static void serve(int fd)
{
	struct slb_http_scan scan = { 0 };
	static char head[BUF_SIZE];

	alarm(CHILD_LIFETIME_S);
	for (unsigned req = 1;; req++) {
		long r;
		char path[256];
		size_t head_len, plen;
		int rc;

		memset(&scan, 0, sizeof(scan));
		while ((r = slb_http_scan_head(&scan, in, in_len, &slb_http_default_limits, true)) == 0)
			if (!fill(fd))
				return;
		if (r > 0 && log_fd >= 0 && write(log_fd, in, (size_t)r) != r)
			return;
		if (r < 0 || slb_http_parse_request(in, (size_t)r, &slb_http_default_limits, &msg)) {
			write_str(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
			return;
		}
		head_len = (size_t)r;
		memcpy(head, in, head_len);
		plen = msg.target_len < sizeof(path) - 1 ? msg.target_len : sizeof(path) - 1;
		memcpy(path, msg.target, plen);
		path[plen] = '\0';
		drop(head_len);
		if (strncmp(path, "/reset", 6) == 0) {
			write_str(fd, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n"
				      "Connection: close\r\n\r\n");
			reset_on_close(fd);
			return;
		}
		if (strncmp(path, "/vanish", 7) == 0)
			return;
		if (req > 1 && strncmp(path, "/idle-", 6) == 0) {
			if (strcmp(path + 6, "reset") == 0) {
				reset_on_close(fd);
				_exit(0); /* the reset alone, no FIN before it */
			}
			return;
		}
		if (strncmp(path, "/early", 6) == 0) {
			if (write_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n") == -1)
				return;
			usleep(500000);
			if (write_str(fd, "early\n") == -1)
				return;
			continue;
		}
		if (msg.expect_continue && write_str(fd, "HTTP/1.1 100 Continue\r\n\r\n") == -1)
			return;
		if (!read_body(fd))
			return;
		if (strncmp(path, "/ws", 3) == 0 && msg.upgrade) {
			echo(fd);
			return;
		}
		rc = respond(fd, path, req, head, head_len);
		if (rc != 0 || !msg.keep_alive)
			return;
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };
	const char *listen_addr = NULL, *log_path = NULL;
	struct slb_sockaddr addr;
	int opt, one = 1, lfd;

	while ((opt = getopt(argc, argv, "l:n:r:")) != -1) {
		switch (opt) {
		case 'l': listen_addr = optarg; break;
		case 'n': name = optarg; break;
		case 'r': log_path = optarg; break;
		default: listen_addr = NULL; optind = argc; break;
		}
	}
	if (!listen_addr || slb_sockaddr_parse(listen_addr, &addr) == -1) {
		fprintf(stderr, "usage: slb-test-http-backend -l IP:PORT -n NAME [-r REQUEST_LOG]\n");
		return 2;
	}
	if (log_path && (log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) == -1) {
		perror(log_path);
		return 1;
	}
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(addr.u.sa.sa_family, SOCK_STREAM, 0);
	if (lfd == -1 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(lfd, &addr.u.sa, addr.len) == -1 || listen(lfd, 1024) == -1) {
		perror(listen_addr);
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			return 1;
		}
		conn_id++;
		pid = fork();
		if (pid == 0) {
			/* Heads and bodies go out in separate writes: no Nagle delay between them. */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			close(lfd);
			signal(SIGTERM, SIG_DFL);
			serve(fd);
			shutdown(fd, SHUT_WR);
			_exit(0);
		}
		close(fd);
	}
}
