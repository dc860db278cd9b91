/*
 * ipc.h - typed messages between the master and its children.
 *
 * Each child has one SOCK_SEQPACKET socketpair to the master (fd 3 in the
 * child): one message per packet, a fixed header and a payload whose exact
 * size per type is checked before anyone looks at it. Hot data never travels
 * here; it is in shared memory.
 */
#ifndef SLB_IPC_H
#define SLB_IPC_H

#include <stddef.h>
#include <stdint.h>

/* The fds a child finds after exec. */
#define SLB_FD_CHANNEL 3
#define SLB_FD_CONFIG 4
#define SLB_FD_SHM 5
#define SLB_FD_LISTENERS 6 /* workers: listener i of the config at 6 + i */

enum slb_msg_type {
	SLB_MSG_READY = 1, /* child -> master: set up, serving */
	SLB_MSG_DRAIN = 2, /* master -> worker: stop accepting, finish, exit */
	SLB_MSG_FAILOVER_MANUAL = 3, /* master -> slb-failover: slbctl takeover/release */
	SLB_MSG_WEIGHT = 4, /* master -> slb-checker: slbctl set a server's weight */
};

enum slb_failover_manual {
	SLB_FAILOVER_MANUAL_NONE = 0,
	SLB_FAILOVER_MANUAL_TAKEOVER = 1,
	SLB_FAILOVER_MANUAL_RELEASE = 2,
};

struct slb_msg_header {
	uint16_t type;
	uint16_t length; /* payload bytes after the header */
	uint32_t generation;
};

struct slb_msg {
	struct slb_msg_header hdr;
	union {
		struct {
			uint32_t pid;
		} ready;
		struct {
			uint32_t timeout_ms;
		} drain;
		struct {
			uint32_t op; /* enum slb_failover_manual */
		} manual;
		struct {
			uint32_t slot; /* the server's slot in shm */
		} weight;
	} u;
};

/* Payload size of <type>, or -1 for a type nobody may send. */
int slb_msg_payload_size(uint16_t type);

/* Sends a message of <type> with <payload>; returns 0 or -1 (errno set). */
int slb_msg_send(int fd, uint16_t type, uint32_t generation, const void *payload);

/* Tells the master this child is set up and serving. */
int slb_msg_send_ready(int fd, uint32_t generation);

/*
 * Receives one message into <msg>. Returns 1 when one arrived and is well
 * formed, 0 at end of channel, -1 on error or a malformed message (errno
 * EPROTO: the sender is broken and the channel should be closed), -2 when
 * nothing is waiting on a non-blocking fd.
 */
int slb_msg_recv(int fd, struct slb_msg *msg);

#endif
