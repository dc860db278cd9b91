/*
 * proxy_header.h - the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) that tells a server who the client really is: written
 * by slb-worker at the start of every connection to a server of a tcp
 * listener with proxy_protocol = v1 | v2, before any byte of the client's.
 */
#ifndef SLB_PROXY_HEADER_H
#define SLB_PROXY_HEADER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

/* Room for the longest header: v1 is at most 107 bytes, v2 with IPv6 52. */
#define SLB_PROXY_HEADER_MAX 108

/*
 * Writes the <version> header (V1 or V2) for a TCP connection from <client>
 * to <vip> (the address the client connected to) into <out>; returns its
 * length. IPv4-mapped IPv6 addresses on both sides are sent as IPv4; other
 * pairs that are not both IPv4 or both IPv6 are sent as UNKNOWN (v1) or
 * AF_UNSPEC (v2), which tells the server to use the connection's own
 * addresses.
 */
size_t slb_proxy_header_encode(enum slb_proxy_protocol version, const struct sockaddr *client,
			       const struct sockaddr *vip, uint8_t out[SLB_PROXY_HEADER_MAX]);

#endif
