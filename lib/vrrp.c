/*
 * vrrp.c - VRRPv3 adverts for IPv4 (RFC 5798 section 5) and slb's HMAC
 * trailer: encoding, and the validation of whatever a raw socket hands us.
 *
 * Everything is done on the caller's buffers and the stack, with explicit
 * offsets and lengths: a packet is peer input and may be anything.
 */
#include "vrrp.h"

#include <limits.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define VRRP_VERSION 3
#define VRRP_TYPE_ADVERT 1
#define VRRP_INTERVAL_MAX 0x0fff /* 12 bits */
#define VRRP_SEQ_LEN 8
#define VRRP_HMAC_LEN 32
#define IPV4_HEADER_MIN 20
#define PSEUDO_HEADER_LEN 12

static const char *const verdict_names[SLB_VRRP_VERDICT_COUNT] = {
	[SLB_VRRP_OK] = "ok",
	[SLB_VRRP_TRUNCATED] = "truncated",
	[SLB_VRRP_BAD_IP] = "bad_ip",
	[SLB_VRRP_BAD_TTL] = "bad_ttl",
	[SLB_VRRP_BAD_VERSION] = "bad_version",
	[SLB_VRRP_BAD_TYPE] = "bad_type",
	[SLB_VRRP_BAD_CHECKSUM] = "bad_checksum",
	[SLB_VRRP_OTHER_VRID] = "other_vrid",
	[SLB_VRRP_BAD_INTERVAL] = "bad_interval",
	[SLB_VRRP_BAD_COUNT] = "bad_count",
	[SLB_VRRP_AUTH_MISSING] = "auth_missing",
	[SLB_VRRP_AUTH_UNEXPECTED] = "auth_unexpected",
	[SLB_VRRP_AUTH_BAD] = "auth_bad",
};

const char *slb_vrrp_verdict_name(enum slb_vrrp_verdict verdict)
{
	if ((unsigned)verdict >= SLB_VRRP_VERDICT_COUNT || !verdict_names[verdict])
		return "unknown";
	return verdict_names[verdict];
}

uint16_t slb_inet_checksum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	/* 64 bits: no carry is lost before the fold, whatever <len> and <sum>. */
	uint64_t acc = sum;

	for (; len >= 2; p += 2, len -= 2)
		acc += (uint32_t)p[0] << 8 | p[1];
	if (len)
		acc += (uint32_t)p[0] << 8; /* an odd byte is padded with a zero */
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Fills the 12-byte IPv4 pseudo-header of RFC 768, shared by the checksum and the HMAC. */
static void pseudo_header(uint8_t *ph, struct in_addr src, struct in_addr dst, size_t len)
{
	memcpy(ph, &src.s_addr, 4); /* s_addr is already in network order */
	memcpy(ph + 4, &dst.s_addr, 4);
	ph[8] = 0;
	ph[9] = SLB_VRRP_PROTOCOL;
	put_be16(ph + 10, (uint16_t)len);
}

/* The sum of the pseudo-header's words, to start the message's checksum from. */
static uint32_t pseudo_sum(struct in_addr src, struct in_addr dst, size_t len)
{
	uint8_t ph[PSEUDO_HEADER_LEN];

	pseudo_header(ph, src, dst, len);
	/* Undo the complement: what we want is the running sum itself. */
	return (uint16_t)~slb_inet_checksum(ph, sizeof(ph), 0);
}

/*
 * Computes into <mac> the HMAC of the pseudo-header and the first <signed_len>
 * bytes of <msg> (whose full length is <len>), with the checksum taken as
 * zero. The pseudo-header binds the advert to its source and destination,
 * so a captured advert cannot be replayed as coming from another node.
 * Returns 0, or -1 if OpenSSL fails (it allocates internally).
 */
static int vrrp_hmac(const struct slb_vrrp_key *key, struct in_addr src, struct in_addr dst,
		     const uint8_t *msg, size_t signed_len, size_t len, uint8_t *mac)
{
	uint8_t in[PSEUDO_HEADER_LEN + SLB_VRRP_MAX_LEN];
	unsigned int mac_len = 0;

	if (key->len > INT_MAX || PSEUDO_HEADER_LEN + signed_len > sizeof(in))
		return -1;
	pseudo_header(in, src, dst, len);
	memcpy(in + PSEUDO_HEADER_LEN, msg, signed_len);
	memset(in + PSEUDO_HEADER_LEN + 6, 0, 2);
	if (!HMAC(EVP_sha256(), key->bytes, (int)key->len, in, PSEUDO_HEADER_LEN + signed_len, mac,
		  &mac_len) ||
	    mac_len != VRRP_HMAC_LEN)
		return -1;
	return 0;
}

static bool has_key(const struct slb_vrrp_key *key)
{
	return key && key->bytes;
}

int slb_vrrp_encode(const struct slb_vrrp_advert *advert, struct in_addr src, struct in_addr dst,
		    const struct slb_vrrp_key *key, uint8_t *buf, size_t size)
{
	size_t base = SLB_VRRP_HEADER_LEN + 4 * (size_t)advert->naddrs;
	size_t len = base + (has_key(key) ? SLB_VRRP_AUTH_LEN : 0);
	size_t i;

	if (advert->naddrs == 0 || advert->naddrs > SLB_VRRP_MAX_ADDRS || advert->interval_cs == 0 ||
	    advert->interval_cs > VRRP_INTERVAL_MAX || size < len)
		return -1;
	buf[0] = VRRP_VERSION << 4 | VRRP_TYPE_ADVERT;
	buf[1] = advert->vrid;
	buf[2] = advert->priority;
	buf[3] = advert->naddrs;
	put_be16(buf + 4, advert->interval_cs); /* the 4 reserved bits stay zero */
	put_be16(buf + 6, 0);
	for (i = 0; i < advert->naddrs; i++)
		memcpy(buf + SLB_VRRP_HEADER_LEN + 4 * i, &advert->addrs[i].s_addr, 4);
	if (has_key(key)) {
		for (i = 0; i < VRRP_SEQ_LEN; i++)
			buf[base + i] = (uint8_t)(advert->seq >> (8 * (VRRP_SEQ_LEN - 1 - i)));
		if (vrrp_hmac(key, src, dst, buf, base + VRRP_SEQ_LEN, len, buf + base + VRRP_SEQ_LEN))
			return -1;
	}
	put_be16(buf + 6, slb_inet_checksum(buf, len, pseudo_sum(src, dst, len)));
	return (int)len;
}

/* Checks the HMAC trailer of <msg> (<len> bytes, trailer included). */
static bool auth_ok(const struct slb_vrrp_key *key, struct in_addr src, struct in_addr dst,
		    const uint8_t *msg, size_t len)
{
	uint8_t mac[VRRP_HMAC_LEN];

	if (vrrp_hmac(key, src, dst, msg, len - VRRP_HMAC_LEN, len, mac))
		return false;
	return CRYPTO_memcmp(mac, msg + len - VRRP_HMAC_LEN, VRRP_HMAC_LEN) == 0;
}

enum slb_vrrp_verdict slb_vrrp_decode(const uint8_t *pkt, size_t len, uint8_t vrid,
				      const struct slb_vrrp_key *key,
				      struct slb_vrrp_advert *out, struct in_addr *src)
{
	struct in_addr ip_src, ip_dst;
	const uint8_t *msg;
	size_t ihl, total, msg_len, base;
	bool trailer;
	uint8_t naddrs;
	uint16_t interval;
	size_t i;

	/* The IPv4 header: its own length, then the total length it claims. */
	if (len < IPV4_HEADER_MIN)
		return SLB_VRRP_TRUNCATED;
	ihl = 4 * (size_t)(pkt[0] & 0x0f);
	if (pkt[0] >> 4 != 4 || ihl < IPV4_HEADER_MIN)
		return SLB_VRRP_BAD_IP;
	total = get_be16(pkt + 2);
	if (ihl > len || total > len)
		return SLB_VRRP_TRUNCATED;
	/* Bytes past the total length are not the packet's: ignore them. */
	if (total < ihl || pkt[9] != SLB_VRRP_PROTOCOL)
		return SLB_VRRP_BAD_IP;
	if (pkt[8] != SLB_VRRP_TTL)
		return SLB_VRRP_BAD_TTL;
	memcpy(&ip_src.s_addr, pkt + 12, 4);
	memcpy(&ip_dst.s_addr, pkt + 16, 4);
	msg = pkt + ihl;
	msg_len = total - ihl;

	if (msg_len < SLB_VRRP_HEADER_LEN)
		return SLB_VRRP_TRUNCATED;
	if (msg[0] >> 4 != VRRP_VERSION)
		return SLB_VRRP_BAD_VERSION;
	if ((msg[0] & 0x0f) != VRRP_TYPE_ADVERT)
		return SLB_VRRP_BAD_TYPE;
	/* Exactly the addresses, with or without our trailer: nothing else. */
	naddrs = msg[3];
	base = SLB_VRRP_HEADER_LEN + 4 * (size_t)naddrs;
	if (msg_len != base && msg_len != base + SLB_VRRP_AUTH_LEN)
		return SLB_VRRP_TRUNCATED;
	trailer = msg_len != base;
	if (slb_inet_checksum(msg, msg_len, pseudo_sum(ip_src, ip_dst, msg_len)) != 0)
		return SLB_VRRP_BAD_CHECKSUM;
	if (msg[1] != vrid)
		return SLB_VRRP_OTHER_VRID;
	interval = get_be16(msg + 4) & VRRP_INTERVAL_MAX; /* reserved bits are ignored */
	if (interval == 0)
		return SLB_VRRP_BAD_INTERVAL;
	if (naddrs == 0 || naddrs > SLB_VRRP_MAX_ADDRS)
		return SLB_VRRP_BAD_COUNT;
	if (has_key(key) && !trailer)
		return SLB_VRRP_AUTH_MISSING;
	if (!has_key(key) && trailer)
		return SLB_VRRP_AUTH_UNEXPECTED;
	if (trailer && !auth_ok(key, ip_src, ip_dst, msg, msg_len))
		return SLB_VRRP_AUTH_BAD;

	memset(out, 0, sizeof(*out));
	out->vrid = msg[1];
	out->priority = msg[2];
	out->interval_cs = interval;
	out->naddrs = naddrs;
	for (i = 0; i < naddrs; i++)
		memcpy(&out->addrs[i].s_addr, msg + SLB_VRRP_HEADER_LEN + 4 * i, 4);
	for (i = 0; trailer && i < VRRP_SEQ_LEN; i++)
		out->seq = out->seq << 8 | msg[base + i];
	*src = ip_src;
	return SLB_VRRP_OK;
}
