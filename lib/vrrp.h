/*
 * vrrp.h - VRRP version 3 adverts for IPv4 (RFC 5798), and slb's
 * authentication extension.
 *
 * The wire format is the RFC's: version 3, type 1 (advertisement), VRID,
 * priority, address count, a 12-bit max advert interval in centiseconds,
 * the checksum (over an IPv4 pseudo-header and the VRRP message) and the
 * IPv4 addresses. A standard decoder reads our adverts as they are.
 *
 * slb extension (only when a key is configured): after the addresses, an
 * 8-byte sequence number (big endian, strictly increasing per sender; slb
 * uses the sender's CLOCK_REALTIME in microseconds so it also increases
 * across restarts) and a 32-byte HMAC-SHA256 over the checksum's IPv4
 * pseudo-header (source, destination, 0, 112, VRRP length with the trailer)
 * followed by the VRRP message with the checksum field set to zero and the
 * HMAC field absent. The pseudo-header binds an advert to the addresses it
 * was sent between: a captured advert replayed from another source fails.
 * The checksum then covers the trailer too (it covers the IP payload).
 *
 * The sequence number is only carried and authenticated here: rejecting
 * replays (a sequence not above the last one from that sender) is the
 * receiver's job.
 */
#ifndef SLB_VRRP_H
#define SLB_VRRP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLB_VRRP_PROTOCOL 112
#define SLB_VRRP_TTL 255
#define SLB_VRRP_MCAST_GROUP "224.0.0.18"
#define SLB_VRRP_MAX_ADDRS 64
#define SLB_VRRP_HEADER_LEN 8
#define SLB_VRRP_AUTH_LEN (8 + 32) /* sequence + HMAC-SHA256 */
#define SLB_VRRP_MAX_LEN (SLB_VRRP_HEADER_LEN + 4 * SLB_VRRP_MAX_ADDRS + SLB_VRRP_AUTH_LEN)

struct slb_vrrp_advert {
	uint8_t vrid;
	uint8_t priority; /* 0 = the master is leaving: take over now */
	uint16_t interval_cs; /* max advert interval, centiseconds, 1..4095 */
	uint8_t naddrs;
	struct in_addr addrs[SLB_VRRP_MAX_ADDRS];
	uint64_t seq; /* with authentication only */
};

struct slb_vrrp_key {
	const uint8_t *bytes; /* NULL = no authentication */
	size_t len;
};

/* Why a received packet was dropped; SLB_VRRP_OK when it was not. */
enum slb_vrrp_verdict {
	SLB_VRRP_OK,
	SLB_VRRP_TRUNCATED, /* shorter than its headers, or its VRRP length is not
			     * 8 + 4 * count (+ 40 with the trailer) */
	SLB_VRRP_BAD_IP, /* not IPv4, bad header length, not protocol 112 */
	SLB_VRRP_BAD_TTL, /* not 255: it crossed a router */
	SLB_VRRP_BAD_VERSION,
	SLB_VRRP_BAD_TYPE,
	SLB_VRRP_BAD_CHECKSUM,
	SLB_VRRP_OTHER_VRID,
	SLB_VRRP_BAD_INTERVAL, /* 0 */
	SLB_VRRP_BAD_COUNT, /* 0 addresses (RFC minimum 1), or over SLB_VRRP_MAX_ADDRS */
	SLB_VRRP_AUTH_MISSING, /* a key is configured, the packet has no trailer */
	SLB_VRRP_AUTH_UNEXPECTED, /* no key configured, the packet has a trailer */
	SLB_VRRP_AUTH_BAD, /* HMAC mismatch */
	SLB_VRRP_VERDICT_COUNT
};

/* A short lowercase name for logs and counters ("bad_checksum"). */
const char *slb_vrrp_verdict_name(enum slb_vrrp_verdict verdict);

/*
 * Writes the VRRP message for <advert> (no IP header) into <buf> of <size>
 * bytes, with the checksum for source <src> and destination <dst>, and the
 * authentication trailer when <key> has bytes (advert->seq is used then).
 * Returns the message length, or -1 when <size> is too small, the advert
 * is out of range (naddrs 0 or over SLB_VRRP_MAX_ADDRS, interval 0 or
 * > 4095) or OpenSSL fails to compute the HMAC. A key is used when <key>
 * and key->bytes are not NULL (a zero len is then an empty HMAC key).
 */
int slb_vrrp_encode(const struct slb_vrrp_advert *advert, struct in_addr src, struct in_addr dst,
		    const struct slb_vrrp_key *key, uint8_t *buf, size_t size);

/*
 * Validates a packet as a raw IPPROTO 112 socket returns it (IPv4 header
 * included, total length in network order as Linux gives it), in this
 * order: IP header (honouring IHL; bytes past the total length are
 * ignored), TTL, VRRP version and type, length against the address count,
 * checksum, VRID <vrid>, interval, address count, then the authentication
 * rules for <key>. The destination is not checked (unicast peers are
 * allowed). On SLB_VRRP_OK fills <out> (seq 0 without a key) and <src>
 * (the sender); on a drop leaves both alone. Reads nothing past <len>,
 * never allocates itself (OpenSSL's HMAC does), never fails on any input.
 */
enum slb_vrrp_verdict slb_vrrp_decode(const uint8_t *pkt, size_t len, uint8_t vrid,
				      const struct slb_vrrp_key *key,
				      struct slb_vrrp_advert *out, struct in_addr *src);

/*
 * The Internet checksum (RFC 1071) of <len> bytes, starting from <sum> (a
 * running sum of earlier 16-bit words, e.g. a pseudo-header's; 0 for none).
 * Words are read in network order and the result is in host order: store it
 * with htons(). Over data that includes a correct checksum it returns 0.
 */
uint16_t slb_inet_checksum(const void *data, size_t len, uint32_t sum);

#endif
