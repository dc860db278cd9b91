/*
 * sessions-bench.c - one core's rate for the session table's operations at
 * 1M entries, printed against the goals (>= 10M lookup hits/s, <= 64 bytes
 * per entry). Rates are operations per second of this process's CPU time.
 * Built by `make bench`; see tests/bench/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <time.h>

#include "clock.h"
#include "sessions.h"

#ifndef CAPACITY
#define CAPACITY (1u << 20)
#endif
#define LOOKUP_GOAL 10e6
#define BYTES_GOAL 64u

static struct slb_session_key *keys_make(uint32_t n, uint32_t salt)
{
	struct slb_session_key *keys = malloc(sizeof(*keys) * n);

	if (!keys) {
		perror("malloc");
		exit(1);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct sockaddr_in in4 = { .sin_family = AF_INET };

		/* Scattered addresses, in no order a cache could guess. */
		in4.sin_addr.s_addr = htonl((i * 2654435761u) ^ salt);
		slb_session_key_make(&keys[i], i % 16, IPPROTO_TCP, (struct sockaddr *)&in4, false);
	}
	return keys;
}

/* Fisher-Yates with xorshift: lookups in an order unrelated to insertion. */
static void shuffle(uint32_t *a, uint32_t n)
{
	uint64_t x = 88172645463325252ULL;

	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j, tmp;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (uint32_t)(x % (i + 1));
		tmp = a[i];
		a[i] = a[j];
		a[j] = tmp;
	}
}

/* CPU time of this process: a rate per core even on a busy machine. */
static uint64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double rate(uint32_t ops, uint64_t began_us)
{
	uint64_t took = cpu_us() - began_us;

	return (double)ops * 1e6 / (double)(took ? took : 1);
}

static void report(const char *what, double ops_s, const char *goal)
{
	printf("%-34s %8.2f M ops/s%s\n", what, ops_s / 1e6, goal);
}

int main(void)
{
	size_t size = slb_sessions_size(CAPACITY);
	struct slb_sessions *t = mmap(NULL, size, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	struct slb_session_key *keys = keys_make(CAPACITY, 0), *fresh = keys_make(CAPACITY, 0x5a5a5a5a);
	struct slb_session_key *hit_keys = malloc(sizeof(*hit_keys) * CAPACITY);
	uint32_t *present = malloc(sizeof(*present) * CAPACITY), npresent = 0, hits = 0;
	uint64_t now = 1000000, began;
	struct slb_session s;
	double lookup;
	/* What one more entry costs; the table adds a 128-byte header once. */
	size_t bytes = (slb_sessions_size(2 * CAPACITY) - size) / CAPACITY;
	char verdict[64];

	if (t == MAP_FAILED || !present || !hit_keys) {
		perror("mmap");
		return 1;
	}
	slb_sessions_init(t, CAPACITY);

	began = cpu_us();
	for (uint32_t i = 0; i < CAPACITY; i++)
		slb_sessions_put(t, &keys[i], i, 1, now + 60000 + i, now);
	report("insert (empty to full)", rate(CAPACITY, began), "");

	for (uint32_t i = 0; i < CAPACITY; i++)
		if (slb_sessions_lookup(t, &keys[i], now, &s))
			present[npresent++] = i;
	shuffle(present, npresent);
	/* In lookup order, as packets bring them: the keys' own memory is not measured. */
	for (uint32_t i = 0; i < npresent; i++)
		hit_keys[i] = keys[present[i]];
	began = cpu_us();
	for (uint32_t i = 0; i < npresent; i++)
		hits += slb_sessions_lookup(t, &hit_keys[i], now, &s);
	lookup = rate(npresent, began);
	snprintf(verdict, sizeof(verdict), "  (goal >= %.0fM: %s)", LOOKUP_GOAL / 1e6,
		 lookup >= LOOKUP_GOAL ? "met" : "NOT met");
	report("lookup hit", lookup, verdict);

	began = cpu_us();
	for (uint32_t i = 0; i < CAPACITY; i++)
		slb_sessions_touch(t, &keys[i], now + 120000, now);
	report("touch (writes a new expiry)", rate(CAPACITY, began), "");

	began = cpu_us();
	for (uint32_t i = 0; i < CAPACITY; i++)
		slb_sessions_lookup(t, &fresh[i], now, &s);
	report("lookup miss", rate(CAPACITY, began), "");

	/* Everything expired: inserts reuse entries in place, nothing sweeps. */
	now += 1000000;
	began = cpu_us();
	for (uint32_t i = 0; i < CAPACITY; i++)
		slb_sessions_put(t, &fresh[i], i, 1, now + 60000 + i, now);
	report("insert over expired entries", rate(CAPACITY, began), "");

	began = cpu_us();
	printf("%-34s %8u live of %u\n", "count (a scan, for metrics)", slb_sessions_count(t, now),
	       CAPACITY);
	report("  count rate (entries scanned)", rate(CAPACITY, began), "");

	printf("%-34s %8u of %u keys kept at load 1.0 (%u lookups hit)\n", "fill", npresent,
	       CAPACITY, hits);
	printf("%-34s %8zu bytes  (goal <= %u: %s)\n", "bytes per entry", bytes, BYTES_GOAL,
	       bytes <= BYTES_GOAL ? "met" : "NOT met");
	free(keys);
	free(fresh);
	free(present);
	free(hit_keys);
	munmap(t, size);
	return 0;
}
