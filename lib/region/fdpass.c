/* SPDX-License-Identifier: MIT */
/*
 * Handing an anonymous system to another process over a UNIX socket (SCM_RIGHTS): one byte
 * carrying the object's descriptor. The receiver treats what arrives as an adversary's: any
 * descriptor beyond the one expected is closed, and the one kept is checked by
 * ipcc_system_open_fd like any other.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* The byte that carries the descriptor: a version for the exchange, should it ever grow. */
#define FDPASS_BYTE 'S'
/* Room for more descriptors than we accept, so that extra ones arrive and are closed. */
#define FDPASS_MAX 8

IPCC_EXPORT int ipcc_system_send_fd(const struct ipcc_system *sys, int sock)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte = FDPASS_BYTE;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };

	if (!sys || sock < 0)
		return -EINVAL;
	memset(&ctl, 0, sizeof(ctl));
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sys->fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}

unsigned ipcc_fds_take(struct msghdr *mh, int *ret_fd)
{
	unsigned count = 0;
	*ret_fd = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (count++ == 0)
				*ret_fd = fd;
			else
				close(fd);
		}
	}
	return count;
}

IPCC_EXPORT int ipcc_system_recv_fd(int sock, unsigned flags, struct ipcc_system **ret_sys)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(FDPASS_MAX * sizeof(int))];
	} ctl;
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	int fd = -1;

	if (sock < 0 || !ret_sys || (flags & ~(IPCC_OPEN_READONLY | IPCC_OPEN_ANY_OWNER)))
		return -EINVAL;
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	unsigned count = ipcc_fds_take(&msg, &fd);
	if (n == 0 && count == 0)
		return -ECONNRESET; /* the sender closed its end */
	if (count != 1 || byte != FDPASS_BYTE || (msg.msg_flags & MSG_CTRUNC)) {
		if (count)
			close(fd);
		return -EBADMSG; /* not one system's descriptor: whatever came is closed */
	}
	int r = ipcc_system_open_fd(fd, flags, ret_sys);
	close(fd); /* the handle has its own (ipcc_system_open_fd dups it) */
	return r;
}
