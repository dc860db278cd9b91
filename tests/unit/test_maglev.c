/*
 * test_maglev.c - Maglev tables: entries in proportion to weights, minimal
 * disruption when a backend leaves (measured and printed), determinism from
 * names, empty and invalid tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "maglev.h"

#define N 10
#define NKEYS 100000u

static char names[N][16];
static const char *keys[N];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "web%d", i + 1);
		keys[i] = names[i];
	}
	return 0;
}

static uint64_t key_hash(uint32_t k)
{
	return slb_hash64(&k, sizeof(k), 42);
}

static void count_entries(const struct slb_maglev *m, unsigned counts[N])
{
	memset(counts, 0, N * sizeof(counts[0]));
	for (uint32_t j = 0; j < m->size; j++) {
		assert_true(m->entry[j] < N);
		counts[m->entry[j]]++;
	}
}

static void test_prime_and_bad_arguments(void **state)
{
	struct slb_maglev m;

	(void)state;
	assert_true(slb_maglev_is_prime(65537));
	assert_true(slb_maglev_is_prime(251));
	assert_false(slb_maglev_is_prime(65536));
	assert_false(slb_maglev_is_prime(1));
	assert_int_equal(slb_maglev_init(&m, 65536, keys, N), -1);
	assert_int_equal(slb_maglev_init(&m, 2, keys, N), -1);
}

/* Equal weights: every backend holds size/N entries within 1 (one round). */
static void test_equal_weights_even(void **state)
{
	struct slb_maglev m;
	uint32_t weights[N];
	unsigned counts[N];

	(void)state;
	for (int i = 0; i < N; i++)
		weights[i] = 100;
	assert_int_equal(slb_maglev_init(&m, SLB_MAGLEV_SIZE, keys, N), 0);
	slb_maglev_populate(&m, weights);
	count_entries(&m, counts);
	for (int i = 0; i < N; i++)
		assert_in_range(counts[i], SLB_MAGLEV_SIZE / N, SLB_MAGLEV_SIZE / N + 1);
	slb_maglev_free(&m);
}

/*
 * Weights 1..10: each backend's share of the entries is within 0.1% of the
 * table (65 entries) of weight/sum; the only error is the last, partial round.
 */
static void test_entries_proportional_to_weights(void **state)
{
	struct slb_maglev m;
	uint32_t weights[N], sum = 0;
	unsigned counts[N];

	(void)state;
	for (int i = 0; i < N; i++) {
		weights[i] = (uint32_t)(i + 1) * 10; /* gcd 10: turns 1..10 */
		sum += weights[i];
	}
	assert_int_equal(slb_maglev_init(&m, SLB_MAGLEV_SIZE, keys, N), 0);
	slb_maglev_populate(&m, weights);
	count_entries(&m, counts);
	for (int i = 0; i < N; i++) {
		double want = (double)SLB_MAGLEV_SIZE * weights[i] / sum;

		assert_true(counts[i] >= want - SLB_MAGLEV_SIZE / 1000.0);
		assert_true(counts[i] <= want + SLB_MAGLEV_SIZE / 1000.0);
	}
	/* Weight 0 is absent from the table. */
	weights[3] = 0;
	slb_maglev_populate(&m, weights);
	count_entries(&m, counts);
	assert_int_equal(counts[3], 0);
	slb_maglev_free(&m);
}

/*
 * Removing one of 10 backends: the keys it held must move; of the other keys
 * fewer than 2% of all keys may move (the paper's "minimal disruption" is
 * approximate). Putting it back restores the very same table.
 */
static void test_disruption_when_one_leaves(void **state)
{
	struct slb_maglev before, after;
	uint32_t weights[N];
	unsigned moved_own = 0, moved_other = 0, own = 0;
	const unsigned gone = 4;

	(void)state;
	for (int i = 0; i < N; i++)
		weights[i] = 100;
	assert_int_equal(slb_maglev_init(&before, SLB_MAGLEV_SIZE, keys, N), 0);
	assert_int_equal(slb_maglev_init(&after, SLB_MAGLEV_SIZE, keys, N), 0);
	slb_maglev_populate(&before, weights);
	weights[gone] = 0;
	slb_maglev_populate(&after, weights);
	for (uint32_t k = 0; k < NKEYS; k++) {
		unsigned a = slb_maglev_lookup(&before, key_hash(k));
		unsigned b = slb_maglev_lookup(&after, key_hash(k));

		assert_true(b != gone);
		if (a == gone) {
			own++;
			moved_own++;
		} else if (a != b) {
			moved_other++;
		}
	}
	printf("maglev: removing 1 of %d backends (table %u): %u of %u keys held by it moved; "
	       "%u other keys moved (%.3f%% of all keys)\n",
	       N, SLB_MAGLEV_SIZE, moved_own, own, moved_other, 100.0 * moved_other / NKEYS);
	assert_true(own > NKEYS / N / 2);
	assert_true(moved_other * 50 < NKEYS);
	weights[gone] = 100;
	slb_maglev_populate(&after, weights);
	assert_memory_equal(before.entry, after.entry, before.size * sizeof(before.entry[0]));
	slb_maglev_free(&before);
	slb_maglev_free(&after);
}

/* Names, not positions in memory, define the table: two builds agree. */
static void test_same_names_same_table(void **state)
{
	struct slb_maglev a, b;
	char copy[N][16];
	const char *copy_keys[N];
	uint32_t weights[N];

	(void)state;
	for (int i = 0; i < N; i++) {
		memcpy(copy[i], names[i], sizeof(copy[i]));
		copy_keys[i] = copy[i];
		weights[i] = (uint32_t)(i % 3 + 1);
	}
	assert_int_equal(slb_maglev_init(&a, 251, keys, N), 0);
	assert_int_equal(slb_maglev_init(&b, 251, copy_keys, N), 0);
	slb_maglev_populate(&a, weights);
	slb_maglev_populate(&b, weights);
	assert_memory_equal(a.entry, b.entry, a.size * sizeof(a.entry[0]));
	slb_maglev_free(&a);
	slb_maglev_free(&b);
}

static void test_empty_table(void **state)
{
	struct slb_maglev m;
	uint32_t weights[N] = { 0 };

	(void)state;
	assert_int_equal(slb_maglev_init(&m, 13, keys, N), 0);
	assert_int_equal(slb_maglev_lookup(&m, 7), SLB_MAGLEV_NONE);
	slb_maglev_populate(&m, weights);
	assert_int_equal(slb_maglev_lookup(&m, 7), SLB_MAGLEV_NONE);
	slb_maglev_free(&m);
	assert_int_equal(slb_maglev_init(&m, 13, keys, 0), 0);
	slb_maglev_populate(&m, weights);
	assert_int_equal(slb_maglev_lookup(&m, 7), SLB_MAGLEV_NONE);
	slb_maglev_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prime_and_bad_arguments),
		cmocka_unit_test(test_equal_weights_even),
		cmocka_unit_test(test_entries_proportional_to_weights),
		cmocka_unit_test(test_disruption_when_one_leaves),
		cmocka_unit_test(test_same_names_same_table),
		cmocka_unit_test(test_empty_table),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
