/*
 * conn_pool.c - free lists for connection records and pipes.
 */
#include "conn_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd_limit.h"

#define SLAB_RECORDS 256

struct free_record {
	struct free_record *next;
};

/* One free list per record size: TCP and HTTP connections, HTTP server sides. */
#define RECORD_SIZES 4

static struct record_list {
	size_t size;
	struct free_record *free;
} record_lists[RECORD_SIZES];

static struct slb_pipe pipe_pool[SLB_PIPE_POOL_MAX];
static unsigned pipe_pool_len;

static struct record_list *record_list(size_t size)
{
	for (unsigned i = 0; i < RECORD_SIZES; i++) {
		if (record_lists[i].size == size)
			return &record_lists[i];
		if (record_lists[i].size == 0) {
			record_lists[i].size = size;
			return &record_lists[i];
		}
	}
	abort(); /* a new kind of record without a list: a programming error */
}

void *conn_pool_get(size_t size)
{
	struct record_list *list = record_list(size);
	struct free_record *r;

	if (size < sizeof(struct free_record))
		size = sizeof(struct free_record);
	if (!list->free) {
		char *slab = malloc(size * SLAB_RECORDS);

		if (!slab)
			return NULL;
		/* Slabs live as long as the worker: records are reused, never freed. */
		for (size_t i = 0; i < SLAB_RECORDS; i++) {
			r = (struct free_record *)(slab + i * size);
			r->next = list->free;
			list->free = r;
		}
	}
	r = list->free;
	list->free = r->next;
	memset(r, 0, size);
	return r;
}

void conn_pool_put(void *record, size_t size)
{
	struct record_list *list = record_list(size);
	struct free_record *r = record;

	r->next = list->free;
	list->free = r;
}

int pipe_pool_get(struct slb_pipe *p)
{
	int fds[2];

	if (pipe_pool_len > 0) {
		*p = pipe_pool[--pipe_pool_len];
		return 0;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	p->rfd = fds[0];
	p->wfd = fds[1];
	p->len = 0;
	return 0;
}

void pipe_pool_put(struct slb_pipe *p)
{
	if (p->rfd < 0)
		return;
	if (p->len == 0 && pipe_pool_len < SLB_PIPE_POOL_MAX) {
		pipe_pool[pipe_pool_len++] = *p;
	} else {
		close(p->rfd);
		close(p->wfd);
	}
	p->rfd = p->wfd = -1;
	p->len = 0;
}

ssize_t pipe_fill(struct slb_pipe *p, int src, size_t max, bool *dry)
{
	ssize_t n = splice(src, NULL, p->wfd, NULL, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	if (n > 0)
		p->len += (size_t)n;
	else if (n == -1 && errno == EAGAIN)
		*dry = p->len == 0;
	return n;
}

ssize_t pipe_drain(struct slb_pipe *p, int dst)
{
	ssize_t n = splice(p->rfd, NULL, dst, NULL, p->len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	if (n > 0) {
		p->len -= (size_t)n;
	} else if (n == 0) {
		errno = EPIPE; /* a socket that takes nothing of a non-empty pipe is gone */
		n = -1;
	}
	return n;
}
