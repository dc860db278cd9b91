/*
 * conn_pool.c - free lists for connection records and pipes.
 */
#include "conn_pool.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLAB_RECORDS 256
#define PIPE_POOL_MAX 512

struct free_record {
	struct free_record *next;
};

static struct free_record *free_records;
static size_t record_size;

static struct slb_pipe pipe_pool[PIPE_POOL_MAX];
static unsigned pipe_pool_len;

void *conn_pool_get(size_t size)
{
	struct free_record *r;

	if (!free_records) {
		char *slab;

		record_size = size < sizeof(struct free_record) ? sizeof(struct free_record) : size;
		slab = malloc(record_size * SLAB_RECORDS);
		if (!slab)
			return NULL;
		/* Slabs live as long as the worker: records are reused, never freed. */
		for (size_t i = 0; i < SLAB_RECORDS; i++) {
			r = (struct free_record *)(slab + i * record_size);
			r->next = free_records;
			free_records = r;
		}
	}
	r = free_records;
	free_records = r->next;
	memset(r, 0, record_size);
	return r;
}

void conn_pool_put(void *record)
{
	struct free_record *r = record;

	r->next = free_records;
	free_records = r;
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
	if (p->len == 0 && pipe_pool_len < PIPE_POOL_MAX) {
		pipe_pool[pipe_pool_len++] = *p;
	} else {
		close(p->rfd);
		close(p->wfd);
	}
	p->rfd = p->wfd = -1;
	p->len = 0;
}
