/*
 * vip.c - VIP addresses through libnl-route-3 (never by running `ip`).
 */
#include "vip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <net/if.h>

#include "log.h"

struct slb_vip_ctl {
	struct nl_sock *sock;
};

struct slb_vip_ctl *slb_vip_open(void)
{
	struct slb_vip_ctl *ctl = calloc(1, sizeof(*ctl));
	int err;

	if (!ctl)
		return NULL;
	ctl->sock = nl_socket_alloc();
	if (!ctl->sock) {
		slb_err("cannot allocate a netlink socket");
		free(ctl);
		return NULL;
	}
	err = nl_connect(ctl->sock, NETLINK_ROUTE);
	if (err < 0) {
		slb_err("cannot connect to rtnetlink: %s", nl_geterror(err));
		nl_socket_free(ctl->sock);
		free(ctl);
		return NULL;
	}
	return ctl;
}

void slb_vip_close(struct slb_vip_ctl *ctl)
{
	if (!ctl)
		return;
	nl_socket_free(ctl->sock);
	free(ctl);
}

/* Builds the rtnl_addr for <vip>; NULL (logged) when the interface is unknown. */
static struct rtnl_addr *vip_to_addr(const struct slb_vip_conf *vip)
{
	struct rtnl_addr *addr;
	struct nl_addr *local;
	int ifindex = (int)if_nametoindex(vip->interface);

	if (ifindex == 0) {
		slb_err("vip %s: interface %s: %m", vip->name, vip->interface);
		return NULL;
	}
	local = nl_addr_build(vip->address.family, &vip->address.addr,
			      vip->address.family == AF_INET ? 4 : 16);
	addr = rtnl_addr_alloc();
	if (!local || !addr) {
		nl_addr_put(local);
		rtnl_addr_put(addr);
		return NULL;
	}
	nl_addr_set_prefixlen(local, vip->address.prefix_len);
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_family(addr, vip->address.family);
	rtnl_addr_set_local(addr, local);
	rtnl_addr_set_prefixlen(addr, vip->address.prefix_len);
	nl_addr_put(local);
	return addr;
}

int slb_vip_add(struct slb_vip_ctl *ctl, const struct slb_vip_conf *vip)
{
	struct rtnl_addr *addr = vip_to_addr(vip);
	int err;

	if (!addr)
		return -1;
	err = rtnl_addr_add(ctl->sock, addr, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_addr_put(addr);
	if (err < 0 && err != -NLE_EXIST) {
		slb_err("vip %s: cannot add address on %s: %s", vip->name, vip->interface,
			nl_geterror(err));
		return -1;
	}
	return 0;
}

int slb_vip_remove(struct slb_vip_ctl *ctl, const struct slb_vip_conf *vip, bool *was_present)
{
	struct rtnl_addr *addr = vip_to_addr(vip);
	int err;

	if (!addr)
		return -1;
	err = rtnl_addr_delete(ctl->sock, addr, 0);
	rtnl_addr_put(addr);
	if (was_present)
		*was_present = err >= 0;
	if (err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND) {
		slb_err("vip %s: cannot remove address from %s: %s", vip->name, vip->interface,
			nl_geterror(err));
		return -1;
	}
	return 0;
}
