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
#include "vip.h"
#include "vrrp.h"

struct mnl_socket;

#define FAILOVER_GARP_REPEATS 3
#define FAILOVER_GARP_SPACING_MS 100

#define FAILOVER_MAX_SENDERS 8

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
	uint64_t advert_due_ms; /* MASTER: next advert */
	uint64_t master_down_ms; /* BACKUP: take over if nothing heard by then */
	uint64_t backup_since_ms; /* for preempt_delay */
	uint32_t master_interval_ms; /* learned from the master's adverts */
	unsigned garp_left;
	uint64_t garp_due_ms;
	uint64_t garp_refresh_ms; /* MASTER with garp_interval: the next refresh */
	bool link_up;
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

#endif
