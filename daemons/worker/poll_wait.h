/*
 * poll_wait.h - how a worker waits for its next batch of events.
 *
 * A worker asleep in epoll_wait is woken by whoever queues bytes on its
 * sockets, and that wake-up is an inter-processor interrupt paid by the
 * sender (a client, a server on this host, a NIC's softirq; on a VM, an
 * exit). A busy worker (it used at least half a core over the last window)
 * that has just had a large batch and run out of work sleeps poll_coalesce
 * on its own timer instead, and takes what arrived with epoll_wait(0): the
 * timed wait is paid by the worker alone, once per batch. A worker that is
 * not busy always sleeps in epoll_wait, so light load costs no timer
 * wake-ups and no extra latency.
 */
#ifndef SLB_WORKER_POLL_WAIT_H
#define SLB_WORKER_POLL_WAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct poll_wait {
	int epfd;
	uint32_t pause_us;        /* [global] poll_coalesce; 0 = always epoll_wait */
	bool busy;                /* the last window used enough CPU to coalesce */
	bool batching;            /* busy and the last batch was large */
	uint64_t window_start_us; /* monotonic time the window began */
	uint64_t window_cpu_us;   /* this thread's CPU time when it began */
};

void poll_wait_init(struct poll_wait *p, int epfd, uint32_t pause_us);

/*
 * The next batch of events into <events> (at most <max>), waiting at most
 * <timeout_ms> (-1: no limit) when it sleeps in epoll_wait. Returns what
 * epoll_wait returns.
 */
int poll_wait_next(struct poll_wait *p, struct epoll_event *events, int max, int timeout_ms);

#endif
