/*
 * addr.h - socket addresses and prefixes: parsing "ip:port", "[v6]:port" and
 * "ip/len", formatting them back, and prefix matching.
 */
#ifndef SLB_ADDR_H
#define SLB_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct slb_sockaddr {
	socklen_t len; /* 0 = unset */
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} u;
};

struct slb_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t prefix_len;
	union {
		struct in_addr in4;
		struct in6_addr in6;
	} addr;
};

/* Longest text slb_sockaddr_format() writes: "[v6]:port" and the NUL. */
#define SLB_SOCKADDR_STRLEN (INET6_ADDRSTRLEN + 8)

/*
 * Parses "a.b.c.d:port" or "[v6]:port" with a port 1..65535 into <out>.
 * Returns 0, or -1 with <out> untouched.
 */
int slb_sockaddr_parse(const char *text, struct slb_sockaddr *out);

/* Parses "a.b.c.d/len" or "v6/len"; a missing "/len" means a host prefix. */
int slb_cidr_parse(const char *text, struct slb_cidr *out);

/* Writes "ip:port" (or "[v6]:port") into <buf> of SLB_SOCKADDR_STRLEN bytes. */
const char *slb_sockaddr_format(const struct slb_sockaddr *addr, char *buf);

/* Longest text slb_cidr_format() writes: "v6/128" and the NUL. */
#define SLB_CIDR_STRLEN (INET6_ADDRSTRLEN + 4)

/* Writes "ip/len" into <buf> of SLB_CIDR_STRLEN bytes. */
const char *slb_cidr_format(const struct slb_cidr *cidr, char *buf);

uint16_t slb_sockaddr_port(const struct slb_sockaddr *addr);
void slb_sockaddr_set_port(struct slb_sockaddr *addr, uint16_t port);
bool slb_sockaddr_equal(const struct slb_sockaddr *a, const struct slb_sockaddr *b);

/* True when <addr> is the wildcard address (0.0.0.0 or ::), whatever the port. */
bool slb_sockaddr_is_any(const struct slb_sockaddr *addr);

/* True when <addr> (the address part only) lies inside <cidr>. */
bool slb_cidr_contains(const struct slb_cidr *cidr, const struct sockaddr *addr);

#endif
