/*
 * sync_proto.c - encoding and validation of session replication frames
 * (sync_proto.h for the format).
 *
 * Peer input may be anything: every read is against an explicit length,
 * the header alone decides how much more to wait for (bounded), the HMAC
 * is checked before the payload is parsed, and the payload must be exactly
 * its fields.
 */
#include "sync_proto.h"

#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define FLAG_MAC 0x01
#define SEQ_LEN 8
#define CLIENT_LEN 20 /* protocol, family, port, address */
#define SESSION_FIXED_LEN (CLIENT_LEN + 4) /* the client, TTL */
#define HELLO_FIXED_LEN (SLB_SYNC_NONCE_LEN + 2) /* nonce, VRID, name length */

static const char *const verdict_names[SLB_SYNC_VERDICT_COUNT] = {
	[SLB_SYNC_OK] = "ok",
	[SLB_SYNC_NEED_MORE] = "need_more",
	[SLB_SYNC_BAD_VERSION] = "bad_version",
	[SLB_SYNC_BAD_HEADER] = "bad_header",
	[SLB_SYNC_BAD_TYPE] = "bad_type",
	[SLB_SYNC_BAD_LENGTH] = "bad_length",
	[SLB_SYNC_BAD_FIELD] = "bad_field",
	[SLB_SYNC_AUTH_MISSING] = "auth_missing",
	[SLB_SYNC_AUTH_UNEXPECTED] = "auth_unexpected",
	[SLB_SYNC_AUTH_BAD] = "auth_bad",
};

const char *slb_sync_verdict_name(enum slb_sync_verdict verdict)
{
	if ((unsigned)verdict >= SLB_SYNC_VERDICT_COUNT || !verdict_names[verdict])
		return "unknown";
	return verdict_names[verdict];
}

/* The payload lengths a type allows, from its fixed fields and its names' bounds. */
static bool payload_len_range(uint8_t type, size_t *min, size_t *max)
{
	switch (type) {
	case SLB_SYNC_HELLO:
		*min = HELLO_FIXED_LEN + 1;
		*max = HELLO_FIXED_LEN + SLB_SYNC_NODE_MAX - 1;
		return true;
	case SLB_SYNC_SESSION:
		*min = SESSION_FIXED_LEN + 3 * 2;
		*max = SESSION_FIXED_LEN + 3 * SLB_NAME_MAX;
		return true;
	case SLB_SYNC_BULK_END:
		*min = *max = 4;
		return true;
	case SLB_SYNC_HEARTBEAT:
		*min = *max = 0;
		return true;
	case SLB_SYNC_REMOVE:
		*min = CLIENT_LEN + 2;
		*max = CLIENT_LEN + SLB_NAME_MAX;
		return true;
	case SLB_SYNC_FLUSH:
		*min = 1;
		*max = SLB_NAME_MAX;
		return true;
	default:
		return false;
	}
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * HMAC-SHA256 of the receiver's nonce, mac->seq and the <len> bytes of
 * header and payload at <frame>, into <out>. Returns 0, or -1 if OpenSSL
 * fails (it allocates internally).
 */
static int frame_hmac(const struct slb_sync_mac *mac, const uint8_t *frame, size_t len,
		      uint8_t *out)
{
	uint8_t in[SLB_SYNC_NONCE_LEN + SEQ_LEN + SLB_SYNC_HEADER_LEN + SLB_SYNC_MAX_PAYLOAD];
	unsigned int out_len = 0;
	size_t i;

	if (mac->key_len > INT_MAX || len > SLB_SYNC_HEADER_LEN + SLB_SYNC_MAX_PAYLOAD)
		return -1;
	memcpy(in, mac->nonce, SLB_SYNC_NONCE_LEN);
	for (i = 0; i < SEQ_LEN; i++)
		in[SLB_SYNC_NONCE_LEN + i] = (uint8_t)(mac->seq >> (8 * (SEQ_LEN - 1 - i)));
	memcpy(in + SLB_SYNC_NONCE_LEN + SEQ_LEN, frame, len);
	if (!HMAC(EVP_sha256(), mac->key, (int)mac->key_len, in, SLB_SYNC_NONCE_LEN + SEQ_LEN + len,
		  out, &out_len) ||
	    out_len != SLB_SYNC_MAC_LEN)
		return -1;
	return 0;
}

/* Appends <name> as a length byte and its bytes; false when it is empty or longer than <max>. */
static bool put_name(uint8_t **p, const char *name, size_t max)
{
	size_t n = strnlen(name, max + 1);

	if (n == 0 || n > max)
		return false;
	*(*p)++ = (uint8_t)n;
	memcpy(*p, name, n);
	*p += n;
	return true;
}

/* Writes a session's client (protocol, family, port, address) at <p>. */
static void put_client(uint8_t *p, uint8_t protocol, uint8_t family, uint16_t port,
		       const uint8_t addr[16])
{
	p[0] = protocol;
	p[1] = family;
	memcpy(p + 2, &port, 2);
	memcpy(p + 4, addr, 16);
}

/* Writes <frame>'s payload at <p>; returns its length, or -1 for a field out of range. */
static int encode_payload(const struct slb_sync_frame *frame, uint8_t *p)
{
	uint8_t *start = p;

	switch (frame->type) {
	case SLB_SYNC_HELLO:
		memcpy(p, frame->u.hello.nonce, SLB_SYNC_NONCE_LEN);
		p += SLB_SYNC_NONCE_LEN;
		*p++ = frame->u.hello.vrid;
		if (!put_name(&p, frame->u.hello.node, SLB_SYNC_NODE_MAX - 1))
			return -1;
		break;
	case SLB_SYNC_SESSION: {
		const struct slb_sync_session *s = &frame->u.session;

		put_client(p, s->protocol, s->family, s->port, s->addr);
		put_be32(p + CLIENT_LEN, s->ttl_ms);
		p += SESSION_FIXED_LEN;
		if (!put_name(&p, s->listener, SLB_NAME_MAX - 1) ||
		    !put_name(&p, s->group, SLB_NAME_MAX - 1) ||
		    !put_name(&p, s->server, SLB_NAME_MAX - 1))
			return -1;
		break;
	}
	case SLB_SYNC_BULK_END:
		put_be32(p, frame->u.bulk_count);
		p += 4;
		break;
	case SLB_SYNC_HEARTBEAT:
		break;
	case SLB_SYNC_REMOVE: {
		const struct slb_sync_remove *r = &frame->u.remove;

		put_client(p, r->protocol, r->family, r->port, r->addr);
		p += CLIENT_LEN;
		if (!put_name(&p, r->listener, SLB_NAME_MAX - 1))
			return -1;
		break;
	}
	case SLB_SYNC_FLUSH:
		if (frame->u.flush_listener[0] == '\0')
			*p++ = 0; /* every listener */
		else if (!put_name(&p, frame->u.flush_listener, SLB_NAME_MAX - 1))
			return -1;
		break;
	default:
		return -1;
	}
	return (int)(p - start);
}

int slb_sync_encode(const struct slb_sync_frame *frame, struct slb_sync_mac *mac, uint8_t *buf,
		    size_t size)
{
	uint8_t frame_buf[SLB_SYNC_MAX_FRAME];
	bool keyed = mac && mac->key;
	int payload = encode_payload(frame, frame_buf + SLB_SYNC_HEADER_LEN);
	size_t len;

	if (payload < 0)
		return -1;
	len = SLB_SYNC_HEADER_LEN + (size_t)payload;
	frame_buf[0] = SLB_SYNC_VERSION;
	frame_buf[1] = (uint8_t)frame->type;
	frame_buf[2] = keyed ? FLAG_MAC : 0;
	frame_buf[3] = 0;
	frame_buf[4] = (uint8_t)(payload >> 8);
	frame_buf[5] = (uint8_t)payload;
	if (keyed && frame_hmac(mac, frame_buf, len, frame_buf + len))
		return -1;
	if (keyed)
		len += SLB_SYNC_MAC_LEN;
	if (size < len)
		return -1;
	memcpy(buf, frame_buf, len);
	if (keyed)
		mac->seq++;
	return (int)len;
}

/*
 * Reads a name (length byte and bytes) at <*p>, not past <end>, into <out>
 * of <max> + 1 bytes. False when it is empty, longer than <max>, runs past
 * <end> (BAD_LENGTH) or holds a NUL (BAD_FIELD): <*why> says which.
 */
static bool get_name(const uint8_t **p, const uint8_t *end, char *out, size_t max,
		     enum slb_sync_verdict *why)
{
	size_t n;

	*why = SLB_SYNC_BAD_LENGTH;
	if (*p >= end)
		return false;
	n = *(*p)++;
	if (n > (size_t)(end - *p))
		return false;
	*why = SLB_SYNC_BAD_FIELD;
	if (n == 0 || n > max || memchr(*p, '\0', n))
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return true;
}

/* Reads a session's client at <p> (CLIENT_LEN bytes); false when a field is out of range. */
static bool get_client(const uint8_t *p, uint8_t *protocol, uint8_t *family, uint16_t *port,
		       uint8_t addr[16])
{
	static const uint8_t zeros[12];

	*protocol = p[0];
	*family = p[1];
	memcpy(port, p + 2, 2);
	memcpy(addr, p + 4, 16);
	return (*protocol == IPPROTO_TCP || *protocol == IPPROTO_UDP) &&
	       (*family == AF_INET6 || (*family == AF_INET && !memcmp(addr + 4, zeros, sizeof(zeros))));
}

static enum slb_sync_verdict decode_session(const uint8_t *p, const uint8_t *end,
					    struct slb_sync_session *s)
{
	enum slb_sync_verdict why;

	if (!get_client(p, &s->protocol, &s->family, &s->port, s->addr))
		return SLB_SYNC_BAD_FIELD;
	s->ttl_ms = get_be32(p + CLIENT_LEN);
	p += SESSION_FIXED_LEN;
	if (!get_name(&p, end, s->listener, SLB_NAME_MAX - 1, &why) ||
	    !get_name(&p, end, s->group, SLB_NAME_MAX - 1, &why) ||
	    !get_name(&p, end, s->server, SLB_NAME_MAX - 1, &why))
		return why;
	return p == end ? SLB_SYNC_OK : SLB_SYNC_BAD_LENGTH;
}

static enum slb_sync_verdict decode_remove(const uint8_t *p, const uint8_t *end,
					   struct slb_sync_remove *r)
{
	enum slb_sync_verdict why;

	if (!get_client(p, &r->protocol, &r->family, &r->port, r->addr))
		return SLB_SYNC_BAD_FIELD;
	p += CLIENT_LEN;
	if (!get_name(&p, end, r->listener, SLB_NAME_MAX - 1, &why))
		return why;
	return p == end ? SLB_SYNC_OK : SLB_SYNC_BAD_LENGTH;
}

/* A FLUSH: a listener's name, or a zero length byte alone (every listener) leaving it "". */
static enum slb_sync_verdict decode_flush(const uint8_t *p, const uint8_t *end, char *listener)
{
	enum slb_sync_verdict why;

	if (p[0] == 0)
		return p + 1 == end ? SLB_SYNC_OK : SLB_SYNC_BAD_LENGTH;
	if (!get_name(&p, end, listener, SLB_NAME_MAX - 1, &why))
		return why;
	return p == end ? SLB_SYNC_OK : SLB_SYNC_BAD_LENGTH;
}

/* The payload of <type> at [<p>, <end>) into <out>; its length is already within the type's range. */
static enum slb_sync_verdict decode_payload(uint8_t type, const uint8_t *p, const uint8_t *end,
					    struct slb_sync_frame *out)
{
	enum slb_sync_verdict why;

	switch (type) {
	case SLB_SYNC_HELLO:
		memcpy(out->u.hello.nonce, p, SLB_SYNC_NONCE_LEN);
		out->u.hello.vrid = p[SLB_SYNC_NONCE_LEN];
		p += SLB_SYNC_NONCE_LEN + 1;
		if (!get_name(&p, end, out->u.hello.node, SLB_SYNC_NODE_MAX - 1, &why))
			return why;
		return p == end ? SLB_SYNC_OK : SLB_SYNC_BAD_LENGTH;
	case SLB_SYNC_SESSION:
		return decode_session(p, end, &out->u.session);
	case SLB_SYNC_BULK_END:
		out->u.bulk_count = get_be32(p);
		return SLB_SYNC_OK;
	case SLB_SYNC_REMOVE:
		return decode_remove(p, end, &out->u.remove);
	case SLB_SYNC_FLUSH:
		return decode_flush(p, end, out->u.flush_listener);
	default: /* HEARTBEAT: nothing */
		return SLB_SYNC_OK;
	}
}

enum slb_sync_verdict slb_sync_decode(const uint8_t *buf, size_t len, struct slb_sync_mac *mac,
				      struct slb_sync_frame *out, size_t *used)
{
	bool keyed = mac && mac->key;
	struct slb_sync_frame frame;
	enum slb_sync_verdict v;
	size_t payload, min, max, total;
	uint8_t expected[SLB_SYNC_MAC_LEN];

	if (len < SLB_SYNC_HEADER_LEN)
		return SLB_SYNC_NEED_MORE;
	if (buf[0] != SLB_SYNC_VERSION)
		return SLB_SYNC_BAD_VERSION;
	if ((buf[2] & ~FLAG_MAC) || buf[3])
		return SLB_SYNC_BAD_HEADER;
	if (!payload_len_range(buf[1], &min, &max))
		return SLB_SYNC_BAD_TYPE;
	payload = (size_t)buf[4] << 8 | buf[5];
	if (payload < min || payload > max)
		return SLB_SYNC_BAD_LENGTH;
	if (keyed && !(buf[2] & FLAG_MAC))
		return SLB_SYNC_AUTH_MISSING;
	if (!keyed && (buf[2] & FLAG_MAC))
		return SLB_SYNC_AUTH_UNEXPECTED;
	total = SLB_SYNC_HEADER_LEN + payload + (keyed ? SLB_SYNC_MAC_LEN : 0);
	if (len < total)
		return SLB_SYNC_NEED_MORE;
	if (keyed && (frame_hmac(mac, buf, SLB_SYNC_HEADER_LEN + payload, expected) ||
		      CRYPTO_memcmp(expected, buf + SLB_SYNC_HEADER_LEN + payload,
				    SLB_SYNC_MAC_LEN) != 0))
		return SLB_SYNC_AUTH_BAD;
	memset(&frame, 0, sizeof(frame));
	frame.type = (enum slb_sync_type)buf[1];
	v = decode_payload(buf[1], buf + SLB_SYNC_HEADER_LEN, buf + SLB_SYNC_HEADER_LEN + payload,
			   &frame);
	if (v != SLB_SYNC_OK)
		return v;
	*out = frame;
	*used = total;
	if (keyed)
		mac->seq++;
	return SLB_SYNC_OK;
}
