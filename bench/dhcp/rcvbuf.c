/*
 * rcvbuf.c: an LD_PRELOAD shim that gives every UDP socket a process
 * opens a receive buffer of $RCVBUF bytes (SO_RCVBUFFORCE, so beyond
 * net.core.rmem_max when run as root). compare.sh loads it into perfdhcp,
 * which does not size its socket and otherwise gets the host's
 * net.core.rmem_default (read-only inside a network namespace on Linux
 * 6.x): at a few thousand replies a second its 208 KiB fill while
 * perfdhcp waits for the CPU, and the lost replies would be charged to
 * the server.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);
	if (!real)
		real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	int fd = real(domain, type, protocol);
	const char *v = getenv("RCVBUF");
	if (fd >= 0 && v && (domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_DGRAM) {
		int n = atoi(v);
		if (n > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &n, sizeof n) != 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof n);
	}
	return fd;
}
