/*
 * vip.h - adding and removing virtual IP addresses with libnl-route-3.
 */
#ifndef SLB_VIP_H
#define SLB_VIP_H

#include "config.h"

struct slb_vip_ctl;

/* Opens a NETLINK_ROUTE socket; NULL (logged) on failure. */
struct slb_vip_ctl *slb_vip_open(void);
void slb_vip_close(struct slb_vip_ctl *ctl);

/* Adds <vip>; an address already present counts as success. Returns 0 or -1 (logged). */
int slb_vip_add(struct slb_vip_ctl *ctl, const struct slb_vip_conf *vip);

/*
 * Removes <vip>; an address already absent counts as success. Returns 0 or
 * -1 (logged); <was_present> (may be NULL) says whether it was there.
 */
int slb_vip_remove(struct slb_vip_ctl *ctl, const struct slb_vip_conf *vip, bool *was_present);

#endif
