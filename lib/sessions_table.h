/*
 * sessions_table.h - the session table's layout in shared memory. Only
 * lib/sessions.c and the tests that check its edge cases (counters near
 * their maximum) include it; everyone else goes through sessions.h.
 *
 * [struct slb_sessions: 128 bytes][entry 0][entry 1]...[eviction log][written map]
 * entries are 64 bytes, cache-line aligned, SLB_SESSIONS_WAYS consecutive
 * entries form a bucket. The eviction log is SLB_SESSIONS_EVICTION_LOG more
 * entries after the last. The written map has a bit per
 * SLB_SESSIONS_GROUP entries (a page), set by the first put there and
 * never cleared: the scans (count, walks, flush, prune) read only the
 * groups ever written, so that they do not make the system commit the
 * pages of an empty or sparse table (a read of a page of shared memory
 * never written allocates it). A put sets its group's bit before it takes
 * its change number, so a walk that began after that number sees the bit.
 *
 * An entry's <seq> word is its lock-free write protocol: the low 32 bits
 * count writes, the high 32 bits hold the pid of the process writing it now
 * (0 when nobody is). Taking an entry is one compare-and-swap from a stable
 * value to (my pid, count + 1); giving it back stores (0, count + 2). A reader
 * copies the entry between two reads of <seq> and keeps the copy only when
 * both are equal and stable. A writer that finds an entry held by a pid that
 * no longer exists takes it over (it was killed mid-write).
 *
 * The flush log is a ring without a lock: a flush, its scan done, takes its
 * number from <flushes>, then stores one word. A reader that finds another
 * number in the word knows that flush is lost to it once the ring came
 * round since, else that its writer is not there yet (slb_sessions_flushed).
 * A flush killed during its scan is not logged: it did not complete.
 *
 * The eviction log is a ring too: a put that evicts a live session of
 * another key takes a number from <evictions> and writes the key it
 * evicted into ring entry number % SLB_SESSIONS_EVICTION_LOG, with the same
 * write protocol as a session entry: the number in <server>, the expiry of
 * a tombstone, and in <stamp> a change number taken before the eviction
 * (every put of that key that did not race it is stamped later).
 */
#ifndef SLB_SESSIONS_TABLE_H
#define SLB_SESSIONS_TABLE_H

#include <stdatomic.h>
#include <stdint.h>

#include "sessions.h"

#define SLB_SESSIONS_MAGIC 0x736c627365737331ULL /* "slbsess1" */
#define SLB_SESSIONS_WAYS 8u /* entries per bucket */
#define SLB_SESSIONS_FLUSH_LOG 4u /* the last flushes kept for replication */
#define SLB_SESSIONS_EVICTION_LOG 8192u /* the last evictions kept for replication: 512 KiB */
#define SLB_SESSIONS_GROUP 64u /* entries per bit of the written map: 4 KiB */
/*
 * The expiry of a removed session (a tombstone): long past, so lookups miss
 * it and puts reuse it like any expired entry, but it keeps its key and
 * gets a change number, so a walk for replication sees the removal.
 */
#define SLB_SESSIONS_TOMBSTONE 1u

struct slb_session_entry {
	_Atomic uint64_t seq; /* (writer pid << 32) | write count */
	_Atomic uint64_t key[3]; /* struct slb_session_key */
	_Atomic uint64_t server; /* (serial << 32) | slot */
	_Atomic uint64_t expires_ms; /* 0: empty, SLB_SESSIONS_TOMBSTONE: removed */
	_Atomic uint64_t stamp; /* change number of the last write */
	uint64_t unused;
} __attribute__((aligned(64)));

struct slb_sessions {
	uint64_t magic;
	uint32_t capacity; /* entries, a power of two >= SLB_SESSIONS_WAYS */
	uint32_t bucket_mask;
	uint64_t seed; /* hash seed, random per segment: buckets cannot be aimed at */
	_Atomic uint64_t flushes; /* slb_sessions_flush() calls done */
	/*
	 * Flush n is in [n % SLB_SESSIONS_FLUSH_LOG] as the low 16 bits of n, then
	 * 16 bits of listener slot + 1 (0: all), then the low 32 bits of the
	 * change number when its scan began.
	 */
	_Atomic uint64_t flush_log[SLB_SESSIONS_FLUSH_LOG];
	_Atomic uint64_t change; /* last change number handed out */
	_Atomic uint64_t evictions; /* live sessions evicted by puts so far (rare beside <change>) */
	uint8_t pad1[48];
	struct slb_session_entry entries[];
};

_Static_assert(sizeof(struct slb_session_entry) == 64, "a session entry is one cache line");
_Static_assert(sizeof(struct slb_session_key) == 24, "a session key is three words");
_Static_assert(sizeof(struct slb_sessions) == 128, "the table header is two cache lines");

#endif
