/*
 * test_backend.c - a small, deterministic TCP (and UDP) backend for the bats suites.
 *
 *   slb-test-backend -l IP:PORT -n NAME [-m name|drain|udp]
 *
 * name  (default) writes "NAME\n" to every connection at once, then FIN;
 *       reads (and discards) whatever the client sends until it closes.
 * drain reads until the client's FIN, then writes "NAME BYTES\n" and FIN:
 *       it proves a half-closed request still gets its answer.
 * udp   answers every datagram with "NAME\n", to its sender.
 *
 * Why not socat: with fork and a shell per connection it occasionally
 * closes a connection without writing anything when other connections
 * (health probes) come and go at the same moment; tests counting answers
 * must not depend on that. One process, one poll loop, no fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"

#define MAX_CONNS 1024
#define UDP_BATCH 64
#define USAGE "usage: slb-test-backend -l IP:PORT -n NAME [-m name|drain|udp]\n"

struct conn {
	int fd;
	unsigned long bytes;
};

static const char *name = "backend";
static int drain_mode;

static void conn_answer(struct conn *c)
{
	char line[128];
	int n = drain_mode ? snprintf(line, sizeof(line), "%s %lu\n", name, c->bytes)
			   : snprintf(line, sizeof(line), "%s\n", name);

	/* A few bytes into an empty socket buffer: one write is enough. */
	if (write(c->fd, line, (size_t)n) != n)
		return;
	shutdown(c->fd, SHUT_WR);
}

static int listen_on(const char *text, int type)
{
	struct slb_sockaddr addr;
	int one = 1, fd;

	if (slb_sockaddr_parse(text, &addr) == -1) {
		fprintf(stderr, "bad address %s\n", text);
		exit(2);
	}
	fd = socket(addr.u.sa.sa_family, type, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, &addr.u.sa, addr.len) == -1 ||
	    (type != SOCK_DGRAM && listen(fd, 1024) == -1)) {
		perror(text);
		exit(1);
	}
	return fd;
}

/*
 * Answers each datagram with the name, a batch at a time (recvmmsg and
 * sendmmsg: fast enough to be the far end of a benchmark); never returns.
 */
static int serve_udp(const char *listen_addr)
{
	static struct sockaddr_storage peers[UDP_BATCH];
	static struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
	static struct iovec in_iov[UDP_BATCH], answer_iov;
	static char bufs[UDP_BATCH][2048], answer[128];
	int fd = listen_on(listen_addr, SOCK_DGRAM);

	answer_iov.iov_base = answer;
	answer_iov.iov_len = (size_t)snprintf(answer, sizeof(answer), "%s\n", name);
	for (;;) {
		int n;

		for (int i = 0; i < UDP_BATCH; i++) {
			in_iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			in[i].msg_hdr = (struct msghdr){ .msg_name = &peers[i],
							 .msg_namelen = sizeof(peers[i]),
							 .msg_iov = &in_iov[i], .msg_iovlen = 1 };
		}
		/* Blocking for the first datagram, then whatever else is already there. */
		n = recvmmsg(fd, in, UDP_BATCH, MSG_WAITFORONE, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("recvmmsg");
			return 1;
		}
		for (int i = 0; i < n; i++)
			out[i].msg_hdr = (struct msghdr){ .msg_name = &peers[i],
							  .msg_namelen = in[i].msg_hdr.msg_namelen,
							  .msg_iov = &answer_iov, .msg_iovlen = 1 };
		sendmmsg(fd, out, (unsigned)n, 0);
	}
}

int main(int argc, char **argv)
{
	static struct pollfd pfd[MAX_CONNS + 1];
	static struct conn conns[MAX_CONNS + 1];
	const char *listen_addr = NULL;
	int opt, nconns = 0, udp_mode = 0;

	while ((opt = getopt(argc, argv, "l:n:m:")) != -1) {
		switch (opt) {
		case 'l': listen_addr = optarg; break;
		case 'n': name = optarg; break;
		case 'm':
			drain_mode = strcmp(optarg, "drain") == 0;
			udp_mode = strcmp(optarg, "udp") == 0;
			break;
		default:
			fputs(USAGE, stderr);
			return 2;
		}
	}
	if (!listen_addr) {
		fputs(USAGE, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (udp_mode)
		return serve_udp(listen_addr);
	pfd[0].fd = listen_on(listen_addr, SOCK_STREAM | SOCK_NONBLOCK);
	pfd[0].events = POLLIN;
	for (;;) {
		if (poll(pfd, (nfds_t)nconns + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		for (int i = 1; i <= nconns; i++) {
			char buf[65536];
			ssize_t n;

			if (!pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n > 0) {
				conns[i].bytes += (unsigned long)n;
				continue;
			}
			if (n == -1 && errno == EAGAIN)
				continue;
			if (n == 0 && drain_mode)
				conn_answer(&conns[i]);
			close(pfd[i].fd);
			pfd[i] = pfd[nconns];
			conns[i] = conns[nconns];
			nconns--;
			i--;
		}
		while (pfd[0].revents && nconns < MAX_CONNS) {
			int fd = accept4(pfd[0].fd, NULL, NULL, SOCK_NONBLOCK);

			if (fd == -1)
				break;
			nconns++;
			pfd[nconns] = (struct pollfd){ .fd = fd, .events = POLLIN };
			conns[nconns] = (struct conn){ .fd = fd, .bytes = 0 };
			if (!drain_mode)
				conn_answer(&conns[nconns]);
		}
	}
}
