/*
 * link_watch.c - the [failover] interface's link state from rtnetlink
 * (libmnl): down or gone means FAULT, up again means BACKUP.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "failover.h"
#include "log.h"

int link_watch_open(struct failover *f)
{
	f->link_nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!f->link_nl || mnl_socket_bind(f->link_nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) == -1) {
		slb_err("failover: rtnetlink link events: %m");
		return -1;
	}
	f->link_fd = mnl_socket_get_fd(f->link_nl);
	return 0;
}

static int link_event(const struct nlmsghdr *nlh, void *data)
{
	struct failover *f = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	bool *up = &f->link_up;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)) || ifi->ifi_index != f->ifindex)
		return MNL_CB_OK;
	if (nlh->nlmsg_type == RTM_DELLINK)
		*up = false;
	else if (nlh->nlmsg_type == RTM_NEWLINK)
		*up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING);
	return MNL_CB_OK;
}

int link_watch_read(struct failover *f)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool before = f->link_up;
	ssize_t n;

	while ((n = mnl_socket_recvfrom(f->link_nl, buf, sizeof(buf))) > 0)
		if (mnl_cb_run(buf, (size_t)n, 0, 0, link_event, f) == MNL_CB_ERROR)
			break;
	if (n == -1 && errno != EAGAIN && errno != ENOBUFS)
		return -1;
	if (n == -1 && errno == ENOBUFS)
		f->link_up = link_is_up(f->ifindex); /* events lost: ask instead */
	return f->link_up != before;
}

bool link_is_up(int ifindex)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool up = false;

	memset(&ifr, 0, sizeof(ifr));
	if (fd >= 0 && if_indextoname((unsigned)ifindex, ifr.ifr_name) &&
	    ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	if (fd >= 0)
		close(fd);
	return up;
}

void link_watch_close(struct failover *f)
{
	if (f->link_nl)
		mnl_socket_close(f->link_nl);
	f->link_nl = NULL;
	f->link_fd = -1;
}
