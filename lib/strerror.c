/* SPDX-License-Identifier: MIT */
/*
 * ipcc_strerror: what each errno means when libipcc returns it. The table covers every code
 * the public headers document; the texts are one line each because the tools print them after
 * "ipcc: NAME: ". Everything returned is a string literal or libc's static description, so the
 * call is thread-safe without a buffer.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <ipcc/error.h>

struct ipcc_errtext {
	int err;
	const char *text;
};

/* Codes whose libc text fits (EMFILE, EIO ...) are left to libc. */
static const struct ipcc_errtext errtexts[] = {
	{ EINVAL, "invalid argument (bad name, id, channel, size or option)" },
	{ ENOENT, "no such system, CPU, link or file" },
	{ EEXIST, "already exists (system name, CPU name or channel handler)" },
	{ EACCES, "permission denied, or channel reserved by a service" },
	{ EPROTO, "not a libipcc object" },
	{ EPROTONOSUPPORT, "object from an incompatible layout version" },
	{ EOPNOTSUPP,
	  "not supported here (incompatible feature or section, or not in this build)" },
	{ EUCLEAN, "corrupt libipcc object" },
	{ EBADMSG, "truncated object or corrupt message" },
	{ EROFS, "system opened read-only" },
	{ EBUSY, "busy (CPU attached by a live thread, buffer claimed or response pending)" },
	{ EAGAIN, "not ready yet, try again (object being created, or nothing to do now)" },
	{ ETIMEDOUT, "timed out" },
	{ EPIPE, "peer CPU died or detached" },
	{ EMSGSIZE, "message larger than the channel buffer" },
	{ EALREADY, "no buffer claimed to commit or release" },
	{ ENOMSG, "no request being served to reply to" },
	{ ENODEV, "CPU not in eventfd wait mode" },
	{ EINPROGRESS, "wake-up handed to the peer's process, still in progress" },
	{ ENOMEM, "out of memory" },
	{ ESTALE, "CPU handle inherited across fork(): the parent owns the CPU" },
	{ EPERM, "object owned by another user (open it with IPCC_OPEN_ANY_OWNER to share)" },
	{ EBADFD, "descriptor's object is not sealed against shrinking (not an anonymous system)" },
	{ ECONNRESET, "the peer closed the socket before sending a system" },
};

const char *ipcc_strerror(int err)
{
	const char *text;
	size_t i;

	if (err == 0)
		return "success";
	/* INT_MIN has no positive counterpart; it is no errno either. */
	if (err == INT_MIN)
		return "unknown error";
	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(errtexts) / sizeof(errtexts[0]); i++)
		if (errtexts[i].err == err)
			return errtexts[i].text;
	/* glibc's table of static descriptions: unlike strerror(), no buffer, no locale. */
	text = strerrordesc_np(err);
	return text ? text : "unknown error";
}
