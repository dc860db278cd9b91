/*
 * daemonize.c - going to the background and the pid file.
 *
 * The starting process waits until the daemon says it is serving (or
 * failed), so `slb-master -c FILE` exits non-zero when start-up fails
 * instead of leaving an operator to find out from the logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "master.h"

int master_daemonize(int *ready_fd)
{
	int pipefd[2];
	pid_t pid;
	char ok;

	if (pipe2(pipefd, O_CLOEXEC) == -1)
		return -1;
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid > 0) {
		close(pipefd[1]);
		exit(read(pipefd[0], &ok, 1) == 1 ? 0 : 1);
	}
	close(pipefd[0]);
	if (setsid() == -1)
		return -1;
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		return -1;
	*ready_fd = pipefd[1];
	return 0;
}

void master_daemonize_done(int ready_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	if (ready_fd >= 0) {
		if (write(ready_fd, "1", 1) == -1)
			slb_warn("cannot tell the starting process we are up: %m");
		close(ready_fd);
	}
}

/* The pid in <path> when that process is alive and is an slb-master, else 0. */
static pid_t running_master(const char *path)
{
	char comm[64], proc[64];
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) == -1)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/%ld/comm", pid);
	f = fopen(proc, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "slb-master", 10) == 0 ? (pid_t)pid : 0;
}

int master_pidfile_write(const char *path)
{
	char tmp[PATH_MAX + 8];
	pid_t other = running_master(path);
	FILE *f;

	if (other) {
		slb_err("already running: %s names slb-master pid %d", path, (int)other);
		return -1;
	}
	slb_make_parent_dir(path, 0755);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		slb_err("cannot write pid file %s: %m", tmp);
		return -1;
	}
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		slb_err("cannot write pid file %s: %m", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

void master_pidfile_remove(const char *path)
{
	unlink(path);
}
