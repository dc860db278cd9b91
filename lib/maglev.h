/*
 * maglev.h - Maglev consistent-hash lookup tables (Eisenbud et al., NSDI 2016)
 * and the 64-bit hash slb uses for backend names and client addresses.
 *
 * A table of <size> entries (a prime) maps a key hash to a backend index in
 * O(1). Each backend walks its own permutation of the entries, derived from
 * two hashes of a stable key (the server's name, never a slot index, so every
 * worker and every restart builds the same table); backends take turns
 * claiming their next free entry, a backend of weight w taking w/gcd turns per
 * round. Removing one backend mostly moves only the entries it held.
 *
 * All memory is allocated by slb_maglev_init; slb_maglev_populate rebuilds in
 * place, so a weight change costs CPU (about size * ln(size) steps) but never
 * an allocation.
 */
#ifndef SLB_MAGLEV_H
#define SLB_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#define SLB_MAGLEV_SIZE 65537u /* default table size, a prime */
#define SLB_MAGLEV_MAX_BACKENDS 65535u /* entries are 16-bit */
#define SLB_MAGLEV_NONE 0xffffu /* an empty table's answer */

struct slb_maglev {
	uint32_t size; /* entries, prime */
	uint32_t nbackends;
	uint16_t *entry; /* backend index per entry, SLB_MAGLEV_NONE when empty */
	uint32_t *offset; /* per backend: first position of its permutation */
	uint32_t *skip; /* per backend: step of its permutation, 1..size-1 */
	uint32_t *next; /* per backend: build cursor (scratch) */
	uint32_t *turns; /* per backend: turns per round (scratch) */
};

/* A 64-bit hash of <len> bytes of <data> under <seed> (FNV-1a + a mixer). */
uint64_t slb_hash64(const void *data, size_t len, uint64_t seed);

/* 1 when <n> is prime. */
int slb_maglev_is_prime(uint32_t n);

/*
 * Prepares <m> for <n> backends named <keys> in a table of <size> entries.
 * <size> must be a prime above 2 and <n> at most SLB_MAGLEV_MAX_BACKENDS.
 * The table starts empty (every lookup SLB_MAGLEV_NONE) until populated.
 * Returns 0, or -1 on a bad argument or when memory runs out.
 */
int slb_maglev_init(struct slb_maglev *m, uint32_t size, const char *const *keys, unsigned n);

/*
 * Fills the table for <weights> (one per backend, 0 = absent). With every
 * weight 0 the table is empty. Never allocates.
 */
void slb_maglev_populate(struct slb_maglev *m, const uint32_t *weights);

void slb_maglev_free(struct slb_maglev *m);

/* The backend for <hash>, or SLB_MAGLEV_NONE when the table is empty. */
static inline unsigned slb_maglev_lookup(const struct slb_maglev *m, uint64_t hash)
{
	return m->entry[hash % m->size];
}

#endif
