/*
 * fuzz_vrrp.c - libFuzzer target for slb_vrrp_decode(): any bytes, as a raw
 * socket could return them, with and without a key. Besides what the
 * sanitizers find, it aborts when the codec breaks its contract: a verdict
 * out of range, or an accepted advert that does not survive encoding and
 * decoding again unchanged. Each input is tried as it is, then with its
 * VRRP checksum made right; the VRID asked for is the input's own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vrrp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The unit tests' key, so their golden authenticated advert is a seed that passes. */
static const uint8_t key_bytes[] = "slb-test-key";

/* Encodes <a> from <src> to <dst>, wraps it in a plain IPv4 header, decodes it: must give <a>. */
static void check_round_trip(const struct slb_vrrp_advert *a, struct in_addr src,
			     struct in_addr dst, const struct slb_vrrp_key *key)
{
	uint8_t pkt[20 + SLB_VRRP_MAX_LEN];
	struct slb_vrrp_advert again;
	struct in_addr from;
	int n = slb_vrrp_encode(a, src, dst, key, pkt + 20, sizeof(pkt) - 20);

	if (n < 0)
		abort();
	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)((20 + n) >> 8);
	pkt[3] = (uint8_t)(20 + n);
	pkt[8] = SLB_VRRP_TTL;
	pkt[9] = SLB_VRRP_PROTOCOL;
	memcpy(pkt + 12, &src.s_addr, 4);
	memcpy(pkt + 16, &dst.s_addr, 4);
	if (slb_vrrp_decode(pkt, 20 + (size_t)n, a->vrid, key, &again, &from) != SLB_VRRP_OK ||
	    from.s_addr != src.s_addr || again.vrid != a->vrid || again.priority != a->priority ||
	    again.interval_cs != a->interval_cs || again.naddrs != a->naddrs ||
	    again.seq != a->seq || memcmp(again.addrs, a->addrs, a->naddrs * sizeof(a->addrs[0])))
		abort();
}

/* Decodes <pkt> with and without a key; an accepted advert must round-trip. */
static void decode_both(const uint8_t *pkt, size_t size)
{
	const struct slb_vrrp_key keys[] = { { NULL, 0 }, { key_bytes, sizeof(key_bytes) - 1 } };
	uint8_t vrid = 51;
	size_t ihl, k;

	if (size >= 1) {
		ihl = 4 * (size_t)(pkt[0] & 0x0f);
		if (ihl + 1 < size)
			vrid = pkt[ihl + 1];
	}
	for (k = 0; k < 2; k++) {
		struct slb_vrrp_advert out;
		struct in_addr src, dst;
		enum slb_vrrp_verdict v = slb_vrrp_decode(pkt, size, vrid, &keys[k], &out, &src);

		if ((unsigned)v >= SLB_VRRP_VERDICT_COUNT)
			abort();
		if (v != SLB_VRRP_OK)
			continue;
		memcpy(&dst.s_addr, pkt + 16, 4); /* OK means a whole IPv4 header was there */
		check_round_trip(&out, src, dst, &keys[k]);
	}
}

/*
 * Writes the right VRRP checksum into <pkt> where its headers say the
 * message is; returns 0, or -1 when they do not point inside <size> bytes.
 * Without this, nearly every mutation stops at the checksum and the checks
 * after it (VRID, interval, count, HMAC) would hardly be fuzzed.
 */
static int fix_checksum(uint8_t *pkt, size_t size)
{
	uint8_t ph[12];
	size_t ihl, end, len;
	uint16_t sum;

	if (size < 20)
		return -1;
	ihl = 4 * (size_t)(pkt[0] & 0x0f);
	end = (size_t)(pkt[2] << 8 | pkt[3]);
	if (end > size)
		end = size;
	if (ihl + SLB_VRRP_HEADER_LEN > end)
		return -1;
	len = end - ihl;
	memcpy(ph, pkt + 12, 8);
	ph[8] = 0;
	ph[9] = SLB_VRRP_PROTOCOL;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	pkt[ihl + 6] = pkt[ihl + 7] = 0;
	sum = slb_inet_checksum(pkt + ihl, len, (uint16_t)~slb_inet_checksum(ph, sizeof(ph), 0));
	pkt[ihl + 6] = (uint8_t)(sum >> 8);
	pkt[ihl + 7] = (uint8_t)sum;
	return 0;
}

/* libFuzzer hands <data> in a buffer of exactly <size> bytes: ASan sees any overread. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	decode_both(data, size);
	fixed = malloc(size ? size : 1); /* exactly <size> bytes again, for ASan */
	if (!fixed)
		return 0;
	memcpy(fixed, data, size);
	if (fix_checksum(fixed, size) == 0)
		decode_both(fixed, size);
	free(fixed);
	return 0;
}
