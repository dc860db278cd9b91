/*
 * ipc.c - sending and strictly checking master/child messages.
 */
#include "ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int slb_msg_payload_size(uint16_t type)
{
	switch (type) {
	case SLB_MSG_READY:
		return (int)sizeof(((struct slb_msg *)0)->u.ready);
	case SLB_MSG_DRAIN:
		return (int)sizeof(((struct slb_msg *)0)->u.drain);
	case SLB_MSG_FAILOVER_MANUAL:
		return (int)sizeof(((struct slb_msg *)0)->u.manual);
	case SLB_MSG_WEIGHT:
		return (int)sizeof(((struct slb_msg *)0)->u.weight);
	default:
		return -1;
	}
}

int slb_msg_send(int fd, uint16_t type, uint32_t generation, const void *payload)
{
	struct slb_msg msg;
	int size = slb_msg_payload_size(type);
	ssize_t n;

	if (size < 0) {
		errno = EINVAL;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	msg.hdr.type = type;
	msg.hdr.length = (uint16_t)size;
	msg.hdr.generation = generation;
	memcpy(&msg.u, payload, (size_t)size);
	do
		n = send(fd, &msg, sizeof(msg.hdr) + (size_t)size, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

int slb_msg_send_ready(int fd, uint32_t generation)
{
	uint32_t pid = (uint32_t)getpid();

	return slb_msg_send(fd, SLB_MSG_READY, generation, &pid);
}

int slb_msg_recv(int fd, struct slb_msg *msg)
{
	/* One byte more than the largest message, to see an oversized one. */
	char buf[sizeof(struct slb_msg) + 1];
	struct slb_msg_header hdr;
	ssize_t n;
	int size;

	do
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n == -1)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? -2 : -1;
	if ((size_t)n < sizeof(hdr))
		goto malformed;
	memcpy(&hdr, buf, sizeof(hdr));
	size = slb_msg_payload_size(hdr.type);
	if (size < 0 || hdr.length != (uint16_t)size || (size_t)n != sizeof(hdr) + (size_t)size)
		goto malformed;
	memset(msg, 0, sizeof(*msg));
	memcpy(msg, buf, (size_t)n);
	return 1;
malformed:
	errno = EPROTO;
	return -1;
}
