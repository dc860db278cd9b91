/*
 * maglev.c - Maglev lookup table population and the hash behind it.
 */
#include "maglev.h"

#include <stdlib.h>
#include <string.h>

#define SEED_OFFSET 0x6d61676c65763031ull /* "maglev01" */
#define SEED_SKIP 0x6d61676c65763032ull /* "maglev02" */

/* splitmix64's finalizer: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint64_t slb_hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ mix64(seed);

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return mix64(h ^ len);
}

int slb_maglev_is_prime(uint32_t n)
{
	if (n < 2)
		return 0;
	for (uint32_t d = 2; (uint64_t)d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

int slb_maglev_init(struct slb_maglev *m, uint32_t size, const char *const *keys, unsigned n)
{
	memset(m, 0, sizeof(*m));
	if (size < 3 || !slb_maglev_is_prime(size) || n > SLB_MAGLEV_MAX_BACKENDS)
		return -1;
	m->size = size;
	m->nbackends = n;
	m->entry = malloc(size * sizeof(*m->entry));
	m->offset = calloc(n ? n : 1, sizeof(*m->offset));
	m->skip = calloc(n ? n : 1, sizeof(*m->skip));
	m->next = calloc(n ? n : 1, sizeof(*m->next));
	m->turns = calloc(n ? n : 1, sizeof(*m->turns));
	if (!m->entry || !m->offset || !m->skip || !m->next || !m->turns) {
		slb_maglev_free(m);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		size_t len = strlen(keys[i]);

		m->offset[i] = (uint32_t)(slb_hash64(keys[i], len, SEED_OFFSET) % size);
		m->skip[i] = (uint32_t)(slb_hash64(keys[i], len, SEED_SKIP) % (size - 1)) + 1;
	}
	for (uint32_t j = 0; j < size; j++)
		m->entry[j] = SLB_MAGLEV_NONE;
	return 0;
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * The paper's population loop with weights: in each round every backend
 * claims weight/gcd entries, each the next free position of its permutation
 * (offset + k * skip) mod size. As size is prime and skip < size, every
 * permutation visits every entry, so a backend always finds a free one while
 * the table is not full.
 */
void slb_maglev_populate(struct slb_maglev *m, const uint32_t *weights)
{
	uint32_t g = 0, filled = 0;

	for (uint32_t j = 0; j < m->size; j++)
		m->entry[j] = SLB_MAGLEV_NONE;
	for (uint32_t i = 0; i < m->nbackends; i++)
		g = gcd(g, weights[i]);
	if (g == 0)
		return;
	for (uint32_t i = 0; i < m->nbackends; i++) {
		m->turns[i] = weights[i] / g;
		m->next[i] = m->offset[i];
	}
	while (filled < m->size) {
		for (uint32_t i = 0; i < m->nbackends && filled < m->size; i++) {
			for (uint32_t t = 0; t < m->turns[i] && filled < m->size; t++) {
				uint32_t c = m->next[i];

				while (m->entry[c] != SLB_MAGLEV_NONE) {
					c += m->skip[i];
					if (c >= m->size)
						c -= m->size;
				}
				m->entry[c] = (uint16_t)i;
				c += m->skip[i];
				if (c >= m->size)
					c -= m->size;
				m->next[i] = c;
				filled++;
			}
		}
	}
}

void slb_maglev_free(struct slb_maglev *m)
{
	free(m->entry);
	free(m->offset);
	free(m->skip);
	free(m->next);
	free(m->turns);
	memset(m, 0, sizeof(*m));
}
