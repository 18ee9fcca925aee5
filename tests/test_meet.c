/* SPDX-License-Identifier: MIT */
/*
 * Independent processes meeting on one name (ipcc_system_open_or_create), and whose object a
 * process joins (another user's is refused unless asked for).
 */
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>

#include "ipcc-test.h"

static void teardown(void)
{
	test_cleanup();
}

/* A config of another shape than the defaults. */
static void config_other(struct ipcc_config *cfg)
{
	ipcc_config_init(cfg);
	cfg->channels = 3;
	cfg->buffer_size = 64;
}

/* In a child: meet on `name`, attach CPU `id`, exchange one message with the other. */
static int meet_child(const char *name, unsigned id, int fd_created)
{
	struct ipcc_system *s = NULL;
	struct ipcc_cpu *c = NULL;
	char buf[8];
	alarm(20);
	int created = ipcc_system_open_or_create(name, NULL, 0, &s);
	if (created < 0)
		return 10 + -created > 255 ? 255 : 10 + -created;
	char b = (char)created;
	if (write(fd_created, &b, 1) != 1)
		return 2;
	if (ipcc_cpu_attach(s, id, NULL, &c) < 0)
		return 3;
	int r = id == 0 ? ipcc_send(c, 1, 0, "hi", 3, 10 * 1000000000LL)
			: ipcc_recv(c, 0, 0, buf, sizeof(buf), 10 * 1000000000LL);
	if (r < 0)
		return 4;
	if (id == 1 && strcmp(buf, "hi"))
		return 5;
	ipcc_cpu_detach(c);
	ipcc_system_close(s);
	return 0;
}

/*
 * Two programs started at the same moment, many times over: exactly one creates, the other
 * opens the same object (never a half-built one, never -EEXIST or -EAGAIN), and they talk.
 */
Test(meet, two_processes_started_at_once_meet_on_one_object, .fini = teardown, .timeout = 100)
{
	for (unsigned round = 0; round < 40; round++) {
		const char *name = test_name();
		int p[2];
		cr_assert_eq(pipe(p), 0);
		pid_t pid[2];
		for (unsigned i = 0; i < 2; i++) {
			pid[i] = fork();
			cr_assert_geq(pid[i], 0);
			if (pid[i] == 0) {
				close(p[0]);
				_exit(meet_child(name, i, p[1]));
			}
		}
		close(p[1]);
		unsigned creators = 0;
		for (unsigned i = 0; i < 2; i++) {
			int status;
			cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
			cr_assert(WIFEXITED(status), "round %u: child %u died: 0x%x", round, i,
				  status);
			int code = WEXITSTATUS(status);
			cr_assert_eq(code, 0, "round %u: child %u failed with %d%s%s", round, i,
				     code, code > 10 ? ": " : "",
				     code > 10 ? strerror(code - 10) : "");
		}
		char b;
		while (read(p[0], &b, 1) == 1)
			creators += b == 1;
		close(p[0]);
		cr_assert_eq(creators, 1, "round %u: %u creators", round, creators);
		cr_assert_eq(ipcc_system_unlink(name), 0);
		test_cleanup(); /* the names of this round */
	}
}

Test(meet, open_or_create_creates_then_opens_the_same_object, .fini = teardown)
{
	const char *name = test_name();
	struct ipcc_system *a = NULL, *b = NULL;
	cr_assert_eq(ipcc_system_open_or_create(name, NULL, 0, &a), 1, "created");
	cr_assert_eq(ipcc_system_open_or_create(name, NULL, 0, &b), 0, "opened");
	cr_assert_eq(ipcc_system_size(a), ipcc_system_size(b));
	ipcc_system_close(b);
	ipcc_system_close(a);
}

/* A stale object of another shape under the name is refused, not used, and left alone. */
Test(meet, open_or_create_refuses_an_object_of_another_shape_with_eexist, .fini = teardown)
{
	const char *name = test_name();
	struct ipcc_config other, named;
	struct ipcc_system *s = NULL, *const marker = (struct ipcc_system *)&s;
	config_other(&other);
	cr_assert_eq(ipcc_system_create(name, &other, &s), 0);
	ipcc_system_close(s);
	s = marker;
	cr_assert_eq(ipcc_system_open_or_create(name, NULL, 0, &s), -EEXIST);
	cr_assert_eq(s, marker, "a refused open wrote its output");
	cr_assert(test_shm_exists(name), "the stale object was removed");
	/* Same geometry, other CPU names: another system too. */
	ipcc_config_init(&named);
	cr_assert_eq(ipcc_config_set_cpu_name(&named, 0, "m4"), 0);
	cr_assert_eq(ipcc_system_open_or_create(name, &other, 0, &s), 0, "its own shape opens");
	ipcc_system_close(s);
	ipcc_config_set_cpu_name(&other, 0, "m4");
	s = marker;
	cr_assert_eq(ipcc_system_open_or_create(name, &other, 0, &s), -EEXIST, "names differ");
	cr_assert_eq(s, marker);
}

/* A creator that died half-way leaves an object that stays "being built": a bounded -EAGAIN. */
Test(meet, open_or_create_gives_up_on_an_object_that_is_never_finished, .fini = teardown,
     .timeout = 30)
{
	const char *name = test_name();
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600); /* empty: "not ready" */
	cr_assert_geq(fd, 0);
	close(fd);
	struct ipcc_system *s = NULL;
	cr_assert_eq(ipcc_system_open_or_create(name, NULL, 0, &s), -EAGAIN);
}

Test(meet, open_or_create_validates_its_arguments, .fini = teardown)
{
	struct ipcc_system *s = NULL;
	cr_assert_eq(ipcc_system_open_or_create("bad", NULL, 0, &s), -EINVAL);
	cr_assert_eq(ipcc_system_open_or_create(test_name(), NULL, 0, NULL), -EINVAL);
	cr_assert_eq(ipcc_system_open_or_create(test_name(), NULL, IPCC_OPEN_READONLY, &s),
		     -EINVAL);
}

/* ---- another user's object ---- */

/* As root: an object created by `nobody` (a libipcc header, a mode that lets root write). */
static const char *foreign_object(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to create an object as another user");
	struct passwd *pw = getpwnam("nobody");
	if (!pw)
		cr_skip_test("no user 'nobody' here");
	const char *name = test_name();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ipcc_config cfg;
		struct ipcc_system *s;
		ipcc_config_init(&cfg);
		cfg.mode = 0666;
		if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			_exit(1);
		_exit(ipcc_system_create(name, &cfg, &s) < 0 ? 2 : 0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nobody's create: 0x%x", status);
	return name;
}

Test(owner, an_object_owned_by_another_user_is_refused_with_eperm, .fini = teardown)
{
	const char *name = foreign_object();
	expect_open(name, -EPERM, "nobody's object");
	struct ipcc_system *s = NULL;
	cr_assert_eq(ipcc_system_open_or_create(name, NULL, 0, &s), -EPERM);
}

Test(owner, any_owner_opens_another_users_object_on_purpose, .fini = teardown)
{
	const char *name = foreign_object();
	struct ipcc_system *s = NULL;
	cr_assert_eq(ipcc_system_open_flags(name, IPCC_OPEN_ANY_OWNER, &s), 0);
	struct ipcc_cpu *c = test_attach(s, 0);
	ipcc_cpu_detach(c);
	ipcc_system_close(s);
	s = NULL;
	cr_assert_eq(ipcc_system_open_or_create(name, NULL, IPCC_OPEN_ANY_OWNER, &s), 0);
	ipcc_system_close(s);
}

/* The observer's path: ipcc info reads any object its permissions let it read. */
Test(owner, a_read_only_observer_may_read_another_users_object, .fini = teardown)
{
	const char *name = foreign_object();
	struct ipcc_system *s = NULL;
	cr_assert_eq(ipcc_system_open_flags(name, IPCC_OPEN_READONLY, &s), 0);
	cr_assert_eq(ipcc_system_cpus(s), 2);
	ipcc_system_close(s);
}
