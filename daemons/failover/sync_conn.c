/*
 * sync_conn.c - one session-sync TCP connection, either end: bounded
 * buffers both ways, non-blocking reads and writes, frames through
 * lib/sync_proto with this connection's authentication state. Nothing
 * here ever waits: a full send buffer is the caller's sign of a slow peer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "failover.h"
#include "log.h"

struct sync_conn *sync_conn_new(struct failover *f, int fd, struct in_addr addr)
{
	struct sync_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (!c || getrandom(c->nonce, sizeof(c->nonce), 0) != sizeof(c->nonce) ||
	    epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		slb_err("sync: connection with %s: %m", inet_ntoa(addr));
		free(c);
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->addr = addr;
	inet_ntop(AF_INET, &addr, c->name, sizeof(c->name));
	c->tx.key = c->rx.key = f->key.bytes;
	c->tx.key_len = c->rx.key_len = f->key.len;
	c->last_rx_ms = c->last_tx_ms = c->progress_ms = f->now_ms;
	return c;
}

void sync_conn_free(struct failover *f, struct sync_conn *c)
{
	if (!c)
		return;
	epoll_ctl(f->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Asks epoll for writability only while bytes wait (or a connect is under way). */
void sync_conn_want_out(struct failover *f, struct sync_conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.fd = c->fd };

	if (out == c->want_out)
		return;
	c->want_out = out;
	epoll_ctl(f->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Room for frames, counting what was sent already (sync_conn_queue moves the rest down). */
size_t sync_conn_room(const struct sync_conn *c)
{
	return sizeof(c->tx_buf) - (c->tx_len - c->tx_off);
}

int sync_conn_queue(struct failover *f, struct sync_conn *c, const struct slb_sync_frame *frame)
{
	int n;

	if (c->tx_off == c->tx_len)
		c->progress_ms = f->now_ms; /* the wait for the peer starts now */
	if (c->tx_off > 0 && sizeof(c->tx_buf) - c->tx_len < SLB_SYNC_MAX_FRAME) {
		memmove(c->tx_buf, c->tx_buf + c->tx_off, c->tx_len - c->tx_off);
		c->tx_len -= c->tx_off;
		c->tx_off = 0;
	}
	n = slb_sync_encode(frame, &c->tx, c->tx_buf + c->tx_len, sizeof(c->tx_buf) - c->tx_len);
	if (n < 0)
		return -1;
	c->tx_len += (size_t)n;
	c->last_tx_ms = f->now_ms;
	return 0;
}

int sync_conn_flush(struct failover *f, struct sync_conn *c)
{
	while (c->tx_off < c->tx_len) {
		ssize_t n = send(c->fd, c->tx_buf + c->tx_off, c->tx_len - c->tx_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return -1;
		c->tx_off += (size_t)n;
		c->progress_ms = f->now_ms;
	}
	if (c->tx_off == c->tx_len)
		c->tx_off = c->tx_len = 0;
	sync_conn_want_out(f, c, c->tx_len > 0);
	return 0;
}

bool sync_conn_stalled(const struct failover *f, const struct sync_conn *c)
{
	return c->tx_len > c->tx_off && f->now_ms >= c->progress_ms + SYNC_STALL_MS;
}

int sync_conn_read(struct failover *f, struct sync_conn *c)
{
	/* What was decoded leaves room for more. */
	memmove(c->rx_buf, c->rx_buf + c->rx_off, c->rx_len - c->rx_off);
	c->rx_len -= c->rx_off;
	c->rx_off = 0;
	for (;;) {
		ssize_t n;

		if (c->rx_len == sizeof(c->rx_buf))
			return 0; /* full: the caller decodes, then reads on */
		n = recv(c->fd, c->rx_buf + c->rx_len, sizeof(c->rx_buf) - c->rx_len, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == 0) {
			errno = ECONNRESET; /* closed by the peer */
			return -1;
		}
		if (n < 0)
			return -1;
		c->rx_len += (size_t)n;
		c->last_rx_ms = f->now_ms;
	}
}

enum slb_sync_verdict sync_conn_next(struct sync_conn *c, struct slb_sync_frame *frame)
{
	size_t used = 0;
	enum slb_sync_verdict v = slb_sync_decode(c->rx_buf + c->rx_off, c->rx_len - c->rx_off,
						  &c->rx, frame, &used);

	if (v == SLB_SYNC_OK)
		c->rx_off += used;
	return v;
}

void sync_conn_hello(const struct failover *f, const struct sync_conn *c, struct slb_sync_frame *hello)
{
	memset(hello, 0, sizeof(*hello));
	hello->type = SLB_SYNC_HELLO;
	memcpy(hello->u.hello.nonce, c->nonce, sizeof(c->nonce));
	hello->u.hello.vrid = (uint8_t)f->fc->vrid;
	snprintf(hello->u.hello.node, sizeof(hello->u.hello.node), "%s",
		 f->config->node.name[0] ? f->config->node.name : "-");
}

/* The reason a frame was refused, for a log line: the key's when it is about the key. */
const char *sync_refusal(enum slb_sync_verdict v)
{
	switch (v) {
	case SLB_SYNC_AUTH_BAD: return "authentication failed (another auth_key_file?)";
	case SLB_SYNC_AUTH_MISSING: return "it has no auth_key_file, this node has one";
	case SLB_SYNC_AUTH_UNEXPECTED: return "it has an auth_key_file, this node has none";
	case SLB_SYNC_BAD_VERSION: return "another protocol version";
	default: return slb_sync_verdict_name(v);
	}
}

bool sync_enabled(const struct failover *f)
{
	return f->fc->sync && f->shm->sessions;
}
