/*
 * test_sessions.c - the session table, one process: keys for IPv4/IPv6 with
 * and without port, collisions in one bucket, lazy expiry, eviction of the
 * soonest-expiring entry, touch, remove, flush by listener, walks since a
 * change number, removals and flushes as replication sees them, a
 * evictions logged for replication, a replica's prune after a fresh copy,
 * scans that read only what was written (resident memory measured), where
 * a walk says the next starts when it passed writes in flight, counters near their maximum, and an entry left held by a
 * killed writer taken over instead of a live one being evicted.
 * (test_sessions_torture.c kills writers for real.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "sessions_table.h"

/* Now, as slb_sessions_remove() and _flush() read it from the clock. */
static uint64_t base_ms;

static struct slb_sessions *table_new(uint32_t capacity)
{
	struct slb_sessions *t = NULL;
	size_t size = slb_sessions_size(capacity);

	assert_int_equal(posix_memalign((void **)&t, 64, size), 0);
	memset(t, 0, size);
	slb_sessions_init(t, capacity);
	return t;
}

static struct slb_session_key key_v4(uint32_t listener, uint32_t n)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET, .sin_port = htons(5000) };
	struct slb_session_key key;

	in4.sin_addr.s_addr = htonl(0xc6120000u + n);
	slb_session_key_make(&key, listener, IPPROTO_TCP, (struct sockaddr *)&in4, false);
	return key;
}

static void put(struct slb_sessions *t, const struct slb_session_key *key, uint32_t slot,
		uint64_t expires)
{
	slb_sessions_put(t, key, slot, slot + 100, expires, base_ms);
}

static bool has(struct slb_sessions *t, const struct slb_session_key *key, uint32_t slot)
{
	struct slb_session s;

	if (!slb_sessions_lookup(t, key, base_ms, &s))
		return false;
	assert_memory_equal(&s.key, key, sizeof(*key));
	assert_int_equal(s.server_slot, slot);
	assert_int_equal(s.server_serial, slot + 100);
	return true;
}

static void test_key_make(void **state)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET, .sin_port = htons(5000) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(6000) };
	struct slb_session_key k, mapped;
	static const uint8_t v4[4] = { 198, 18, 0, 10 };
	uint8_t zero[16] = { 0 };

	(void)state;
	inet_pton(AF_INET, "198.18.0.10", &in4.sin_addr);
	slb_session_key_make(&k, 3, IPPROTO_TCP, (struct sockaddr *)&in4, false);
	assert_int_equal(k.listener, 3);
	assert_int_equal(k.protocol, IPPROTO_TCP);
	assert_int_equal(k.family, AF_INET);
	assert_int_equal(k.port, 0);
	assert_int_equal(k.pad, 0);
	assert_memory_equal(k.addr, v4, 4);
	assert_memory_equal(k.addr + 4, zero, 12);
	slb_session_key_make(&k, 3, IPPROTO_UDP, (struct sockaddr *)&in4, true);
	assert_int_equal(k.port, htons(5000));
	assert_int_equal(k.protocol, IPPROTO_UDP);

	inet_pton(AF_INET6, "2001:db8::7", &in6.sin6_addr);
	slb_session_key_make(&k, 65535, IPPROTO_TCP, (struct sockaddr *)&in6, false);
	assert_int_equal(k.listener, 65535);
	assert_int_equal(k.family, AF_INET6);
	assert_int_equal(k.port, 0);
	assert_memory_equal(k.addr, &in6.sin6_addr, 16);
	slb_session_key_make(&k, 1, IPPROTO_UDP, (struct sockaddr *)&in6, true);
	assert_int_equal(k.port, htons(6000));

	/* A v4 client accepted on a v6 socket is the same client. */
	inet_pton(AF_INET6, "::ffff:198.18.0.10", &in6.sin6_addr);
	slb_session_key_make(&mapped, 3, IPPROTO_TCP, (struct sockaddr *)&in6, false);
	slb_session_key_make(&k, 3, IPPROTO_TCP, (struct sockaddr *)&in4, false);
	assert_memory_equal(&mapped, &k, sizeof(k));
}

static void test_capacity_and_size(void **state)
{
	struct slb_sessions *t = table_new(1000);

	(void)state;
	assert_int_equal(slb_sessions_capacity(t), 1024);
	/* The header, the entries, the eviction log, the written map (a bit per 64 entries). */
	assert_int_equal(slb_sessions_size(1024), 128 + (1024 + SLB_SESSIONS_EVICTION_LOG) * 64 + 64);
	assert_int_equal(slb_sessions_size(1),
			 128 + (SLB_SESSIONS_WAYS + SLB_SESSIONS_EVICTION_LOG) * 64 + 64);
	assert_int_equal(slb_sessions_size(1u << 20),
			 128 + ((1u << 20) + SLB_SESSIONS_EVICTION_LOG) * 64 + (1u << 20) / 64 / 8);
	assert_int_equal(slb_sessions_count(t, base_ms), 0);
	free(t);
}

/* A table of one bucket: every key collides. */
static void test_collisions_and_eviction(void **state)
{
	struct slb_sessions *t = table_new(SLB_SESSIONS_WAYS);
	struct slb_session_key keys[SLB_SESSIONS_WAYS + 1];

	(void)state;
	assert_int_equal(slb_sessions_capacity(t), SLB_SESSIONS_WAYS);
	for (uint32_t i = 0; i <= SLB_SESSIONS_WAYS; i++)
		keys[i] = key_v4(1, i);
	/* Expiries 5000, 3000, 7000, ...: key 1 expires first. */
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++)
		put(t, &keys[i], i, base_ms + (i == 1 ? 3000 : 5000 + i * 1000));
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++)
		assert_true(has(t, &keys[i], i));
	assert_int_equal(slb_sessions_count(t, base_ms), SLB_SESSIONS_WAYS);

	put(t, &keys[SLB_SESSIONS_WAYS], 42, base_ms + 60000);
	assert_true(has(t, &keys[SLB_SESSIONS_WAYS], 42));
	assert_false(has(t, &keys[1], 1));
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++)
		if (i != 1)
			assert_true(has(t, &keys[i], i));

	/* Replacing a key rewrites its entry: nothing else is evicted. */
	put(t, &keys[0], 9, base_ms + 60000);
	assert_true(has(t, &keys[0], 9));
	assert_int_equal(slb_sessions_count(t, base_ms), SLB_SESSIONS_WAYS);
	free(t);
}

static void test_expiry_is_lazy(void **state)
{
	struct slb_sessions *t = table_new(SLB_SESSIONS_WAYS);
	struct slb_session_key a = key_v4(1, 1), b = key_v4(1, 2), c;
	struct slb_session s;

	(void)state;
	put(t, &a, 1, base_ms + 10);
	put(t, &b, 2, base_ms + 20);
	assert_true(slb_sessions_lookup(t, &a, base_ms + 9, &s));
	assert_false(slb_sessions_lookup(t, &a, base_ms + 10, &s));
	assert_true(slb_sessions_lookup(t, &b, base_ms + 10, &s));
	assert_int_equal(slb_sessions_count(t, base_ms + 10), 1);
	assert_false(slb_sessions_touch(t, &a, base_ms + 5000, base_ms + 10));

	/* Filling the bucket after both expired evicts nothing live. */
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++) {
		c = key_v4(2, i);
		slb_sessions_put(t, &c, i, i + 100, base_ms + 90000, base_ms + 30);
	}
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++) {
		c = key_v4(2, i);
		assert_true(slb_sessions_lookup(t, &c, base_ms + 30, &s));
	}
	free(t);
}

static void test_touch_and_remove(void **state)
{
	struct slb_sessions *t = table_new(1024);
	struct slb_session_key a = key_v4(1, 1);
	struct slb_session s;

	(void)state;
	put(t, &a, 1, base_ms + 2000);
	assert_true(slb_sessions_touch(t, &a, base_ms + 2500, base_ms));
	assert_true(slb_sessions_lookup(t, &a, base_ms, &s));
	assert_int_equal(s.expires_ms, base_ms + 2000); /* less than a second: skipped */
	assert_true(slb_sessions_touch(t, &a, base_ms + 9000, base_ms));
	assert_true(slb_sessions_lookup(t, &a, base_ms, &s));
	assert_int_equal(s.expires_ms, base_ms + 9000);
	/* A short lifetime half gone is renewed even by less than a second. */
	put(t, &a, 1, base_ms + 1000);
	assert_true(slb_sessions_touch(t, &a, base_ms + 1600, base_ms + 600));
	assert_true(slb_sessions_lookup(t, &a, base_ms + 600, &s));
	assert_int_equal(s.expires_ms, base_ms + 1600);

	assert_true(slb_sessions_remove(t, &a));
	assert_false(slb_sessions_remove(t, &a));
	assert_false(has(t, &a, 1));
	assert_false(slb_sessions_touch(t, &a, base_ms + 19000, base_ms));
	free(t);
}

static void test_flush_by_listener(void **state)
{
	struct slb_sessions *t = table_new(4096);
	struct slb_session_key k;

	(void)state;
	for (uint32_t i = 0; i < 300; i++) {
		k = key_v4(i % 3, i);
		put(t, &k, i, base_ms + 60000);
	}
	assert_int_equal(slb_sessions_flush(t, 1), 100);
	assert_int_equal(slb_sessions_flush(t, 1), 0);
	assert_int_equal(slb_sessions_count(t, base_ms), 200);
	k = key_v4(0, 3);
	assert_true(has(t, &k, 3));
	k = key_v4(1, 4);
	assert_false(slb_sessions_lookup(t, &k, base_ms, &(struct slb_session){ 0 }));
	assert_int_equal(slb_sessions_flush(t, -1), 200);
	assert_int_equal(slb_sessions_count(t, base_ms), 0);
	free(t);
}

struct seen {
	unsigned n;
	uint32_t slots[16];
	unsigned stop_after;
};

static int collect(const struct slb_session *s, void *arg)
{
	struct seen *seen = arg;

	if (seen->n < 16)
		seen->slots[seen->n] = s->server_slot;
	seen->n++;
	return seen->stop_after && seen->n >= seen->stop_after;
}

static void walk_expect(struct slb_sessions *t, uint64_t since, uint64_t *next, unsigned n,
			uint32_t slot)
{
	struct seen seen = { 0 };

	*next = slb_sessions_walk(t, since, base_ms, collect, &seen);
	assert_int_equal(seen.n, n);
	if (n == 1)
		assert_int_equal(seen.slots[0], slot);
}

static void test_walk_since(void **state)
{
	struct slb_sessions *t = table_new(1024);
	struct slb_session_key a = key_v4(1, 1), b = key_v4(1, 2), c = key_v4(1, 3);
	struct seen seen = { .stop_after = 1 };
	uint64_t mark, next;

	(void)state;
	put(t, &a, 1, base_ms + 5000);
	put(t, &b, 2, base_ms + 5000);
	walk_expect(t, 0, &mark, 2, 0);
	walk_expect(t, mark, &next, 0, 0);
	assert_int_equal(next, mark);

	put(t, &c, 3, base_ms + 5000);
	walk_expect(t, mark, &next, 1, 3);
	mark = next;
	assert_true(slb_sessions_touch(t, &a, base_ms + 9000, base_ms)); /* writes: stamped */
	walk_expect(t, mark, &next, 1, 1);
	mark = next;
	assert_true(slb_sessions_touch(t, &a, base_ms + 9500, base_ms)); /* skipped: not stamped */
	walk_expect(t, mark, &next, 0, 0);

	slb_sessions_walk(t, 0, base_ms, collect, &seen);
	assert_int_equal(seen.n, 1); /* the visitor stopped it */
	free(t);
}

/* A walk in ranges visits what one walk does; a range of 0 entries only reads the change number. */
static void test_walk_range(void **state)
{
	struct slb_sessions *t = table_new(1024);
	uint32_t cap = slb_sessions_capacity(t);
	struct seen whole = { 0 }, parts = { 0 }, none = { 0 };
	uint64_t mark, began;

	(void)state;
	for (uint32_t i = 0; i < 300; i++) {
		struct slb_session_key k = key_v4(1, i);

		put(t, &k, i, base_ms + 5000);
	}
	mark = slb_sessions_walk(t, 0, base_ms, collect, &whole);
	assert_true(whole.n > 250); /* a full bucket may have evicted a few */
	for (uint32_t first = 0; first < cap; first += 100) {
		began = slb_sessions_walk_range(t, 0, base_ms, first, 100, collect, &parts);
		assert_int_equal(began, mark);
	}
	assert_int_equal(parts.n, whole.n);
	/* Past the end, and a count that would overflow: clipped. */
	assert_int_equal(slb_sessions_walk_range(t, 0, base_ms, cap, 10, collect, &none), mark);
	assert_int_equal(slb_sessions_walk_range(t, 0, base_ms, cap - 1, UINT32_MAX, collect, &none),
			 mark);
	assert_true(none.n <= 1);
	none.n = 0;
	assert_int_equal(slb_sessions_walk_range(t, 0, base_ms, 0, 0, collect, &none), mark);
	assert_int_equal(none.n, 0);
	free(t);
}

struct removals {
	unsigned live, removed;
	struct slb_session last_removed;
};

static int collect_removals(const struct slb_session *s, void *arg)
{
	struct removals *r = arg;

	if (!s->removed) {
		r->live++;
		return 0;
	}
	r->removed++;
	r->last_removed = *s;
	return 0;
}

/*
 * A removed session is absent for lookups, touch, count and slbctl's walk,
 * but the replication walk since a mark reports it (key and removed), once
 * per removal; a put of the same key takes the tombstone back.
 */
static void test_remove_seen_by_sync_walk(void **state)
{
	struct slb_sessions *t = table_new(SLB_SESSIONS_WAYS);
	struct slb_session_key a = key_v4(2, 1), b = key_v4(2, 2), c = key_v4(2, 50);
	struct removals r = { 0 };
	uint64_t mark;

	(void)state;
	put(t, &a, 1, base_ms + 5000);
	put(t, &b, 2, base_ms + 5000);
	mark = slb_sessions_walk(t, 0, base_ms, collect, &(struct seen){ 0 });
	assert_true(slb_sessions_remove(t, &a));
	assert_false(has(t, &a, 1));
	assert_false(slb_sessions_touch(t, &a, base_ms + 9000, base_ms));
	assert_int_equal(slb_sessions_count(t, base_ms), 1);
	walk_expect(t, 0, &(uint64_t){ 0 }, 1, 2);
	walk_expect(t, mark, &(uint64_t){ 0 }, 0, 0); /* slbctl's walk: live ones only */

	slb_sessions_walk_range(t, mark, base_ms, 0, SLB_SESSIONS_WAYS, collect_removals, &r);
	assert_int_equal(r.live, 0);
	assert_int_equal(r.removed, 1);
	assert_memory_equal(&r.last_removed.key, &a, sizeof(a));
	/* A walk of everything (a bulk copy) has no removals to tell. */
	memset(&r, 0, sizeof(r));
	mark = slb_sessions_walk_range(t, 0, base_ms, 0, SLB_SESSIONS_WAYS, collect_removals, &r);
	assert_int_equal(r.live, 1);
	assert_int_equal(r.removed, 0);
	/* Reported once: nothing new since. */
	memset(&r, 0, sizeof(r));
	slb_sessions_walk_range(t, mark, base_ms, 0, SLB_SESSIONS_WAYS, collect_removals, &r);
	assert_int_equal(r.removed, 0);

	/* A put of the same key takes the tombstone back; the removal is old news. */
	put(t, &a, 3, base_ms + 5000);
	assert_true(has(t, &a, 3));
	memset(&r, 0, sizeof(r));
	slb_sessions_walk_range(t, mark, base_ms, 0, SLB_SESSIONS_WAYS, collect_removals, &r);
	assert_int_equal(r.live, 1);
	assert_int_equal(r.removed, 0);
	/* In a full bucket, a tombstone is taken by another key before a live session is evicted. */
	for (uint32_t i = 3; i < 3 + SLB_SESSIONS_WAYS - 2; i++) {
		struct slb_session_key k = key_v4(2, i);

		put(t, &k, i, base_ms + 5000);
	}
	assert_int_equal(slb_sessions_count(t, base_ms), SLB_SESSIONS_WAYS);
	assert_true(slb_sessions_remove(t, &b));
	put(t, &c, 50, base_ms + 5000);
	assert_int_equal(slb_sessions_count(t, base_ms), SLB_SESSIONS_WAYS);
	assert_true(has(t, &a, 3) && has(t, &c, 50));
	free(t);
}

/*
 * An eviction is logged for replication: the evicted key, numbered, with a
 * change number below that of any later put of the key. Replacing a key or
 * reusing a tombstone evicts nothing. Lost records: the ring came round,
 * or writers took numbers and never wrote them.
 */
static void test_eviction_log(void **state)
{
	struct slb_sessions *t = table_new(SLB_SESSIONS_WAYS);
	struct slb_session_key k, three = key_v4(1, 3), two = key_v4(1, 2);
	struct slb_session out;
	struct seen seen = { 0 };
	uint64_t stamp = 0, n;

	(void)state;
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++) {
		k = key_v4(1, i);
		put(t, &k, i, base_ms + (i == 3 ? 1000 : 5000 + i)); /* 3 expires first, then 2 */
	}
	k = key_v4(1, 0);
	put(t, &k, 0, base_ms + 9000);
	k = key_v4(1, 1);
	assert_true(slb_sessions_remove(t, &k));
	k = key_v4(1, 100);
	put(t, &k, 100, base_ms + 9000); /* takes the tombstone */
	assert_int_equal(slb_sessions_evictions(t), 0);
	assert_int_equal(slb_sessions_evicted(t, 1, &out, &stamp), 0); /* not there yet */

	k = key_v4(1, 101);
	put(t, &k, 101, base_ms + 9000);
	assert_false(has(t, &three, 3));
	assert_int_equal(slb_sessions_evictions(t), 1);
	assert_int_equal(slb_sessions_evicted(t, 1, &out, &stamp), 1);
	assert_memory_equal(&out.key, &three, sizeof(three));
	assert_true(out.removed);
	/* Put again after its eviction (evicting 2): a walk from the stamp sees it (and 101). */
	put(t, &three, 3, base_ms + 9000);
	slb_sessions_walk(t, stamp, base_ms, collect, &seen);
	assert_int_equal(seen.n, 2);
	assert_true(seen.slots[0] == 3 || seen.slots[1] == 3);
	assert_int_equal(slb_sessions_evicted(t, 2, &out, &stamp), 1);
	assert_memory_equal(&out.key, &two, sizeof(two));
	assert_int_equal(slb_sessions_evicted(t, 0, &out, &stamp), -1);

	/* The ring comes round: the first records are lost, the last are there. */
	for (uint32_t i = 0; i < SLB_SESSIONS_EVICTION_LOG; i++) {
		k = key_v4(2, i);
		put(t, &k, 7, base_ms + 20000 + i);
	}
	n = slb_sessions_evictions(t);
	assert_int_equal(n, 2 + SLB_SESSIONS_EVICTION_LOG);
	assert_int_equal(slb_sessions_evicted(t, 2, &out, &stamp), -1);
	assert_int_equal(slb_sessions_evicted(t, n, &out, &stamp), 1);
	k = key_v4(2, SLB_SESSIONS_EVICTION_LOG - SLB_SESSIONS_WAYS - 1);
	assert_memory_equal(&out.key, &k, sizeof(k));
	/* A writer killed after taking its number: not there yet, then lost once the ring came round. */
	atomic_fetch_add(&t->evictions, 1);
	assert_int_equal(slb_sessions_evicted(t, n + 1, &out, &stamp), 0);
	atomic_fetch_add(&t->evictions, SLB_SESSIONS_EVICTION_LOG);
	assert_int_equal(slb_sessions_evicted(t, n + 1, &out, &stamp), -1);
	free(t);
}

/*
 * Where a walk says the next one starts when it passes a write under way
 * (an entry held by a live writer, here this process): before that write's
 * change number, whether the entry holds the stamp of the write before or
 * already its own; for an entry never written, the walk's <since> (a first
 * walk: before 0, removals included). A dead writer's entry holds no write.
 * (test_sessions_torture.c stops real writers inside their writes.)
 */
static void test_walk_next_before_writes_in_flight(void **state)
{
	struct slb_sessions *t = table_new(SLB_SESSIONS_WAYS);
	struct slb_session_entry *e = NULL;
	struct slb_session_key a = key_v4(1, 1);
	struct removals r = { 0 };
	uint64_t old, seq, mine = (uint64_t)getpid() << 32 | 1;
	pid_t dead = fork();

	(void)state;
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	atomic_store(&t->change, 100);
	put(t, &a, 1, base_ms + 5000);
	old = slb_sessions_walk_range(t, 0, base_ms, 0, SLB_SESSIONS_WAYS, collect_removals, &r);
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++)
		if (atomic_load(&t->entries[i].stamp) == old)
			e = &t->entries[i];
	assert_non_null(e);
	seq = atomic_load(&e->seq);
	/* A writer holds it and took the next number: the stamp is still the old one, then its own. */
	atomic_store(&e->seq, mine);
	atomic_fetch_add(&t->change, 1);
	assert_int_equal(slb_sessions_walk_range(t, old, base_ms, 0, 8, collect_removals, &r), old - 1);
	atomic_store(&e->stamp, old + 1);
	assert_int_equal(slb_sessions_walk_range(t, old, base_ms, 0, 8, collect_removals, &r), old);
	assert_int_equal(slb_sessions_walk(t, 0, base_ms, collect_removals, &r), old);
	/* Its write lands: a walk from there sees it. */
	atomic_store(&e->seq, seq + 2);
	memset(&r, 0, sizeof(r));
	assert_int_equal(slb_sessions_walk_range(t, old, base_ms, 0, 8, collect_removals, &r), old + 1);
	assert_int_equal(r.live, 1);
	/* Held by a dead writer: no write to wait for. */
	atomic_store(&e->seq, (uint64_t)dead << 32 | 1);
	assert_int_equal(slb_sessions_walk_range(t, old, base_ms, 0, 8, collect_removals, &r), old + 1);
	/* An entry never written, held: after <since>, or before everything for a first walk. */
	atomic_store(&e->seq, mine);
	atomic_store(&e->stamp, 0);
	assert_int_equal(slb_sessions_walk_range(t, 1, base_ms, 0, 8, collect_removals, &r), 1);
	assert_int_equal(slb_sessions_walk_range(t, 0, base_ms, 0, 8, collect_removals, &r), UINT64_MAX);
	/* Before everything: the next walk reports removals too. */
	atomic_store(&e->seq, seq + 2);
	atomic_store(&e->stamp, old + 1);
	assert_true(slb_sessions_remove(t, &a));
	memset(&r, 0, sizeof(r));
	slb_sessions_walk_range(t, UINT64_MAX, base_ms, 0, 8, collect_removals, &r);
	assert_int_equal(r.removed, 1);
	free(t);
}

/* This process's resident memory in KiB (/proc/self/statm: shared pages included). */
static long resident_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, resident = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &size, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/*
 * The scans (count, the metrics and replication walks, flush, prune) of a
 * fresh 1M-entry table in shared memory, as slb maps it, read no entry: the
 * process's resident memory does not grow by the table's 64 MiB, nor after
 * a put by more than the page it wrote. A read of every page does make it
 * grow so (the measure works).
 */
static void test_scans_skip_unwritten(void **state)
{
	const uint32_t cap = 1u << 20;
	size_t size = slb_sessions_size(cap);
	struct slb_sessions *t = mmap(NULL, size, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct slb_session_key k = key_v4(1, 1);
	struct seen seen = { 0 };
	unsigned sum = 0;
	long before;

	(void)state;
	assert_true(t != MAP_FAILED);
	slb_sessions_init(t, cap);
	before = resident_kib();
	assert_int_equal(slb_sessions_count(t, base_ms), 0);
	slb_sessions_walk(t, 0, base_ms, collect, &seen);
	slb_sessions_walk_range(t, 1, base_ms, 0, cap, collect, &seen);
	assert_int_equal(slb_sessions_flush(t, -1), 0);
	assert_int_equal(slb_sessions_prune_range(t, 1, base_ms, 0, cap), 0);
	assert_int_equal(seen.n, 0);
	print_message("scans of a fresh table: +%ld KiB resident\n", resident_kib() - before);
	assert_true(resident_kib() - before < 1024);

	put(t, &k, 1, base_ms + 5000);
	assert_int_equal(slb_sessions_count(t, base_ms), 1);
	slb_sessions_walk(t, 0, base_ms, collect, &seen);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.slots[0], 1);
	assert_true(has(t, &k, 1));
	print_message("and after a put: +%ld KiB resident\n", resident_kib() - before);
	assert_true(resident_kib() - before < 1024);

	for (size_t off = 0; off < size; off += 4096)
		sum += ((volatile uint8_t *)t)[off];
	print_message("after a read of every page: +%ld KiB resident\n", resident_kib() - before);
	assert_true(resident_kib() - before > 60 * 1024);
	assert_int_equal(munmap(t, size), 0);
	(void)sum;
}

/*
 * A replica's prune after a fresh copy: the sessions written since the mark
 * (refreshed by the copy) stay, the others become tombstones the
 * replication walk reports; ranges split the work, tombstones and expired
 * entries are left alone.
 */
static void test_prune_range(void **state)
{
	struct slb_sessions *t = table_new(1024);
	uint32_t cap = slb_sessions_capacity(t), pruned = 0;
	struct slb_session_key k;
	struct removals r = { 0 };
	uint64_t mark;

	(void)state;
	for (uint32_t i = 0; i < 40; i++) {
		k = key_v4(1, i);
		put(t, &k, i, base_ms + (i == 39 ? 1 : 5000)); /* 39 expires at once */
	}
	k = key_v4(1, 38);
	assert_true(slb_sessions_remove(t, &k));
	mark = slb_sessions_walk_range(t, 0, base_ms, 0, 0, NULL, NULL);
	/* The copy carries the even ones, one of them to another server. */
	for (uint32_t i = 0; i < 38; i += 2) {
		k = key_v4(1, i);
		put(t, &k, i == 10 ? 77 : i, base_ms + 5000);
	}
	for (uint32_t first = 0; first < cap; first += 100)
		pruned += slb_sessions_prune_range(t, mark, base_ms + 2, first, 100);
	assert_int_equal(pruned, 19);
	for (uint32_t i = 0; i < 38; i++) {
		k = key_v4(1, i);
		assert_true(has(t, &k, i == 10 ? 77 : i) == (i % 2 == 0));
	}
	assert_int_equal(slb_sessions_count(t, base_ms + 2), 19);
	slb_sessions_walk_range(t, mark, base_ms + 2, 0, cap, collect_removals, &r);
	assert_int_equal(r.removed, 19);
	assert_int_equal(r.live, 19);
	/* Done once: nothing is left to prune. */
	assert_int_equal(slb_sessions_prune_range(t, mark, base_ms + 2, 0, cap), 0);
	free(t);
}

/*
 * Each flush is numbered and logged once done, by listener and the change
 * number it began at (as 32 bits, read back whole); an overwritten one is
 * reported lost.
 */
static void test_flush_log(void **state)
{
	struct slb_sessions *t = table_new(64);
	struct slb_session_key a = key_v4(3, 1);
	uint64_t began = 0;
	int listener = 99;

	(void)state;
	atomic_store(&t->change, 0x1fffffffeULL);
	assert_int_equal(slb_sessions_flushes(t), 0);
	assert_int_equal(slb_sessions_flushed(t, 0, &listener, &began), -1);
	assert_int_equal(slb_sessions_flushed(t, 1, &listener, &began), 0); /* not there yet */
	put(t, &a, 1, base_ms + 5000);
	assert_int_equal(slb_sessions_flush(t, 3), 1);
	put(t, &a, 1, base_ms + 5000);
	put(t, &a, 1, base_ms + 5000);
	assert_int_equal(slb_sessions_flush(t, -1), 1);
	assert_int_equal(slb_sessions_flushes(t), 2);
	assert_int_equal(slb_sessions_flushed(t, 1, &listener, &began), 1);
	assert_int_equal(listener, 3);
	assert_int_equal(began, 0x1ffffffffULL);
	assert_int_equal(slb_sessions_flushed(t, 2, &listener, &began), 1);
	assert_int_equal(listener, -1);
	assert_int_equal(began, 0x200000001ULL); /* across the 32-bit wrap */
	for (int i = 0; i < (int)SLB_SESSIONS_FLUSH_LOG; i++)
		slb_sessions_flush(t, i);
	assert_int_equal(slb_sessions_flushed(t, 1, &listener, &began), -1); /* overwritten */
	assert_int_equal(slb_sessions_flushed(t, 2, &listener, &began), -1);
	assert_int_equal(slb_sessions_flushed(t, 2 + SLB_SESSIONS_FLUSH_LOG, &listener, &began), 1);
	assert_int_equal(listener, SLB_SESSIONS_FLUSH_LOG - 1);
	assert_int_equal(slb_sessions_flushed(t, 3 + SLB_SESSIONS_FLUSH_LOG, &listener, &began), 0);
	/* Number 3 + LOG taken, its word not yet written: under way, not lost. */
	atomic_fetch_add(&t->flushes, 1);
	assert_int_equal(slb_sessions_flushed(t, 3 + SLB_SESSIONS_FLUSH_LOG, &listener, &began), 0);
	/* The ring came round past it: lost. */
	atomic_fetch_add(&t->flushes, SLB_SESSIONS_FLUSH_LOG);
	assert_int_equal(slb_sessions_flushed(t, 3 + SLB_SESSIONS_FLUSH_LOG, &listener, &began), -1);
	free(t);
}

/* Write counters and change numbers that wrap keep every operation right. */
static void test_counters_wrap(void **state)
{
	struct slb_sessions *t = table_new(SLB_SESSIONS_WAYS);
	struct slb_session_key a = key_v4(1, 1), b = key_v4(1, 2);
	uint64_t mark, next;

	(void)state;
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++)
		atomic_store(&t->entries[i].seq, UINT32_MAX - 1);
	atomic_store(&t->change, UINT64_MAX - 1);
	for (int round = 0; round < 4; round++) {
		put(t, &a, 1, base_ms + 5000 + round * 2000u);
		assert_true(has(t, &a, 1));
		assert_true(slb_sessions_touch(t, &a, base_ms + 20000 + round * 2000u, base_ms));
	}
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++)
		assert_int_equal(atomic_load(&t->entries[i].seq) >> 32, 0);
	mark = atomic_load(&t->change);
	assert_true(mark < 16); /* wrapped */
	put(t, &b, 2, base_ms + 5000);
	walk_expect(t, mark, &next, 1, 2);
	walk_expect(t, UINT64_MAX - 3, &next, 2, 0); /* a mark from before the wrap */
	assert_true(slb_sessions_remove(t, &a));
	assert_false(has(t, &a, 1));
	free(t);
}

/* An entry held by a process that died mid-write is taken over, not waited for. */
static void test_dead_writer_entry_taken_over(void **state)
{
	struct slb_sessions *t = table_new(SLB_SESSIONS_WAYS);
	struct slb_session_key keys[SLB_SESSIONS_WAYS + 1];
	pid_t dead = fork();
	uint64_t held;
	uint32_t lost = 0;

	(void)state;
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	for (uint32_t i = 0; i <= SLB_SESSIONS_WAYS; i++)
		keys[i] = key_v4(1, i);
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++)
		put(t, &keys[i], i, base_ms + 5000 + i);
	/* Entry 3 as a writer killed mid-write leaves it (its key half written). */
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++) {
		uint64_t w[3];

		memcpy(w, &keys[i], sizeof(w));
		if (atomic_load(&t->entries[3].key[0]) == w[0] &&
		    atomic_load(&t->entries[3].key[1]) == w[1])
			lost = i;
	}
	held = (uint64_t)dead << 32 | 7;
	atomic_store(&t->entries[3].seq, held);
	atomic_store(&t->entries[3].key[0], 0x1234);
	assert_int_equal(slb_sessions_count(t, base_ms), SLB_SESSIONS_WAYS - 1);

	put(t, &keys[SLB_SESSIONS_WAYS], 50, base_ms + 5000);
	assert_true(has(t, &keys[SLB_SESSIONS_WAYS], 50));
	assert_int_equal(slb_sessions_count(t, base_ms), SLB_SESSIONS_WAYS);
	assert_int_equal(atomic_load(&t->entries[3].seq), (uint64_t)9);
	for (uint32_t i = 0; i < SLB_SESSIONS_WAYS; i++) /* nothing live was evicted */
		if (i != lost)
			assert_true(has(t, &keys[i], i));
	assert_int_equal(slb_sessions_count(t, base_ms), SLB_SESSIONS_WAYS);

	/* A live holder (this process) is left alone: the oldest live entry goes. */
	atomic_store(&t->entries[5].seq, (uint64_t)getpid() << 32 | 1);
	put(t, &keys[0], 60, base_ms + 9000);
	assert_int_equal(atomic_load(&t->entries[5].seq) >> 32, (uint64_t)getpid());
	free(t);
}

int main(void)
{
	base_ms = slb_now_ms();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_make),
		cmocka_unit_test(test_capacity_and_size),
		cmocka_unit_test(test_collisions_and_eviction),
		cmocka_unit_test(test_expiry_is_lazy),
		cmocka_unit_test(test_touch_and_remove),
		cmocka_unit_test(test_flush_by_listener),
		cmocka_unit_test(test_walk_since), cmocka_unit_test(test_walk_range),
		cmocka_unit_test(test_remove_seen_by_sync_walk), cmocka_unit_test(test_eviction_log),
		cmocka_unit_test(test_prune_range), cmocka_unit_test(test_scans_skip_unwritten),
		cmocka_unit_test(test_walk_next_before_writes_in_flight),
		cmocka_unit_test(test_flush_log),
		cmocka_unit_test(test_counters_wrap),
		cmocka_unit_test(test_dead_writer_entry_taken_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
