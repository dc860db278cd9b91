/*
 * sync_proto.h - the session replication protocol between the two
 * slb-failover of a pair: frames on a TCP stream, master to backup.
 *
 * Every frame is a 6-byte header, a payload, and with a key a 32-byte
 * HMAC-SHA256 trailer:
 *
 *   0  version (1)          2  flags (bit 0: HMAC trailer)    4  payload length (big endian)
 *   1  type                 3  zero
 *
 * HELLO    nonce (16), VRID (1), node name length (1), node name.
 *          Each side sends one first: the master on accept, the backup once
 *          it has the master's.
 * SESSION  protocol (1), family (1), client port (2, network order),
 *          client address (16), remaining TTL in ms (4, big endian), then
 *          three names, each a length byte and the name: listener, group,
 *          server. Slot numbers differ between nodes and clocks differ,
 *          so a session travels by names and time left, never by slots or
 *          absolute times.
 * BULK_END count (4): the bulk copy (every live session when the backup
 *          connected) is complete; what follows are changes.
 * HEARTBEAT empty: the master is alive while the table is idle.
 * REMOVE   protocol, family, client port, client address as in SESSION,
 *          then the listener's name: that session was removed.
 * FLUSH    a listener's name, or a zero length byte alone for every
 *          listener: its sessions were flushed (slbctl sessions flush).
 *
 * Names are 1..SLB_NAME_MAX-1 bytes (the node's up to 63) and contain no
 * NUL. Every length is checked against the type: a frame is exactly its
 * fields, nothing more.
 *
 * Authentication (when both ends have the failover key): the HMAC covers
 * the receiver's nonce (16 bytes; zeros for the master's HELLO, which is
 * sent before it knows one), the frame's sequence number in its direction
 * (8 bytes big endian, not sent: 0 for the HELLO, then 1, 2, ...) and the
 * header and payload. A frame replayed from another connection, reordered,
 * dropped or altered fails; a backup's HELLO proves the key against the
 * master's fresh nonce before the master sends any session.
 */
#ifndef SLB_SYNC_PROTO_H
#define SLB_SYNC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SLB_SYNC_VERSION 1
#define SLB_SYNC_HEADER_LEN 6
#define SLB_SYNC_MAC_LEN 32
#define SLB_SYNC_NONCE_LEN 16
#define SLB_SYNC_NODE_MAX 64 /* the node's name, NUL included (struct slb_node_conf) */
#define SLB_SYNC_MAX_PAYLOAD 256 /* more than any frame holds: a longer one is refused unread */
#define SLB_SYNC_MAX_FRAME (SLB_SYNC_HEADER_LEN + SLB_SYNC_MAX_PAYLOAD + SLB_SYNC_MAC_LEN)

enum slb_sync_type {
	SLB_SYNC_HELLO = 1,
	SLB_SYNC_SESSION = 2,
	SLB_SYNC_BULK_END = 3,
	SLB_SYNC_HEARTBEAT = 4,
	SLB_SYNC_REMOVE = 5,
	SLB_SYNC_FLUSH = 6,
};

struct slb_sync_hello {
	uint8_t nonce[SLB_SYNC_NONCE_LEN];
	uint8_t vrid;
	char node[SLB_SYNC_NODE_MAX];
};

struct slb_sync_session {
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t family; /* AF_INET or AF_INET6 */
	uint16_t port; /* network order, as in struct slb_session_key */
	uint8_t addr[16];
	uint32_t ttl_ms; /* time left */
	char listener[SLB_NAME_MAX];
	char group[SLB_NAME_MAX];
	char server[SLB_NAME_MAX];
};

struct slb_sync_remove {
	uint8_t protocol;
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];
	char listener[SLB_NAME_MAX];
};

struct slb_sync_frame {
	enum slb_sync_type type;
	union {
		struct slb_sync_hello hello;
		struct slb_sync_session session;
		uint32_t bulk_count; /* BULK_END */
		struct slb_sync_remove remove;
		char flush_listener[SLB_NAME_MAX]; /* FLUSH: "" for every listener */
	} u;
};

/*
 * One direction of a connection's authentication: the key (bytes NULL =
 * none), the receiver's nonce and the next sequence number. The sender and
 * the receiver each keep one per direction; encode and decode advance seq.
 */
struct slb_sync_mac {
	const uint8_t *key;
	size_t key_len;
	uint8_t nonce[SLB_SYNC_NONCE_LEN];
	uint64_t seq;
};

/* Why a frame was refused; SLB_SYNC_OK when it was not. */
enum slb_sync_verdict {
	SLB_SYNC_OK,
	SLB_SYNC_NEED_MORE, /* not a whole frame yet: read on */
	SLB_SYNC_BAD_VERSION,
	SLB_SYNC_BAD_HEADER, /* unknown flags, reserved byte not zero */
	SLB_SYNC_BAD_TYPE,
	SLB_SYNC_BAD_LENGTH, /* the payload length does not fit the type or its fields */
	SLB_SYNC_BAD_FIELD, /* protocol, family, an empty name or one with a NUL */
	SLB_SYNC_AUTH_MISSING, /* a key is configured, the frame has no trailer */
	SLB_SYNC_AUTH_UNEXPECTED, /* no key configured, the frame has a trailer */
	SLB_SYNC_AUTH_BAD, /* HMAC mismatch: another key, or a replay */
	SLB_SYNC_VERDICT_COUNT
};

/* A short lowercase name for logs ("auth_bad"). */
const char *slb_sync_verdict_name(enum slb_sync_verdict verdict);

/*
 * Writes <frame> into <buf> of <size> bytes, with the trailer when <mac>
 * has a key (then mac->seq advances). Returns the frame's length, or -1
 * when <size> is too small, a field is out of range (empty or too long
 * name, unknown type) or OpenSSL fails.
 */
int slb_sync_encode(const struct slb_sync_frame *frame, struct slb_sync_mac *mac, uint8_t *buf,
		    size_t size);

/*
 * Decodes the frame at the start of <buf> (<len> bytes received so far).
 * On SLB_SYNC_OK fills <out>, sets <*used> to the frame's length and
 * advances mac->seq; on SLB_SYNC_NEED_MORE nothing was consumed. Anything
 * else is a peer to drop. The length is judged from the header alone (a
 * claimed payload over SLB_SYNC_MAX_PAYLOAD, or one another size than its
 * type allows, is refused before more is read), the HMAC before the
 * payload is parsed. Reads nothing past <len>, never fails on any input.
 */
enum slb_sync_verdict slb_sync_decode(const uint8_t *buf, size_t len, struct slb_sync_mac *mac,
				      struct slb_sync_frame *out, size_t *used);

#endif
