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

#endif
