/*
 * test_scheduler.c - rr, wrr and wlc against a real shared-memory server
 * table: exact wrr proportions, weight 0 and unhealthy servers never picked,
 * wlc follows the node-wide active counts; sh and ch keep a client on one
 * server across independent groups (workers), move only a down member's
 * clients and bring them back when it recovers; a primary_secondary group
 * sends everything to its primary while it can, else to its secondary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <cmocka.h>

#include "scheduler.h"

#define NSERVERS 3

static struct slb_server_conf servers[NSERVERS];
static struct slb_group_conf group;
static struct slb_config config;
static struct slb_shm shm;
static char instance[32];
static int slots[NSERVERS];

static int setup(void **state)
{
	(void)state;
	memset(&config, 0, sizeof(config));
	memset(&group, 0, sizeof(group));
	snprintf(group.name, sizeof(group.name), "web");
	for (int i = 0; i < NSERVERS; i++) {
		char text[32];

		snprintf(servers[i].name, sizeof(servers[i].name), "s%d", i);
		snprintf(text, sizeof(text), "198.18.0.%d:80", 11 + i);
		assert_int_equal(slb_sockaddr_parse(text, &servers[i].addr), 0);
		servers[i].weight = 100;
	}
	group.servers = servers;
	group.nservers = NSERVERS;
	config.groups = &group;
	config.ngroups = 1;
	snprintf(instance, sizeof(instance), "test-sched-%d", (int)getpid());
	assert_int_equal(slb_shm_create(&shm, instance, 1024), 0);
	assert_int_equal(slb_shm_apply_config(&shm, &config), 0);
	for (int i = 0; i < NSERVERS; i++) {
		slots[i] = slb_shm_server_find(&shm, "web", servers[i].name);
		assert_true(slots[i] >= 0);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	slb_shm_detach(&shm);
	slb_shm_unlink(instance);
	return 0;
}

static void set_weights(uint32_t w0, uint32_t w1, uint32_t w2)
{
	atomic_store(&shm.servers[slots[0]].weight, w0);
	atomic_store(&shm.servers[slots[1]].weight, w1);
	atomic_store(&shm.servers[slots[2]].weight, w2);
	for (int i = 0; i < NSERVERS; i++) {
		atomic_store(&shm.servers[slots[i]].health, SLB_HEALTH_UP);
		atomic_store(&shm.servers[slots[i]].active, 0);
	}
}

static int member_of(int slot)
{
	for (int i = 0; i < NSERVERS; i++)
		if (slots[i] == slot)
			return i;
	return -1;
}

/* Counts picks per member over <n> picks. */
static void count_picks(struct slb_sched_group *g, unsigned n, unsigned counts[NSERVERS])
{
	memset(counts, 0, NSERVERS * sizeof(counts[0]));
	for (unsigned i = 0; i < n; i++) {
		int m = member_of(slb_sched_pick(g, shm.servers, -1, NULL));

		assert_true(m >= 0);
		counts[m]++;
	}
}

static void test_wrr_exact_over_a_cycle(void **state)
{
	struct slb_sched_group g;
	unsigned counts[NSERVERS];

	(void)state;
	set_weights(100, 50, 25);
	assert_int_equal(slb_sched_group_init(&g, SLB_SCHED_WRR, &group, &shm), 0);
	for (int cycle = 0; cycle < 4; cycle++) {
		count_picks(&g, 175, counts);
		assert_int_equal(counts[0], 100);
		assert_int_equal(counts[1], 50);
		assert_int_equal(counts[2], 25);
	}
	slb_sched_group_free(&g);
}

static void test_wrr_is_smooth(void **state)
{
	struct slb_sched_group g;
	int seq[3];

	(void)state;
	set_weights(100, 50, 0);
	assert_int_equal(slb_sched_group_init(&g, SLB_SCHED_WRR, &group, &shm), 0);
	/* 2:1 interleaved (a b a), never a burst of the heavy server first. */
	for (int i = 0; i < 3; i++)
		seq[i] = member_of(slb_sched_pick(&g, shm.servers, -1, NULL));
	assert_int_equal(seq[0], 0);
	assert_int_equal(seq[1], 1);
	assert_int_equal(seq[2], 0);
	slb_sched_group_free(&g);
}

static void test_weight_zero_never_picked(void **state)
{
	enum slb_scheduler kinds[] = { SLB_SCHED_RR, SLB_SCHED_WRR, SLB_SCHED_WLC };

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct slb_sched_group g;
		unsigned counts[NSERVERS];

		set_weights(100, 0, 1);
		assert_int_equal(slb_sched_group_init(&g, kinds[k], &group, &shm), 0);
		count_picks(&g, 1000, counts);
		assert_int_equal(counts[1], 0);
		assert_true(counts[0] > 0);
		assert_true(counts[2] > 0);
		slb_sched_group_free(&g);
	}
}

static void test_unhealthy_never_picked_and_none_left(void **state)
{
	struct slb_sched_group g;
	unsigned counts[NSERVERS];

	(void)state;
	set_weights(100, 100, 100);
	atomic_store(&shm.servers[slots[0]].health, SLB_HEALTH_DOWN);
	assert_int_equal(slb_sched_group_init(&g, SLB_SCHED_WRR, &group, &shm), 0);
	count_picks(&g, 300, counts);
	assert_int_equal(counts[0], 0);
	assert_int_equal(counts[1], 150);
	assert_int_equal(counts[2], 150);
	atomic_store(&shm.servers[slots[1]].health, SLB_HEALTH_DOWN);
	atomic_store(&shm.servers[slots[2]].health, SLB_HEALTH_DOWN);
	assert_int_equal(slb_sched_pick(&g, shm.servers, -1, NULL), -1);
	slb_sched_group_free(&g);
}

static void test_rr_ignores_weights(void **state)
{
	struct slb_sched_group g;
	unsigned counts[NSERVERS];

	(void)state;
	set_weights(100, 10, 1);
	assert_int_equal(slb_sched_group_init(&g, SLB_SCHED_RR, &group, &shm), 0);
	count_picks(&g, 300, counts);
	assert_int_equal(counts[0], 100);
	assert_int_equal(counts[1], 100);
	assert_int_equal(counts[2], 100);
	slb_sched_group_free(&g);
}

static void test_wlc_picks_least_loaded(void **state)
{
	struct slb_sched_group g;

	(void)state;
	set_weights(100, 100, 100);
	assert_int_equal(slb_sched_group_init(&g, SLB_SCHED_WLC, &group, &shm), 0);
	atomic_store(&shm.servers[slots[0]].active, 7);
	atomic_store(&shm.servers[slots[1]].active, 2);
	atomic_store(&shm.servers[slots[2]].active, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(slb_sched_pick(&g, shm.servers, -1, NULL), slots[1]);
	/* Weighted: 10 active at weight 100 is lighter than 3 at weight 20. */
	set_weights(100, 20, 0);
	atomic_store(&shm.servers[slots[0]].active, 10);
	atomic_store(&shm.servers[slots[1]].active, 3);
	assert_int_equal(slb_sched_pick(&g, shm.servers, -1, NULL), slots[0]);
	atomic_store(&shm.servers[slots[0]].active, 16);
	assert_int_equal(slb_sched_pick(&g, shm.servers, -1, NULL), slots[1]);
	slb_sched_group_free(&g);
}

static void test_exclude_and_stale_slot(void **state)
{
	struct slb_sched_group g;

	(void)state;
	set_weights(100, 100, 0);
	assert_int_equal(slb_sched_group_init(&g, SLB_SCHED_WRR, &group, &shm), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(slb_sched_pick(&g, shm.servers, slots[0], NULL), slots[1]);
	/* A slot handed to another server (new serial) is no longer this member. */
	atomic_fetch_add(&shm.servers[slots[1]].serial, 1000);
	for (int i = 0; i < 10; i++)
		assert_int_equal(slb_sched_pick(&g, shm.servers, -1, NULL), slots[0]);
	assert_int_equal(slb_sched_pick(&g, shm.servers, slots[0], NULL), -1);
	atomic_fetch_sub(&shm.servers[slots[1]].serial, 1000);
	slb_sched_group_free(&g);
}

#define NCLIENTS 3000

/* Client <i> as 10.x.y.z, port varying: sh and ch must ignore the port. */
static const struct sockaddr *client(unsigned i, unsigned port)
{
	static struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)(1024 + port));
	sin.sin_addr.s_addr = htonl(0x0a000000u + i * 7919u);
	return (const struct sockaddr *)&sin;
}

static const enum slb_scheduler hash_kinds[] = { SLB_SCHED_SH, SLB_SCHED_CH };

static void map_clients(struct slb_sched_group *g, int exclude, int map[NCLIENTS])
{
	for (unsigned i = 0; i < NCLIENTS; i++)
		map[i] = member_of(slb_sched_pick(g, shm.servers, exclude, client(i, i)));
}

static void test_hash_same_client_same_member_across_workers(void **state)
{
	static int a[NCLIENTS], b[NCLIENTS];

	(void)state;
	for (size_t k = 0; k < sizeof(hash_kinds) / sizeof(hash_kinds[0]); k++) {
		struct slb_sched_group g1, g2;
		unsigned counts[NSERVERS] = { 0 };

		set_weights(100, 100, 100);
		assert_int_equal(slb_sched_group_init(&g1, hash_kinds[k], &group, &shm), 0);
		assert_int_equal(slb_sched_group_init(&g2, hash_kinds[k], &group, &shm), 0);
		map_clients(&g1, -1, a);
		for (unsigned i = 0; i < NCLIENTS; i++) {
			b[i] = member_of(slb_sched_pick(&g2, shm.servers, -1, client(i, i + 17)));
			assert_true(a[i] >= 0);
			assert_int_equal(a[i], b[i]);
			counts[a[i]]++;
		}
		/* Spread: each of the 3 equal members gets 25%..42% of the clients. */
		for (int m = 0; m < NSERVERS; m++)
			assert_true(counts[m] > NCLIENTS / 4 && counts[m] < NCLIENTS * 5 / 12);
		slb_sched_group_free(&g1);
		slb_sched_group_free(&g2);
	}
}

static void test_hash_down_member_moves_only_its_clients(void **state)
{
	static int before[NCLIENTS], during[NCLIENTS], after[NCLIENTS];

	(void)state;
	for (size_t k = 0; k < sizeof(hash_kinds) / sizeof(hash_kinds[0]); k++) {
		struct slb_sched_group g;
		unsigned moved = 0;

		set_weights(100, 100, 100);
		assert_int_equal(slb_sched_group_init(&g, hash_kinds[k], &group, &shm), 0);
		map_clients(&g, -1, before);
		atomic_store(&shm.servers[slots[1]].health, SLB_HEALTH_DOWN);
		map_clients(&g, -1, during);
		for (unsigned i = 0; i < NCLIENTS; i++) {
			assert_true(during[i] == 0 || during[i] == 2);
			if (before[i] != 1)
				assert_int_equal(during[i], before[i]);
			else
				moved++;
		}
		assert_true(moved > 0);
		/* The retry path: excluding a client's member gives another one. */
		for (unsigned i = 0; i < NCLIENTS; i++) {
			int m = member_of(slb_sched_pick(&g, shm.servers, slots[during[i]],
							 client(i, 0)));

			assert_true(m >= 0 && m != during[i] && m != 1);
		}
		atomic_store(&shm.servers[slots[1]].health, SLB_HEALTH_UP);
		map_clients(&g, -1, after);
		assert_memory_equal(before, after, sizeof(before));
		slb_sched_group_free(&g);
	}
}

static void test_hash_weight_zero_never_picked(void **state)
{
	static int before[NCLIENTS], during[NCLIENTS], after[NCLIENTS];

	(void)state;
	for (size_t k = 0; k < sizeof(hash_kinds) / sizeof(hash_kinds[0]); k++) {
		struct slb_sched_group g;
		unsigned counts[NSERVERS] = { 0 }, stayed = 0, others = 0;

		set_weights(100, 100, 50);
		assert_int_equal(slb_sched_group_init(&g, hash_kinds[k], &group, &shm), 0);
		map_clients(&g, -1, before);
		/* Set to 0 after init: ch rebuilds its table on the next pick. */
		atomic_store(&shm.servers[slots[1]].weight, 0);
		map_clients(&g, -1, during);
		for (unsigned i = 0; i < NCLIENTS; i++) {
			assert_true(during[i] >= 0);
			counts[during[i]]++;
			if (before[i] != 1) {
				others++;
				stayed += during[i] == before[i];
			}
		}
		assert_int_equal(counts[1], 0);
		assert_true(counts[0] > counts[2] && counts[2] > 0);
		/* Maglev's rebuild is near-minimal, rendezvous hashing exactly minimal. */
		assert_true(stayed * 100 >= others * 98);
		atomic_store(&shm.servers[slots[1]].weight, 100);
		map_clients(&g, -1, after);
		assert_memory_equal(before, after, sizeof(before));
		slb_sched_group_free(&g);
	}
}

static void test_hash_null_client_and_all_down(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(hash_kinds) / sizeof(hash_kinds[0]); k++) {
		struct slb_sched_group g;
		int first;

		set_weights(100, 100, 100);
		assert_int_equal(slb_sched_group_init_sized(&g, hash_kinds[k], &group, &shm, 7), 0);
		first = slb_sched_pick(&g, shm.servers, -1, NULL);
		assert_true(member_of(first) >= 0);
		assert_int_equal(slb_sched_pick(&g, shm.servers, -1, NULL), first);
		for (int i = 0; i < NSERVERS; i++)
			atomic_store(&shm.servers[slots[i]].health, SLB_HEALTH_DOWN);
		assert_int_equal(slb_sched_pick(&g, shm.servers, -1, client(1, 1)), -1);
		slb_sched_group_free(&g);
	}
	set_weights(100, 100, 100);
}

/*
 * The group "web" seen as primary_secondary over two of its slots: s2 the
 * primary, s0 the secondary (the primary written second: order must not
 * matter).
 */
static void primary_secondary_conf(struct slb_group_conf *ps, struct slb_server_conf two[2])
{
	*ps = group;
	two[0] = servers[0];
	two[0].role = SLB_ROLE_SECONDARY;
	two[1] = servers[2];
	two[1].role = SLB_ROLE_PRIMARY;
	ps->type = SLB_GROUP_PRIMARY_SECONDARY;
	ps->servers = two;
	ps->nservers = 2;
}

/* Fifty picks, for fifty different clients, all give <slot>. */
static void assert_picks(struct slb_sched_group *g, int exclude, int slot)
{
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(slb_sched_pick(g, shm.servers, exclude, client(i, i)), slot);
}

static const enum slb_scheduler all_kinds[] = {
	SLB_SCHED_RR, SLB_SCHED_WRR, SLB_SCHED_WLC, SLB_SCHED_SH, SLB_SCHED_CH,
};

/*
 * primary_secondary, whatever the listener's scheduler: all to the primary
 * while it can take connections; to the secondary while it is down, has
 * weight 0 or is excluded (the connect retry); back to the primary as soon
 * as it is up; nothing when both are out.
 */
static void test_primary_secondary(void **state)
{
	struct slb_server_conf two[2];
	struct slb_group_conf ps;

	(void)state;
	primary_secondary_conf(&ps, two);
	for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++) {
		struct slb_sched_group g;

		set_weights(100, 100, 1);
		/* wlc would prefer the idle secondary: the role wins over load. */
		atomic_store(&shm.servers[slots[2]].active, 1000);
		assert_int_equal(slb_sched_group_init(&g, all_kinds[k], &ps, &shm), 0);
		assert_picks(&g, -1, slots[2]);
		atomic_store(&shm.servers[slots[2]].health, SLB_HEALTH_DOWN);
		assert_picks(&g, -1, slots[0]);
		atomic_store(&shm.servers[slots[2]].health, SLB_HEALTH_UP);
		assert_picks(&g, -1, slots[2]);
		assert_picks(&g, slots[2], slots[0]);
		atomic_store(&shm.servers[slots[2]].weight, 0);
		assert_picks(&g, -1, slots[0]);
		atomic_store(&shm.servers[slots[2]].weight, 1);
		atomic_store(&shm.servers[slots[0]].health, SLB_HEALTH_DOWN);
		assert_picks(&g, -1, slots[2]);
		assert_picks(&g, slots[2], -1);
		atomic_store(&shm.servers[slots[2]].health, SLB_HEALTH_DOWN);
		assert_picks(&g, -1, -1);
		/* The secondary alone back: it takes everything again. */
		atomic_store(&shm.servers[slots[0]].health, SLB_HEALTH_UP);
		assert_picks(&g, -1, slots[0]);
		slb_sched_group_free(&g);
	}
	set_weights(100, 100, 100);
}

/* Down members are counted; weight 0 is not down; a reused slot is not a member. */
static void test_unhealthy_count(void **state)
{
	struct slb_sched_group g;

	(void)state;
	set_weights(100, 0, 100);
	assert_int_equal(slb_sched_group_init(&g, SLB_SCHED_WRR, &group, &shm), 0);
	assert_int_equal(slb_sched_group_unhealthy(&g, shm.servers), 0);
	atomic_store(&shm.servers[slots[0]].health, SLB_HEALTH_DOWN);
	assert_int_equal(slb_sched_group_unhealthy(&g, shm.servers), 1);
	atomic_store(&shm.servers[slots[2]].health, SLB_HEALTH_DOWN);
	assert_int_equal(slb_sched_group_unhealthy(&g, shm.servers), 2);
	atomic_fetch_add(&shm.servers[slots[2]].serial, 1000);
	assert_int_equal(slb_sched_group_unhealthy(&g, shm.servers), 1);
	atomic_fetch_sub(&shm.servers[slots[2]].serial, 1000);
	atomic_store(&shm.servers[slots[0]].health, SLB_HEALTH_UP);
	assert_int_equal(slb_sched_group_unhealthy(&g, shm.servers), 1);
	slb_sched_group_free(&g);
	set_weights(100, 100, 100);
}

/* can_pick says whether slb_sched_pick would find a member: up, weight > 0, own slot. */
static void test_can_pick(void **state)
{
	struct slb_sched_group g;

	(void)state;
	set_weights(0, 0, 100);
	assert_int_equal(slb_sched_group_init(&g, SLB_SCHED_WRR, &group, &shm), 0);
	assert_true(slb_sched_group_can_pick(&g, shm.servers));
	atomic_store(&shm.servers[slots[2]].health, SLB_HEALTH_DOWN);
	/* two up at weight 0, one down: nothing to pick, as slb_sched_pick finds */
	assert_false(slb_sched_group_can_pick(&g, shm.servers));
	assert_int_equal(slb_sched_pick(&g, shm.servers, -1, NULL), -1);
	atomic_store(&shm.servers[slots[2]].health, SLB_HEALTH_UP);
	atomic_fetch_add(&shm.servers[slots[2]].serial, 1000);
	assert_false(slb_sched_group_can_pick(&g, shm.servers));
	atomic_fetch_sub(&shm.servers[slots[2]].serial, 1000);
	atomic_store(&shm.servers[slots[0]].weight, 1);
	assert_true(slb_sched_group_can_pick(&g, shm.servers));
	slb_sched_group_free(&g);
	set_weights(100, 100, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrr_exact_over_a_cycle),
		cmocka_unit_test(test_wrr_is_smooth),
		cmocka_unit_test(test_weight_zero_never_picked),
		cmocka_unit_test(test_unhealthy_never_picked_and_none_left),
		cmocka_unit_test(test_rr_ignores_weights),
		cmocka_unit_test(test_wlc_picks_least_loaded),
		cmocka_unit_test(test_exclude_and_stale_slot),
		cmocka_unit_test(test_hash_same_client_same_member_across_workers),
		cmocka_unit_test(test_hash_down_member_moves_only_its_clients),
		cmocka_unit_test(test_hash_weight_zero_never_picked),
		cmocka_unit_test(test_hash_null_client_and_all_down),
		cmocka_unit_test(test_primary_secondary),
		cmocka_unit_test(test_unhealthy_count),
		cmocka_unit_test(test_can_pick),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
