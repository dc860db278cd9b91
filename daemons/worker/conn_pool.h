/*
 * conn_pool.h - recycled connection records and splice pipes.
 *
 * Accepting a connection should not cost a malloc and two pipe2() calls:
 * records come from slabs and go back to a free list; pipes that were
 * emptied go back to a bounded pool instead of being closed.
 */
#ifndef SLB_CONN_POOL_H
#define SLB_CONN_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct slb_pipe {
	int rfd;
	int wfd;
	size_t len; /* bytes inside, written by us and not yet read */
};

/* A zeroed record of <size> bytes (a few distinct sizes at most), or NULL. */
void *conn_pool_get(size_t size);
/* Takes back a record that conn_pool_get(<size>) gave. */
void conn_pool_put(void *record, size_t size);

/* Fills <p> with an empty pipe; returns 0 or -1 (fd limit). */
int pipe_pool_get(struct slb_pipe *p);

/* Takes <p> back (pooled if empty, closed otherwise) and marks it unused. */
void pipe_pool_put(struct slb_pipe *p);

/*
 * Splices up to <max> bytes from socket <src> into <p>. Returns what moved
 * (> 0, added to p->len), 0 at the source's EOF, or -1 with errno. On
 * EAGAIN, *dry says whether the socket has nothing: a full pipe says EAGAIN
 * too, so only into an empty pipe does it mean the socket is dry.
 */
ssize_t pipe_fill(struct slb_pipe *p, int src, size_t max, bool *dry);

/* Splices what <p> holds into socket <dst>: what moved (> 0, taken off p->len), or -1 with errno. */
ssize_t pipe_drain(struct slb_pipe *p, int dst);

#endif
