/*
 * test_sessions_torture.c - writers killed with SIGKILL at random moments
 * while others keep writing and a reader keeps reading one shared table.
 *
 * Every value is derived from its key, so a torn read (half of one write,
 * half of another) shows as a mismatch. Asserted: no torn entry is ever
 * returned, no operation of any process ever waits (each returns within a
 * bound and the reader keeps making progress), and afterwards every entry
 * of the table, including those killed writers left held, can be used again.
 * The eviction log is read the same way: every record whole. And the
 * reader keeps a replica as slb-failover does, walking from where each walk
 * said to start next: once the writers are dead, every live session of the
 * table is in it as the table has it (a write in flight when a walk passed
 * is not missed).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "sessions_table.h"

#define CAPACITY 256u /* small: writers collide and evict all the time */
#define NKEYS 1024u
#define WRITERS 2
#define MAX_KILLS 600
#define RUN_MS 5000u
#define MIN_HELD 5 /* kills inside a write wanted before stopping */
#define RUN_MS_MAX 20000u /* on a loaded machine they land inside a write less often */
/*
 * An op that waited on a dead writer would never return. Wall time includes
 * being descheduled on a loaded machine, so its bound is loose; CPU time
 * catches an op that spins, however briefly, and its bound is tight.
 */
#define OP_WALL_BOUND_US 1000000u
#define OP_CPU_BOUND_US 20000u

struct shared {
	_Atomic int stop;
	_Atomic uint64_t reader_ops;
	_Atomic uint64_t reader_hits;
	_Atomic uint64_t evictions_read; /* records of the eviction log read whole */
	_Atomic uint64_t replica_checked; /* live sessions compared with the replica at the end */
	_Atomic uint64_t replica_missed; /* of those, ones the replica never saw */
	_Atomic uint64_t writer_ops;
	_Atomic uint64_t max_op_us;
	_Atomic uint64_t max_op_cpu_us;
	_Atomic uint64_t torn;
	_Atomic int writing[WRITERS]; /* writer i entered its loop */
	_Atomic int finish; /* writers exit after the op they are in */
};

static struct shared *sh;
static struct slb_sessions *table;
static struct slb_session_key keys[NKEYS]; /* key_for(i), made before the fork */
static int writer_index; /* set before the fork */

static struct slb_session_key key_for(uint32_t i)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = (uint16_t)(i * 7) };
	struct slb_session_key key;
	uint32_t words[4] = { i, ~i, i * 2654435761u, i ^ 0x5a5a5a5au };

	memcpy(&in6.sin6_addr, words, sizeof(words));
	slb_session_key_make(&key, i % 5, IPPROTO_UDP, (struct sockaddr *)&in6, true);
	return key;
}

static uint32_t slot_for(uint32_t i)
{
	return i * 40503u + 17;
}

static uint32_t serial_for(uint32_t i)
{
	return slot_for(i) ^ 0xa5a5a5a5u;
}

/* Whether <s> is exactly what some writer wrote for its key (a removed one: the key alone). */
static bool consistent(const struct slb_session *s, uint64_t now)
{
	uint32_t i;
	struct slb_session_key want;

	memcpy(&i, s->key.addr, sizeof(i));
	if (i >= NKEYS)
		return false;
	want = key_for(i);
	if (s->removed)
		return memcmp(&want, &s->key, sizeof(want)) == 0;
	return memcmp(&want, &s->key, sizeof(want)) == 0 && s->server_slot == slot_for(i) &&
	       s->server_serial == serial_for(i) && s->expires_ms > now - 1000 &&
	       s->expires_ms < now + 120000;
}

static uint64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void raise_to(_Atomic uint64_t *max, uint64_t v)
{
	uint64_t seen = atomic_load(max);

	while (v > seen && !atomic_compare_exchange_weak(max, &seen, v))
		;
}

struct op_clock {
	uint64_t wall, cpu;
};

/*
 * CPU time is a system call: one op in 16 is timed that way, or the writers
 * would spend so little of their time inside the table that few kills would
 * land in a write.
 */
static unsigned ops_done;

static struct op_clock op_begin(void)
{
	return (struct op_clock){ slb_now_us(), ops_done % 16 == 0 ? cpu_us() : 0 };
}

static void op_end(struct op_clock began)
{
	if (ops_done++ % 16 == 0)
		raise_to(&sh->max_op_cpu_us, cpu_us() - began.cpu);
	raise_to(&sh->max_op_us, slb_now_us() - began.wall);
}

/* Cheap randomness: the writers should spend their time inside the table. */
static uint32_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 16);
}

static void writer(void)
{
	uint64_t x = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL | 1;

	atomic_store(&sh->writing[writer_index], 1);
	for (uint64_t n = 1; !atomic_load_explicit(&sh->finish, memory_order_relaxed); n++) {
		uint32_t r = next_random(&x), i = r % NKEYS, op = (r >> 10) % 100;
		uint64_t now = slb_now_ms();
		struct op_clock began = op_begin();

		if (op < 60)
			slb_sessions_put(table, &keys[i], slot_for(i), serial_for(i),
					 now + 500 + (r >> 17) % 30000, now);
		else if (op < 80)
			slb_sessions_touch(table, &keys[i], now + 2000 + (r >> 16) % 60000, now);
		else if (op < 99)
			slb_sessions_remove(table, &keys[i]);
		else
			slb_sessions_flush(table, (int)(i % 5));
		op_end(began);
		if (n % 256 == 0) /* a shared counter per op would cost more than the op */
			atomic_fetch_add(&sh->writer_ops, 256);
	}
}

static int check_visit(const struct slb_session *s, void *arg)
{
	if (!consistent(s, *(uint64_t *)arg))
		atomic_fetch_add(&sh->torn, 1);
	return 0;
}

#define REPLICA_VERSIONS 4
/* The reader's replica: for each key, the last expiries walks reported, the latest first. */
static uint64_t replica[NKEYS][REPLICA_VERSIONS];
static uint64_t replica_since;

static uint32_t key_index(const struct slb_session *s)
{
	uint32_t i;

	memcpy(&i, s->key.addr, sizeof(i));
	return i;
}

static int replica_visit(const struct slb_session *s, void *arg)
{
	uint64_t *versions;

	check_visit(s, arg);
	if (s->removed || !consistent(s, *(uint64_t *)arg))
		return 0;
	versions = replica[key_index(s)];
	if (versions[0] != s->expires_ms) {
		memmove(versions + 1, versions, (REPLICA_VERSIONS - 1) * sizeof(*versions));
		versions[0] = s->expires_ms;
	}
	return 0;
}

static void replica_walk(uint64_t now)
{
	replica_since = slb_sessions_walk_range(table, replica_since, now, 0, CAPACITY, replica_visit,
						&now);
}

/* Every live session of the table, as the replica last saw its key. */
static int replica_compare(const struct slb_session *s, void *arg)
{
	const uint64_t *versions = replica[key_index(s)];
	bool seen = false;

	(void)arg;
	for (int v = 0; v < REPLICA_VERSIONS; v++)
		seen = seen || versions[v] == s->expires_ms;
	atomic_fetch_add(&sh->replica_checked, 1);
	if (!seen)
		atomic_fetch_add(&sh->replica_missed, 1);
	return 0;
}

static void reader(void)
{
	srandom((unsigned)getpid());
	for (uint64_t n = 0; !atomic_load(&sh->stop); n++) {
		uint32_t i = (uint32_t)random() % NKEYS;
		const struct slb_session_key *key = &keys[i];
		struct slb_session s;
		uint64_t now = slb_now_ms();
		struct op_clock began = op_begin();

		if (n % 512 == 0) {
			slb_sessions_walk(table, 0, now, check_visit, &now);
		} else if (n % 512 == 256) { /* replication's walk: removals too */
			replica_walk(now);
		} else if (n % 512 == 128) { /* and the eviction log */
			uint64_t last = slb_sessions_evictions(table), stamp;

			if (last && slb_sessions_evicted(table, last, &s, &stamp) == 1) {
				if (!s.removed || !consistent(&s, now))
					atomic_fetch_add(&sh->torn, 1);
				atomic_fetch_add(&sh->evictions_read, 1);
			}
		} else if (slb_sessions_lookup(table, key, now, &s)) {
			if (!consistent(&s, now) || memcmp(&s.key, key, sizeof(*key)) != 0)
				atomic_fetch_add(&sh->torn, 1);
			atomic_fetch_add(&sh->reader_hits, 1);
		}
		op_end(began);
		atomic_fetch_add(&sh->reader_ops, 1);
	}
	/* The writers are dead: one more walk, and the replica has it all. */
	replica_walk(slb_now_ms());
	slb_sessions_walk(table, 0, slb_now_ms(), replica_compare, NULL);
	_exit(0);
}

static pid_t spawn(void (*body)(void))
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		body();
		_exit(0);
	}
	return pid;
}

static pid_t spawn_writer(int index)
{
	atomic_store(&sh->writing[index], 0);
	writer_index = index;
	return spawn(writer);
}

/* Entries the dead <pid> left held: it was killed inside a write. */
static unsigned held_by(pid_t pid)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < CAPACITY; i++)
		if (atomic_load(&table->entries[i].seq) >> 32 == (uint64_t)pid)
			n++;
	return n;
}

static void reap_bounded(pid_t pid)
{
	int status = -1;

	for (int tries = 0; tries < 2000; tries++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(1000);
	}
	if (!WIFEXITED(status)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("reader %d did not stop within 2 s: blocked", (int)pid);
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The shared table and counters of a test, empty. */
static void tables_new(void)
{
	table = mmap(NULL, slb_sessions_size(CAPACITY), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(table != MAP_FAILED && sh != MAP_FAILED);
	slb_sessions_init(table, CAPACITY);
	for (uint32_t i = 0; i < NKEYS; i++)
		keys[i] = key_for(i);
	memset(replica, 0, sizeof(replica));
	replica_since = 0;
}

static void tables_free(void)
{
	munmap(table, slb_sessions_size(CAPACITY));
	munmap(sh, sizeof(*sh));
}

/*
 * A replica walking from where each walk said misses no write in flight:
 * the writers are stopped (SIGSTOP) at random moments, and when one was
 * caught inside a write (its entry held), this process walks past it, the
 * writers finish the op they were in and exit, one more walk, and every
 * live session of the table must be in the replica as the table has it.
 * (A walk that returned the change number it began at misses a write that
 * had taken its number, stopped so.)
 */
#define CAUGHT_WANTED 40

static void test_walk_covers_writes_in_flight(void **state)
{
	pid_t writers[WRITERS];
	unsigned rounds = 0, caught = 0;
	uint64_t start = slb_now_ms();

	(void)state;
	tables_new();
	srandom(7);
	while (caught < CAUGHT_WANTED && slb_now_ms() - start < RUN_MS_MAX) {
		unsigned held = 0;
		uint64_t until;

		atomic_store(&sh->finish, 0);
		for (int w = 0; w < WRITERS; w++)
			writers[w] = spawn_writer(w);
		for (int w = 0; w < WRITERS; w++)
			for (int tries = 0; tries < 1000 && !atomic_load(&sh->writing[w]); tries++)
				usleep(100);
		/* The replica follows the writers for a while, then they stop where they are. */
		until = slb_now_us() + (uint64_t)(random() % 2000);
		while (slb_now_us() < until)
			replica_walk(slb_now_ms());
		for (int w = 0; w < WRITERS; w++)
			kill(writers[w], SIGSTOP);
		for (int w = 0; w < WRITERS; w++) {
			assert_int_equal(waitpid(writers[w], NULL, WUNTRACED), writers[w]);
			held += held_by(writers[w]);
		}
		replica_walk(slb_now_ms());
		atomic_store(&sh->finish, 1);
		for (int w = 0; w < WRITERS; w++) {
			kill(writers[w], SIGCONT);
			reap_bounded(writers[w]);
		}
		replica_walk(slb_now_ms());
		slb_sessions_walk(table, 0, slb_now_ms(), replica_compare, NULL);
		rounds++;
		caught += held > 0;
	}
	print_message("%u rounds, %u with a writer stopped inside a write; replica: %llu live "
		      "sessions compared, %llu missed, %llu torn\n", rounds, caught,
		      (unsigned long long)atomic_load(&sh->replica_checked),
		      (unsigned long long)atomic_load(&sh->replica_missed),
		      (unsigned long long)atomic_load(&sh->torn));
	assert_true(caught >= CAUGHT_WANTED);
	assert_int_equal(atomic_load(&sh->replica_missed), 0);
	assert_int_equal(atomic_load(&sh->torn), 0);
	tables_free();
}

static void test_kill_writers(void **state)
{
	pid_t writers[WRITERS], rd;
	unsigned kills = 0, held_at_kill = 0;
	uint64_t start = slb_now_ms(), reader_ops_before;
	struct slb_session s;

	(void)state;
	tables_new();
	rd = spawn(reader);
	for (int w = 0; w < WRITERS; w++)
		writers[w] = spawn_writer(w);
	srandom(42);
	/*
	 * All writers at once, so that none takes over what another left before
	 * it is counted; the reader runs on throughout.
	 */
	while (((kills < MAX_KILLS && slb_now_ms() - start < RUN_MS) || held_at_kill < MIN_HELD) &&
	       slb_now_ms() - start < RUN_MS_MAX) {
		/* Kill them inside their loop, not while they start. */
		for (int w = 0; w < WRITERS; w++)
			for (int tries = 0; tries < 1000 && !atomic_load(&sh->writing[w]); tries++)
				usleep(100);
		usleep((useconds_t)(random() % 2000));
		for (int w = 0; w < WRITERS; w++)
			kill(writers[w], SIGKILL);
		for (int w = 0; w < WRITERS; w++) {
			assert_int_equal(waitpid(writers[w], NULL, 0), writers[w]);
			held_at_kill += held_by(writers[w]);
			kills++;
		}
		for (int w = 0; w < WRITERS; w++)
			writers[w] = spawn_writer(w);
	}
	reader_ops_before = atomic_load(&sh->reader_ops);
	usleep(100000);
	/* The reader still makes progress while the writers run. */
	assert_true(atomic_load(&sh->reader_ops) > reader_ops_before);
	for (int w = 0; w < WRITERS; w++) {
		kill(writers[w], SIGKILL);
		waitpid(writers[w], NULL, 0);
	}
	atomic_store(&sh->stop, 1);
	reap_bounded(rd);

	print_message("%u kills (%u left an entry held), %llu writer ops, %llu reader ops "
		      "(%llu hits), slowest op %llu us (%llu us of CPU)\n", kills, held_at_kill,
		      (unsigned long long)atomic_load(&sh->writer_ops),
		      (unsigned long long)atomic_load(&sh->reader_ops),
		      (unsigned long long)atomic_load(&sh->reader_hits),
		      (unsigned long long)atomic_load(&sh->max_op_us),
		      (unsigned long long)atomic_load(&sh->max_op_cpu_us));
	assert_true(kills >= 50);
	assert_true(held_at_kill > 0); /* some kills did land inside a write */
	assert_int_equal(atomic_load(&sh->torn), 0);
	assert_true(atomic_load(&sh->reader_hits) > 1000);
	assert_true(atomic_load(&sh->evictions_read) > 0);
	print_message("replica: %llu live sessions compared, %llu missed\n",
		      (unsigned long long)atomic_load(&sh->replica_checked),
		      (unsigned long long)atomic_load(&sh->replica_missed));
	assert_true(atomic_load(&sh->replica_checked) > CAPACITY / 8);
	assert_int_equal(atomic_load(&sh->replica_missed), 0);
	assert_true(atomic_load(&sh->max_op_us) < OP_WALL_BOUND_US);
	assert_true(atomic_load(&sh->max_op_cpu_us) < OP_CPU_BOUND_US);

	/* Fully usable afterwards: every entry takes a new session, held ones too. */
	for (uint32_t round = 0; round < 2; round++)
		for (uint32_t i = 0; i < NKEYS; i++) {
			struct slb_session_key key = key_for(i);
			uint64_t now = slb_now_ms();

			slb_sessions_put(table, &key, slot_for(i), serial_for(i), now + 60000 + i, now);
		}
	assert_int_equal(slb_sessions_count(table, slb_now_ms()), CAPACITY);
	for (uint32_t i = 0; i < CAPACITY; i++)
		assert_int_equal(atomic_load(&table->entries[i].seq) >> 32, 0);
	for (uint32_t i = NKEYS - 32; i < NKEYS; i++) { /* the latest expire last: kept */
		struct slb_session_key key = key_for(i);

		assert_true(slb_sessions_lookup(table, &key, slb_now_ms(), &s));
		assert_true(consistent(&s, slb_now_ms()));
	}
	tables_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_writers),
		cmocka_unit_test(test_walk_covers_writes_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
