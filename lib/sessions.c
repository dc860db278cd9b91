/*
 * sessions.c - the lock-free, set-associative session table (see sessions.h
 * for the contract and sessions_table.h for the layout and write protocol).
 */
#include "sessions_table.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/random.h>

#include "clock.h"

/* Rereads of an entry that changed under a reader before it reports a miss. */
#define READ_TRIES 4
/* Reads of an entry held by a writer a replication walk makes (about a microsecond) before it walks back. */
#define WALK_HELD_TRIES 64
/* Scans of a bucket a put retries when another writer took its entry first. */
#define PUT_TRIES 4
/*
 * A touch that would move the expiry by less than this leaves the entry alone,
 * unless less than half of the new lifetime is left (short timeouts).
 */
#define TOUCH_SKIP_MS 1000u

struct snapshot {
	uint64_t seq;
	uint64_t key[3];
	uint64_t server;
	uint64_t expires_ms;
	uint64_t stamp;
};

/* ---- the write protocol ---- */

static uint32_t my_pid;

static void forget_pid(void)
{
	my_pid = 0;
}

/* getpid() is a system call and writers need it for every put: cache it. */
static uint32_t writer_pid(void)
{
	static bool registered;

	if (my_pid == 0) {
		if (!registered)
			pthread_atfork(NULL, NULL, forget_pid);
		registered = true;
		my_pid = (uint32_t)getpid();
	}
	return my_pid;
}

static inline uint32_t seq_owner(uint64_t seq)
{
	return (uint32_t)(seq >> 32);
}

static inline uint64_t seq_make(uint32_t owner, uint32_t count)
{
	return (uint64_t)owner << 32 | count;
}

/* A holder that no longer exists was killed mid-write. */
static bool owner_dead(uint32_t pid)
{
	return pid != writer_pid() && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/*
 * Takes <e>, which was <seen> (stable, or held by a dead process) when the
 * caller looked. Fails when it changed since: another writer got there first.
 */
static bool entry_take(struct slb_session_entry *e, uint64_t seen, uint64_t *held)
{
	uint64_t mine = seq_make(writer_pid(), (uint32_t)seen + 1);

	if (!atomic_compare_exchange_strong_explicit(&e->seq, &seen, mine, memory_order_relaxed,
						     memory_order_relaxed))
		return false;
	/* Readers that see any of the writes below see the entry held. */
	atomic_thread_fence(memory_order_release);
	*held = mine;
	return true;
}

static void entry_give_back(struct slb_session_entry *e, uint64_t held)
{
	atomic_store_explicit(&e->seq, seq_make(0, (uint32_t)held + 1), memory_order_release);
}

/* The stamp first: a walk that finds the entry held reads it (next_before_write). */
static void entry_write(struct slb_session_entry *e, const uint64_t key[3], uint64_t server,
			uint64_t expires_ms, uint64_t stamp)
{
	atomic_store_explicit(&e->stamp, stamp, memory_order_relaxed);
	for (int i = 0; i < 3; i++)
		atomic_store_explicit(&e->key[i], key[i], memory_order_relaxed);
	atomic_store_explicit(&e->server, server, memory_order_relaxed);
	atomic_store_explicit(&e->expires_ms, expires_ms, memory_order_relaxed);
}

/*
 * Copies <e> into <s>. False when it is held by a writer or kept changing
 * (<s>->seq then says which). Never waits.
 */
static bool entry_read(struct slb_session_entry *e, struct snapshot *s)
{
	for (int tries = 0; tries < READ_TRIES; tries++) {
		s->seq = atomic_load_explicit(&e->seq, memory_order_acquire);
		if (seq_owner(s->seq) != 0)
			return false;
		for (int i = 0; i < 3; i++)
			s->key[i] = atomic_load_explicit(&e->key[i], memory_order_relaxed);
		s->server = atomic_load_explicit(&e->server, memory_order_relaxed);
		s->expires_ms = atomic_load_explicit(&e->expires_ms, memory_order_relaxed);
		s->stamp = atomic_load_explicit(&e->stamp, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) == s->seq)
			return true;
	}
	return false;
}

static inline bool key_equal(const struct snapshot *s, const uint64_t key[3])
{
	return s->key[0] == key[0] && s->key[1] == key[1] && s->key[2] == key[2];
}

static void snapshot_export(const struct snapshot *s, struct slb_session *out)
{
	memcpy(&out->key, s->key, sizeof(out->key));
	out->server_slot = (uint32_t)s->server;
	out->server_serial = (uint32_t)(s->server >> 32);
	out->expires_ms = s->expires_ms;
	out->removed = s->expires_ms == SLB_SESSIONS_TOMBSTONE;
}

/* An entry's stamp is taken while holding the entry (the walks rely on it: next_before_write). */
static uint64_t next_stamp(struct slb_sessions *t)
{
	return atomic_fetch_add_explicit(&t->change, 1, memory_order_seq_cst) + 1;
}

/* ---- layout and hashing ---- */

static struct slb_session_entry *eviction_ring(struct slb_sessions *t)
{
	return &t->entries[t->capacity];
}

static size_t written_map_words(uint32_t capacity)
{
	size_t groups = ((size_t)capacity + SLB_SESSIONS_GROUP - 1) / SLB_SESSIONS_GROUP;

	return (groups + 63) / 64;
}

static _Atomic uint64_t *written_map(struct slb_sessions *t)
{
	return (_Atomic uint64_t *)&t->entries[t->capacity + SLB_SESSIONS_EVICTION_LOG];
}

/* Marks the group of <bucket> written. Once per group: then a load that finds the bit. */
static void mark_written(struct slb_sessions *t, const struct slb_session_entry *bucket)
{
	size_t group = (size_t)(bucket - t->entries) / SLB_SESSIONS_GROUP;
	_Atomic uint64_t *word = &written_map(t)[group / 64];
	uint64_t bit = 1ULL << (group % 64);

	/* Ordered before our change number by the release fence of entry_take(). */
	if (!(atomic_load_explicit(word, memory_order_relaxed) & bit))
		atomic_fetch_or_explicit(word, bit, memory_order_relaxed);
}

/* The first entry in [<i>, <end>) of a group ever written, or <end>. */
static uint32_t next_written(struct slb_sessions *t, uint32_t i, uint32_t end)
{
	_Atomic uint64_t *map = written_map(t);

	while (i < end) {
		uint64_t group = i / SLB_SESSIONS_GROUP;
		uint64_t bits = atomic_load_explicit(&map[group / 64], memory_order_relaxed) >>
				(group % 64);
		uint64_t next;

		if (bits & 1)
			return i;
		next = bits ? (group + (uint64_t)__builtin_ctzll(bits)) * SLB_SESSIONS_GROUP
			    : (group / 64 + 1) * 64 * SLB_SESSIONS_GROUP;
		i = next < end ? (uint32_t)next : end;
	}
	return end;
}

static uint32_t round_capacity(uint32_t capacity)
{
	uint32_t c = SLB_SESSIONS_WAYS;

	while (c < capacity && c < (1u << 31))
		c <<= 1;
	return c;
}

size_t slb_sessions_size(uint32_t capacity)
{
	size_t entries = (size_t)round_capacity(capacity) + SLB_SESSIONS_EVICTION_LOG;
	size_t map = written_map_words(round_capacity(capacity)) * sizeof(uint64_t);

	return sizeof(struct slb_sessions) + entries * sizeof(struct slb_session_entry) +
	       (map + 63) / 64 * 64;
}

void slb_sessions_init(struct slb_sessions *t, uint32_t capacity)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	t->capacity = round_capacity(capacity);
	t->bucket_mask = t->capacity / SLB_SESSIONS_WAYS - 1;
	t->seed = seed;
	atomic_store(&t->change, 0);
	t->magic = SLB_SESSIONS_MAGIC;
}

uint32_t slb_sessions_capacity(const struct slb_sessions *t)
{
	return t->capacity;
}

static inline uint64_t rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

static inline uint64_t key_hash(const struct slb_sessions *t, const uint64_t key[3])
{
	const uint64_t m1 = 0x9e3779b97f4a7c15ULL, m2 = 0xd6e8feb86659fd93ULL;
	uint64_t h = t->seed;

	h = rotl((h ^ key[0]) * m1, 31);
	h = rotl((h ^ key[1]) * m2, 29);
	h = (h ^ key[2]) * m1;
	h ^= h >> 32;
	h *= m2;
	return h ^ h >> 29;
}

/*
 * The bucket of <key> and the way to look at first: a key settles in its
 * preferred way when that is free, so half of the lookups at load 1.0 read
 * one cache line. Ways are visited in the order first ^ 0, 1, 2, ...: the
 * second is the first's neighbour in its 128-byte pair, which the CPU's
 * adjacent-line prefetch has usually brought in already.
 */
static inline struct slb_session_entry *bucket_of(struct slb_sessions *t, const uint64_t key[3],
						  unsigned *first)
{
	uint64_t h = key_hash(t, key);

	*first = (unsigned)(h >> 61);
	return &t->entries[(size_t)(h & t->bucket_mask) * SLB_SESSIONS_WAYS];
}

#define WAY(b, first, i) (&(b)[(first) ^ (i)])

static inline void key_words(const struct slb_session_key *key, uint64_t w[3])
{
	memcpy(w, key, sizeof(*key));
}

/* ---- keys ---- */

void slb_session_key_make(struct slb_session_key *key, uint32_t listener, int protocol,
			  const struct sockaddr *client, bool with_port)
{
	memset(key, 0, sizeof(*key));
	key->listener = (uint16_t)listener;
	key->protocol = (uint8_t)protocol;
	if (client->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)client;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			/* One client, one key, whichever socket family accepted it. */
			key->family = AF_INET;
			memcpy(key->addr, &in6->sin6_addr.s6_addr[12], 4);
		} else {
			key->family = AF_INET6;
			memcpy(key->addr, &in6->sin6_addr, 16);
		}
		if (with_port)
			key->port = in6->sin6_port;
	} else {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)client;

		key->family = AF_INET;
		memcpy(key->addr, &in4->sin_addr, 4);
		if (with_port)
			key->port = in4->sin_port;
	}
}

/* ---- operations on one key ---- */

/* The entry holding the live session for <k>, copied into <s>, or NULL. */
static struct slb_session_entry *find_live(struct slb_sessions *t, const uint64_t k[3],
					   uint64_t now_ms, struct snapshot *s)
{
	unsigned first;
	struct slb_session_entry *b = bucket_of(t, k, &first);

	for (unsigned i = 0; i < SLB_SESSIONS_WAYS; i++) {
		struct slb_session_entry *e = WAY(b, first, i);

		if (entry_read(e, s) && key_equal(s, k) && s->expires_ms > now_ms)
			return e;
	}
	return NULL;
}

bool slb_sessions_lookup(struct slb_sessions *t, const struct slb_session_key *key,
			 uint64_t now_ms, struct slb_session *out)
{
	uint64_t k[3];
	struct snapshot s;

	key_words(key, k);
	if (!find_live(t, k, now_ms, &s))
		return false;
	snapshot_export(&s, out);
	return true;
}

/* Empties a stable entry (seen as <seen>) unless it changed meanwhile. */
static bool entry_clear(struct slb_session_entry *e, const struct snapshot *seen)
{
	uint64_t held;

	if (!entry_take(e, seen->seq, &held))
		return false;
	atomic_store_explicit(&e->expires_ms, 0, memory_order_relaxed);
	entry_give_back(e, held);
	return true;
}

/* Turns a stable live entry (seen as <seen>) into a tombstone, unless it changed meanwhile. */
static bool entry_bury(struct slb_sessions *t, struct slb_session_entry *e,
		       const struct snapshot *seen)
{
	uint64_t held;

	if (!entry_take(e, seen->seq, &held))
		return false;
	atomic_store_explicit(&e->stamp, next_stamp(t), memory_order_relaxed);
	atomic_store_explicit(&e->expires_ms, SLB_SESSIONS_TOMBSTONE, memory_order_relaxed);
	entry_give_back(e, held);
	return true;
}

/* Where a put goes, in order of preference. */
struct put_choice {
	struct slb_session_entry *entry;
	uint64_t seen;
	int rank; /* 0 none, 1 evict the soonest-expiring, 2 dead writer's, 3 free, 4 same key */
	uint64_t victim_expires;
	uint64_t victim_key[3];
	unsigned same_key_ways; /* bit i: way i also holds the key (a duplicate to clear) */
	struct slb_session_entry *held; /* the first entry seen held by a writer */
	uint64_t held_seq;
};

static void put_choose(struct put_choice *c, struct slb_session_entry *e, uint64_t seen, int rank)
{
	c->entry = e;
	c->seen = seen;
	c->rank = rank;
}

static void put_consider(struct put_choice *c, struct slb_session_entry *e, unsigned way,
			 const uint64_t k[3], uint64_t now_ms)
{
	struct snapshot s;

	if (!entry_read(e, &s)) {
		if (!c->held && seq_owner(s.seq) != 0) {
			c->held = e;
			c->held_seq = s.seq;
		}
	} else if (key_equal(&s, k) && s.expires_ms != 0) {
		if (c->rank == 4)
			c->same_key_ways |= 1u << way;
		else
			put_choose(c, e, s.seq, 4);
	} else if (s.expires_ms <= now_ms) {
		if (c->rank < 3)
			put_choose(c, e, s.seq, 3);
	} else if (c->rank < 1 || (c->rank == 1 && s.expires_ms < c->victim_expires)) {
		put_choose(c, e, s.seq, 1);
		c->victim_expires = s.expires_ms;
		memcpy(c->victim_key, s.key, sizeof(c->victim_key));
	}
}

/*
 * Logs the eviction of the session of <key> (sessions_table.h), the put that
 * evicted it having taken change number <stamp> before it did. A ring entry
 * held by a live writer is left alone: that record is lost, and its reader
 * finds out.
 */
static void eviction_log(struct slb_sessions *t, const uint64_t key[3], uint64_t stamp)
{
	uint64_t n = atomic_fetch_add_explicit(&t->evictions, 1, memory_order_relaxed) + 1, held;
	struct slb_session_entry *e = &eviction_ring(t)[n % SLB_SESSIONS_EVICTION_LOG];
	uint64_t seen = atomic_load_explicit(&e->seq, memory_order_relaxed);

	if (seq_owner(seen) != 0 && !owner_dead(seq_owner(seen)))
		return;
	if (!entry_take(e, seen, &held))
		return;
	entry_write(e, key, n, SLB_SESSIONS_TOMBSTONE, stamp);
	entry_give_back(e, held);
}

void slb_sessions_put(struct slb_sessions *t, const struct slb_session_key *key, uint32_t slot,
		      uint32_t serial, uint64_t expires_ms, uint64_t now_ms)
{
	uint64_t k[3], held;
	unsigned first;
	struct slb_session_entry *b;

	key_words(key, k);
	b = bucket_of(t, k, &first);
	mark_written(t, b);
	for (int tries = 0; tries < PUT_TRIES; tries++) {
		struct put_choice c = { 0 };
		struct snapshot dup;
		uint64_t evicted_before = 0;

		for (unsigned i = 0; i < SLB_SESSIONS_WAYS; i++)
			put_consider(&c, WAY(b, first, i), i, k, now_ms);
		/* Rather than evict a live session, take over what a killed writer left. */
		if (c.rank < 2 && c.held && owner_dead(seq_owner(c.held_seq)))
			put_choose(&c, c.held, c.held_seq, 2);
		if (c.rank == 0)
			return; /* every way is being written this instant: nothing to evict */
		/* Before the take: a put of the victim's key that misses it is stamped later. */
		if (c.rank == 1)
			evicted_before = next_stamp(t);
		if (!entry_take(c.entry, c.seen, &held))
			continue;
		entry_write(c.entry, k, (uint64_t)serial << 32 | slot, expires_ms, next_stamp(t));
		entry_give_back(c.entry, held);
		if (c.rank == 1)
			eviction_log(t, c.victim_key, evicted_before);
		/* Two writers that put one key at once leave two entries: keep the first. */
		for (unsigned i = 0; c.same_key_ways && i < SLB_SESSIONS_WAYS; i++) {
			struct slb_session_entry *e = WAY(b, first, i);

			if ((c.same_key_ways & 1u << i) && entry_read(e, &dup) && key_equal(&dup, k))
				entry_clear(e, &dup);
		}
		return;
	}
}

bool slb_sessions_touch(struct slb_sessions *t, const struct slb_session_key *key,
			uint64_t expires_ms, uint64_t now_ms)
{
	uint64_t k[3], held;
	struct slb_session_entry *e;
	struct snapshot s;

	key_words(key, k);
	e = find_live(t, k, now_ms, &s);
	if (!e)
		return false;
	if (expires_ms < s.expires_ms + TOUCH_SKIP_MS &&
	    s.expires_ms - now_ms >= (expires_ms - now_ms) / 2)
		return true;
	/* Changed since the read: another writer owns the news, ours is moot. */
	if (!entry_take(e, s.seq, &held))
		return true;
	atomic_store_explicit(&e->stamp, next_stamp(t), memory_order_relaxed);
	atomic_store_explicit(&e->expires_ms, expires_ms, memory_order_relaxed);
	entry_give_back(e, held);
	return true;
}

bool slb_sessions_remove(struct slb_sessions *t, const struct slb_session_key *key)
{
	uint64_t k[3];
	unsigned first;
	struct slb_session_entry *b;
	struct snapshot s;
	uint64_t now_ms = slb_now_ms();
	bool removed = false;

	key_words(key, k);
	b = bucket_of(t, k, &first);
	for (unsigned i = 0; i < SLB_SESSIONS_WAYS; i++) {
		struct slb_session_entry *e = WAY(b, first, i);

		if (entry_read(e, &s) && key_equal(&s, k) && s.expires_ms > now_ms &&
		    entry_bury(t, e, &s))
			removed = true;
	}
	return removed;
}

/* ---- scans of the whole table (slbctl, metrics, replication) ---- */

static bool listener_matches(const struct snapshot *s, int listener)
{
	struct slb_session_key key;

	memcpy(&key, s->key, sizeof(key));
	return listener < 0 || key.listener == (uint16_t)listener;
}

/*
 * Numbers the flush of <listener>, whose scan began at change number
 * <began>, and logs it: once its scan is over, so that a replica told of
 * it is sent nothing it removed afterwards.
 */
static void flush_log(struct slb_sessions *t, int listener, uint64_t began)
{
	uint64_t n = atomic_fetch_add(&t->flushes, 1) + 1;

	atomic_store(&t->flush_log[n % SLB_SESSIONS_FLUSH_LOG],
		     (n & 0xffff) << 48 | (uint64_t)(uint16_t)(listener + 1) << 32 | (uint32_t)began);
}

uint64_t slb_sessions_flushes(struct slb_sessions *t)
{
	return atomic_load(&t->flushes);
}

int slb_sessions_flushed(struct slb_sessions *t, uint64_t n, int *listener, uint64_t *began)
{
	uint64_t word = atomic_load(&t->flush_log[n % SLB_SESSIONS_FLUSH_LOG]);
	uint64_t now = atomic_load(&t->change);

	if (n == 0)
		return -1;
	/* The word holds the low 16 bits of the number and 32 of the change number. */
	if (word >> 48 == (n & 0xffff)) {
		*listener = (int)(word >> 32 & 0xffff) - 1;
		*began = now - (uint32_t)((uint32_t)now - (uint32_t)word);
		return 1;
	}
	/*
	 * Another number: overwritten by flush n + SLB_SESSIONS_FLUSH_LOG or a
	 * later one once that many were counted (read after the word, so none
	 * was when it held an older one), else its writer is under way.
	 */
	return n + SLB_SESSIONS_FLUSH_LOG <= slb_sessions_flushes(t) ? -1 : 0;
}

unsigned slb_sessions_flush(struct slb_sessions *t, int listener)
{
	uint64_t now_ms = slb_now_ms(), began = atomic_load(&t->change);
	struct snapshot s;
	unsigned removed = 0;

	for (uint32_t i = next_written(t, 0, t->capacity); i < t->capacity;
	     i = next_written(t, i + 1, t->capacity)) {
		struct slb_session_entry *e = &t->entries[i];

		if (entry_read(e, &s) && s.expires_ms > now_ms && listener_matches(&s, listener) &&
		    entry_clear(e, &s))
			removed++;
	}
	flush_log(t, listener, began);
	return removed;
}

uint64_t slb_sessions_evictions(struct slb_sessions *t)
{
	return atomic_load_explicit(&t->evictions, memory_order_acquire);
}

int slb_sessions_evicted(struct slb_sessions *t, uint64_t n, struct slb_session *out,
			 uint64_t *stamp)
{
	struct snapshot s;
	bool read = entry_read(&eviction_ring(t)[n % SLB_SESSIONS_EVICTION_LOG], &s);

	if (n == 0 || (read && s.server > n))
		return -1;
	if (read && s.server == n) {
		snapshot_export(&s, out);
		*stamp = s.stamp;
		return 1;
	}
	/* Not written yet: its writer is under way, or was killed if the ring came round since. */
	return n + SLB_SESSIONS_EVICTION_LOG <= slb_sessions_evictions(t) ? -1 : 0;
}

uint32_t slb_sessions_count(struct slb_sessions *t, uint64_t now_ms)
{
	struct snapshot s;
	uint32_t live = 0;

	for (uint32_t i = next_written(t, 0, t->capacity); i < t->capacity;
	     i = next_written(t, i + 1, t->capacity))
		if (entry_read(&t->entries[i], &s) && s.expires_ms > now_ms)
			live++;
	return live;
}

/* The end of the entries [<first>, <first> + <count>), clipped to the capacity. */
static uint32_t range_end(const struct slb_sessions *t, uint32_t first, uint32_t count)
{
	return first < t->capacity && count < t->capacity - first ? first + count : t->capacity;
}

/* Whether change number <stamp> is after <since>: compared as a difference, so the counter may wrap. */
static inline bool stamped_after(uint64_t stamp, uint64_t since)
{
	return (int64_t)(stamp - since) > 0;
}

unsigned slb_sessions_prune_range(struct slb_sessions *t, uint64_t upto, uint64_t now_ms,
				  uint32_t first, uint32_t count)
{
	uint32_t end = range_end(t, first, count);
	struct snapshot s;
	unsigned removed = 0;

	for (uint32_t i = next_written(t, first, end); i < end; i = next_written(t, i + 1, end)) {
		struct slb_session_entry *e = &t->entries[i];

		if (entry_read(e, &s) && s.expires_ms > now_ms && !stamped_after(s.stamp, upto) &&
		    entry_bury(t, e, &s))
			removed++;
	}
	return removed;
}

/*
 * Where the next walk must start to see the write under way in <e>, which
 * the walk from <since> passed held (or changing) as <seq>, given <next>
 * so far: before that write's change number. Writes to one entry take
 * their numbers one after the other while holding it, so the stamp it
 * holds is an earlier write's, or already this one's: one less covers it.
 * An entry never written holds 0; its writer's number is then after
 * <since> (the walk before passed it unwritten and had this write been
 * stamped at or before <since> it would have returned less), or after
 * nothing at all for a first walk (-1, before every number, tombstones
 * included). A writer killed mid-write is no write: whoever takes its
 * entry over stamps anew.
 */
static uint64_t next_before_write(struct slb_session_entry *e, uint64_t seq, uint64_t since,
				  uint64_t next)
{
	uint64_t stamp = atomic_load_explicit(&e->stamp, memory_order_relaxed), before;

	if (seq_owner(seq) != 0 && owner_dead(seq_owner(seq)))
		return next;
	before = stamp != 0 ? stamp - 1 : since;
	if (before == 0)
		before = UINT64_MAX; /* 0 would mean a walk of the live sessions alone */
	return stamped_after(next, before) ? before : next;
}

/*
 * entry_read() for a walk: a write under way is a few stores, worth a
 * moment's rereads rather than walking back before it (next_before_write),
 * which would send again everything written since the entry's last write.
 * Bounded: a writer preempted or killed mid-write is not waited for.
 */
static bool entry_read_walking(struct slb_session_entry *e, struct snapshot *s)
{
	for (int tries = 0; tries < WALK_HELD_TRIES; tries++)
		if (entry_read(e, s))
			return true;
	return false;
}

/* The walks: <tombstones> adds the removed sessions stamped after a <since> of not 0. */
static uint64_t walk(struct slb_sessions *t, uint64_t since, uint64_t now_ms, uint32_t first,
		     uint32_t count, bool tombstones, slb_sessions_visit_fn visit, void *arg)
{
	/* What is stamped after this is the next walk's; writes passed under way take it back. */
	uint64_t next = atomic_load_explicit(&t->change, memory_order_seq_cst);
	uint32_t end = range_end(t, first, count);
	struct slb_session session;
	struct snapshot s;

	for (uint32_t i = next_written(t, first, end); i < end; i = next_written(t, i + 1, end)) {
		if (!entry_read_walking(&t->entries[i], &s)) {
			next = next_before_write(&t->entries[i], s.seq, since, next);
			continue;
		}
		if (s.expires_ms <= now_ms &&
		    !(tombstones && since != 0 && s.expires_ms == SLB_SESSIONS_TOMBSTONE))
			continue;
		if (since != 0 && !stamped_after(s.stamp, since))
			continue;
		snapshot_export(&s, &session);
		if (visit(&session, arg))
			break;
	}
	return next;
}

uint64_t slb_sessions_walk_range(struct slb_sessions *t, uint64_t since, uint64_t now_ms,
				 uint32_t first, uint32_t count, slb_sessions_visit_fn visit, void *arg)
{
	return walk(t, since, now_ms, first, count, true, visit, arg);
}

uint64_t slb_sessions_walk(struct slb_sessions *t, uint64_t since, uint64_t now_ms,
			   slb_sessions_visit_fn visit, void *arg)
{
	return walk(t, since, now_ms, 0, t->capacity, false, visit, arg);
}
