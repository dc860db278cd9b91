/*
 * shm.h - the shared-memory segment /slb.<instance>.
 *
 * The master creates it and is the only process that allocates or frees
 * server slots; every field another process writes is a single atomic (no
 * locks), so a process killed at any instruction can never leave another one
 * blocked. The segment holds no pointers: processes map it at different
 * addresses, so everything is an index.
 *
 * A server slot is identified by (group, server) names; it survives reloads
 * that keep the server, so health and counters carry over. A slot's <serial>
 * changes whenever it is given to another server, which lets a worker of an
 * older generation tell that the slot it counted a connection on is gone.
 */
#ifndef SLB_SHM_H
#define SLB_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "sessions.h"

#define SLB_SHM_MAGIC 0x736c62736d656d31ULL /* "slbsmem1" */
#define SLB_SHM_LAYOUT_VERSION 10

enum slb_health { SLB_HEALTH_UP = 0, SLB_HEALTH_DOWN = 1 };

struct slb_shm_server {
	_Atomic uint32_t serial; /* 0 = free slot */
	char group[SLB_NAME_MAX];
	char name[SLB_NAME_MAX];
	struct slb_sockaddr addr;
	_Atomic uint32_t weight;
	_Atomic uint32_t health; /* enum slb_health, written by slb-checker */
	_Atomic uint32_t active; /* connections open now, over all workers */
	_Atomic uint64_t total; /* connections established */
	_Atomic uint64_t failed; /* connect attempts that failed */
	_Atomic uint64_t bytes_in; /* from the server */
	_Atomic uint64_t bytes_out; /* to the server */
	_Atomic uint64_t requests; /* HTTP responses it gave */
	_Atomic uint64_t retries; /* HTTP requests sent again: a pooled connection had closed */
	_Atomic uint64_t reuse_aborts; /* not sent again: the client was closed unanswered */
	_Atomic uint64_t last_check_ms; /* CLOCK_REALTIME of the last verdict */
	_Atomic uint32_t check_latency_us;
	_Atomic uint32_t check_streak; /* consecutive results opposite to <health> */
	_Atomic uint64_t transitions;
	/* CLOCK_REALTIME ms at which workers close the connections still open to
	 * this server (slbctl server set ... weight=0 drain=D); 0 = none */
	_Atomic uint64_t drain_deadline_ms;
};

struct slb_shm_listener {
	char name[SLB_NAME_MAX];
	_Atomic uint32_t serial; /* 0 = free slot */
	_Atomic uint32_t active;
	_Atomic uint64_t total;
	_Atomic uint64_t no_server; /* clients closed because no server was up */
	_Atomic uint64_t denied; /* refused by acl or max_connections */
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t bytes_out;
	_Atomic uint64_t requests; /* HTTP request heads received */
	/* 1 while new traffic goes to the backup_group, written by slb-checker */
	_Atomic uint32_t on_backup;
};

enum slb_failover_state {
	SLB_FAILOVER_INIT = 0,
	SLB_FAILOVER_BACKUP,
	SLB_FAILOVER_MASTER,
	SLB_FAILOVER_FAULT,
};

#define SLB_FAILOVER_REASON_MAX 64
#define SLB_FAILOVER_DROP_KINDS 16 /* >= SLB_VRRP_VERDICT_COUNT */

/*
 * The node's election state. slb-failover is the only writer (the master
 * writes workers_alive); a respawned slb-failover resumes from it, which is
 * how a crash of that daemon alone costs the node nothing.
 */
struct slb_shm_failover {
	_Atomic uint32_t state; /* enum slb_failover_state */
	_Atomic uint32_t priority; /* advertised now */
	_Atomic uint32_t master_addr; /* IPv4 of the master heard or self, network order */
	_Atomic uint64_t transitions;
	_Atomic uint64_t since_ms; /* CLOCK_REALTIME of the last transition */
	char reason[SLB_FAILOVER_REASON_MAX]; /* why the last transition (informational) */
	_Atomic uint64_t adverts_sent;
	_Atomic uint64_t adverts_received;
	_Atomic uint64_t drops[SLB_FAILOVER_DROP_KINDS]; /* by enum slb_vrrp_verdict */
	_Atomic uint64_t timer_late_max_us; /* worst lateness of an election timer */
	_Atomic uint64_t turn_cpu_max_us; /* most CPU time one turn of the election loop took */
	_Atomic uint32_t workers_alive; /* written by the master */
	/* sessions the master sent whose listener or server this node lacks */
	_Atomic uint64_t sync_dropped;
};

struct slb_shm_header {
	uint64_t magic;
	uint32_t layout_version;
	uint32_t session_capacity; /* [global] session_table_size when created, rounded up */
	uint64_t size;
	_Atomic uint64_t generation;
	_Atomic uint32_t next_serial;
	uint32_t server_capacity;
	uint32_t listener_capacity;
	uint32_t servers_offset;
	uint32_t listeners_offset;
	uint32_t sessions_offset;
	struct slb_shm_failover failover;
};

struct slb_shm {
	struct slb_shm_header *hdr;
	struct slb_shm_server *servers;
	struct slb_shm_listener *listeners;
	struct slb_sessions *sessions;
	size_t size;
	int fd;
};

/* "/slb.<instance>" into <buf> of <len> bytes. */
void slb_shm_name(const char *instance, char *buf, size_t len);

/*
 * Creates (replacing a stale one) and maps the segment for <instance>, with
 * a session table of <session_capacity> entries (fixed for the segment's
 * life). Returns 0, or -1 with the reason logged.
 */
int slb_shm_create(struct slb_shm *shm, const char *instance, uint32_t session_capacity);

/* Maps an existing segment from <fd> (inherited from the master) and checks
 * its header. Returns 0, or -1 with the reason logged. */
int slb_shm_attach_fd(struct slb_shm *shm, int fd);

void slb_shm_detach(struct slb_shm *shm);

/* Unlinks the segment's name (the master, at stop). */
void slb_shm_unlink(const char *instance);

/* Index of the slot holding (group, name), or -1. */
int slb_shm_server_find(const struct slb_shm *shm, const char *group, const char *name);

/*
 * Master only. Makes the server table match <config>: servers that remain
 * keep their slot, health and counters (their address and weight are
 * updated); new servers get a free slot, starting up; servers gone from the
 * config release theirs. Listener slots likewise. Returns 0, or -1 when the
 * table is full (nothing is changed then).
 */
int slb_shm_apply_config(struct slb_shm *shm, const struct slb_config *config);

int slb_shm_listener_find(const struct slb_shm *shm, const char *name);

#endif
