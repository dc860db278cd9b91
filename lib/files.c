/*
 * files.c - file-system helpers.
 */
#include "files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

int slb_make_parent_dir(const char *path, mode_t mode)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, mode) == -1 && errno != EEXIST) {
		slb_warn("cannot create %s: %m", dir);
		return -1;
	}
	return 0;
}
