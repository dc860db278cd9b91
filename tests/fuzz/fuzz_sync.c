/*
 * fuzz_sync.c - libFuzzer target for slb_sync_decode(): any bytes, as a
 * peer could stream them, read frame after frame like slb-failover does,
 * with and without a key. Besides what the sanitizers find, it aborts when
 * the codec breaks its contract: a verdict out of range, a frame said to
 * use more bytes than there are (or none), or an accepted frame that does
 * not encode back to the very same bytes. Each accepted plain frame is
 * also signed and decoded again with the key, so the keyed path is
 * exercised past the HMAC.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key_bytes[] = "slb-test-key";

static struct slb_sync_mac mac_for(int keyed)
{
	struct slb_sync_mac m;

	memset(&m, 0, sizeof(m));
	if (keyed) {
		m.key = key_bytes;
		m.key_len = sizeof(key_bytes) - 1;
	}
	return m;
}

/* <frame>, accepted at sequence <seq>, must encode to the <len> bytes at <wire>. */
static void check_canonical(const struct slb_sync_frame *frame, int keyed, uint64_t seq,
			    const uint8_t *wire, size_t len)
{
	struct slb_sync_mac tx = mac_for(keyed);
	uint8_t buf[SLB_SYNC_MAX_FRAME];
	int n;

	tx.seq = seq;
	n = slb_sync_encode(frame, &tx, buf, sizeof(buf));
	if (n < 0 || (size_t)n != len || memcmp(buf, wire, len))
		abort();
}

/* Signs <frame> with the key and decodes it: the same frame must come back. */
static void check_keyed(const struct slb_sync_frame *frame)
{
	struct slb_sync_mac tx = mac_for(1), rx = mac_for(1);
	struct slb_sync_frame again;
	uint8_t buf[SLB_SYNC_MAX_FRAME];
	size_t used = 0;
	int n = slb_sync_encode(frame, &tx, buf, sizeof(buf));

	if (n < 0 || slb_sync_decode(buf, (size_t)n, &rx, &again, &used) != SLB_SYNC_OK ||
	    used != (size_t)n || memcmp(&again, frame, sizeof(again)))
		abort();
}

static void decode_stream(const uint8_t *data, size_t size, int keyed)
{
	struct slb_sync_mac rx = mac_for(keyed);
	size_t off = 0;

	while (off < size) {
		struct slb_sync_frame frame;
		uint64_t seq = rx.seq;
		size_t used = 0;
		enum slb_sync_verdict v = slb_sync_decode(data + off, size - off, &rx, &frame, &used);

		if ((unsigned)v >= SLB_SYNC_VERDICT_COUNT)
			abort();
		if (v != SLB_SYNC_OK)
			return;
		if (used == 0 || used > size - off)
			abort();
		check_canonical(&frame, keyed, seq, data + off, used);
		if (!keyed)
			check_keyed(&frame);
		off += used;
	}
}

/* libFuzzer hands <data> in a buffer of exactly <size> bytes: ASan sees any overread. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_stream(data, size, 0);
	decode_stream(data, size, 1);
	return 0;
}
