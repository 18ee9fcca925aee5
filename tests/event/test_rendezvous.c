/* SPDX-License-Identifier: MIT */
/*
 * The eventfd exchange against hostile processes (issue 15): the rendezvous socket of an
 * eventfd-mode CPU and the answers a ringer accepts (lib/bell/bell-eventfd.c).
 *
 * - A squatter binds every abstract name a predictable scheme would use (and more): attaching in
 *   eventfd mode still works, over and over, and ringers still get the fd. The squatter runs as
 *   `nobody` when the test runs as root (it has no access to the object, the case of the issue),
 *   as our own uid otherwise.
 * - A fake fd server of our uid, holding the CPU, answers the ringer's request with many
 *   descriptors, or with one that is no eventfd: the ringer refuses the answer and its fd count
 *   does not grow; every ring still wakes the CPU through the fallback; a proper answer is kept.
 *
 * getrandom is interposed by this executable (the library is linked statically into it) so that
 * a test can make the owner draw a token that a squatter already holds.
 */
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "event-test.h"

#include "bell/bell.h"

#define BUFFER	 64u
#define ATTACHES 20u
/* Generations of the old names a squatter takes: beyond every attach of a test here. */
#define SQUAT_GENS 64u
#define ROUNDS	   12u

/* ---- a rigged getrandom ------------------------------------------------------------- */

static const uint64_t rigged_token[2] = { 0x5157415454455253ull, 0x5a5a5a5a5a5a5a5aull };
/* Calls of getrandom left that return rigged_token instead of random bytes. */
static _Atomic unsigned rigged;

ssize_t getrandom(void *buf, size_t len, unsigned flags)
{
	/* Relaxed: set by the test thread before the attach that draws. */
	unsigned left = atomic_load_explicit(&rigged, memory_order_relaxed);
	if (left && len == sizeof(rigged_token)) {
		atomic_store_explicit(&rigged, left - 1, memory_order_relaxed);
		memcpy(buf, rigged_token, len);
		return (ssize_t)len;
	}
	return syscall(SYS_getrandom, buf, len, flags);
}

/* ---- fixture ------------------------------------------------------------------------ */

static struct ipcc_system *sys;
static struct ipcc_cpu *cpu, *cpu0;

static void teardown(void)
{
	atomic_store(&rigged, 0);
	ev_fixture_teardown(&sys, &cpu, &cpu0);
}

TestSuite(rendezvous, .fini = teardown, .timeout = 60);

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;
	cr_assert_not_null(d, "opendir(/proc/self/fd): %s", strerror(errno));
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ---- the squatter ------------------------------------------------------------------- */

static bool squat(const struct sockaddr_un *sa, socklen_t len)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return false;
	if (bind(s, (const struct sockaddr *)sa, len) < 0 || listen(s, 1) < 0) {
		close(s);
		return errno == EADDRINUSE; /* taken already: taken all the same */
	}
	return true; /* kept open until the squatter is killed */
}

/* The name of CPU id, generation gen of object obj in the scheme before tokens. */
static bool squat_old_name(const char *obj, unsigned id, unsigned gen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "libipcc:%s:%u:%u", obj, id,
			 gen);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path) - 1)
		return false;
	return squat(&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n));
}

/*
 * In the squatter, without the library's state: the names the exchange used before it had
 * tokens ("libipcc:<object>:<cpu>:<generation>"), with and without the object's slash, for
 * every CPU and generation a test here reaches; the token names of trivial tokens; and the name
 * of rigged_token. Then "ready" on stdout and a sleep until the test kills it.
 */
static int squatter_main(void *arg)
{
	const char *obj = arg;
	bool ok = true;
	for (unsigned id = 0; id < 2; id++)
		for (unsigned gen = 0; gen < SQUAT_GENS; gen++) {
			ok &= squat_old_name(obj, id, gen);
			ok &= squat_old_name(obj + 1, id, gen);
		}
	const uint64_t trivial[][2] = { { 0, 0 }, { ~0ull, ~0ull }, { 1, 0 }, { 0, 1 } };
	struct sockaddr_un sa;
	for (unsigned i = 0; i < sizeof(trivial) / sizeof(trivial[0]); i++)
		ok &= squat(&sa, ipcc_bell_efd_name(trivial[i], &sa));
	ok &= squat(&sa, ipcc_bell_efd_name(rigged_token, &sa));
	printf("%s\n", ok ? "ready" : "failed");
	fflush(stdout);
	if (!ok)
		return 1;
	for (;;)
		pause();
}

/* The squatter: `nobody` when we are root and it exists, our uid otherwise. */
static struct ev_child *spawn_squatter(const char *obj)
{
	struct passwd *pw = geteuid() == 0 ? getpwnam("nobody") : NULL;
	struct ev_child *c =
		ev_fork_fn(squatter_main, (void *)obj, pw ? pw->pw_uid : (uid_t)-1, true);
	char line[64];
	cr_assert(ev_read_line(c, line, sizeof(line), 10 * EV_SEC), "the squatter never got ready");
	cr_assert_str_eq(line, "ready", "the squatter could not bind its names");
	return c;
}

/* ---- squatting ---------------------------------------------------------------------- */

Test(rendezvous, a_squatter_on_every_predictable_name_cannot_make_an_eventfd_attach_fail)
{
	const char *name = ev_name();
	sys = ev_create(name, BUFFER, 0600);
	spawn_squatter(name);

	for (unsigned i = 0; i < ATTACHES; i++) {
		int r = ev_attach(sys, 1, IPCC_WAIT_EVENTFD, &cpu);
		cr_assert_eq(r, 0, "eventfd attach %u beside the squatter: %s", i, strerror(-r));
		ipcc_cpu_detach(cpu);
		cpu = NULL;
	}
	for (unsigned id = 0; id < 2; id++) {
		int r = ev_attach(sys, id, IPCC_WAIT_EVENTFD, id ? &cpu : &cpu0);
		cr_assert_eq(r, 0, "eventfd attach of CPU %u beside the squatter: %s", id,
			     strerror(-r));
	}
}

Test(rendezvous, an_owner_that_draws_a_taken_name_draws_again)
{
	const char *name = ev_name();
	sys = ev_create(name, BUFFER, 0600);
	spawn_squatter(name);

	/* The first draws name what the squatter holds. */
	atomic_store(&rigged, IPCC_BELL_EFD_BIND_TRIES - 1);
	int r = ev_attach(sys, 1, IPCC_WAIT_EVENTFD, &cpu);
	cr_assert_eq(r, 0, "attach after %u taken names: %s", IPCC_BELL_EFD_BIND_TRIES - 1,
		     strerror(-r));
	cr_assert_eq(atomic_load(&rigged), 0, "the taken names were not all drawn");
	ipcc_cpu_detach(cpu);
	cpu = NULL;

	/* Every draw taken: the attach gives up, boundedly, and the CPU stays free. */
	atomic_store(&rigged, IPCC_BELL_EFD_BIND_TRIES);
	r = ev_attach(sys, 1, IPCC_WAIT_EVENTFD, &cpu);
	cr_assert_eq(r, -EADDRINUSE, "attach with every draw taken: %d", r);
	cr_assert_null(cpu);
	r = ev_attach(sys, 1, IPCC_WAIT_EVENTFD, &cpu);
	cr_assert_eq(r, 0, "attach once the draws are random again: %s", strerror(-r));
}

/*
 * With the squatter still there, a ringer of our uid obtains the eventfd of an attach that
 * drew its name more than once, and then rings it without the fallback.
 */
Test(rendezvous, beside_a_squatter_rings_reach_the_cpu_without_the_fallback_once_the_fd_is_held)
{
	const char *name = ev_name();
	sys = ev_create(name, BUFFER, 0600);
	spawn_squatter(name);
	atomic_store(&rigged, 2);
	int r = ev_attach(sys, 1, IPCC_WAIT_EVENTFD, &cpu);
	cr_assert_eq(r, 0, "attach of CPU 1: %s", strerror(-r));
	r = ev_attach(sys, 0, IPCC_WAIT_FUTEX, &cpu0);
	cr_assert_eq(r, 0, "attach of CPU 0: %s", strerror(-r));
	uint32_t fallbacks = ev_rings_counted(cpu0, cpu, 0, 50);
	cr_assert_leq(fallbacks, 2, "%u of 50 rings fell back: the ringer never got the eventfd",
		      fallbacks);
}

/* ---- a fake fd server ----------------------------------------------------------------- */

/* How the fake server answers in a round. */
enum answer {
	ANSWER_MANY,   /* 16 descriptors: more than the ringer has room for (MSG_CTRUNC) */
	ANSWER_TWO,    /* two descriptors, both fit */
	ANSWER_MAX,    /* as many as one message may carry */
	ANSWER_PIPE,   /* one descriptor that is no eventfd: a pipe without a reader */
	ANSWER_SOCKET, /* one read-write, non-blocking descriptor: a socket without a peer */
	ANSWER_KINDS,  /* the number of bad kinds, cycled through */
	ANSWER_PROPER = ANSWER_KINDS, /* the last round: one eventfd, as the library answers */
};

static const char *const answer_names[] = { "16 descriptors", "two descriptors", "253 descriptors",
					    "a pipe", "a socket" };

#define SCM_FDS_MAX 253 /* the kernel's limit per message (SCM_MAX_FD) */

static int send_fds(int s, const int *fds, unsigned n)
{
	char byte = 'E';
	union {
		char buf[CMSG_SPACE(SCM_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return sendmsg(s, &mh, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* A descriptor whose write raises SIGPIPE: a pipe's write end or a socket, peer closed. */
static int send_broken(int s, enum answer kind)
{
	int p[2];
	int r = kind == ANSWER_PIPE
			? pipe2(p, O_CLOEXEC | O_NONBLOCK)
			: socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, p);
	if (r < 0)
		return -errno;
	close(p[0]);
	r = send_fds(s, &p[1], 1);
	close(p[1]);
	return r;
}

static int answer(int s, enum answer kind, int efd)
{
	int fds[SCM_FDS_MAX];
	unsigned n = kind == ANSWER_MANY ? 16 : kind == ANSWER_TWO ? 2 : SCM_FDS_MAX;
	if (kind == ANSWER_PROPER)
		return send_fds(s, &efd, 1);
	if (kind == ANSWER_PIPE || kind == ANSWER_SOCKET)
		return send_broken(s, kind);
	for (unsigned i = 0; i < n; i++)
		fds[i] = efd;
	return send_fds(s, fds, n);
}

static int ctl_send(int ctl, char c)
{
	return write(ctl, &c, 1) == 1 ? 0 : -EIO;
}

/* The next byte from the other side within 10 s, or 0. */
static char ctl_recv(int ctl)
{
	struct pollfd pfd = { .fd = ctl, .events = POLLIN };
	char c;
	if (poll(&pfd, 1, 10000) != 1 || read(ctl, &c, 1) != 1)
		return 0;
	return c;
}

struct fake {
	const char *name;
	int ctl;
};

/*
 * The fake server, a forked child of our uid: it holds CPU 1 (futex mode: the library runs no
 * fd server for it) and, each round, acts as an eventfd-mode owner of a new generation: listens
 * under a published token (the library's own ipcc_bell_efd_listen), arms, and answers the
 * ringer's request its own way. Exit status: the step that failed.
 */
static int fake_main(void *arg)
{
	struct fake *f = arg;
	struct ipcc_system *s = NULL;
	struct ipcc_cpu *c = NULL;
	if (ipcc_system_open(f->name, &s) < 0)
		return 10;
	struct ipcc_cpu_options o;
	ipcc_cpu_options_init(&o);
	o.wait = IPCC_WAIT_FUTEX;
	if (ipcc_cpu_attach(s, 1, &o, &c) < 0)
		return 11;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return 12;
	for (unsigned round = 0; round <= ROUNDS; round++) {
		/* Release: a new generation, as a claim makes it (lib/region/cpu.c). */
		atomic_fetch_add_explicit(&c->shm->generation, 1, memory_order_release);
		int l = ipcc_bell_efd_listen(c);
		if (l < 0)
			return 13;
		ipcc_bell_arm_eventfd(c);
		if (ctl_send(f->ctl, 'r') < 0)
			return 14;
		struct pollfd pfd = { .fd = l, .events = POLLIN };
		if (poll(&pfd, 1, 10000) != 1)
			return 15; /* the ringer never asked */
		int conn = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			return 16;
		enum answer kind =
			round == ROUNDS ? ANSWER_PROPER : (enum answer)(round % ANSWER_KINDS);
		if (answer(conn, kind, efd) < 0)
			return 17;
		close(conn);
		ipcc_bell_arm_eventfd(c);
		if (ctl_send(f->ctl, 'a') < 0 || ctl_recv(f->ctl) != 'd')
			return 18;
		close(l);
	}
	/* The last answer was kept: the ring that took it wrote our eventfd, not the fallback. */
	uint64_t v = 0;
	if (read(efd, &v, sizeof(v)) != sizeof(v) || v != 1)
		return 19;
	ipcc_cpu_detach(c);
	ipcc_system_close(s);
	return 0;
}

Test(rendezvous, answers_with_extra_or_wrong_descriptors_are_refused_and_closed_by_the_ringer)
{
	const char *name = ev_name();
	sys = ev_create(name, BUFFER, 0600);
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	struct fake f = { .name = name, .ctl = sp[1] };
	struct ev_child *child = ev_fork(fake_main, &f);
	close(sp[1]);
	int ctl = sp[0];

	unsigned fds0 = count_fds();
	uint32_t fb0 = ev_fallback_rings(sys, 1);
	for (unsigned round = 0; round <= ROUNDS; round++) {
		cr_assert_eq(ctl_recv(ctl), 'r', "round %u: the fake server is not listening",
			     round);
		/* The request (it falls back), then, once answered, the ring that takes the answer:
		 * a SIGPIPE there means the ringer kept a pipe or a socket and wrote it. */
		ipcc_bell_ring(sys, 1, 0);
		cr_assert_eq(ctl_recv(ctl), 'a', "round %u: the fake server did not answer", round);
		ipcc_bell_ring(sys, 1, 0); /* the last, proper, answer: writes the eventfd itself */
		cr_assert_eq(ctl_send(ctl, 'd'), 0);
		if (round == ROUNDS)
			break;
		int grown = (int)count_fds() - (int)fds0;
		cr_assert_eq(grown, 0, "round %u (%s): the ringer holds %d more descriptors", round,
			     answer_names[round % ANSWER_KINDS], grown);
		cr_assert_eq(ev_fallback_rings(sys, 1) - fb0, 2 * (round + 1),
			     "round %u: every ring of a refused ringer must still wake the CPU "
			     "through the fallback",
			     round);
	}
	ev_expect_exit0(child, 20 * EV_SEC, "the fake fd server");
	cr_assert_eq(ev_fallback_rings(sys, 1) - fb0, 2 * ROUNDS + 1,
		     "the ring that took the fd fell back");
	cr_assert_eq(count_fds(), fds0 + 1, "a proper answer: the ringer holds the eventfd");
	close(ctl);
}
