/*
 * test_sessions.c - fills a running slb's session table, for the bats
 * suites that need more sessions than clients can make quickly.
 *
 *   slb-test-sessions INSTANCE LISTENER GROUP SERVER FIRST_IPV4 COUNT TTL_S
 *   slb-test-sessions -r INSTANCE LISTENER FIRST_IPV4 COUNT
 *   slb-test-sessions -f INSTANCE LISTENER COUNT
 *
 * Maps /slb.INSTANCE and puts COUNT source_ip sessions (TCP) on LISTENER,
 * for the addresses from FIRST_IPV4 up, to GROUP/SERVER for TTL_S seconds,
 * through the same slb_sessions_put() a worker calls. With -r it removes
 * them instead, through slb_sessions_remove() as a worker does for a flow
 * whose servers are all gone. With -f it flushes LISTENER's sessions COUNT
 * times in a row, through slb_sessions_flush() as slbctl sessions flush
 * does: more flushes between two polls of slb-failover than its log holds.
 *
 * Exits 1 when the segment cannot be mapped or is not slb's, or a name or
 * the address is unknown; 2 on a usage error.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "clock.h"
#include "sessions.h"
#include "shm.h"

int main(int argc, char **argv)
{
	struct sockaddr_in client = { .sin_family = AF_INET };
	struct slb_session_key key;
	struct slb_shm shm;
	uint64_t now = slb_now_ms(), ttl_ms;
	unsigned long count;
	char name[128];
	int fd, listener, server = 0;
	bool remove = argc == 6 && strcmp(argv[1], "-r") == 0;
	bool flush = argc == 5 && strcmp(argv[1], "-f") == 0;
	/* The arguments as if it were a put: INSTANCE LISTENER GROUP SERVER FIRST_IPV4 COUNT TTL_S. */
	char *a[8] = { argv[0] };

	if (argc != 8 && !remove && !flush)
		return fprintf(stderr, "usage: %s INSTANCE LISTENER GROUP SERVER FIRST_IPV4 COUNT "
			       "TTL_S\n       %s -r INSTANCE LISTENER FIRST_IPV4 COUNT\n"
			       "       %s -f INSTANCE LISTENER COUNT\n",
			       argv[0], argv[0], argv[0]), 2;
	if (flush) {
		a[1] = argv[2], a[2] = argv[3], a[5] = "0.0.0.0", a[6] = argv[4], a[7] = "0";
	} else if (remove) {
		a[1] = argv[2], a[2] = argv[3], a[5] = argv[4], a[6] = argv[5], a[7] = "0";
	} else {
		for (int i = 1; i < 8; i++)
			a[i] = argv[i];
	}
	slb_shm_name(a[1], name, sizeof(name));
	fd = shm_open(name, O_RDWR, 0);
	if (fd == -1 || slb_shm_attach_fd(&shm, fd) == -1)
		return perror(name), 1;
	listener = slb_shm_listener_find(&shm, a[2]);
	if (!remove && !flush)
		server = slb_shm_server_find(&shm, a[3], a[4]);
	count = strtoul(a[6], NULL, 10);
	ttl_ms = 1000 * strtoull(a[7], NULL, 10);
	if (listener < 0 || server < 0 || inet_pton(AF_INET, a[5], &client.sin_addr) != 1)
		return fprintf(stderr, "unknown listener or server, or a bad address\n"), 1;
	for (unsigned long i = 0; flush && i < count; i++)
		slb_sessions_flush(shm.sessions, listener);
	if (flush)
		return 0;
	for (unsigned long i = 0; i < count; i++) {
		slb_session_key_make(&key, (uint32_t)listener, IPPROTO_TCP,
				     (const struct sockaddr *)&client, false);
		if (remove)
			slb_sessions_remove(shm.sessions, &key);
		else
			slb_sessions_put(shm.sessions, &key, (uint32_t)server,
					 atomic_load(&shm.servers[server].serial), now + ttl_ms, now);
		client.sin_addr.s_addr = htonl(ntohl(client.sin_addr.s_addr) + 1);
	}
	return 0;
}
