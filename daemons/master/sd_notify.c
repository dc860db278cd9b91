/*
 * sd_notify.c - the systemd notify protocol, spoken directly (no libsystemd):
 * one datagram "READY=1", "RELOADING=1" or "STOPPING=1" to the socket named
 * by $NOTIFY_SOCKET ("@name" is an abstract socket). Without the variable
 * (not under systemd Type=notify) it does nothing.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

void master_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || !*path)
		return;
	len = strlen(path);
	if (len >= sizeof(sun.sun_path) || (path[0] != '/' && path[0] != '@')) {
		slb_warn("NOTIFY_SOCKET '%s' is not a socket path", path);
		return;
	}
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1)
		slb_warn("cannot tell systemd %s: %m", state);
	close(fd);
}
