/* SPDX-License-Identifier: MIT */
/*
 * The eventfd exchange against hostile processes (issue 15): the rendezvous socket of an
 * eventfd-mode CPU and the answers a ringer accepts (lib/bell/bell-eventfd.c).
 *
 * - A squatter binds every abstract name a predictable scheme would use (and more): attaching in
 *   eventfd mode still works, over and over, and ringers still get the fd. The squatter runs as
 *   `nobody` when the test runs as root (it has no access to the object, the case of the issue),
 *   as our own uid otherwise.
 *
 * getrandom is interposed by this executable (the library is linked statically into it) so that
 * a test can make the owner draw a token that a squatter already holds.
 */
#include <pwd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "event-test.h"

#include "bell/bell.h"

#define BUFFER	 64u
#define ATTACHES 20u
/* Generations of the old names a squatter takes: beyond every attach of a test here. */
#define SQUAT_GENS 64u

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
