/*
 * files.h - small file-system helpers the daemons share.
 */
#ifndef SLB_FILES_H
#define SLB_FILES_H

#include <sys/types.h>

/*
 * Creates the directory that will hold <path> (one level, with <mode>) if
 * it is missing. Returns 0 when it exists afterwards, -1 (logged) if not.
 */
int slb_make_parent_dir(const char *path, mode_t mode);

#endif
