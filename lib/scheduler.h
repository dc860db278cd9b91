/*
 * scheduler.h - choosing a server of a group for a new connection.
 *
 * A worker keeps one struct slb_sched_group per group it forwards to; the
 * state (round-robin position, smooth-wrr credits) is private to the worker,
 * while weights, health and active-connection counts are read from the
 * shared server table on every pick, so a health verdict or a weight change
 * applies to the very next connection without any message.
 *
 * sh and ch map a client address to a server the same way in every worker:
 * they hash the client's IP (never the port) against the server names, so
 * no state needs to be shared for a client to keep its server.
 *
 * A primary_secondary group ignores the scheduler: every pick is the primary
 * while it can take a connection, else the secondary.
 */
#ifndef SLB_SCHEDULER_H
#define SLB_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "config.h"
#include "maglev.h"
#include "shm.h"

struct slb_sched_member {
	uint32_t slot; /* index into the shared server table */
	uint32_t serial; /* the slot's serial when the member was bound */
	int64_t credit; /* smooth weighted round robin */
	uint64_t key; /* hash of the server name (sh) */
};

struct slb_sched_group {
	enum slb_scheduler kind;
	unsigned nmembers;
	unsigned next; /* rr position and tie-break rotation */
	struct slb_sched_member *members;
	struct slb_maglev maglev; /* ch only */
	uint32_t *ch_weights; /* ch: per member, the weights the table was built with */
	int primary; /* primary_secondary: the member tried first; -1 in a normal group */
};

/*
 * Binds <group> to the slots of <gc>'s servers in <shm>. Returns 0, or -1
 * when a server has no slot (the master lays the table out before it starts
 * workers, so that is a bug worth logging) or memory runs out.
 */
int slb_sched_group_init(struct slb_sched_group *group, enum slb_scheduler kind,
			 const struct slb_group_conf *gc, const struct slb_shm *shm);
/* The same with a ch table of <table_size> entries (a prime; tests use small ones). */
int slb_sched_group_init_sized(struct slb_sched_group *group, enum slb_scheduler kind,
			       const struct slb_group_conf *gc, const struct slb_shm *shm,
			       uint32_t table_size);
void slb_sched_group_free(struct slb_sched_group *group);

/*
 * Picks a member that is up, has weight > 0, still owns its slot, and whose
 * slot is not <exclude_slot> (-1 = none). <client> is the client's address
 * for sh and ch (NULL is allowed: all such clients then hash alike) and is
 * ignored by rr, wrr and wlc. In a primary_secondary group the primary wins
 * whenever it qualifies. Returns the slot index, or -1 when no member
 * qualifies.
 */
int slb_sched_pick(struct slb_sched_group *group, struct slb_shm_server *servers, int exclude_slot,
		   const struct sockaddr *client);

/*
 * The members of <group> the checker has marked down (a member whose slot
 * went to another server is not counted: it is no longer in the group).
 * This is what a listener's failover_threshold is compared with.
 */
unsigned slb_sched_group_unhealthy(const struct slb_sched_group *group,
				   const struct slb_shm_server *servers);

/*
 * Whether slb_sched_pick() can pick a member of <group> with nothing
 * excluded: one is up, has weight > 0 and still owns its slot. A listener's
 * backup group takes new traffic only then (daemons/worker/listener_pick.c).
 */
bool slb_sched_group_can_pick(const struct slb_sched_group *group,
			      const struct slb_shm_server *servers);

#endif
