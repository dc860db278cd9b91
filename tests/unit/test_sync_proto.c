/*
 * test_sync_proto.c - lib/sync_proto.c: round trips of every frame type
 * with and without a key, golden frames written byte by byte (the HMAC from
 * Python's hmac module), every prefix of a frame waiting for more, and one
 * crafted frame per refusal: header, lengths, fields, authentication,
 * replay and another connection's nonce; REMOVE and FLUSH the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "sync_proto.h"

static const uint8_t key_bytes[] = "slb-test-key";

static struct slb_sync_mac keyed(void)
{
	struct slb_sync_mac m;

	memset(&m, 0, sizeof(m));
	m.key = key_bytes;
	m.key_len = sizeof(key_bytes) - 1;
	return m;
}

static struct slb_sync_mac unkeyed(void)
{
	struct slb_sync_mac m;

	memset(&m, 0, sizeof(m));
	return m;
}

static struct slb_sync_frame session_frame(void)
{
	struct slb_sync_frame f;

	memset(&f, 0, sizeof(f));
	f.type = SLB_SYNC_SESSION;
	f.u.session.protocol = IPPROTO_TCP;
	f.u.session.family = AF_INET;
	f.u.session.addr[0] = 198;
	f.u.session.addr[1] = 18;
	f.u.session.addr[2] = 0;
	f.u.session.addr[3] = 7;
	f.u.session.ttl_ms = 299500;
	strcpy(f.u.session.listener, "web");
	strcpy(f.u.session.group, "default");
	strcpy(f.u.session.server, "b2");
	return f;
}

static struct slb_sync_frame hello_frame(void)
{
	struct slb_sync_frame f;

	memset(&f, 0, sizeof(f));
	f.type = SLB_SYNC_HELLO;
	memset(f.u.hello.nonce, 0xab, sizeof(f.u.hello.nonce));
	f.u.hello.vrid = 51;
	strcpy(f.u.hello.node, "lb1");
	return f;
}

static void assert_verdict(enum slb_sync_verdict got, enum slb_sync_verdict want)
{
	if (got != want)
		fail_msg("verdict %s, expected %s", slb_sync_verdict_name(got),
			 slb_sync_verdict_name(want));
}

/* Encodes <f> with <tx>, decodes it with <rx>: the same frame, every byte used. */
static void round_trip(const struct slb_sync_frame *f, struct slb_sync_mac *tx,
		       struct slb_sync_mac *rx)
{
	uint8_t buf[SLB_SYNC_MAX_FRAME + 8];
	struct slb_sync_frame out;
	size_t used = 0;
	int n = slb_sync_encode(f, tx, buf, sizeof(buf));

	assert_true(n > 0);
	memset(buf + n, 0xee, 8); /* the next frame's bytes are not this one's */
	assert_verdict(slb_sync_decode(buf, (size_t)n + 8, rx, &out, &used), SLB_SYNC_OK);
	assert_int_equal(used, n);
	assert_memory_equal(&out, f, sizeof(out));
}

static void test_round_trip(void **state)
{
	struct slb_sync_mac tx = keyed(), rx = keyed(), ptx = unkeyed(), prx = unkeyed();
	struct slb_sync_frame f = session_frame();

	(void)state;
	memset(tx.nonce, 7, sizeof(tx.nonce));
	memset(rx.nonce, 7, sizeof(rx.nonce));
	for (int k = 0; k < 2; k++) {
		struct slb_sync_mac *t = k ? &tx : &ptx, *r = k ? &rx : &prx;

		f = hello_frame();
		round_trip(&f, t, r);
		f = session_frame();
		round_trip(&f, t, r);
		/* IPv6 UDP flow, names at their longest */
		f.u.session.protocol = IPPROTO_UDP;
		f.u.session.family = AF_INET6;
		f.u.session.port = htons(5353);
		memset(f.u.session.addr, 0x20, 16);
		f.u.session.ttl_ms = UINT32_MAX;
		memset(f.u.session.listener, 'l', SLB_NAME_MAX - 1);
		memset(f.u.session.group, 'g', SLB_NAME_MAX - 1);
		memset(f.u.session.server, 's', SLB_NAME_MAX - 1);
		round_trip(&f, t, r);
		memset(&f, 0, sizeof(f));
		f.type = SLB_SYNC_BULK_END;
		f.u.bulk_count = 0x01020304;
		round_trip(&f, t, r);
		memset(&f, 0, sizeof(f));
		f.type = SLB_SYNC_HEARTBEAT;
		round_trip(&f, t, r);
		f = hello_frame();
		memset(f.u.hello.node, 'n', SLB_SYNC_NODE_MAX - 1);
		round_trip(&f, t, r);
	}
	/* Both ends counted the same six frames. */
	assert_int_equal(tx.seq, 6);
	assert_int_equal(rx.seq, 6);
	assert_int_equal(ptx.seq, 0);
}

static void test_golden(void **state)
{
	static const uint8_t session[] = {
		1, 2, 0, 0, 0, 39, /* version 1, SESSION, no flags, 39 bytes */
		6, 2, 0, 0, 198, 18, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* tcp, inet, port, address */
		0x00, 0x04, 0x91, 0xec, /* 299500 ms */
		3, 'w', 'e', 'b', 7, 'd', 'e', 'f', 'a', 'u', 'l', 't', 2, 'b', '2',
	};
	static const uint8_t heartbeat[] = {
		1, 4, 1, 0, 0, 0, /* HEARTBEAT with a trailer: nonce 0x11 x 16, sequence 5 */
		0x3f, 0x5a, 0xcb, 0x1f, 0x0d, 0x51, 0x5a, 0xde, 0x66, 0x1c, 0x22, 0x8e, 0x21, 0xa2, 0xbd, 0x93,
		0x2b, 0xfc, 0xf0, 0xdd, 0xf7, 0x28, 0x34, 0xd7, 0xe9, 0xb1, 0xad, 0xa7, 0x69, 0xd6, 0x35, 0x1c,
	};
	struct slb_sync_frame f = session_frame(), out;
	struct slb_sync_mac m = unkeyed(), k = keyed();
	uint8_t buf[SLB_SYNC_MAX_FRAME];
	size_t used;

	(void)state;
	assert_int_equal(slb_sync_encode(&f, &m, buf, sizeof(buf)), sizeof(session));
	assert_memory_equal(buf, session, sizeof(session));
	memset(&f, 0, sizeof(f));
	f.type = SLB_SYNC_HEARTBEAT;
	memset(k.nonce, 0x11, sizeof(k.nonce));
	k.seq = 5;
	assert_int_equal(slb_sync_encode(&f, &k, buf, sizeof(buf)), sizeof(heartbeat));
	assert_memory_equal(buf, heartbeat, sizeof(heartbeat));
	assert_int_equal(k.seq, 6);
	k.seq = 5;
	assert_verdict(slb_sync_decode(heartbeat, sizeof(heartbeat), &k, &out, &used), SLB_SYNC_OK);
	assert_int_equal(out.type, SLB_SYNC_HEARTBEAT);
}

static void test_encode_rejects(void **state)
{
	struct slb_sync_frame f = session_frame();
	struct slb_sync_mac k = keyed();
	uint8_t buf[SLB_SYNC_MAX_FRAME];
	int n;

	(void)state;
	n = slb_sync_encode(&f, &k, buf, sizeof(buf));
	assert_true(n > 0);
	k.seq = 0;
	assert_int_equal(slb_sync_encode(&f, &k, buf, (size_t)n - 1), -1);
	assert_int_equal(k.seq, 0); /* nothing sent, nothing counted */
	f.u.session.server[0] = '\0';
	assert_int_equal(slb_sync_encode(&f, &k, buf, sizeof(buf)), -1);
	f = session_frame();
	memset(f.u.session.group, 'g', SLB_NAME_MAX); /* no NUL within bounds */
	assert_int_equal(slb_sync_encode(&f, &k, buf, sizeof(buf)), -1);
	f = hello_frame();
	memset(f.u.hello.node, 'n', SLB_SYNC_NODE_MAX);
	assert_int_equal(slb_sync_encode(&f, &k, buf, sizeof(buf)), -1);
	f.type = (enum slb_sync_type)99;
	assert_int_equal(slb_sync_encode(&f, &k, buf, sizeof(buf)), -1);
	assert_int_equal(k.seq, 0);
}

/* Every proper prefix of a frame waits for more and consumes nothing. */
static void test_need_more(void **state)
{
	struct slb_sync_frame f = session_frame(), out;
	struct slb_sync_mac tx = keyed(), rx = keyed();
	uint8_t buf[SLB_SYNC_MAX_FRAME];
	size_t used = 12345;
	int n = slb_sync_encode(&f, &tx, buf, sizeof(buf));

	(void)state;
	for (int i = 0; i < n; i++) {
		assert_verdict(slb_sync_decode(buf, (size_t)i, &rx, &out, &used), SLB_SYNC_NEED_MORE);
		assert_int_equal(used, 12345);
		assert_int_equal(rx.seq, 0);
	}
	assert_verdict(slb_sync_decode(buf, (size_t)n, &rx, &out, &used), SLB_SYNC_OK);
}

/* Encodes the session frame unkeyed into <buf>, for tampering; returns its length. */
static size_t plain_session(uint8_t *buf)
{
	struct slb_sync_frame f = session_frame();
	struct slb_sync_mac m = unkeyed();
	int n = slb_sync_encode(&f, &m, buf, SLB_SYNC_MAX_FRAME);

	assert_true(n > 0);
	return (size_t)n;
}

static enum slb_sync_verdict decode_plain(const uint8_t *buf, size_t len)
{
	struct slb_sync_mac m = unkeyed();
	struct slb_sync_frame out;
	size_t used;

	return slb_sync_decode(buf, len, &m, &out, &used);
}

/* The verdict on the plain session frame with byte <at> set to <value>. */
static enum slb_sync_verdict with_byte(size_t at, uint8_t value)
{
	uint8_t buf[SLB_SYNC_MAX_FRAME];
	size_t n = plain_session(buf);

	buf[at] = value;
	return decode_plain(buf, n);
}

static void test_bad_header(void **state)
{
	(void)state;
	assert_verdict(with_byte(0, 2), SLB_SYNC_BAD_VERSION);
	assert_verdict(with_byte(2, 0x80), SLB_SYNC_BAD_HEADER);
	assert_verdict(with_byte(3, 1), SLB_SYNC_BAD_HEADER);
	assert_verdict(with_byte(1, 0), SLB_SYNC_BAD_TYPE);
	assert_verdict(with_byte(1, 7), SLB_SYNC_BAD_TYPE);
}

static void test_bad_length(void **state)
{
	/* A header claiming 65535 bytes is refused from its 6 bytes: nobody waits for it. */
	static const uint8_t huge[] = { 1, 2, 0, 0, 0xff, 0xff };
	static const uint8_t long_beat[] = { 1, 4, 0, 0, 0, 1, 0 };
	static const uint8_t short_end[] = { 1, 3, 0, 0, 0, 3, 0, 0, 0 };
	uint8_t buf[SLB_SYNC_MAX_FRAME];
	size_t n;

	(void)state;
	assert_verdict(decode_plain(huge, sizeof(huge)), SLB_SYNC_BAD_LENGTH);
	assert_verdict(decode_plain(long_beat, sizeof(long_beat)), SLB_SYNC_BAD_LENGTH);
	assert_verdict(decode_plain(short_end, sizeof(short_end)), SLB_SYNC_BAD_LENGTH);
	/* A name length running past the payload. */
	n = plain_session(buf);
	buf[n - 3] = 3; /* "b2" claims 3 bytes */
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_LENGTH);
	/* A payload longer than its fields: one byte more after the names. */
	n = plain_session(buf);
	buf[5]++;
	buf[n++] = 'x';
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_LENGTH);
	/* Shorter than the fixed fields and three one-byte names. */
	n = plain_session(buf);
	buf[5] = 29;
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_LENGTH);
	/* The payload ends inside the last name. */
	n = plain_session(buf);
	buf[5] -= 2;
	assert_verdict(decode_plain(buf, n - 2), SLB_SYNC_BAD_LENGTH);
}

static void test_bad_fields(void **state)
{
	uint8_t buf[SLB_SYNC_MAX_FRAME];
	size_t n, names = SLB_SYNC_HEADER_LEN + 24;

	(void)state;
	assert_verdict(with_byte(SLB_SYNC_HEADER_LEN, IPPROTO_ICMP), SLB_SYNC_BAD_FIELD);
	assert_verdict(with_byte(SLB_SYNC_HEADER_LEN + 1, AF_UNIX), SLB_SYNC_BAD_FIELD);
	/* IPv4 with bytes past the first 4 */
	assert_verdict(with_byte(SLB_SYNC_HEADER_LEN + 4 + 15, 1), SLB_SYNC_BAD_FIELD);
	assert_verdict(with_byte(names + 2, '\0'), SLB_SYNC_BAD_FIELD); /* "w\0b" */
	/* An empty listener name: drop its 3 bytes, fix the length. */
	n = plain_session(buf);
	buf[names] = 0;
	memmove(buf + names + 1, buf + names + 4, n - names - 4);
	n -= 3;
	buf[5] -= 3;
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_FIELD);
	/* A name of 32 bytes (the limit is 31) within a valid payload length. */
	{
		struct slb_sync_frame f = session_frame();
		struct slb_sync_mac m = unkeyed();

		memset(f.u.session.group, 'g', SLB_NAME_MAX - 1);
		n = (size_t)slb_sync_encode(&f, &m, buf, sizeof(buf));
		buf[names + 4] = SLB_NAME_MAX; /* group's length byte, stealing the server's length */
		assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_FIELD);
	}
}

static void test_auth(void **state)
{
	struct slb_sync_frame f = session_frame(), out;
	struct slb_sync_mac tx = keyed(), rx = keyed(), plain = unkeyed();
	uint8_t buf[SLB_SYNC_MAX_FRAME], first[SLB_SYNC_MAX_FRAME];
	size_t used;
	int n, n1;

	(void)state;
	/* A keyed frame to a receiver without a key, and the other way round. */
	n = slb_sync_encode(&f, &tx, buf, sizeof(buf));
	assert_verdict(slb_sync_decode(buf, (size_t)n, &plain, &out, &used),
		       SLB_SYNC_AUTH_UNEXPECTED);
	tx.seq = 0;
	n = slb_sync_encode(&f, &plain, buf, sizeof(buf));
	assert_verdict(slb_sync_decode(buf, (size_t)n, &rx, &out, &used), SLB_SYNC_AUTH_MISSING);
	/* Another key. */
	n1 = slb_sync_encode(&f, &tx, first, sizeof(first));
	rx.key_len--;
	assert_verdict(slb_sync_decode(first, (size_t)n1, &rx, &out, &used), SLB_SYNC_AUTH_BAD);
	rx.key_len++;
	assert_int_equal(rx.seq, 0);
	/* Any flipped bit, header, payload or trailer. */
	for (int i = 0; i < n1; i++) {
		if (i == 1 || i == 2 || i == 4 || i == 5)
			continue; /* type, flags and length bytes have verdicts of their own */
		memcpy(buf, first, (size_t)n1);
		buf[i] ^= 0x01;
		assert_verdict(slb_sync_decode(buf, (size_t)n1, &rx, &out, &used),
			       i == 0 ? SLB_SYNC_BAD_VERSION
			       : i == 3 ? SLB_SYNC_BAD_HEADER : SLB_SYNC_AUTH_BAD);
	}
	assert_verdict(slb_sync_decode(first, (size_t)n1, &rx, &out, &used), SLB_SYNC_OK);
	/* The same frame again is a replay: its sequence number is past. */
	assert_verdict(slb_sync_decode(first, (size_t)n1, &rx, &out, &used), SLB_SYNC_AUTH_BAD);
	/* A frame for another receiver's nonce (another connection). */
	rx.seq = 0;
	rx.nonce[0] = 1;
	assert_verdict(slb_sync_decode(first, (size_t)n1, &rx, &out, &used), SLB_SYNC_AUTH_BAD);
	/* A dropped frame: the next one's sequence is not the one expected. */
	rx.nonce[0] = 0;
	n = slb_sync_encode(&f, &tx, buf, sizeof(buf)); /* seq 1, "lost" */
	n = slb_sync_encode(&f, &tx, buf, sizeof(buf)); /* seq 2 */
	rx.seq = 1;
	assert_verdict(slb_sync_decode(buf, (size_t)n, &rx, &out, &used), SLB_SYNC_AUTH_BAD);
}

static struct slb_sync_frame remove_frame(void)
{
	struct slb_sync_frame f;

	memset(&f, 0, sizeof(f));
	f.type = SLB_SYNC_REMOVE;
	f.u.remove.protocol = IPPROTO_UDP;
	f.u.remove.family = AF_INET;
	f.u.remove.port = htons(5353);
	f.u.remove.addr[0] = 198;
	f.u.remove.addr[1] = 18;
	f.u.remove.addr[3] = 7;
	strcpy(f.u.remove.listener, "dns");
	return f;
}

static struct slb_sync_frame flush_frame(const char *listener)
{
	struct slb_sync_frame f;

	memset(&f, 0, sizeof(f));
	f.type = SLB_SYNC_FLUSH;
	strcpy(f.u.flush_listener, listener);
	return f;
}

/* REMOVE and FLUSH: golden bytes, round trips with and without a key, encode refusals. */
static void test_remove_and_flush(void **state)
{
	static const uint8_t remove[] = {
		1, 5, 0, 0, 0, 24, /* version 1, REMOVE, no flags, 24 bytes */
		17, 2, 0x14, 0xe9, 198, 18, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* udp, inet, 5353 */
		3, 'd', 'n', 's',
	};
	static const uint8_t flush_all[] = { 1, 6, 0, 0, 0, 1, 0 };
	static const uint8_t flush_web[] = { 1, 6, 0, 0, 0, 4, 3, 'w', 'e', 'b' };
	struct slb_sync_mac tx = keyed(), rx = keyed(), m = unkeyed();
	struct slb_sync_frame f = remove_frame();
	uint8_t buf[SLB_SYNC_MAX_FRAME];

	(void)state;
	assert_int_equal(slb_sync_encode(&f, &m, buf, sizeof(buf)), sizeof(remove));
	assert_memory_equal(buf, remove, sizeof(remove));
	f = flush_frame("");
	assert_int_equal(slb_sync_encode(&f, &m, buf, sizeof(buf)), sizeof(flush_all));
	assert_memory_equal(buf, flush_all, sizeof(flush_all));
	f = flush_frame("web");
	assert_int_equal(slb_sync_encode(&f, &m, buf, sizeof(buf)), sizeof(flush_web));
	assert_memory_equal(buf, flush_web, sizeof(flush_web));

	for (int k = 0; k < 2; k++) {
		struct slb_sync_mac plain_tx = unkeyed(), plain_rx = unkeyed();
		struct slb_sync_mac *t = k ? &tx : &plain_tx, *r = k ? &rx : &plain_rx;

		f = remove_frame();
		round_trip(&f, t, r);
		f.u.remove.protocol = IPPROTO_TCP;
		f.u.remove.family = AF_INET6;
		memset(f.u.remove.addr, 0x20, 16);
		memset(f.u.remove.listener, 'l', SLB_NAME_MAX - 1);
		round_trip(&f, t, r);
		f = flush_frame("");
		round_trip(&f, t, r);
		f = flush_frame("web");
		memset(f.u.flush_listener, 'l', SLB_NAME_MAX - 1);
		round_trip(&f, t, r);
	}
	assert_int_equal(rx.seq, 4);

	f = remove_frame();
	f.u.remove.listener[0] = '\0';
	assert_int_equal(slb_sync_encode(&f, &m, buf, sizeof(buf)), -1);
	memset(f.u.remove.listener, 'l', SLB_NAME_MAX);
	assert_int_equal(slb_sync_encode(&f, &m, buf, sizeof(buf)), -1);
	memset(f.u.flush_listener, 'l', SLB_NAME_MAX);
	f.type = SLB_SYNC_FLUSH;
	assert_int_equal(slb_sync_encode(&f, &m, buf, sizeof(buf)), -1);
}

/* REMOVE and FLUSH crafted by a hostile peer: each refused with its reason. */
static void test_remove_and_flush_refused(void **state)
{
	/* FLUSH: no payload; "all" with bytes after it; a name with a NUL; a name past the payload; too long. */
	static const uint8_t flush_empty[] = { 1, 6, 0, 0, 0, 0 };
	static const uint8_t flush_all_more[] = { 1, 6, 0, 0, 0, 2, 0, 'x' };
	static const uint8_t flush_nul[] = { 1, 6, 0, 0, 0, 4, 3, 'w', 0, 'b' };
	static const uint8_t flush_past[] = { 1, 6, 0, 0, 0, 4, 4, 'w', 'e', 'b' };
	static const uint8_t flush_short[] = { 1, 6, 0, 0, 0, 4, 2, 'w', 'e', 'b' };
	uint8_t flush_long[SLB_SYNC_HEADER_LEN + 1 + SLB_NAME_MAX] = { 1, 6, 0, 0, 0, 1 + SLB_NAME_MAX,
								      SLB_NAME_MAX };
	uint8_t flush_32[SLB_SYNC_HEADER_LEN + SLB_NAME_MAX] = { 1, 6, 0, 0, 0, SLB_NAME_MAX,
								 SLB_NAME_MAX - 1 };
	struct slb_sync_frame f = remove_frame();
	struct slb_sync_mac m = unkeyed();
	uint8_t buf[SLB_SYNC_MAX_FRAME];
	size_t n, names = SLB_SYNC_HEADER_LEN + 20;

	(void)state;
	assert_verdict(decode_plain(flush_empty, sizeof(flush_empty)), SLB_SYNC_BAD_LENGTH);
	assert_verdict(decode_plain(flush_all_more, sizeof(flush_all_more)), SLB_SYNC_BAD_LENGTH);
	assert_verdict(decode_plain(flush_nul, sizeof(flush_nul)), SLB_SYNC_BAD_FIELD);
	assert_verdict(decode_plain(flush_past, sizeof(flush_past)), SLB_SYNC_BAD_LENGTH);
	assert_verdict(decode_plain(flush_short, sizeof(flush_short)), SLB_SYNC_BAD_LENGTH);
	memset(flush_long + 7, 'l', SLB_NAME_MAX);
	assert_verdict(decode_plain(flush_long, sizeof(flush_long)), SLB_SYNC_BAD_LENGTH);
	memset(flush_32 + 7, 'l', SLB_NAME_MAX - 1);
	assert_verdict(decode_plain(flush_32, sizeof(flush_32)), SLB_SYNC_OK); /* the longest name */

	n = (size_t)slb_sync_encode(&f, &m, buf, sizeof(buf));
	buf[SLB_SYNC_HEADER_LEN] = IPPROTO_ICMP;
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_FIELD);
	n = (size_t)slb_sync_encode(&f, &m, buf, sizeof(buf));
	buf[SLB_SYNC_HEADER_LEN + 1] = AF_UNIX;
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_FIELD);
	n = (size_t)slb_sync_encode(&f, &m, buf, sizeof(buf));
	buf[SLB_SYNC_HEADER_LEN + 4 + 15] = 1; /* IPv4 with bytes past the first 4 */
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_FIELD);
	n = (size_t)slb_sync_encode(&f, &m, buf, sizeof(buf));
	buf[names + 2] = '\0';
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_FIELD);
	/* The client alone, no listener: shorter than the type allows. */
	n = (size_t)slb_sync_encode(&f, &m, buf, sizeof(buf));
	buf[5] = 20;
	assert_verdict(decode_plain(buf, names), SLB_SYNC_BAD_LENGTH);
	/* An empty listener name: alone it is too short; with a byte after it, not a name. */
	buf[5] = 21;
	buf[names] = 0;
	assert_verdict(decode_plain(buf, names + 1), SLB_SYNC_BAD_LENGTH);
	buf[5] = 22;
	buf[names + 1] = 'x';
	assert_verdict(decode_plain(buf, names + 2), SLB_SYNC_BAD_FIELD);
	/* A byte after the name. */
	n = (size_t)slb_sync_encode(&f, &m, buf, sizeof(buf));
	buf[5]++;
	buf[n++] = 'x';
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_LENGTH);
	/* A name running past the payload. */
	n = (size_t)slb_sync_encode(&f, &m, buf, sizeof(buf));
	buf[names] = 4;
	assert_verdict(decode_plain(buf, n), SLB_SYNC_BAD_LENGTH);
	/* A payload over the longest REMOVE, refused from the header. */
	buf[5] = 20 + SLB_NAME_MAX + 1;
	assert_verdict(decode_plain(buf, SLB_SYNC_HEADER_LEN), SLB_SYNC_BAD_LENGTH);
}

static void test_verdict_names(void **state)
{
	int i, j;

	(void)state;
	assert_string_equal(slb_sync_verdict_name(SLB_SYNC_AUTH_BAD), "auth_bad");
	for (i = 0; i < SLB_SYNC_VERDICT_COUNT; i++) {
		assert_string_not_equal(slb_sync_verdict_name(i), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(slb_sync_verdict_name(i), slb_sync_verdict_name(j));
	}
	assert_string_equal(slb_sync_verdict_name(SLB_SYNC_VERDICT_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_golden),
		cmocka_unit_test(test_encode_rejects), cmocka_unit_test(test_need_more),
		cmocka_unit_test(test_bad_header),  cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_bad_fields),  cmocka_unit_test(test_auth),
		cmocka_unit_test(test_verdict_names), cmocka_unit_test(test_remove_and_flush),
		cmocka_unit_test(test_remove_and_flush_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
