/*
 * udp_client.c - a UDP client for the bats suites and the UDP benchmark.
 *
 *   slb-test-udp-client -t IP:PORT [-f FLOWS] [-c ROUNDS] [-i INTERVAL_MS] [-w WAIT_MS]
 *
 * Opens FLOWS sockets, each on its own source port (so each is one flow to
 * a load balancer), all at once. In each of ROUNDS rounds every flow sends
 * one datagram, then replies are collected until every flow has one or
 * WAIT_MS (default 1000) passed; one line per flow and round is printed:
 *
 *   FLOW ROUND ANSWER SOURCE     e.g. "3 0 b1 198.18.0.100:5353"
 *
 * ANSWER is the reply's first line ("fail" and SOURCE "-" when none came),
 * SOURCE the address the reply came from: the sockets are not connected,
 * so a reply from any address is seen and shown. INTERVAL_MS (default 0) is
 * the pause between rounds.
 *
 *   slb-test-udp-client -t IP:PORT -b SECONDS [-f FLOWS] [-k WINDOW]
 *
 * Benchmark: every flow keeps WINDOW (default 16) datagrams of 64 bytes in
 * flight, sending one for each reply (a flow silent for 200 ms sends its
 * window again: datagrams get lost); prints "replies N seconds S rate R"
 * (replies per second).
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"

#define MAX_FLOWS 1024
#define BATCH 64

static struct slb_sockaddr target;
static int fds[MAX_FLOWS];
static struct pollfd pfds[MAX_FLOWS];

static void usage(void)
{
	fprintf(stderr, "usage: slb-test-udp-client -t IP:PORT [-f FLOWS] [-c ROUNDS] "
			"[-i INTERVAL_MS] [-w WAIT_MS] | -b SECONDS [-k WINDOW]\n");
	exit(2);
}

static void open_flows(int nflows)
{
	for (int i = 0; i < nflows; i++) {
		fds[i] = socket(target.u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (fds[i] == -1) {
			perror("socket");
			exit(1);
		}
		pfds[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	}
}

static void send_one(int fd, const void *data, size_t len)
{
	/* A refused or full socket loses the datagram: the round reports "fail". */
	if (sendto(fd, data, len, 0, &target.u.sa, target.len) == -1 && errno != EAGAIN &&
	    errno != ECONNREFUSED)
		perror("sendto");
}

static void print_reply(int flow, int round, const char *buf, ssize_t n,
			const struct sockaddr_storage *from, socklen_t fromlen)
{
	struct slb_sockaddr src = { .len = fromlen };
	char addr[SLB_SOCKADDR_STRLEN];
	int len = 0;

	memcpy(&src.u, from, fromlen <= sizeof(src.u) ? fromlen : sizeof(src.u));
	while (len < n && buf[len] != '\n' && len < 64)
		len++;
	printf("%d %d %.*s %s\n", flow, round, len, buf, slb_sockaddr_format(&src, addr));
}

static void run_rounds(int nflows, int rounds, int interval_ms, int wait_ms)
{
	static bool answered[MAX_FLOWS];

	for (int r = 0; r < rounds; r++) {
		int pending = nflows;
		uint64_t deadline;

		if (r > 0 && interval_ms > 0)
			usleep((useconds_t)interval_ms * 1000);
		for (int i = 0; i < nflows; i++) {
			answered[i] = false;
			send_one(fds[i], "ping\n", 5);
		}
		deadline = slb_now_ms() + (uint64_t)wait_ms;
		while (pending > 0) {
			uint64_t now = slb_now_ms();

			if (now >= deadline || poll(pfds, (nfds_t)nflows, (int)(deadline - now)) <= 0)
				break;
			for (int i = 0; i < nflows; i++) {
				struct sockaddr_storage from;
				socklen_t fromlen = sizeof(from);
				char buf[256];
				ssize_t n;

				if (!(pfds[i].revents & (POLLIN | POLLERR)))
					continue;
				n = recvfrom(fds[i], buf, sizeof(buf), 0, (struct sockaddr *)&from,
					     &fromlen);
				if (n < 0 || answered[i])
					continue;
				answered[i] = true;
				pending--;
				print_reply(i, r, buf, n, &from, fromlen);
			}
		}
		for (int i = 0; i < nflows; i++)
			if (!answered[i])
				printf("%d %d fail -\n", i, r);
	}
}

static void run_bench(int nflows, int seconds, int window)
{
	static uint64_t last_reply[MAX_FLOWS];
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	static char bufs[BATCH][256];
	char payload[64];
	uint64_t start, end, replies = 0;

	memset(payload, 'x', sizeof(payload));
	start = slb_now_ms();
	end = start + (uint64_t)seconds * 1000;
	for (int i = 0; i < nflows; i++) {
		for (int k = 0; k < window; k++)
			send_one(fds[i], payload, sizeof(payload));
		last_reply[i] = start;
	}
	for (uint64_t now = start; now < end; now = slb_now_ms()) {
		if (poll(pfds, (nfds_t)nflows, 50) == -1 && errno != EINTR) {
			perror("poll");
			exit(1);
		}
		now = slb_now_ms();
		for (int i = 0; i < nflows; i++) {
			int n = 0;

			if (pfds[i].revents & (POLLIN | POLLERR)) {
				for (int k = 0; k < BATCH; k++) {
					iov[k] = (struct iovec){ bufs[k], sizeof(bufs[k]) };
					msgs[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k],
									   .msg_iovlen = 1 };
				}
				n = recvmmsg(fds[i], msgs, BATCH, MSG_DONTWAIT, NULL);
			}
			if (n > 0) {
				replies += (uint64_t)n;
				last_reply[i] = now;
			} else if (now - last_reply[i] >= 200) {
				n = window; /* silent: assume the window was lost */
				last_reply[i] = now;
			}
			for (int k = 0; k < n; k++)
				send_one(fds[i], payload, sizeof(payload));
		}
	}
	printf("replies %llu seconds %d rate %.0f\n", (unsigned long long)replies, seconds,
	       (double)replies / seconds);
}

int main(int argc, char **argv)
{
	int opt, nflows = 1, rounds = 1, interval_ms = 0, wait_ms = 1000, bench = 0, window = 16;

	while ((opt = getopt(argc, argv, "t:f:c:i:w:b:k:")) != -1) {
		switch (opt) {
		case 't':
			if (slb_sockaddr_parse(optarg, &target) == -1)
				usage();
			break;
		case 'f': nflows = atoi(optarg); break;
		case 'c': rounds = atoi(optarg); break;
		case 'i': interval_ms = atoi(optarg); break;
		case 'w': wait_ms = atoi(optarg); break;
		case 'b': bench = atoi(optarg); break;
		case 'k': window = atoi(optarg); break;
		default: usage();
		}
	}
	if (!target.len || nflows < 1 || nflows > MAX_FLOWS || rounds < 0 || interval_ms < 0 ||
	    wait_ms < 0 || bench < 0 || window < 1 || window > BATCH)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	open_flows(nflows);
	if (bench)
		run_bench(nflows, bench, window);
	else
		run_rounds(nflows, rounds, interval_ms, wait_ms);
	return 0;
}
