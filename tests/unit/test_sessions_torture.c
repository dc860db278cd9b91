/*
 * test_sessions_torture.c - writers killed with SIGKILL at random moments
 * while others keep writing and a reader keeps reading one shared table.
 *
 * Every value is derived from its key, so a torn read (half of one write,
 * half of another) shows as a mismatch. Asserted: no torn entry is ever
 * returned, no operation of any process ever waits (each returns within a
 * bound and the reader keeps making progress), and afterwards every entry
 * of the table, including those killed writers left held, can be used again.
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
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "sessions_table.h"

#define CAPACITY 256u /* small: writers collide and evict all the time */
#define NKEYS 1024u
#define WRITERS 2
#define MAX_KILLS 300
#define RUN_MS 4000u
#define OP_BOUND_US 250000u /* an op that waited on a dead writer would never return */

struct shared {
	_Atomic int stop;
	_Atomic uint64_t reader_ops;
	_Atomic uint64_t reader_hits;
	_Atomic uint64_t writer_ops;
	_Atomic uint64_t max_op_us;
	_Atomic uint64_t torn;
};

static struct shared *sh;
static struct slb_sessions *table;

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

/* Whether <s> is exactly what some writer wrote for its key. */
static bool consistent(const struct slb_session *s, uint64_t now)
{
	uint32_t i;
	struct slb_session_key want;

	memcpy(&i, s->key.addr, sizeof(i));
	if (i >= NKEYS)
		return false;
	want = key_for(i);
	return memcmp(&want, &s->key, sizeof(want)) == 0 && s->server_slot == slot_for(i) &&
	       s->server_serial == serial_for(i) && s->expires_ms > now - 1000 &&
	       s->expires_ms < now + 120000;
}

static void note_duration(uint64_t began_us)
{
	uint64_t took = slb_now_us() - began_us, max = atomic_load(&sh->max_op_us);

	while (took > max && !atomic_compare_exchange_weak(&sh->max_op_us, &max, took))
		;
}

static void writer(void)
{
	srandom((unsigned)getpid());
	for (;;) {
		uint32_t i = (uint32_t)random() % NKEYS, op = (uint32_t)random() % 100;
		struct slb_session_key key = key_for(i);
		uint64_t now = slb_now_ms(), began = slb_now_us();

		if (op < 60)
			slb_sessions_put(table, &key, slot_for(i), serial_for(i),
					 now + 500 + (uint32_t)random() % 30000, now);
		else if (op < 80)
			slb_sessions_touch(table, &key, now + 2000 + (uint32_t)random() % 60000, now);
		else if (op < 99)
			slb_sessions_remove(table, &key);
		else
			slb_sessions_flush(table, (int)(i % 5));
		note_duration(began);
		atomic_fetch_add(&sh->writer_ops, 1);
	}
}

static int check_visit(const struct slb_session *s, void *arg)
{
	if (!consistent(s, *(uint64_t *)arg))
		atomic_fetch_add(&sh->torn, 1);
	return 0;
}

static void reader(void)
{
	srandom((unsigned)getpid());
	for (uint64_t n = 0; !atomic_load(&sh->stop); n++) {
		uint32_t i = (uint32_t)random() % NKEYS;
		struct slb_session_key key = key_for(i);
		struct slb_session s;
		uint64_t now = slb_now_ms(), began = slb_now_us();

		if (n % 512 == 0) {
			slb_sessions_walk(table, 0, now, check_visit, &now);
		} else if (slb_sessions_lookup(table, &key, now, &s)) {
			if (!consistent(&s, now) || memcmp(&s.key, &key, sizeof(key)) != 0)
				atomic_fetch_add(&sh->torn, 1);
			atomic_fetch_add(&sh->reader_hits, 1);
		}
		note_duration(began);
		atomic_fetch_add(&sh->reader_ops, 1);
	}
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

static void test_kill_writers(void **state)
{
	pid_t writers[WRITERS], rd;
	unsigned kills = 0, held_at_kill = 0;
	uint64_t start = slb_now_ms(), reader_ops_before;
	struct slb_session s;

	(void)state;
	table = mmap(NULL, slb_sessions_size(CAPACITY), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(table != MAP_FAILED && sh != MAP_FAILED);
	slb_sessions_init(table, CAPACITY);
	rd = spawn(reader);
	for (int w = 0; w < WRITERS; w++)
		writers[w] = spawn(writer);
	srandom(42);
	while (kills < MAX_KILLS && slb_now_ms() - start < RUN_MS) {
		int w = (int)((uint32_t)random() % WRITERS);

		usleep((useconds_t)(random() % 3000));
		kill(writers[w], SIGKILL);
		assert_int_equal(waitpid(writers[w], NULL, 0), writers[w]);
		held_at_kill += held_by(writers[w]);
		kills++;
		writers[w] = spawn(writer);
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
		      "(%llu hits), slowest op %llu us\n", kills, held_at_kill,
		      (unsigned long long)atomic_load(&sh->writer_ops),
		      (unsigned long long)atomic_load(&sh->reader_ops),
		      (unsigned long long)atomic_load(&sh->reader_hits),
		      (unsigned long long)atomic_load(&sh->max_op_us));
	assert_true(kills >= 50);
	assert_true(held_at_kill > 0); /* some kills did land inside a write */
	assert_int_equal(atomic_load(&sh->torn), 0);
	assert_true(atomic_load(&sh->reader_hits) > 1000);
	assert_true(atomic_load(&sh->max_op_us) < OP_BOUND_US);

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
	munmap(table, slb_sessions_size(CAPACITY));
	munmap(sh, sizeof(*sh));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_writers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
