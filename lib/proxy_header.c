/*
 * proxy_header.c - encodes the PROXY protocol header, v1 (one text line)
 * and v2 (binary). Only what a load balancer in front of TCP servers sends:
 * the PROXY command over STREAM, IPv4 or IPv6, no TLVs.
 */
#include "proxy_header.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* The v2 signature: a \r\n\r\n\0\r\nQUIT\n no v1 parser or HTTP server accepts. */
static const uint8_t v2_signature[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					  0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
#define V2_VERSION_PROXY 0x21 /* version 2, command PROXY */
#define V2_UNSPEC 0x00
#define V2_TCP4 0x11 /* AF_INET, STREAM */
#define V2_TCP6 0x21 /* AF_INET6, STREAM */

/* One side of the connection: its family, address bytes and port (network order). */
struct endpoint {
	int family; /* AF_INET, AF_INET6, or AF_UNSPEC when neither */
	const uint8_t *addr; /* 4 or 16 bytes */
	uint16_t port_be;
};

static struct endpoint endpoint_of(const struct sockaddr *sa)
{
	struct endpoint e = { .family = AF_UNSPEC };

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;

		e = (struct endpoint){ AF_INET, (const uint8_t *)&in4->sin_addr, in4->sin_port };
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		e = (struct endpoint){ AF_INET6, in6->sin6_addr.s6_addr, in6->sin6_port };
		/* A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			e.family = AF_INET;
			e.addr += 12;
		}
	}
	return e;
}

static size_t encode_v1(const struct endpoint *src, const struct endpoint *dst,
			uint8_t out[SLB_PROXY_HEADER_MAX])
{
	char src_text[INET6_ADDRSTRLEN], dst_text[INET6_ADDRSTRLEN];
	int n;

	if (src->family == AF_UNSPEC) {
		static const char unknown[] = "PROXY UNKNOWN\r\n";

		memcpy(out, unknown, sizeof(unknown) - 1);
		return sizeof(unknown) - 1;
	}
	inet_ntop(src->family, src->addr, src_text, sizeof(src_text));
	inet_ntop(dst->family, dst->addr, dst_text, sizeof(dst_text));
	n = snprintf((char *)out, SLB_PROXY_HEADER_MAX, "PROXY %s %s %s %u %u\r\n",
		     src->family == AF_INET ? "TCP4" : "TCP6", src_text, dst_text,
		     ntohs(src->port_be), ntohs(dst->port_be));
	return (size_t)n;
}

static size_t encode_v2(const struct endpoint *src, const struct endpoint *dst,
			uint8_t out[SLB_PROXY_HEADER_MAX])
{
	size_t alen = src->family == AF_INET ? 4 : src->family == AF_INET6 ? 16 : 0;
	uint16_t len_be = htons((uint16_t)(alen ? 2 * alen + 4 : 0));
	uint8_t *p = out;

	memcpy(p, v2_signature, sizeof(v2_signature));
	p += sizeof(v2_signature);
	*p++ = V2_VERSION_PROXY;
	*p++ = alen == 4 ? V2_TCP4 : alen == 16 ? V2_TCP6 : V2_UNSPEC;
	memcpy(p, &len_be, 2);
	p += 2;
	if (alen) {
		memcpy(p, src->addr, alen);
		memcpy(p + alen, dst->addr, alen);
		p += 2 * alen;
		memcpy(p, &src->port_be, 2);
		memcpy(p + 2, &dst->port_be, 2);
		p += 4;
	}
	return (size_t)(p - out);
}

size_t slb_proxy_header_encode(enum slb_proxy_protocol version, const struct sockaddr *client,
			       const struct sockaddr *vip, uint8_t out[SLB_PROXY_HEADER_MAX])
{
	struct endpoint src = endpoint_of(client), dst = endpoint_of(vip);

	if (src.family != dst.family)
		src.family = dst.family = AF_UNSPEC;
	if (version == SLB_PROXY_PROTOCOL_V1)
		return encode_v1(&src, &dst, out);
	return encode_v2(&src, &dst, out);
}
