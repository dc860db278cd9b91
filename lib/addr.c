/*
 * addr.c - socket address and prefix parsing, formatting and matching.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int slb_sockaddr_parse(const char *text, struct slb_sockaddr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	struct slb_sockaddr a;
	uint16_t port;
	size_t hlen;

	memset(&a, 0, sizeof(a));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -1;
		hlen = (size_t)(close - text - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, text + 1, hlen);
		host[hlen] = '\0';
		if (parse_port(close + 2, &port) == -1)
			return -1;
		if (inet_pton(AF_INET6, host, &a.u.in6.sin6_addr) != 1)
			return -1;
		a.u.in6.sin6_family = AF_INET6;
		a.u.in6.sin6_port = htons(port);
		a.len = sizeof(a.u.in6);
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -1;
		hlen = (size_t)(colon - text);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, text, hlen);
		host[hlen] = '\0';
		if (parse_port(colon + 1, &port) == -1)
			return -1;
		if (inet_pton(AF_INET, host, &a.u.in4.sin_addr) != 1)
			return -1;
		a.u.in4.sin_family = AF_INET;
		a.u.in4.sin_port = htons(port);
		a.len = sizeof(a.u.in4);
	}
	*out = a;
	return 0;
}

int slb_cidr_parse(const char *text, struct slb_cidr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	struct slb_cidr c;
	unsigned long len;
	unsigned max;

	memset(&c, 0, sizeof(c));
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, &c.addr.in4) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, &c.addr.in6) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	len = max;
	if (slash) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end != '\0' || len > max)
			return -1;
	}
	c.prefix_len = (uint8_t)len;
	*out = c;
	return 0;
}

const char *slb_sockaddr_format(const struct slb_sockaddr *addr, char *buf)
{
	char host[INET6_ADDRSTRLEN];

	if (addr->u.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &addr->u.in6.sin6_addr, host, sizeof(host));
		snprintf(buf, SLB_SOCKADDR_STRLEN, "[%s]:%u", host, ntohs(addr->u.in6.sin6_port));
	} else if (addr->u.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &addr->u.in4.sin_addr, host, sizeof(host));
		snprintf(buf, SLB_SOCKADDR_STRLEN, "%s:%u", host, ntohs(addr->u.in4.sin_port));
	} else {
		snprintf(buf, SLB_SOCKADDR_STRLEN, "-");
	}
	return buf;
}

const char *slb_cidr_format(const struct slb_cidr *cidr, char *buf)
{
	char host[INET6_ADDRSTRLEN];

	inet_ntop(cidr->family, &cidr->addr, host, sizeof(host));
	snprintf(buf, SLB_CIDR_STRLEN, "%s/%u", host, cidr->prefix_len);
	return buf;
}

uint16_t slb_sockaddr_port(const struct slb_sockaddr *addr)
{
	if (addr->u.sa.sa_family == AF_INET6)
		return ntohs(addr->u.in6.sin6_port);
	return ntohs(addr->u.in4.sin_port);
}

void slb_sockaddr_set_port(struct slb_sockaddr *addr, uint16_t port)
{
	if (addr->u.sa.sa_family == AF_INET6)
		addr->u.in6.sin6_port = htons(port);
	else
		addr->u.in4.sin_port = htons(port);
}

bool slb_sockaddr_equal(const struct slb_sockaddr *a, const struct slb_sockaddr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET6)
		return a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) == 0;
	return a->u.in4.sin_port == b->u.in4.sin_port &&
	       a->u.in4.sin_addr.s_addr == b->u.in4.sin_addr.s_addr;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool slb_cidr_contains(const struct slb_cidr *cidr, const struct sockaddr *addr)
{
	if (addr->sa_family != cidr->family)
		return false;
	if (cidr->family == AF_INET)
		return prefix_match((const uint8_t *)&cidr->addr.in4,
				    (const uint8_t *)&((const struct sockaddr_in *)addr)->sin_addr,
				    cidr->prefix_len);
	return prefix_match((const uint8_t *)&cidr->addr.in6,
			    (const uint8_t *)&((const struct sockaddr_in6 *)addr)->sin6_addr,
			    cidr->prefix_len);
}

bool slb_sockaddr_is_any(const struct slb_sockaddr *addr)
{
	if (addr->u.sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&addr->u.in6.sin6_addr);
	return addr->u.sa.sa_family == AF_INET && addr->u.in4.sin_addr.s_addr == htonl(INADDR_ANY);
}
