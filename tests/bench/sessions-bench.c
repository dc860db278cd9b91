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

#ifndef NKEYS
#define NKEYS (1u << 20)
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

/* The key arrays, made once: NKEYS sessions, and as many that are never stored. */
struct workload {
	struct slb_session_key *keys, *fresh, *hit_keys;
	uint32_t *present;
};

/* Every measurement with NKEYS sessions in a table of <capacity> entries. */
static int bench_table(uint32_t capacity, const struct workload *wl)
{
	size_t size = slb_sessions_size(capacity);
	struct slb_sessions *t = mmap(NULL, size, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	uint32_t npresent = 0, hits = 0;
	uint64_t now = 1000000, began;
	struct slb_session s;
	double lookup;
	char verdict[64];

	if (t == MAP_FAILED) {
		perror("mmap");
		return -1;
	}
	slb_sessions_init(t, capacity);
	printf("-- %u sessions in a table of %u entries (load %.2f)\n", NKEYS, capacity,
	       (double)NKEYS / capacity);

	began = cpu_us();
	for (uint32_t i = 0; i < NKEYS; i++)
		slb_sessions_put(t, &wl->keys[i], i, 1, now + 60000 + i, now);
	report("insert", rate(NKEYS, began), "");

	for (uint32_t i = 0; i < NKEYS; i++)
		if (slb_sessions_lookup(t, &wl->keys[i], now, &s))
			wl->present[npresent++] = i;
	shuffle(wl->present, npresent);
	/* In lookup order, as packets bring them: the keys' own memory is not measured. */
	for (uint32_t i = 0; i < npresent; i++)
		wl->hit_keys[i] = wl->keys[wl->present[i]];
	began = cpu_us();
	for (uint32_t i = 0; i < npresent; i++)
		hits += slb_sessions_lookup(t, &wl->hit_keys[i], now, &s);
	lookup = rate(npresent, began);
	snprintf(verdict, sizeof(verdict), "  (goal >= %.0fM: %s)", LOOKUP_GOAL / 1e6,
		 lookup >= LOOKUP_GOAL ? "met" : "NOT met");
	report("lookup hit", lookup, verdict);

	began = cpu_us();
	for (uint32_t i = 0; i < NKEYS; i++)
		slb_sessions_touch(t, &wl->keys[i], now + 120000, now);
	report("touch (writes a new expiry)", rate(NKEYS, began), "");

	began = cpu_us();
	for (uint32_t i = 0; i < NKEYS; i++)
		slb_sessions_lookup(t, &wl->fresh[i], now, &s);
	report("lookup miss", rate(NKEYS, began), "");

	/* Everything expired: inserts reuse entries in place, nothing sweeps. */
	now += 1000000;
	began = cpu_us();
	for (uint32_t i = 0; i < NKEYS; i++)
		slb_sessions_put(t, &wl->fresh[i], i, 1, now + 60000 + i, now);
	report("insert over expired entries", rate(NKEYS, began), "");

	began = cpu_us();
	printf("%-34s %8u live\n", "count (a scan, for metrics)", slb_sessions_count(t, now));
	report("  count rate (entries scanned)", rate(capacity, began), "");
	printf("%-34s %8u of %u sessions kept (%u lookups hit)\n", "fill", npresent, NKEYS, hits);
	munmap(t, size);
	return 0;
}

int main(void)
{
	struct workload wl = {
		.keys = keys_make(NKEYS, 0),
		.fresh = keys_make(NKEYS, 0x5a5a5a5a),
		.hit_keys = malloc(sizeof(*wl.hit_keys) * NKEYS),
		.present = malloc(sizeof(*wl.present) * NKEYS),
	};
	/* What one more entry costs; the table adds a 128-byte header once. */
	size_t bytes = (slb_sessions_size(2 * NKEYS) - slb_sessions_size(NKEYS)) / NKEYS;
	int rc = 0;

	if (!wl.hit_keys || !wl.present) {
		perror("malloc");
		return 1;
	}
	/* Full (session_table_size = the sessions there are), then sized at twice that. */
	if (bench_table(NKEYS, &wl) == -1 || bench_table(2 * NKEYS, &wl) == -1)
		rc = 1;
	printf("%-34s %8zu bytes  (goal <= %u: %s)\n", "bytes per entry", bytes, BYTES_GOAL,
	       bytes <= BYTES_GOAL ? "met" : "NOT met");
	free(wl.keys);
	free(wl.fresh);
	free(wl.present);
	free(wl.hit_keys);
	return rc;
}
