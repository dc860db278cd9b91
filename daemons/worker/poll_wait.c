/*
 * poll_wait.c - epoll_wait, or under load a timed wait for a batch (see
 * poll_wait.h).
 */
#include <sys/prctl.h>
#include <time.h>

#include "clock.h"
#include "poll_wait.h"

/* A batch this large is worth waiting for the next one on the timer. */
#define POLL_BATCH 8
/* Busy is judged from the CPU a worker used over windows this long... */
#define POLL_WINDOW_US 20000
/* ...and starts at this share of one core, ends below the second (the gap
 * keeps a worker near the line from flipping every window). At a fixed
 * rate well under saturation coalescing only adds the timer's wake-ups. */
#define POLL_BUSY_ON_PCT 50
#define POLL_BUSY_OFF_PCT 40

void poll_wait_init(struct poll_wait *p, int epfd, uint32_t pause_us)
{
	*p = (struct poll_wait){ .epfd = epfd, .pause_us = pause_us };
	if (pause_us) {
		/* The default slack (50 us) would stretch every pause. */
		prctl(PR_SET_TIMERSLACK, 1000UL);
		p->window_start_us = slb_now_us();
		p->window_cpu_us = slb_thread_cpu_us();
	}
}

/* Closes the window once it is POLL_WINDOW_US old: busy or not from the
 * share of a core this thread used in it. */
static void poll_window_update(struct poll_wait *p)
{
	uint64_t now = slb_now_us(), elapsed = now - p->window_start_us, cpu, pct;

	if (elapsed < POLL_WINDOW_US)
		return;
	cpu = slb_thread_cpu_us();
	pct = (cpu - p->window_cpu_us) * 100 / elapsed;
	p->busy = pct >= (p->busy ? POLL_BUSY_OFF_PCT : POLL_BUSY_ON_PCT);
	p->window_start_us = now;
	p->window_cpu_us = cpu;
}

int poll_wait_next(struct poll_wait *p, struct epoll_event *events, int max, int timeout_ms)
{
	int n;

	if (!p->pause_us)
		return epoll_wait(p->epfd, events, max, timeout_ms);
	poll_window_update(p);
	if (p->batching && p->busy) {
		struct timespec pause = { .tv_nsec = (long)p->pause_us * 1000 };

		nanosleep(&pause, NULL);
		n = epoll_wait(p->epfd, events, max, 0);
	} else {
		n = epoll_wait(p->epfd, events, max, timeout_ms);
	}
	p->batching = n >= POLL_BATCH;
	return n;
}
