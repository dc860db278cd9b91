/*
 * privileges.h - dropping root for the workers and the checker.
 */
#ifndef SLB_PRIVILEGES_H
#define SLB_PRIVILEGES_H

#include <sys/types.h>

/* Looks up <user>; returns 0 with its ids, or -1 (logged) when unknown. */
int slb_user_lookup(const char *user, uid_t *uid, gid_t *gid);

/*
 * Switches the process to <user> (groups, gid, uid, in that order) and
 * forbids regaining privileges. Does nothing when <user> is "root" or the
 * process is not root. Returns 0, or -1 (logged): the caller must exit, as
 * running on as root would be worse than not running.
 */
int slb_drop_privileges(const char *user);

/*
 * Keeps only the capabilities in <caps> (CAP_* numbers): the rest leave
 * the effective, permitted, inheritable and bounding sets for good, so not
 * even an exec can get them back. For a daemon that must stay root for its
 * job (slb-failover: addresses and raw packets) but needs nothing else.
 * Returns 0, or -1 (logged).
 */
int slb_keep_only_caps(const int *caps, unsigned ncaps);

#endif
