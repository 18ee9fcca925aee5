/* SPDX-License-Identifier: MIT */
/*
 * Anonymous systems (lib/region/system.c, lib/region/fdpass.c): created without a name on a
 * sealed memfd, opened from a descriptor with every check a named open makes and more, and
 * handed over a UNIX socket. Single process; tests/proc/test_simreg.c has the cross-process
 * claims, kill -9 and exec.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sys/socket.h>

#include <ipcc/layout.h>

#include "ipcc-test.h"

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static struct ipcc_system *anon(void)
{
	struct ipcc_system *sys = NULL;
	int r = ipcc_system_create_anon(NULL, &sys);
	cr_assert_eq(r, 0, "ipcc_system_create_anon: %s", strerror(-r));
	return sys;
}

static void expect_open_fd(int fd, unsigned flags, int expected, const char *what)
{
	struct ipcc_system *s = (struct ipcc_system *)&s, *const marker = s;
	int r = ipcc_system_open_fd(fd, flags, &s);
	cr_assert_eq(r, expected, "%s: %d (%s), expected %d (%s)", what, r, strerror(-r), expected,
		     strerror(-expected));
	cr_assert_eq(s, marker, "%s: a failed open wrote its output", what);
}

/* A memfd holding `len` bytes of data and then zeros up to size, sealed with `seals`. */
static int memfd_with(const void *data, size_t len, off_t size, int seals)
{
	int fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
	cr_assert_eq(ftruncate(fd, size), 0);
	if (len)
		cr_assert_eq(pwrite(fd, data, len, 0), (ssize_t)len);
	if (seals)
		cr_assert_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

/* The bytes of a real anonymous object of the default shape. */
static void *real_bytes(size_t *ret_size)
{
	struct ipcc_system *sys = anon();
	size_t size = (size_t)ipcc_system_size(sys);
	void *b = malloc(size);
	cr_assert_eq(pread(ipcc_system_fd(sys), b, size, 0), (ssize_t)size);
	ipcc_system_close(sys);
	*ret_size = size;
	return b;
}

Test(anon, has_no_name_and_leaves_nothing_in_the_filesystem)
{
	struct ipcc_system *sys = anon();
	struct stat st;
	cr_assert_str_eq(ipcc_system_name(sys), "");
	cr_assert(ipcc_system_anonymous(sys));
	cr_assert_eq(fstat(ipcc_system_fd(sys), &st), 0);
	cr_assert_eq(st.st_nlink, 0, "no directory entry anywhere");
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "the configured mode");
	cr_assert_eq((uint64_t)st.st_size, ipcc_system_size(sys));
	ipcc_system_close(sys);
}

Test(anon, is_sealed_against_every_size_change)
{
	struct ipcc_system *sys = anon();
	int fd = ipcc_system_fd(sys);
	int seals = fcntl(fd, F_GET_SEALS);
	cr_assert_eq(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
		     F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	cr_assert_eq(ftruncate(fd, 4096), -1, "shrinking is refused");
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(ftruncate(fd, (off_t)ipcc_system_size(sys) * 2), -1, "growing too");
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1, "and the seals are final");
	ipcc_system_close(sys);
}

Test(anon, a_bad_config_is_einval)
{
	struct ipcc_config cfg;
	struct ipcc_system *sys = NULL;
	ipcc_config_init(&cfg);
	cfg.channels = 17;
	cr_assert_eq(ipcc_system_create_anon(&cfg, &sys), -EINVAL);
	cfg.channels = 6;
	cfg.mode = 04600;
	cr_assert_eq(ipcc_system_create_anon(&cfg, &sys), -EINVAL);
	cr_assert_eq(ipcc_system_create_anon(NULL, NULL), -EINVAL);
	cr_assert_null(sys);
}

Test(anon, a_descriptor_opens_the_same_object)
{
	struct ipcc_system *a = anon(), *b = NULL;
	struct ipcc_regs *ra, *rb;
	uint32_t v = 0;
	cr_assert_eq(ipcc_system_open_fd(ipcc_system_fd(a), 0, &b), 0);
	cr_assert(ipcc_system_anonymous(b));
	cr_assert_eq(ipcc_system_cpus(b), 2);
	cr_assert_neq(ipcc_system_fd(b), ipcc_system_fd(a), "a descriptor of its own");
	cr_assert_eq(ipcc_regs_open(a, 0, 1, &ra), 0);
	cr_assert_eq(ipcc_regs_open(b, 0, 1, &rb), 0);
	cr_assert_eq(ipcc_regs_write(ra, IPCC_C1SCR, IPCC_SCR_CHS(3)), 0);
	cr_assert_eq(ipcc_regs_read(rb, IPCC_C1TOC2SR, &v), 0);
	cr_assert_eq(v, IPCC_SR_CHF(3));
	ipcc_regs_close(ra);
	ipcc_regs_close(rb);
	ipcc_system_close(a);
	/* The object lives on in b's descriptor and mapping. */
	cr_assert_eq(ipcc_system_cpus(b), 2);
	ipcc_system_close(b);
}

Test(anon, claims_work_between_two_handles_of_one_object)
{
	struct ipcc_system *a = anon(), *b = NULL;
	struct ipcc_cpu *c = NULL, *d = NULL;
	struct ipcc_cpu_owner o;
	cr_assert_eq(ipcc_system_open_fd(ipcc_system_fd(a), 0, &b), 0);
	cr_assert_eq(ipcc_cpu_attach(a, 1, NULL, &c), 0);
	cr_assert_eq(ipcc_cpu_attach(b, 1, NULL, &d), -EBUSY, "one owner, whichever handle");
	cr_assert_eq(ipcc_system_cpu_owner(b, 1, &o), 0);
	cr_assert(o.alive && o.attached);
	cr_assert_eq(o.pid, getpid());
	ipcc_cpu_detach(c);
	cr_assert_eq(ipcc_system_cpu_owner(b, 1, &o), 0);
	cr_assert_not(o.alive);
	cr_assert_eq(ipcc_cpu_attach(b, 1, NULL, &d), 0, "free again");
	ipcc_cpu_detach(d);
	ipcc_system_close(b);
	ipcc_system_close(a);
}

Test(anon, procedures_run_on_an_anonymous_system)
{
	struct ipcc_system *sys = anon();
	struct ipcc_cpu *c0 = test_attach(sys, 0), *c1 = test_attach(sys, 1);
	char buf[16] = { 0 };
	cr_assert_eq(ipcc_send(c0, 1, 0, "anon", 5, 0), 0);
	cr_assert_eq(ipcc_recv(c1, 0, 0, buf, sizeof(buf), 0), 5);
	cr_assert_str_eq(buf, "anon");
	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

Test(anon, dup_fd_gives_a_descriptor_with_or_without_cloexec)
{
	struct ipcc_system *sys = anon();
	int keep = ipcc_system_dup_fd(sys, false), ce = ipcc_system_dup_fd(sys, true);
	struct stat a, b;
	cr_assert_geq(keep, 0);
	cr_assert_geq(ce, 0);
	cr_assert_eq(fcntl(keep, F_GETFD) & FD_CLOEXEC, 0, "survives exec");
	cr_assert_eq(fcntl(ce, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	cr_assert_eq(fcntl(ipcc_system_fd(sys), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC,
		     "the handle's own is O_CLOEXEC");
	cr_assert_eq(fstat(keep, &a), 0);
	cr_assert_eq(fstat(ipcc_system_fd(sys), &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	ipcc_system_close(sys);
	/* The caller's descriptors outlive the handle. */
	struct ipcc_system *again = NULL;
	cr_assert_eq(ipcc_system_open_fd(keep, 0, &again), 0);
	close(keep);
	close(ce);
	ipcc_system_close(again);
	cr_assert_eq(ipcc_system_dup_fd(NULL, true), -EINVAL);
	cr_assert_eq(ipcc_system_fd(NULL), -EINVAL);
}

Test(anon, open_fd_refuses_bad_descriptors_and_files_that_are_not_sealed, .fini = test_cleanup)
{
	int before = fd_count();
	expect_open_fd(-1, 0, -EBADF, "negative");
	expect_open_fd(1000, 0, -EBADF, "not open");
	struct ipcc_system *s = NULL;
	cr_assert_eq(ipcc_system_open_fd(0, 0x80, &s), -EINVAL, "unknown flag");
	cr_assert_eq(ipcc_system_open_fd(0, 0, NULL), -EINVAL);

	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	expect_open_fd(p[0], 0, -EPROTO, "a pipe");
	close(p[0]);
	close(p[1]);
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	expect_open_fd(sp[0], 0, -EPROTO, "a socket");
	close(sp[0]);
	close(sp[1]);
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	expect_open_fd(dir, IPCC_OPEN_READONLY, -EISDIR, "a directory");
	close(dir);
	int dev = open("/dev/null", O_RDWR | O_CLOEXEC);
	expect_open_fd(dev, 0, -EPROTO, "a device");
	close(dev);

	/* A real object's bytes, but in a memfd anyone may still shrink. */
	size_t size;
	void *bytes = real_bytes(&size);
	int fd = memfd_with(bytes, size, (off_t)size, 0);
	expect_open_fd(fd, 0, -EBADFD, "not sealed");
	close(fd);
	fd = memfd_with(bytes, size, (off_t)size, F_SEAL_GROW);
	expect_open_fd(fd, 0, -EBADFD, "sealed against growing only");
	close(fd);
	fd = memfd_with(bytes, size, (off_t)size, F_SEAL_SHRINK | F_SEAL_WRITE);
	expect_open_fd(fd, 0, -EACCES, "sealed against writing");
	struct ipcc_system *ok = NULL;
	cr_assert_eq(ipcc_system_open_fd(fd, IPCC_OPEN_READONLY, &ok), 0, "it can be observed");
	ipcc_system_close(ok);
	close(fd);
	fd = memfd_with(bytes, size, (off_t)size, F_SEAL_SHRINK);
	cr_assert_eq(ipcc_system_open_fd(fd, 0, &ok), 0, "sealed against shrinking: accepted");
	ipcc_system_close(ok);
	close(fd);
	free(bytes);

	/* A named system's descriptor cannot be sealed: open it by its name. */
	struct ipcc_system *named = test_system(NULL);
	expect_open_fd(ipcc_system_fd(named), 0, -EBADFD, "a named object");
	ipcc_system_close(named);
	cr_assert_eq(fd_count(), before, "every refusal closed what it opened");
}

Test(anon, open_fd_validates_the_contents_like_a_named_open)
{
	size_t size;
	uint8_t *bytes = real_bytes(&size);
	struct ipcc_shm_header *h = (struct ipcc_shm_header *)bytes;
	int fd;

	fd = memfd_with(NULL, 0, 0, F_SEAL_SHRINK);
	expect_open_fd(fd, 0, -EAGAIN, "empty");
	close(fd);
	fd = memfd_with(bytes, 100, 100, F_SEAL_SHRINK);
	expect_open_fd(fd, 0, -EBADMSG, "shorter than a header");
	close(fd);
	fd = memfd_with(bytes, size - 64, (off_t)(size - 64), F_SEAL_SHRINK);
	expect_open_fd(fd, 0, -EBADMSG, "truncated");
	close(fd);
	fd = memfd_with("garbage!", 8, (off_t)size, F_SEAL_SHRINK);
	expect_open_fd(fd, 0, -EPROTO, "foreign magic");
	close(fd);
	h->layout_version = 99;
	fd = memfd_with(bytes, size, (off_t)size, F_SEAL_SHRINK);
	expect_open_fd(fd, 0, -EPROTONOSUPPORT, "another layout version");
	close(fd);
	h->layout_version = IPCC_LAYOUT_VERSION;
	h->channels = 40;
	fd = memfd_with(bytes, size, (off_t)size, F_SEAL_SHRINK);
	expect_open_fd(fd, 0, -EUCLEAN, "corrupt geometry");
	close(fd);
	h->channels = 6;
	h->state = IPCC_STATE_BUILDING;
	fd = memfd_with(bytes, size, (off_t)size, F_SEAL_SHRINK);
	expect_open_fd(fd, 0, -EAGAIN, "still being built");
	close(fd);
	free(bytes);
}

Test(anon, open_fd_needs_the_access_mode_it_asks_for)
{
	struct ipcc_system *sys = anon(), *ro = NULL;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ipcc_system_fd(sys));
	int rdonly = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(rdonly, 0);
	expect_open_fd(rdonly, 0, -EACCES, "read-only descriptor, read-write open");
	cr_assert_eq(ipcc_system_open_fd(rdonly, IPCC_OPEN_READONLY, &ro), 0);
	cr_assert(ipcc_system_readonly(ro));
	struct ipcc_cpu *c = NULL;
	cr_assert_eq(ipcc_cpu_attach(ro, 0, NULL, &c), -EROFS);
	ipcc_system_close(ro);
	close(rdonly);
	ipcc_system_close(sys);
}

Test(anon, another_user_s_object_needs_any_owner)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give the object to another user (fchown)");
	struct ipcc_system *sys = anon(), *other = NULL;
	cr_assert_eq(fchown(ipcc_system_fd(sys), 12345, 12345), 0);
	expect_open_fd(ipcc_system_fd(sys), 0, -EPERM, "another user's");
	cr_assert_eq(ipcc_system_open_fd(ipcc_system_fd(sys), IPCC_OPEN_ANY_OWNER, &other), 0);
	ipcc_system_close(other);
	cr_assert_eq(ipcc_system_open_fd(ipcc_system_fd(sys), IPCC_OPEN_READONLY, &other), 0);
	ipcc_system_close(other);
	ipcc_system_close(sys);
}

/* ---- over a UNIX socket ---- */

Test(anon, a_system_sent_over_a_socket_is_the_same_object)
{
	struct ipcc_system *sys = anon(), *got = NULL;
	int sp[2];
	struct stat a, b;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	int before = fd_count();
	cr_assert_eq(ipcc_system_send_fd(sys, sp[0]), 0);
	cr_assert_eq(ipcc_system_recv_fd(sp[1], 0, &got), 0);
	cr_assert_eq(fd_count(), before + 1, "only the handle's own descriptor is left");
	cr_assert_eq(fstat(ipcc_system_fd(sys), &a), 0);
	cr_assert_eq(fstat(ipcc_system_fd(got), &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_eq(fcntl(ipcc_system_fd(got), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ipcc_system_close(got);
	ipcc_system_close(sys);
	close(sp[0]);
	close(sp[1]);
}

/* Send one byte with n descriptors of `fd` attached. */
static void send_raw(int sock, char byte, int fd, unsigned n)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[4] = { fd, fd, fd, fd };
	memset(&ctl, 0, sizeof(ctl));
	if (n) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	cr_assert_eq(sendmsg(sock, &msg, 0), 1);
}

Test(anon, recv_refuses_messages_that_are_not_one_system_and_closes_what_came)
{
	struct ipcc_system *sys = anon(), *got = (struct ipcc_system *)&got;
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	int before = fd_count();
	send_raw(sp[0], 'S', -1, 0);
	cr_assert_eq(ipcc_system_recv_fd(sp[1], 0, &got), -EBADMSG, "no descriptor");
	send_raw(sp[0], 'S', ipcc_system_fd(sys), 3);
	cr_assert_eq(ipcc_system_recv_fd(sp[1], 0, &got), -EBADMSG, "three descriptors");
	send_raw(sp[0], 'x', ipcc_system_fd(sys), 1);
	cr_assert_eq(ipcc_system_recv_fd(sp[1], 0, &got), -EBADMSG, "another exchange");
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	send_raw(sp[0], 'S', p[0], 1);
	cr_assert_eq(ipcc_system_recv_fd(sp[1], 0, &got), -EPROTO, "a pipe, checked as one");
	close(p[0]);
	close(p[1]);
	cr_assert_eq(fd_count(), before, "every descriptor that came was closed");
	close(sp[0]);
	cr_assert_eq(ipcc_system_recv_fd(sp[1], 0, &got), -ECONNRESET, "the sender left");
	cr_assert_eq(got, (struct ipcc_system *)&got, "no output on failure");
	close(sp[1]);
	cr_assert_eq(ipcc_system_recv_fd(-1, 0, &got), -EINVAL);
	cr_assert_eq(ipcc_system_send_fd(sys, -1), -EINVAL);
	cr_assert_eq(ipcc_system_send_fd(NULL, 0), -EINVAL);
	ipcc_system_close(sys);
}

Test(anon, recv_on_an_empty_non_blocking_socket_is_eagain)
{
	struct ipcc_system *got = NULL;
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp), 0);
	cr_assert_eq(ipcc_system_recv_fd(sp[1], 0, &got), -EAGAIN);
	close(sp[0]);
	close(sp[1]);
}
