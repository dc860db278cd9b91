/*
 * test_sync_peer.c - a session-sync backup for the bats suites, speaking
 * lib/sync_proto to a master's sync_port like slb-failover does.
 *
 *   slb-test-sync-peer [-k KEY_FILE] [-s SOURCE_IP] [-f] [-p SECONDS] ADDR PORT VRID
 *
 * Connects (from SOURCE_IP), reads the master's HELLO, answers with its
 * own, and prints the bulk copy, one line per session, then the count:
 *
 *   hello NODE
 *   session LISTENER CLIENT GROUP/SERVER TTL_MS
 *   bulk_end COUNT
 *
 * -f (forge): send our HELLO at once, without reading or checking the
 * master's first, as a peer without the right key would try to; then
 * discard what comes until the master closes (exit 1) or 5 s pass (exit 3).
 *
 * -p (a slow backup): with a 4 KiB receive buffer, stop reading for
 * SECONDS after the HELLOs, then read on.
 *
 * Exits 0 after BULK_END; 1 when the connection ends first or a frame is
 * refused (the reason on stderr); 2 on a usage error. Everything is
 * bounded by a 5 s timeout. The key is read like slb-failover reads
 * auth_key_file: the file's bytes less a trailing newline.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sync_proto.h"

#define TIMEOUT_MS 5000

static uint8_t key[128];
static size_t key_len;
static uint8_t buf[64 * 1024];
static size_t len;

static int read_key(const char *path)
{
	FILE *fp = fopen(path, "rb");

	if (!fp)
		return -1;
	key_len = fread(key, 1, sizeof(key), fp);
	fclose(fp);
	while (key_len > 0 && (key[key_len - 1] == '\n' || key[key_len - 1] == '\r'))
		key_len--;
	return key_len ? 0 : -1;
}

/* The next frame, reading as needed; -1 (said on stderr) when there is none. */
static int next_frame(int fd, struct slb_sync_mac *rx, struct slb_sync_frame *frame)
{
	for (;;) {
		size_t used = 0;
		enum slb_sync_verdict v = slb_sync_decode(buf, len, rx, frame, &used);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (v == SLB_SYNC_OK) {
			memmove(buf, buf + used, len - used);
			len -= used;
			return 0;
		}
		if (v != SLB_SYNC_NEED_MORE) {
			fprintf(stderr, "refused: %s\n", slb_sync_verdict_name(v));
			return -1;
		}
		if (poll(&p, 1, TIMEOUT_MS) != 1 || (n = read(fd, buf + len, sizeof(buf) - len)) <= 0) {
			fprintf(stderr, "closed by the master (or timed out)\n");
			return -1;
		}
		len += (size_t)n;
	}
}

/* Discards what the master sends until it closes: 1, or 3 if it keeps the connection open. */
static int wait_closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, TIMEOUT_MS) == 1)
		if (read(fd, buf, sizeof(buf)) <= 0) {
			fprintf(stderr, "closed by the master\n");
			return 1;
		}
	fprintf(stderr, "still open after %d ms\n", TIMEOUT_MS);
	return 3;
}

static void print_session(const struct slb_sync_session *s)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(s->family, s->addr, addr, sizeof(addr));
	printf("session %s %s %s/%s %u\n", s->listener, addr, s->group, s->server, s->ttl_ms);
}

int main(int argc, char **argv)
{
	struct slb_sync_mac tx = { 0 }, rx = { 0 };
	struct sockaddr_in to = { .sin_family = AF_INET }, from = { .sin_family = AF_INET };
	struct slb_sync_frame frame, hello = { .type = SLB_SYNC_HELLO };
	uint8_t out[SLB_SYNC_MAX_FRAME];
	int opt, fd, n, forge = 0, pause_s = 0, small = 4096;

	while ((opt = getopt(argc, argv, "fk:p:s:")) != -1) {
		if (opt == 'f')
			forge = 1;
		else if (opt == 'p')
			pause_s = atoi(optarg);
		else if (opt == 'k' && read_key(optarg) == 0)
			tx.key = rx.key = key, tx.key_len = rx.key_len = key_len;
		else if (opt == 's' && inet_pton(AF_INET, optarg, &from.sin_addr) == 1)
			continue;
		else if (opt != 'k')
			return 2;
		else
			return fprintf(stderr, "cannot read key %s\n", optarg), 2;
	}
	if (argc - optind != 3 || inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1)
		return fprintf(stderr, "usage: %s [-k KEY_FILE] [-s SOURCE_IP] [-f] [-p SECONDS] ADDR PORT VRID\n", argv[0]), 2;
	to.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	hello.u.hello.vrid = (uint8_t)atoi(argv[optind + 2]);
	strcpy(hello.u.hello.node, "test-peer");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1 || (pause_s && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == -1) ||
	    bind(fd, (struct sockaddr *)&from, sizeof(from)) == -1 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) == -1)
		return perror("connect"), 1;
	/* The master's HELLO (zeros for nonce), then ours bound to its nonce. */
	if (!forge && (next_frame(fd, &rx, &frame) == -1 || frame.type != SLB_SYNC_HELLO))
		return 1;
	if (!forge)
		printf("hello %s\n", frame.u.hello.node);
	fflush(stdout);
	if (getrandom(hello.u.hello.nonce, SLB_SYNC_NONCE_LEN, 0) != SLB_SYNC_NONCE_LEN)
		return 1;
	if (!forge)
		memcpy(tx.nonce, frame.u.hello.nonce, SLB_SYNC_NONCE_LEN);
	memcpy(rx.nonce, hello.u.hello.nonce, SLB_SYNC_NONCE_LEN);
	n = slb_sync_encode(&hello, &tx, out, sizeof(out));
	if (n < 0 || write(fd, out, (size_t)n) != n)
		return perror("write"), 1;
	if (forge)
		return wait_closed(fd);
	sleep((unsigned)pause_s);
	for (;;) {
		if (next_frame(fd, &rx, &frame) == -1)
			return 1;
		if (frame.type == SLB_SYNC_SESSION)
			print_session(&frame.u.session);
		if (frame.type == SLB_SYNC_BULK_END) {
			printf("bulk_end %u\n", frame.u.bulk_count);
			return 0;
		}
	}
}
