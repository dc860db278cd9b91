/*
 * main.c - slb-failover. Without a [failover] section the node is
 * standalone: it holds every [vip] from start to stop. The VRRP election
 * (its own issue) replaces the "hold" below with a state machine.
 *
 *   slb-failover -g GENERATION -n CONFIG_NAME [-f]     (started by slb-master)
 *
 * SIGTERM: remove the VIPs and exit (the node stops serving).
 * SLB_MSG_DRAIN from the master: exit and leave the VIPs in place (a
 * reload hands them to the next slb-failover without a gap).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "vip.h"

static volatile sig_atomic_t failover_stop;

static void on_stop(int sig)
{
	(void)sig;
	failover_stop = 1;
}

static int vips_add_all(struct slb_vip_ctl *ctl, const struct slb_config *cf)
{
	char text[SLB_CIDR_STRLEN];
	int rc = 0;

	for (unsigned i = 0; i < cf->nvips; i++) {
		if (slb_vip_add(ctl, &cf->vips[i]) == -1)
			rc = -1;
		else
			slb_info("vip %s: holding %s on %s", cf->vips[i].name,
				 slb_cidr_format(&cf->vips[i].address, text), cf->vips[i].interface);
	}
	return rc;
}

static void vips_remove_all(struct slb_vip_ctl *ctl, const struct slb_config *cf)
{
	for (unsigned i = 0; i < cf->nvips; i++)
		if (slb_vip_remove(ctl, &cf->vips[i]) == 0)
			slb_info("vip %s: released", cf->vips[i].name);
}

/* Waits for a stop signal or a master message; true = release the VIPs. */
static bool failover_hold(void)
{
	struct pollfd pfd = { .fd = SLB_FD_CHANNEL, .events = POLLIN };

	while (!failover_stop) {
		struct slb_msg msg;
		int r;

		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			slb_err("poll: %m");
			return true;
		}
		r = slb_msg_recv(SLB_FD_CHANNEL, &msg);
		if (r == 1 && msg.hdr.type == SLB_MSG_DRAIN)
			return false;
		if (r == 0 || r == -1)
			return true; /* master gone: nobody serves behind the VIPs */
	}
	return true;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };
	const char *config_name = "slb.ini";
	struct slb_config *cf;
	struct slb_vip_ctl *ctl;
	uint32_t generation = 0;
	bool release;
	int opt;

	while ((opt = getopt(argc, argv, "g:n:f")) != -1) {
		switch (opt) {
		case 'g': generation = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': config_name = optarg; break;
		case 'f': slb_log_force_stderr(true); break;
		default:
			fprintf(stderr, "usage: slb-failover -g GENERATION -n CONFIG_NAME [-f]\n");
			return 2;
		}
	}
	cf = slb_config_load_fd(SLB_FD_CONFIG, config_name, stderr);
	if (!cf)
		return 1;
	slb_log_configure("slb-failover", &cf->global);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ctl = slb_vip_open();
	if (!ctl)
		return 1;
	if (vips_add_all(ctl, cf) == -1) {
		vips_remove_all(ctl, cf);
		return 1;
	}
	if (slb_msg_send_ready(SLB_FD_CHANNEL, generation) == -1)
		return 1;
	release = failover_hold();
	if (release)
		vips_remove_all(ctl, cf);
	slb_vip_close(ctl);
	slb_config_free(cf);
	return 0;
}
