/*
 * privileges.c - switching to the unprivileged user after setup.
 */
#include "privileges.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <pwd.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"

int slb_user_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		slb_err("unknown user '%s'", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int slb_drop_privileges(const char *user)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0 || strcmp(user, "root") == 0)
		return 0;
	if (slb_user_lookup(user, &uid, &gid) == -1)
		return -1;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		slb_err("cannot switch to user '%s': %m", user);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		slb_err("cannot set no_new_privs: %m");
		return -1;
	}
	/* Dumpable again, so the kernel lets us keep a core and a readable /proc. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return 0;
}

int slb_keep_only_caps(const int *caps, unsigned ncaps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	for (unsigned i = 0; i < ncaps; i++) {
		data[caps[i] / 32].effective |= 1u << (caps[i] % 32);
		data[caps[i] / 32].permitted |= 1u << (caps[i] % 32);
	}
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
		bool kept = false;

		for (unsigned i = 0; i < ncaps; i++)
			kept |= caps[i] == cap;
		if (!kept && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 && errno != EINVAL) {
			slb_err("cannot drop capability %d from the bounding set: %m", cap);
			return -1;
		}
	}
	if (syscall(SYS_capset, &hdr, data) == -1) {
		slb_err("cannot drop capabilities: %m");
		return -1;
	}
	return 0;
}
