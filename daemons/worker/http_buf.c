/*
 * http_buf.c - buffer blocks from a bounded free list, recv and send.
 */
#include "http_buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define FREE_BLOCKS_MAX 1024

/* A stack of free blocks kept apart from the blocks: taking one reads this
 * (hot) array, not the first line of a block that may have left the cache
 * long ago, which a list threaded through the blocks would. */
static char *free_blocks[FREE_BLOCKS_MAX];
static unsigned nfree_blocks;

int http_buf_ensure(struct http_buf *b)
{
	if (b->data)
		return 0;
	if (nfree_blocks) {
		b->data = free_blocks[--nfree_blocks];
	} else {
		b->data = malloc(HTTP_BUF_SIZE);
		if (!b->data)
			return -1;
	}
	b->start = b->end = 0;
	return 0;
}

void http_buf_release(struct http_buf *b)
{
	if (!b->data)
		return;
	if (nfree_blocks < FREE_BLOCKS_MAX)
		free_blocks[nfree_blocks++] = b->data;
	else
		free(b->data);
	b->data = NULL;
	b->start = b->end = 0;
}

size_t http_buf_room(struct http_buf *b, bool may_move)
{
	if (!b->data)
		return HTTP_BUF_SIZE;
	/* Move what is left to the front once the room at the end runs low. */
	if (may_move && b->start > 0 && HTTP_BUF_SIZE - b->end < HTTP_BUF_SIZE / 4) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	return HTTP_BUF_SIZE - b->end;
}

void http_buf_consume(struct http_buf *b, size_t n)
{
	b->start += (uint32_t)n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

void http_buf_put(struct http_buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->end, p, n);
	b->end += (uint32_t)n;
}

ssize_t http_buf_recv(struct http_buf *b, int fd, bool may_move)
{
	size_t room;
	ssize_t n;

	if (http_buf_ensure(b) == -1 || (room = http_buf_room(b, may_move)) == 0) {
		errno = ENOBUFS;
		return -1;
	}
	n = recv(fd, b->data + b->end, room, 0);
	if (n > 0)
		b->end += (uint32_t)n;
	return n;
}

ssize_t http_buf_send(struct http_buf *b, int fd)
{
	ssize_t n = send(fd, b->data + b->start, b->end - b->start, MSG_NOSIGNAL);

	if (n > 0)
		http_buf_consume(b, (size_t)n);
	return n;
}
