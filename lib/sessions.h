/*
 * sessions.h - the session table: which server a client (source-IP
 * persistence) or a UDP flow was given, and until when.
 *
 * The table lives in the shared-memory segment, so every worker sees the
 * same sessions, a crashed worker loses none, and slb-failover can stream
 * it to the peer. Capacity is fixed when the segment is created
 * ([global] session_table_size, rounded up to a power of two). A key hashes
 * to one bucket of a few entries; a full bucket evicts the entry that
 * expires first, so an insert never fails (and logs the eviction for
 * replication, slb_sessions_evicted). Expired entries are absent for
 * lookups and reused by inserts: expiry costs no sweep. A removed session
 * is such an entry too (a tombstone), that keeps its key and a change
 * number so that replication sees the removal; a flush is numbered and
 * logged in the table's header instead.
 *
 * No locks: every entry carries its own sequence word. Readers retry a torn
 * read a bounded number of times and then report a miss; writers never wait
 * for another writer. A process killed at any instruction leaves at most the
 * entry it was writing marked busy; readers treat it as absent and a later
 * writer reclaims it, so nothing ever blocks and no bucket is corrupted.
 *
 * All times are slb_now_ms() (CLOCK_MONOTONIC, the same in every process of
 * a node). The segment holds no pointers.
 */
#ifndef SLB_SESSIONS_H
#define SLB_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

/* Who the session is for. Compare and hash it as 24 bytes: keep pad zero. */
struct slb_session_key {
	uint16_t listener; /* slot in the shm listener table */
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t family; /* AF_INET or AF_INET6 */
	uint16_t port; /* client port (network order) for UDP flows, 0 for source_ip */
	uint16_t pad;
	uint8_t addr[16]; /* IPv4 in the first 4 bytes, the rest zero */
};

/* A session as copied out of the table. */
struct slb_session {
	struct slb_session_key key;
	uint32_t server_slot; /* index into the shm server table */
	uint32_t server_serial; /* that slot's serial when the session was made */
	uint64_t expires_ms;
	bool removed; /* slb_sessions_walk_range(): removed, not live (server and expiry unset) */
};

/* The table's header in shared memory; its entries follow it. */
struct slb_sessions;

/* Bytes the table needs for <capacity> entries (rounded up to a power of two). */
size_t slb_sessions_size(uint32_t capacity);

/* Lays out an empty table of <capacity> entries in zeroed memory <t>. */
void slb_sessions_init(struct slb_sessions *t, uint32_t capacity);

uint32_t slb_sessions_capacity(const struct slb_sessions *t);

/*
 * Fills <key> for <client> on listener slot <listener>. <with_port> keys a
 * UDP flow (address and port); without it the key is the address alone
 * (source_ip persistence).
 */
void slb_session_key_make(struct slb_session_key *key, uint32_t listener, int protocol,
			  const struct sockaddr *client, bool with_port);

/* Copies the live session for <key> into <out>. Returns false when there is none. */
bool slb_sessions_lookup(struct slb_sessions *t, const struct slb_session_key *key,
			 uint64_t now_ms, struct slb_session *out);

/*
 * Inserts or replaces the session for <key>: server <slot>/<serial> until
 * <expires_ms>. Evicts the bucket's soonest-expiring entry when the bucket
 * is full. Never fails.
 */
void slb_sessions_put(struct slb_sessions *t, const struct slb_session_key *key, uint32_t slot,
		      uint32_t serial, uint64_t expires_ms, uint64_t now_ms);

/*
 * Moves the expiry of the live session for <key> to <expires_ms>. To keep hot
 * entries cheap it may skip the write when the stored expiry is less than a
 * second older. Returns false when there is no live session.
 */
bool slb_sessions_touch(struct slb_sessions *t, const struct slb_session_key *key,
			uint64_t expires_ms, uint64_t now_ms);

/*
 * Removes the session for <key>, leaving a stamped tombstone that the
 * replication walk reports (slb_sessions_walk_range). Returns whether there
 * was one.
 */
bool slb_sessions_remove(struct slb_sessions *t, const struct slb_session_key *key);

/*
 * Removes every session of listener slot <listener> (-1: all). Returns how
 * many. Each call is numbered and logged (slb_sessions_flushed) instead of
 * leaving a tombstone per session.
 */
unsigned slb_sessions_flush(struct slb_sessions *t, int listener);

/*
 * Flushes done so far. For flush number <n> (1, 2, ...) of them,
 * slb_sessions_flushed() tells its listener slot (-1: all) in <*listener>
 * and in <*began> the change number when it began (every session put since
 * has a later one), and returns 1; 0 when its writer is not done yet (look
 * again later); -1 when the log no longer holds it (SLB_SESSIONS_FLUSH_LOG
 * flushes since): the reader must assume anything was flushed.
 */
uint64_t slb_sessions_flushes(struct slb_sessions *t);
int slb_sessions_flushed(struct slb_sessions *t, uint64_t n, int *listener, uint64_t *began);

/*
 * Live sessions evicted by puts so far. For eviction number <n> (1, 2, ...)
 * of them, slb_sessions_evicted() copies the evicted session's key into
 * <out> (removed set, nothing else) and into <*stamp> a change number that
 * every put of that key made after the eviction exceeds, and returns 1; 0
 * when its writer is not done yet (look again later); -1 when the log no
 * longer holds it (SLB_SESSIONS_EVICTION_LOG evictions since, or its writer
 * was killed): the reader must assume any session may have been evicted.
 */
uint64_t slb_sessions_evictions(struct slb_sessions *t);
int slb_sessions_evicted(struct slb_sessions *t, uint64_t n, struct slb_session *out,
			 uint64_t *stamp);

/*
 * Live sessions now: the entries holding a session that has not expired by
 * <now_ms> and was not removed, each as it was when the scan read it (a
 * session put or removed during the scan may or may not count). A scan, for
 * metrics and slbctl, not hot paths; like every scan here (the walks,
 * flush, prune) it reads only the parts of the table ever written, so it
 * costs nothing and commits no memory on an empty table, and on a sparse
 * one reads no page that a put did not already bring in.
 */
uint32_t slb_sessions_count(struct slb_sessions *t, uint64_t now_ms);

/*
 * Every put, and every touch that writes, stamps the entry with the table's
 * next change number. slb_sessions_walk() calls <visit> for each live session
 * stamped after <since> (0: all), stopping early when <visit> returns
 * non-zero, and returns where the next walk is to start: the change number
 * current when the walk began, or an earlier one when it passed a write
 * under way (a writer takes its number before its entry is readable), so
 * that a replica that walks from what each walk returned misses no write,
 * in flight or not. The number may be "before 0" (UINT64_MAX, as changes
 * compare wrapping): after 0, removals included (see below).
 */
typedef int (*slb_sessions_visit_fn)(const struct slb_session *s, void *arg);
uint64_t slb_sessions_walk(struct slb_sessions *t, uint64_t since, uint64_t now_ms,
			   slb_sessions_visit_fn visit, void *arg);

/*
 * slb_sessions_walk() over the entries [<first>, <first> + <count>) only
 * (clipped to the capacity), that also visits the sessions removed after a
 * <since> other than 0 (slb_sessions_remove, <removed> set): the changes a
 * replica needs. For a caller that spreads one walk over many
 * calls (slb-failover: a 1M-entry walk is ~20 ms, too long to hold its
 * election loop): walk every range from the same <since> and start the
 * next walk from the earliest number a range returned (as changes compare,
 * wrapping). A <count> of 0 visits nothing and only returns the change
 * number now.
 */
uint64_t slb_sessions_walk_range(struct slb_sessions *t, uint64_t since, uint64_t now_ms,
				 uint32_t first, uint32_t count, slb_sessions_visit_fn visit,
				 void *arg);

/*
 * Removes (as slb_sessions_remove does) the live sessions of the entries
 * [<first>, <first> + <count>) (clipped to the capacity) that were not
 * written after change number <upto>. Returns how many. A replica that
 * took the change number before a fresh copy of its source's table began
 * removes so, once the copy is complete, what the copy did not carry (a
 * session its source removed or flushed while they were apart), and
 * never holds less than the copy meanwhile.
 */
unsigned slb_sessions_prune_range(struct slb_sessions *t, uint64_t upto, uint64_t now_ms,
				  uint32_t first, uint32_t count);

#endif
