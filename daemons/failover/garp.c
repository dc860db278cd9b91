/*
 * garp.c - gratuitous ARP for every VIP after a takeover, so switches and
 * neighbours stop sending the VIP's traffic to the node that lost it.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "failover.h"
#include "log.h"

struct garp_frame {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t ethertype;
	uint16_t htype;
	uint16_t ptype;
	uint8_t hlen;
	uint8_t plen;
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[ETH_ALEN];
	uint8_t tpa[4];
} __attribute__((packed));

static uint8_t garp_mac[ETH_ALEN];

int garp_open(struct failover *f)
{
	struct ifreq ifr;

	f->garp_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (f->garp_fd == -1) {
		slb_err("failover: packet socket: %m");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", f->fc->interface);
	if (ioctl(f->garp_fd, SIOCGIFHWADDR, &ifr) == -1) {
		slb_err("failover: hardware address of %s: %m", f->fc->interface);
		return -1;
	}
	memcpy(garp_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

/* An ARP request for the VIP from the VIP (RFC 5227's announcement form). */
void garp_send_all(struct failover *f)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = f->ifindex,
		.sll_halen = ETH_ALEN,
	};
	struct garp_frame frame;

	memset(to.sll_addr, 0xff, ETH_ALEN);
	for (unsigned i = 0; i < f->config->nvips; i++) {
		const struct slb_vip_conf *vip = &f->config->vips[i];

		if (vip->address.family != AF_INET)
			continue;
		memset(&frame, 0, sizeof(frame));
		memset(frame.dst, 0xff, ETH_ALEN);
		memcpy(frame.src, garp_mac, ETH_ALEN);
		frame.ethertype = htons(ETH_P_ARP);
		frame.htype = htons(ARPHRD_ETHER);
		frame.ptype = htons(ETH_P_IP);
		frame.hlen = ETH_ALEN;
		frame.plen = 4;
		frame.op = htons(ARPOP_REQUEST);
		memcpy(frame.sha, garp_mac, ETH_ALEN);
		memcpy(frame.spa, &vip->address.addr.in4, 4);
		memcpy(frame.tpa, &vip->address.addr.in4, 4);
		if (sendto(f->garp_fd, &frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)) == -1)
			slb_debug("failover: gratuitous ARP for vip %s: %m", vip->name);
	}
}
