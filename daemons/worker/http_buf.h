/*
 * http_buf.h - the byte buffers of an HTTP connection: what was read and not
 * yet parsed or forwarded, and what waits to be written.
 *
 * Storage is a block from a per-worker pool, taken when bytes first arrive
 * and given back when the buffer is empty between requests, so an idle
 * keep-alive connection holds no buffer memory.
 */
#ifndef SLB_HTTP_BUF_H
#define SLB_HTTP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_BUF_SIZE 32768 /* holds the largest head parsed (16 KiB) and more */

struct http_buf {
	char *data; /* NULL until needed */
	uint32_t start; /* first byte not yet consumed */
	uint32_t end; /* one past the last byte */
};

static inline size_t http_buf_len(const struct http_buf *b)
{
	return b->end - b->start;
}

static inline char *http_buf_head(const struct http_buf *b)
{
	return b->data + b->start;
}

/* Room at the end, after compacting if nothing pins the bytes in place. */
size_t http_buf_room(struct http_buf *b, bool may_move);

/* Takes a block if the buffer has none. Returns 0 or -1 (out of memory). */
int http_buf_ensure(struct http_buf *b);

/* Consumes <n> bytes; an emptied buffer starts over at 0. */
void http_buf_consume(struct http_buf *b, size_t n);

/* Appends <n> bytes; the caller checked the room. */
void http_buf_put(struct http_buf *b, const void *p, size_t n);

/* Gives the block back (an empty buffer only keeps nothing). */
void http_buf_release(struct http_buf *b);

/*
 * recv() into the room at the end (compacting when <may_move>). Returns the
 * bytes read, 0 at EOF, -1 with errno (EAGAIN: nothing there; ENOBUFS: no
 * room or no memory).
 */
ssize_t http_buf_recv(struct http_buf *b, int fd, bool may_move);

/* send() from the start. Returns the bytes sent or -1 with errno. */
ssize_t http_buf_send(struct http_buf *b, int fd);

#endif
