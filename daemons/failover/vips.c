/*
 * vips.c - putting every [vip] on its interface and taking it off, with
 * one log line per address and change.
 */
#include "failover.h"
#include "log.h"

int failover_vips_add(struct failover *f)
{
	char text[SLB_CIDR_STRLEN];
	int rc = 0;

	for (unsigned i = 0; i < f->config->nvips; i++) {
		const struct slb_vip_conf *vip = &f->config->vips[i];

		if (slb_vip_add(f->vips, vip) == -1)
			rc = -1;
		else
			slb_info("vip %s: holding %s on %s", vip->name,
				 slb_cidr_format(&vip->address, text), vip->interface);
	}
	return rc;
}

void failover_vips_remove(struct failover *f)
{
	for (unsigned i = 0; i < f->config->nvips; i++) {
		const struct slb_vip_conf *vip = &f->config->vips[i];
		bool present = false;

		if (slb_vip_remove(f->vips, vip, &present) == 0 && present)
			slb_info("vip %s: released", vip->name);
	}
}
