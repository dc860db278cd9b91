/*
 * scheduler.c - rr, wrr (smooth weighted round robin), wlc, sh (source-IP
 * rendezvous hash), ch (Maglev consistent hash), and the fixed order of a
 * primary_secondary group.
 */
#include "scheduler.h"

#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CLIENT_SEED 0x736c622d636c6e74ull /* "slb-clnt" */
#define MEMBER_SEED 0x736c622d6d656d62ull /* "slb-memb" */
#define CH_WALK_MAX 256u /* table entries ch tries past an unusable one */

int slb_sched_group_init(struct slb_sched_group *group, enum slb_scheduler kind,
			 const struct slb_group_conf *gc, const struct slb_shm *shm)
{
	return slb_sched_group_init_sized(group, kind, gc, shm, SLB_MAGLEV_SIZE);
}

/* The weight a ch table counts for <m>: its shm weight while it owns its slot. */
static uint32_t table_weight(const struct slb_sched_member *m, struct slb_shm_server *servers)
{
	struct slb_shm_server *s = &servers[m->slot];

	if (atomic_load_explicit(&s->serial, memory_order_relaxed) != m->serial)
		return 0;
	return atomic_load_explicit(&s->weight, memory_order_relaxed);
}

static int ch_init(struct slb_sched_group *g, const struct slb_group_conf *gc,
		   struct slb_shm_server *servers, uint32_t table_size)
{
	const char **keys = calloc(gc->nservers ? gc->nservers : 1, sizeof(*keys));
	int rc = -1;

	g->ch_weights = calloc(gc->nservers ? gc->nservers : 1, sizeof(*g->ch_weights));
	if (!keys || !g->ch_weights)
		goto out;
	for (unsigned i = 0; i < gc->nservers; i++) {
		keys[i] = gc->servers[i].name;
		g->ch_weights[i] = table_weight(&g->members[i], servers);
	}
	if (slb_maglev_init(&g->maglev, table_size, keys, gc->nservers) == -1) {
		slb_err("group %s: cannot build a Maglev table of %u entries", gc->name,
			table_size);
		goto out;
	}
	slb_maglev_populate(&g->maglev, g->ch_weights);
	rc = 0;
out:
	free(keys);
	return rc;
}

int slb_sched_group_init_sized(struct slb_sched_group *group, enum slb_scheduler kind,
			       const struct slb_group_conf *gc, const struct slb_shm *shm,
			       uint32_t table_size)
{
	memset(group, 0, sizeof(*group));
	group->kind = kind;
	group->primary = -1;
	group->members = calloc(gc->nservers ? gc->nservers : 1, sizeof(*group->members));
	if (!group->members)
		return -1;
	for (unsigned i = 0; i < gc->nservers; i++) {
		int slot = slb_shm_server_find(shm, gc->name, gc->servers[i].name);

		if (slot < 0) {
			slb_err("group %s: server %s has no shared-memory slot", gc->name,
				gc->servers[i].name);
			slb_sched_group_free(group);
			return -1;
		}
		group->members[i].slot = (uint32_t)slot;
		group->members[i].serial = atomic_load(&shm->servers[slot].serial);
		group->members[i].credit = 0;
		group->members[i].key = slb_hash64(gc->servers[i].name,
						   strlen(gc->servers[i].name), MEMBER_SEED);
		if (gc->type == SLB_GROUP_PRIMARY_SECONDARY &&
		    gc->servers[i].role == SLB_ROLE_PRIMARY)
			group->primary = (int)i;
		group->nmembers++;
	}
	if (kind == SLB_SCHED_CH && ch_init(group, gc, shm->servers, table_size) == -1) {
		slb_sched_group_free(group);
		return -1;
	}
	return 0;
}

void slb_sched_group_free(struct slb_sched_group *group)
{
	if (group->maglev.entry)
		slb_maglev_free(&group->maglev);
	free(group->ch_weights);
	group->ch_weights = NULL;
	free(group->members);
	group->members = NULL;
	group->nmembers = 0;
}

/* Weight of a member that may take a new connection, 0 if it may not. */
static uint32_t usable_weight(const struct slb_sched_member *m,
			      const struct slb_shm_server *servers, int exclude_slot)
{
	const struct slb_shm_server *s = &servers[m->slot];

	if ((int)m->slot == exclude_slot ||
	    atomic_load_explicit(&s->serial, memory_order_relaxed) != m->serial ||
	    atomic_load_explicit(&s->health, memory_order_relaxed) != SLB_HEALTH_UP)
		return 0;
	return atomic_load_explicit(&s->weight, memory_order_relaxed);
}

static int pick_rr(struct slb_sched_group *g, struct slb_shm_server *servers, int exclude_slot)
{
	for (unsigned i = 0; i < g->nmembers; i++) {
		unsigned idx = (g->next + i) % g->nmembers;

		if (usable_weight(&g->members[idx], servers, exclude_slot) > 0) {
			g->next = idx + 1;
			return (int)g->members[idx].slot;
		}
	}
	return -1;
}

/*
 * nginx's smooth weighted round robin: every usable member earns its weight,
 * the richest is picked and pays the total. Over sum(weights) picks each
 * member is chosen exactly weight times, interleaved rather than in bursts.
 */
static int pick_wrr(struct slb_sched_group *g, struct slb_shm_server *servers, int exclude_slot)
{
	struct slb_sched_member *best = NULL;
	int64_t total = 0;

	for (unsigned i = 0; i < g->nmembers; i++) {
		struct slb_sched_member *m = &g->members[i];
		uint32_t w = usable_weight(m, servers, exclude_slot);

		if (w == 0)
			continue;
		m->credit += w;
		total += w;
		if (!best || m->credit > best->credit)
			best = m;
	}
	if (!best)
		return -1;
	best->credit -= total;
	return (int)best->slot;
}

/*
 * Weighted least connections on the node-wide active counts in shared
 * memory: the member with the lowest active/weight wins (compared by cross
 * multiplication, no division); ties go round robin.
 */
static int pick_wlc(struct slb_sched_group *g, struct slb_shm_server *servers, int exclude_slot)
{
	const struct slb_sched_member *best = NULL;
	uint64_t best_active = 0, best_weight = 0;
	unsigned best_idx = 0;

	for (unsigned i = 0; i < g->nmembers; i++) {
		unsigned idx = (g->next + i) % g->nmembers;
		const struct slb_sched_member *m = &g->members[idx];
		uint64_t w = usable_weight(m, servers, exclude_slot);
		uint64_t a;

		if (w == 0)
			continue;
		a = atomic_load_explicit(&servers[m->slot].active, memory_order_relaxed);
		if (!best || a * best_weight < best_active * w) {
			best = m;
			best_active = a;
			best_weight = w;
			best_idx = idx;
		}
	}
	if (!best)
		return -1;
	g->next = best_idx + 1;
	return (int)best->slot;
}

/*
 * The hash of the client's IP address, port left out. An IPv4-mapped IPv6
 * address hashes as the IPv4 address, so a dual-stack listener agrees with
 * an IPv4 one. NULL or another family hashes as nothing.
 */
static uint64_t client_hash(const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const void *p = NULL;
	size_t len = 0;

	if (sa && sa->sa_family == AF_INET) {
		p = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		len = 4;
	} else if (sa && sa->sa_family == AF_INET6) {
		const unsigned char *a =
			((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;

		p = memcmp(a, mapped, sizeof(mapped)) == 0 ? a + 12 : a;
		len = p == a ? 16 : 4;
	}
	return slb_hash64(p ? p : "", len, CLIENT_SEED);
}

/*
 * sh: weighted rendezvous (highest random weight) hashing. Each usable member
 * scores -weight / ln(u), u uniform in (0,1) from hash(client, member name);
 * the highest score wins. Chosen over a second Maglev table because it needs
 * no table and no rebuild, is exact for any weights, and is minimal by
 * construction: a member leaving (down, weight 0, excluded) moves only the
 * clients it held, and they come back when it returns. The price is O(members)
 * per pick, fine for the groups sh is meant for; ch is the O(1) choice for
 * large groups. Ties (equal hashes) go to the first member in config order.
 */
static int pick_hrw(struct slb_sched_group *g, struct slb_shm_server *servers, int exclude_slot,
		    uint64_t h)
{
	const struct slb_sched_member *best = NULL;
	double best_score = 0;

	for (unsigned i = 0; i < g->nmembers; i++) {
		const struct slb_sched_member *m = &g->members[i];
		uint32_t w = usable_weight(m, servers, exclude_slot);
		uint64_t pair[2] = { h, m->key };
		double u, score;

		if (w == 0)
			continue;
		/* 53 random bits, centred so that u is never 0 or 1. */
		u = ((double)(slb_hash64(pair, sizeof(pair), 0) >> 11) + 0.5) / 9007199254740992.0;
		score = -(double)w / log(u);
		if (!best || score > best_score) {
			best = m;
			best_score = score;
		}
	}
	return best ? (int)best->slot : -1;
}

/*
 * Rebuilds the ch table when a member's weight (or slot ownership) differs
 * from the one the table was built with: a compare per member per pick, a
 * rebuild (no allocation) only when an operator changed a weight.
 */
static void ch_refresh(struct slb_sched_group *g, struct slb_shm_server *servers)
{
	bool changed = false;

	for (unsigned i = 0; i < g->nmembers; i++) {
		uint32_t tw = table_weight(&g->members[i], servers);

		if (tw != g->ch_weights[i]) {
			g->ch_weights[i] = tw;
			changed = true;
		}
	}
	if (changed)
		slb_maglev_populate(&g->maglev, g->ch_weights);
}

/*
 * ch: the Maglev entry for the client's hash; when that member cannot take the
 * connection (down, weight 0, slot reused, excluded) walk forward to the next
 * entry whose member can, so only that member's clients move, spread over the
 * others in proportion to their weights. Past CH_WALK_MAX entries (almost
 * every member unusable) fall back to rendezvous hashing, still deterministic.
 */
static int pick_ch(struct slb_sched_group *g, struct slb_shm_server *servers, int exclude_slot,
		   uint64_t h)
{
	const struct slb_maglev *mt = &g->maglev;
	uint32_t pos, bound;

	ch_refresh(g, servers);
	pos = (uint32_t)(h % mt->size);
	bound = mt->size < CH_WALK_MAX ? mt->size : CH_WALK_MAX;
	for (uint32_t i = 0; i < bound && mt->entry[pos] != SLB_MAGLEV_NONE; i++) {
		const struct slb_sched_member *m = &g->members[mt->entry[pos]];

		if (usable_weight(m, servers, exclude_slot) > 0)
			return (int)m->slot;
		if (++pos == mt->size)
			pos = 0;
	}
	return pick_hrw(g, servers, exclude_slot, h);
}

/*
 * primary_secondary: the primary while it can take a connection (up, weight
 * > 0, not excluded), else the other member. Nothing to remember: the
 * primary's health is read on every pick, so new connections return to it
 * as soon as the checker marks it up, and connections already on the
 * secondary stay there.
 */
static int pick_primary(struct slb_sched_group *g, struct slb_shm_server *servers,
			int exclude_slot)
{
	const struct slb_sched_member *primary = &g->members[g->primary];

	if (usable_weight(primary, servers, exclude_slot) > 0)
		return (int)primary->slot;
	for (unsigned i = 0; i < g->nmembers; i++)
		if ((int)i != g->primary && usable_weight(&g->members[i], servers, exclude_slot) > 0)
			return (int)g->members[i].slot;
	return -1;
}

int slb_sched_pick(struct slb_sched_group *group, struct slb_shm_server *servers, int exclude_slot,
		   const struct sockaddr *client)
{
	if (group->nmembers == 0)
		return -1;
	if (group->primary >= 0)
		return pick_primary(group, servers, exclude_slot);
	switch (group->kind) {
	case SLB_SCHED_RR:
		return pick_rr(group, servers, exclude_slot);
	case SLB_SCHED_WLC:
		return pick_wlc(group, servers, exclude_slot);
	case SLB_SCHED_SH:
		return pick_hrw(group, servers, exclude_slot, client_hash(client));
	case SLB_SCHED_CH:
		return pick_ch(group, servers, exclude_slot, client_hash(client));
	default:
		return pick_wrr(group, servers, exclude_slot);
	}
}

unsigned slb_sched_group_unhealthy(const struct slb_sched_group *group,
				   const struct slb_shm_server *servers)
{
	unsigned down = 0;

	for (unsigned i = 0; i < group->nmembers; i++) {
		const struct slb_sched_member *m = &group->members[i];
		const struct slb_shm_server *s = &servers[m->slot];

		down += atomic_load_explicit(&s->serial, memory_order_relaxed) == m->serial &&
			atomic_load_explicit(&s->health, memory_order_relaxed) != SLB_HEALTH_UP;
	}
	return down;
}

bool slb_sched_group_can_pick(const struct slb_sched_group *group,
			      const struct slb_shm_server *servers)
{
	for (unsigned i = 0; i < group->nmembers; i++)
		if (usable_weight(&group->members[i], servers, -1) > 0)
			return true;
	return false;
}
