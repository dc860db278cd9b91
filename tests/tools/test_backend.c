/*
 * test_backend.c - a small, deterministic TCP (and UDP) backend for the bats suites.
 *
 *   slb-test-backend -l IP:PORT -n NAME [-m name|drain|proxy|udp]
 *
 * name  (default) writes "NAME\n" to every connection at once, then FIN;
 *       reads (and discards) whatever the client sends until it closes.
 * drain reads until the client's FIN, then writes "NAME BYTES\n" and FIN:
 *       it proves a half-closed request still gets its answer.
 * proxy like drain, but first takes a PROXY protocol header (v1 or v2) if
 *       the connection starts with one, and answers
 *       "NAME VERSION SOURCE DESTINATION BYTES SHA256\n": VERSION v1, v2 or
 *       none (then SOURCE and DESTINATION are "-"), the addresses the header
 *       carried as ip:port ([v6]:port), and the count and SHA-256 of the
 *       bytes after the header. A malformed header answers "NAME bad".
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

#include <arpa/inet.h>
#include <openssl/evp.h>

#include "addr.h"

#define MAX_CONNS 1024
#define UDP_BATCH 64
#define USAGE "usage: slb-test-backend -l IP:PORT -n NAME [-m name|drain|proxy|udp]\n"
#define PROXY_V1_MAX 107
#define PROXY_V2_MAX (16 + 216) /* the largest address block: AF_UNIX */

enum header_state { HEADER_PENDING, HEADER_DONE, HEADER_BAD };

struct conn {
	int fd;
	unsigned long bytes;
	/* proxy mode */
	enum header_state header;
	unsigned char head[PROXY_V2_MAX]; /* the first bytes, until the header is known */
	size_t head_len;
	char proxy[160]; /* "VERSION SOURCE DESTINATION" */
	EVP_MD_CTX *sha;
};

static const char *name = "backend";
static int drain_mode;
static int proxy_mode;

static const unsigned char v1_prefix[] = "PROXY ";
static const unsigned char v2_signature[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
						0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* True when the <len> bytes at <p> could still begin <prefix> (of <plen> bytes). */
static int may_start(const unsigned char *p, size_t len, const unsigned char *prefix, size_t plen)
{
	return memcmp(p, prefix, len < plen ? len : plen) == 0;
}

/* Formats the address <a> (4 or 16 bytes of <family>) and <port> as ip:port or [v6]:port. */
static void format_endpoint(char *out, size_t size, int family, const void *a, unsigned port)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, a, text, sizeof(text));
	snprintf(out, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", text, port);
}

/* "PROXY TCP4 src dst sport dport\r\n" in <line> (NUL-terminated, no CRLF). */
static int parse_v1(struct conn *c, const char *line)
{
	char proto[8], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], s[64], d[64];
	unsigned char sa[16], da[16];
	unsigned sport, dport;
	int family;

	if (strcmp(line, "PROXY UNKNOWN") == 0) {
		snprintf(c->proxy, sizeof(c->proxy), "v1 unknown unknown");
		return 0;
	}
	if (sscanf(line, "PROXY %7s %45s %45s %5u %5u", proto, src, dst, &sport, &dport) != 5)
		return -1;
	family = strcmp(proto, "TCP4") == 0 ? AF_INET : strcmp(proto, "TCP6") == 0 ? AF_INET6 : -1;
	if (family == -1 || inet_pton(family, src, sa) != 1 || inet_pton(family, dst, da) != 1)
		return -1;
	format_endpoint(s, sizeof(s), family, sa, sport);
	format_endpoint(d, sizeof(d), family, da, dport);
	snprintf(c->proxy, sizeof(c->proxy), "v1 %s %s", s, d);
	return 0;
}

/* The address block of a v2 header: <fam> and <len> bytes at <p>. */
static int parse_v2(struct conn *c, unsigned char fam, const unsigned char *p, size_t len)
{
	size_t alen = fam == 0x11 ? 4 : fam == 0x21 ? 16 : 0;
	char s[64], d[64];

	if (fam == 0x00) {
		snprintf(c->proxy, sizeof(c->proxy), "v2 unknown unknown");
		return 0;
	}
	if (!alen || len < 2 * alen + 4)
		return -1;
	format_endpoint(s, sizeof(s), alen == 4 ? AF_INET : AF_INET6, p,
			(unsigned)(p[2 * alen] << 8 | p[2 * alen + 1]));
	format_endpoint(d, sizeof(d), alen == 4 ? AF_INET : AF_INET6, p + alen,
			(unsigned)(p[2 * alen + 2] << 8 | p[2 * alen + 3]));
	snprintf(c->proxy, sizeof(c->proxy), "v2 %s %s", s, d);
	return 0;
}

/*
 * Looks for a PROXY header at the start of c->head. Returns its length once
 * it is complete (0 when the connection has none), -1 while more bytes are
 * needed to tell, and sets c->header to DONE or BAD when it knows.
 */
static long header_find(struct conn *c, int eof)
{
	const unsigned char *h = c->head;
	size_t n = c->head_len;

	if (n && may_start(h, n, v1_prefix, sizeof(v1_prefix) - 1)) {
		unsigned char *end = memchr(h, '\n', n < PROXY_V1_MAX ? n : PROXY_V1_MAX);
		char line[PROXY_V1_MAX + 1];

		if (!end && n < PROXY_V1_MAX && !eof)
			return -1;
		c->header = HEADER_BAD;
		if (!end || end == h || end[-1] != '\r')
			return -1;
		memcpy(line, h, (size_t)(end - 1 - h));
		line[end - 1 - h] = '\0';
		if (parse_v1(c, line) == -1)
			return -1;
		c->header = HEADER_DONE;
		return end + 1 - h;
	}
	if (n && may_start(h, n, v2_signature, sizeof(v2_signature))) {
		size_t len = n >= 16 ? (size_t)(h[14] << 8 | h[15]) : 0;

		if ((n < 16 || n < 16 + len) && !eof && 16 + len <= PROXY_V2_MAX)
			return -1;
		c->header = HEADER_BAD;
		if (n < 16 || n < 16 + len || h[12] != 0x21 || parse_v2(c, h[13], h + 16, len) == -1)
			return -1;
		c->header = HEADER_DONE;
		return (long)(16 + len);
	}
	if (!n && !eof)
		return -1;
	snprintf(c->proxy, sizeof(c->proxy), "none - -");
	c->header = HEADER_DONE;
	return 0;
}

static void payload(struct conn *c, const void *p, size_t len)
{
	c->bytes += len;
	EVP_DigestUpdate(c->sha, p, len);
}

/* Proxy mode: <len> bytes at <p> arrived (0 at EOF): the header first, then payload. */
static void proxy_feed(struct conn *c, const unsigned char *p, size_t len)
{
	size_t take;
	long header_len;

	if (c->header == HEADER_DONE) {
		payload(c, p, len);
		return;
	}
	if (c->header == HEADER_BAD)
		return;
	take = sizeof(c->head) - c->head_len < len ? sizeof(c->head) - c->head_len : len;
	if (take) {
		memcpy(c->head + c->head_len, p, take);
		c->head_len += take;
	}
	header_len = header_find(c, len == 0 || c->head_len == sizeof(c->head));
	if (c->header != HEADER_DONE)
		return;
	payload(c, c->head + header_len, c->head_len - (size_t)header_len);
	if (len > take)
		payload(c, p + take, len - take);
}

static void conn_answer(struct conn *c)
{
	char line[256];
	int n;

	if (proxy_mode) {
		unsigned char md[EVP_MAX_MD_SIZE];
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		unsigned mdlen = 0;

		proxy_feed(c, NULL, 0);
		EVP_DigestFinal_ex(c->sha, md, &mdlen);
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		n = c->header == HEADER_BAD ? snprintf(line, sizeof(line), "%s bad\n", name)
					    : snprintf(line, sizeof(line), "%s %s %lu %s\n", name,
						       c->proxy, c->bytes, hex);
	} else {
		n = drain_mode ? snprintf(line, sizeof(line), "%s %lu\n", name, c->bytes)
			       : snprintf(line, sizeof(line), "%s\n", name);
	}

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
			proxy_mode = strcmp(optarg, "proxy") == 0;
			drain_mode = proxy_mode || strcmp(optarg, "drain") == 0;
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
				if (proxy_mode)
					proxy_feed(&conns[i], (unsigned char *)buf, (size_t)n);
				else
					conns[i].bytes += (unsigned long)n;
				continue;
			}
			if (n == -1 && errno == EAGAIN)
				continue;
			if (n == 0 && drain_mode)
				conn_answer(&conns[i]);
			close(pfd[i].fd);
			EVP_MD_CTX_free(conns[i].sha);
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
			if (proxy_mode) {
				conns[nconns].sha = EVP_MD_CTX_new();
				if (!conns[nconns].sha ||
				    !EVP_DigestInit_ex(conns[nconns].sha, EVP_sha256(), NULL)) {
					fputs("sha256 unavailable\n", stderr);
					return 1;
				}
			}
			if (!drain_mode)
				conn_answer(&conns[nconns]);
		}
	}
}
