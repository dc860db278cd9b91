/*
 * failover.h - slb-failover: the VRRP-style election between the nodes of
 * a primary and a backup zone, and the VIPs that follow it.
 */
#ifndef SLB_FAILOVER_H
#define SLB_FAILOVER_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "shm.h"
#include "sync_proto.h"
#include "vip.h"
#include "vrrp.h"

struct mnl_socket;

#define FAILOVER_GARP_REPEATS 3
#define FAILOVER_GARP_SPACING_MS 100

#define FAILOVER_MAX_SENDERS 8

/* Session sync (sync_*.c) */
#define SYNC_MAX_PEERS 4 /* backups served at once */
#define SYNC_POLL_MS 100 /* the master walks the table for changes this often */
#define SYNC_HEARTBEAT_MS 1000 /* the master says something at least this often */
#define SYNC_SILENCE_MS 3000 /* a backup gives up on a master silent this long */
#define SYNC_STALL_MS 5000 /* a connection whose bytes do not move this long is dropped */
#define SYNC_RETRY_MS 1000 /* a backup reconnects after this */
#define SYNC_WALK_CHUNK 65536 /* table entries walked per turn of the loop: about 1 ms */
#define SYNC_TX_BUF (64 * 1024)
#define SYNC_RX_BUF (16 * 1024)

/* One sync connection, either end (sync_conn.c). */
struct sync_conn {
	int fd;
	struct in_addr addr;
	char name[16]; /* the peer's address, for logs */
	uint8_t nonce[SLB_SYNC_NONCE_LEN]; /* ours, sent in our HELLO */
	struct slb_sync_mac tx, rx;
	bool want_out;
	uint64_t last_rx_ms, last_tx_ms, progress_ms;
	size_t rx_off, rx_len, tx_off, tx_len;
	uint8_t rx_buf[SYNC_RX_BUF];
	uint8_t tx_buf[SYNC_TX_BUF];
};

/* The backup's connection to the master (sync_backup.c). */
struct sync_backup {
	struct sync_conn *conn;
	bool connecting;
	bool hello_done; /* the master's HELLO was accepted, ours sent */
	bool bulk_done; /* BULK_END received on this connection */
	uint32_t applied, dropped; /* sessions of the bulk copy */
	uint64_t bulk_began; /* this table's change number when the bulk copy began */
	bool pruning; /* removing what the last bulk copy did not carry, at <prune_cursor> */
	uint32_t prune_cursor;
	uint64_t prune_upto; /* the <bulk_began> of that copy */
	uint32_t pruned;
	uint64_t retry_ms;
	bool failure_logged; /* a failing master is logged once until it works */
	bool wait_logged; /* "not preempting before the copy" logged once */
};

struct sync_peer;

struct failover_sender {
	struct in_addr addr;
	uint64_t seq; /* the highest authenticated sequence heard from it */
};

struct failover {
	const struct slb_config *config;
	const struct slb_failover_conf *fc;
	struct slb_shm_failover *shared;
	struct slb_shm *shm;
	struct slb_vip_ctl *vips;
	int ifindex;
	struct in_addr self; /* this node's own address on the interface */
	int recv_fd; /* raw IPPROTO 112, IP header included */
	int send_fd;
	int garp_fd; /* AF_PACKET, for gratuitous ARP */
	struct mnl_socket *link_nl; /* link events */
	int link_fd;
	uint8_t key_bytes[128];
	struct slb_vrrp_key key;
	struct failover_sender senders[FAILOVER_MAX_SENDERS]; /* replay protection */

	enum slb_failover_state state;
	uint8_t base_priority; /* from zone and priority */
	uint8_t priority; /* advertised: base less tracking penalties */
	bool released_for_health; /* gave the VIP up once for bad local health */
	bool workers_seen; /* a worker was alive once since this process started */
	bool master_left; /* BACKUP: the master said priority 0 */
	uint32_t manual; /* enum slb_failover_manual: slbctl takeover/release, until restart */
	uint64_t now_ms;
	uint64_t turn_cpu_us; /* this thread's CPU time when the loop's turn began */
	uint64_t advert_due_ms; /* MASTER: next advert */
	uint64_t master_down_ms; /* BACKUP: take over if nothing heard by then */
	uint64_t backup_since_ms; /* for preempt_delay */
	uint32_t master_interval_ms; /* learned from the master's adverts */
	unsigned garp_left;
	uint64_t garp_due_ms;
	uint64_t garp_refresh_ms; /* MASTER with garp_interval: the next refresh */
	bool link_up;
	int epfd;
	int sync_listen_fd; /* -1: not serving */
	struct sync_peer *sync_peers[SYNC_MAX_PEERS]; /* MASTER: the backups served */
	uint64_t sync_poll_ms; /* MASTER: next walk for changes */
	struct in_addr sync_refused; /* the last peer refused for its key (logged once) */
	struct sync_backup sync_in; /* BACKUP: the copy received */
};

/* vips.c: every [vip] on (0, or -1 if one failed) or off, logged */
int failover_vips_add(struct failover *f);
void failover_vips_remove(struct failover *f);

/* election.c: the state machine */
uint8_t failover_base_priority(const struct slb_failover_conf *fc, enum slb_zone zone);
void failover_start(struct failover *f, bool resume_master);
void failover_on_advert(struct failover *f, const struct slb_vrrp_advert *a, struct in_addr from);
void failover_on_timers(struct failover *f);
void failover_on_link(struct failover *f, bool up);
void failover_stop(struct failover *f);
void failover_manual(struct failover *f, uint32_t op);
uint64_t failover_next_due(const struct failover *f);

/* vrrp_socket.c: adverts on the wire */
int vrrp_socket_open(struct failover *f);
int vrrp_send_advert(struct failover *f, uint8_t priority);
/* Reads and validates one packet: 1 with <a> and <from> filled, 0 when it
 * was dropped (read on), -1 when nothing is left to read. */
int vrrp_receive(struct failover *f, struct slb_vrrp_advert *a, struct in_addr *from);

/* garp.c */
int garp_open(struct failover *f);
void garp_send_all(struct failover *f);

/* link_watch.c */
int link_watch_open(struct failover *f);
/* Reads pending link events: returns 1 when the link state changed, 0 if not, -1 on error. */
int link_watch_read(struct failover *f);
bool link_is_up(int ifindex);
void link_watch_close(struct failover *f);

/* sync_conn.c: one connection's buffers and frames */
struct sync_conn *sync_conn_new(struct failover *f, int fd, struct in_addr addr);
void sync_conn_free(struct failover *f, struct sync_conn *c);
void sync_conn_want_out(struct failover *f, struct sync_conn *c, bool out);
size_t sync_conn_room(const struct sync_conn *c);
/* Encodes <frame> into the send buffer: -1 when there is no room. */
int sync_conn_queue(struct failover *f, struct sync_conn *c, const struct slb_sync_frame *frame);
/* Sends what the buffer holds, as far as the socket takes it: -1 on a dead connection. */
int sync_conn_flush(struct failover *f, struct sync_conn *c);
/* Bytes waiting and none sent for SYNC_STALL_MS. */
bool sync_conn_stalled(const struct failover *f, const struct sync_conn *c);
/* Reads what the socket has (up to the buffer): -1 on a closed or dead connection. */
int sync_conn_read(struct failover *f, struct sync_conn *c);
/* The next whole frame read: SLB_SYNC_OK, NEED_MORE, or why the peer must go. */
enum slb_sync_verdict sync_conn_next(struct sync_conn *c, struct slb_sync_frame *frame);
void sync_conn_hello(const struct failover *f, const struct sync_conn *c, struct slb_sync_frame *hello);
const char *sync_refusal(enum slb_sync_verdict v);
bool sync_enabled(const struct failover *f);

/* sync_master.c: serving the table to the backup */
int sync_master_open(struct failover *f);
bool sync_master_on_event(struct failover *f, int fd, uint32_t events);
void sync_master_tick(struct failover *f);
uint64_t sync_master_next_due(const struct failover *f);
/* At exit: every backup's connection and the listening socket closed. */
void sync_master_close(struct failover *f);

/* sync_backup.c: the backup's copy */
bool sync_backup_on_event(struct failover *f, int fd, uint32_t events);
void sync_backup_tick(struct failover *f);
uint64_t sync_backup_next_due(const struct failover *f);
/* True unless sync is on and the bulk copy from the master is not complete. */
bool sync_backup_ready(const struct failover *f);
/* On takeover, before the VIPs: applies what the master sent so far, then disconnects. */
void sync_backup_take_over(struct failover *f);
/* At exit: the connection to the master closed, silently. */
void sync_backup_close(struct failover *f);

#endif
