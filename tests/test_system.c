/* SPDX-License-Identifier: MIT */
/*
 * The system object (lib/region/system.c, geometry.c) and CPU claims (lib/region/cpu.c).
 *
 * The open-error tests build their objects with shm_open + ftruncate + pwrite directly, the
 * way a stale, foreign, half-created or damaged object would look, because open is the one
 * place where libipcc meets memory it did not write.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <ipcc/layout.h>

#include "ipcc-test.h"

static struct ipcc_system *sys;

static void teardown(void)
{
	ipcc_system_close(sys);
	test_cleanup();
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Expected object size, from the layout documented in <ipcc/layout.h>. */
static uint64_t layout_size(unsigned cpus, unsigned links, unsigned channels, uint32_t buffer)
{
	uint64_t slot = (sizeof(struct ipcc_shm_slot) + buffer + 63) / 64 * 64;
	return IPCC_SHM_HEADER_SIZE + (uint64_t)cpus * IPCC_SHM_CPU_SIZE +
	       (uint64_t)links * (IPCC_SHM_LINK_SIZE + 2ull * channels * slot);
}

/* ---- create, open, close, unlink ---- */

Test(system, create_open_close_unlink_round_trip, .fini = teardown)
{
	struct ipcc_config cfg;
	struct ipcc_system *other = NULL;

	ipcc_config_init(&cfg);
	cfg.cpus = 3;
	cfg.channels = 4;
	cfg.buffer_size = 256;
	cr_assert_eq(ipcc_config_link(&cfg, 2, 0, false), 0);
	const char *name = test_name();
	cr_assert_eq(ipcc_system_create(name, &cfg, &sys), 0);

	cr_assert_str_eq(ipcc_system_name(sys), name);
	cr_assert_eq(ipcc_system_cpus(sys), 3);
	cr_assert_eq(ipcc_system_channels(sys), 4);
	cr_assert_eq(ipcc_system_buffer_size(sys), 256);
	cr_assert_eq(ipcc_system_link_count(sys), 2);
	cr_assert_eq(ipcc_system_size(sys), layout_size(3, 2, 4, 256));
	cr_assert_eq((uint64_t)shm_size(name), ipcc_system_size(sys));
	cr_assert(ipcc_system_linked(sys, 0, 1));
	cr_assert(ipcc_system_linked(sys, 2, 1), "either order");
	cr_assert_not(ipcc_system_linked(sys, 0, 2));
	cr_assert_not(ipcc_system_linked(sys, 1, 1));
	cr_assert_not(ipcc_system_linked(sys, 1, 3), "out of range");

	/* A second opener sees the same geometry and the same state. */
	cr_assert_eq(ipcc_system_open(name, &other), 0);
	cr_assert_str_eq(ipcc_system_name(other), name);
	cr_assert_eq(ipcc_system_cpus(other), 3);
	cr_assert_eq(ipcc_system_channels(other), 4);
	cr_assert_eq(ipcc_system_buffer_size(other), 256);
	cr_assert_eq(ipcc_system_link_count(other), 2);
	cr_assert_eq(ipcc_system_size(other), ipcc_system_size(sys));
	cr_assert_not(ipcc_system_linked(other, 2, 0));
	struct ipcc_regs *w = test_regs(sys, 1, 2), *r = test_regs(other, 1, 2);
	test_wr(w, IPCC_C2SCR, IPCC_SCR_CHS(3));
	cr_assert_eq(test_rd(r, IPCC_C2TOC1SR), IPCC_SR_CHF(3));
	ipcc_regs_close(w);

	/* Closing the creator does not destroy the object... */
	ipcc_system_close(sys);
	sys = NULL;
	cr_assert_eq(test_rd(r, IPCC_C2TOC1SR), IPCC_SR_CHF(3));
	cr_assert_eq(ipcc_system_open(name, &sys), 0);
	/* ...unlink removes the name, while open handles keep working. */
	cr_assert_eq(ipcc_system_unlink(name), 0);
	cr_assert_not(test_shm_exists(name));
	test_wr(r, IPCC_C1SCR, IPCC_SCR_CHS(0));
	cr_assert_eq(test_rd(r, IPCC_C1TOC2SR), IPCC_SR_CHF(0));
	ipcc_regs_close(r);
	ipcc_system_close(other);

	struct ipcc_system *marker = (struct ipcc_system *)&cfg, *ret = marker;
	cr_assert_eq(ipcc_system_open(name, &ret), -ENOENT);
	cr_assert_eq(ret, marker, "a failed open wrote its output");
	cr_assert_eq(ipcc_system_unlink(name), -ENOENT);

	/* The name is free again: a new, independent object can take it. */
	cr_assert_eq(ipcc_system_create(name, NULL, &other), 0);
	struct ipcc_regs *fresh = test_regs(other, 0, 1);
	cr_assert_eq(test_rd(fresh, IPCC_C1TOC2SR), 0);
	ipcc_regs_close(fresh);
	ipcc_system_close(other);
}

Test(system, config_init_gives_the_documented_defaults)
{
	struct ipcc_config cfg;
	memset(&cfg, 0xA5, sizeof(cfg));
	ipcc_config_init(&cfg);
	cr_assert_eq(cfg.cpus, 2);
	cr_assert_eq(cfg.channels, 6);
	cr_assert_eq(cfg.buffer_size, 512);
	cr_assert_eq(cfg.mode, 0600);
	/* All pairs linked: every bit b > a of every word. */
	for (unsigned a = 0; a < IPCC_CPUS_MAX; a++)
		for (unsigned b = a + 1; b < IPCC_CPUS_MAX; b++)
			cr_assert((cfg.links[a] >> b) & 1, "pair (%u,%u) not linked", a, b);
	ipcc_config_init(NULL);
}

Test(system, create_without_config_uses_the_defaults, .fini = teardown)
{
	sys = test_system(NULL);
	cr_assert_eq(ipcc_system_cpus(sys), 2);
	cr_assert_eq(ipcc_system_channels(sys), 6);
	cr_assert_eq(ipcc_system_buffer_size(sys), 512);
	cr_assert_eq(ipcc_system_link_count(sys), 1);
	cr_assert(ipcc_system_linked(sys, 0, 1));
	cr_assert_eq(ipcc_system_size(sys), layout_size(2, 1, 6, 512));
}

Test(system, config_link_adds_and_removes_one_pair_in_either_order)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cr_assert_eq(ipcc_config_link(&cfg, 5, 3, false), 0);
	cr_assert_not((cfg.links[3] >> 5) & 1);
	cr_assert_eq(cfg.links[3], ~(1ull << 5), "only that pair");
	cr_assert_eq(ipcc_config_link(&cfg, 3, 5, true), 0);
	cr_assert_eq(cfg.links[3], ~0ull);
	cr_assert_eq(ipcc_config_link(&cfg, 0, 63, false), 0);
	cr_assert_eq(cfg.links[0], ~(1ull << 63));

	cr_assert_eq(ipcc_config_link(&cfg, 4, 4, true), -EINVAL);
	cr_assert_eq(ipcc_config_link(&cfg, 0, 64, true), -EINVAL);
	cr_assert_eq(ipcc_config_link(&cfg, 64, 0, true), -EINVAL);
	cr_assert_eq(ipcc_config_link(NULL, 0, 1, true), -EINVAL);
}

Test(system, geometry_at_the_limits_is_accepted, .fini = teardown)
{
	struct ipcc_config cfg;

	/* The most CPUs, fully meshed, with the smallest channels. */
	ipcc_config_init(&cfg);
	cfg.cpus = IPCC_CPUS_MAX;
	cfg.channels = IPCC_CHANNELS_MIN;
	cfg.buffer_size = IPCC_BUFFER_SIZE_MIN;
	sys = test_system(&cfg);
	cr_assert_eq(ipcc_system_link_count(sys), 64 * 63 / 2);
	cr_assert(ipcc_system_linked(sys, 62, 63));
	cr_assert_eq(ipcc_system_size(sys), layout_size(64, 2016, 1, 8));
	struct ipcc_regs *r = test_regs(sys, 62, 63);
	test_wr(r, IPCC_C2SCR, IPCC_SCR_CHS(0));
	cr_assert_eq(test_rd(r, IPCC_C2TOC1SR), 1);
	cr_assert_eq(test_rd(r, IPCC_HWCFGR), 1);
	ipcc_regs_close(r);
	ipcc_system_close(sys);

	/* The most channels with the largest buffers. */
	cfg.cpus = 2;
	cfg.channels = IPCC_CHANNELS_MAX;
	cfg.buffer_size = IPCC_BUFFER_SIZE_MAX;
	sys = test_system(&cfg);
	cr_assert_eq(ipcc_system_size(sys), layout_size(2, 1, 16, 1u << 20));
	struct ipcc_cpu *c = test_attach(sys, 1);
	uint8_t *buf;
	size_t size;
	cr_assert_eq(ipcc_chan_buffer(c, 0, 15, IPCC_DIR_RX, (void **)&buf, &size), 0);
	cr_assert_eq(size, 1u << 20);
	buf[size - 1] = 1; /* the last byte of the object's last buffer is mapped */
	ipcc_cpu_detach(c);
}

Test(system, an_existing_name_fails_with_eexist_and_stays_intact, .fini = teardown)
{
	struct ipcc_system *again = NULL;
	struct ipcc_config cfg;

	ipcc_config_init(&cfg);
	cfg.channels = 3;
	sys = test_system(&cfg);
	const char *name = ipcc_system_name(sys);
	struct ipcc_regs *r = test_regs(sys, 0, 1);
	test_wr(r, IPCC_C1SCR, IPCC_SCR_CHS(1));

	cr_assert_eq(ipcc_system_create(name, NULL, &again), -EEXIST);
	cr_assert_null(again);
	/* The failed create must neither unlink nor reinitialise the existing object. */
	cr_assert_eq(ipcc_system_open(name, &again), 0);
	cr_assert_eq(ipcc_system_channels(again), 3);
	struct ipcc_regs *r2 = test_regs(again, 0, 1);
	cr_assert_eq(test_rd(r2, IPCC_C1TOC2SR), IPCC_SR_CHF(1));
	ipcc_regs_close(r2);
	ipcc_regs_close(r);
	ipcc_system_close(again);

	/* The same for an object that is not ours. */
	const char *foreign = test_name();
	int fd = shm_open(foreign, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "not ipcc", 8, 0), 8);
	cr_assert_eq(ipcc_system_create(foreign, NULL, &again), -EEXIST);
	char text[9] = { 0 };
	cr_assert_eq(pread(fd, text, 8, 0), 8);
	cr_assert_str_eq(text, "not ipcc");
	close(fd);
}

Test(system, bad_names_fail_with_einval, .fini = teardown)
{
	char longest[IPCC_NAME_MAX + 2], too_long[IPCC_NAME_MAX + 3];
	struct ipcc_system *s = NULL;

	/* '/' then IPCC_NAME_MAX bytes is the longest valid name; one more is too long. */
	longest[0] = too_long[0] = '/';
	snprintf(longest + 1, sizeof(longest) - 1, "ipcc-test-%d-", (int)getpid());
	size_t used = strlen(longest);
	memset(longest + used, 'x', sizeof(longest) - 1 - used);
	longest[sizeof(longest) - 1] = '\0';
	memcpy(too_long, longest, sizeof(longest) - 1);
	too_long[sizeof(too_long) - 2] = 'y';
	too_long[sizeof(too_long) - 1] = '\0';
	cr_assert_eq(strlen(longest), 1 + IPCC_NAME_MAX);

	const char *bad[] = { NULL, "", "noslash", "/", "/a/b", "//", "/a/", "a/b", too_long };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *n = bad[i] ? bad[i] : "(null)";
		cr_assert_eq(ipcc_system_create(bad[i], NULL, &s), -EINVAL, "create %s", n);
		cr_assert_eq(ipcc_system_open(bad[i], &s), -EINVAL, "open %s", n);
		cr_assert_eq(ipcc_system_unlink(bad[i]), -EINVAL, "unlink %s", n);
		cr_assert_null(s);
	}
	cr_assert_not(test_shm_exists(too_long));
	cr_assert_eq(ipcc_system_create(test_name(), NULL, NULL), -EINVAL, "no output pointer");
	cr_assert_eq(ipcc_system_open(longest, NULL), -EINVAL);

	cr_assert_eq(ipcc_system_create(longest, NULL, &sys), 0, "the longest valid name");
	cr_assert_eq(ipcc_system_unlink(longest), 0);
}

/* POSIX leaves "." and ".." to the implementation: as names under /dev/shm they are the
 * directory itself and its parent (a create of "/.." meets /dev, an open may open it). */
Test(system, the_names_of_the_directory_and_its_parent_are_refused, .fini = teardown)
{
	const char *bad[] = { "/.", "/.." };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ipcc_system *s = (struct ipcc_system *)&s, *const marker = s;
		cr_assert_eq(ipcc_system_create(bad[i], NULL, &s), -EINVAL, "create %s", bad[i]);
		cr_assert_eq(ipcc_system_open(bad[i], &s), -EINVAL, "open %s", bad[i]);
		cr_assert_eq(ipcc_system_open_flags(bad[i], IPCC_OPEN_READONLY, &s), -EINVAL,
			     "read-only open %s", bad[i]);
		cr_assert_eq(ipcc_system_unlink(bad[i]), -EINVAL, "unlink %s", bad[i]);
		cr_assert_eq(s, marker, "%s: output written", bad[i]);
	}
	/* Names that only begin like them are ordinary names. */
	const char *name = test_name();
	char dotted[64];
	snprintf(dotted, sizeof(dotted), "/...%s", name + 1);
	cr_assert_eq(ipcc_system_create(dotted, NULL, &sys), 0, "%s", dotted);
	ipcc_system_close(sys);
	sys = NULL;
	cr_assert_eq(ipcc_system_unlink(dotted), 0);
}

/*
 * A create that fails after the name exists (here the resize: RLIMIT_FSIZE applies to
 * ftruncate on tmpfs, which fails with EFBIG once SIGXFSZ is ignored) removes the name again:
 * nobody may find a half-built object, and the name is free for the next try. In a child, so
 * that the limit and the signal disposition end with it.
 */
static int create_under_fsize_limit(const char *name, rlim_t limit)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { limit, limit };
		struct ipcc_config cfg;
		struct ipcc_system *s = (struct ipcc_system *)&s, *const marker = s;
		alarm(20);
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(200);
		ipcc_config_init(&cfg);
		cfg.buffer_size = 64 * 1024; /* 6 channels x 2 x 64 KiB: far above the limit */
		int r = ipcc_system_create(name, &cfg, &s);
		if (r == 0 || s != marker)
			_exit(201);
		_exit(-r < 200 ? -r : 202);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the creating child died: status 0x%x", status);
	cr_assert_neq(WEXITSTATUS(status), 200, "setrlimit failed");
	cr_assert_neq(WEXITSTATUS(status), 201, "create succeeded or wrote its output");
	return -WEXITSTATUS(status);
}

Test(system, a_create_that_fails_half_way_leaves_nothing_under_the_name, .fini = teardown)
{
	const char *name = test_name();
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cfg.buffer_size = 64 * 1024;
	uint64_t size = 0;
	cr_assert_eq(ipcc_config_size(&cfg, &size), 0);
	/* Room for the header's write, not for the resize: the failure is half-way. */
	cr_assert_gt(size, 64 * 1024);
	int r = create_under_fsize_limit(name, 64 * 1024);
	cr_assert_eq(r, -EFBIG, "the resize should fail with EFBIG, got %d (%s)", r, strerror(-r));
	cr_assert_not(test_shm_exists(name), "a failed create left the object behind");
	struct ipcc_system *s = NULL;
	cr_assert_eq(ipcc_system_open(name, &s), -ENOENT);
	/* The name is free: the same create without the limit succeeds. */
	cr_assert_eq(ipcc_system_create(name, &cfg, &sys), 0);
}

static void expect_config_rejected(const struct ipcc_config *cfg, const char *what)
{
	struct ipcc_system *s = (struct ipcc_system *)&s, *const marker = s;
	const char *name = test_name();
	int r = ipcc_system_create(name, cfg, &s);
	cr_assert_eq(r, -EINVAL, "%s: got %d", what, r);
	cr_assert_eq(s, marker, "%s: output written", what);
	cr_assert_not(test_shm_exists(name), "%s: left an object behind", what);
	cr_assert_eq(ipcc_system_open(name, &s), -ENOENT, "%s", what);
}

Test(system, configs_outside_the_limits_fail_with_einval_and_leave_nothing, .fini = teardown)
{
	struct ipcc_config cfg;
	const unsigned bad_cpus[] = { 0, 1, 65, UINT_MAX };
	const unsigned bad_channels[] = { 0, 17, UINT_MAX };
	const uint32_t bad_buffers[] = { 0, 7, (1u << 20) + 1, UINT32_MAX };
	char what[64];

	for (unsigned i = 0; i < sizeof(bad_cpus) / sizeof(bad_cpus[0]); i++) {
		ipcc_config_init(&cfg);
		cfg.cpus = bad_cpus[i];
		snprintf(what, sizeof(what), "cpus %u", bad_cpus[i]);
		expect_config_rejected(&cfg, what);
	}
	for (unsigned i = 0; i < sizeof(bad_channels) / sizeof(bad_channels[0]); i++) {
		ipcc_config_init(&cfg);
		cfg.channels = bad_channels[i];
		snprintf(what, sizeof(what), "channels %u", bad_channels[i]);
		expect_config_rejected(&cfg, what);
	}
	for (unsigned i = 0; i < sizeof(bad_buffers) / sizeof(bad_buffers[0]); i++) {
		ipcc_config_init(&cfg);
		cfg.buffer_size = bad_buffers[i];
		snprintf(what, sizeof(what), "buffer_size %u", bad_buffers[i]);
		expect_config_rejected(&cfg, what);
	}

	ipcc_config_init(&cfg);
	cfg.cpus = 3;
	ipcc_config_link(&cfg, 0, 1, false);
	ipcc_config_link(&cfg, 0, 2, false);
	ipcc_config_link(&cfg, 1, 2, false);
	expect_config_rejected(&cfg, "every link removed");

	/* Links only between CPUs that do not exist (ignored bits) are no links either. */
	memset(cfg.links, 0, sizeof(cfg.links));
	ipcc_config_link(&cfg, 0, 5, true);
	ipcc_config_link(&cfg, 3, 4, true);
	expect_config_rejected(&cfg, "links only beyond the CPU count");

	/* Each field in range, the product far beyond IPCC_SYSTEM_SIZE_MAX. */
	ipcc_config_init(&cfg);
	cfg.cpus = 64;
	cfg.channels = 16;
	cfg.buffer_size = 1u << 20;
	expect_config_rejected(&cfg, "64 CPUs x 16 channels x 1 MiB");
	cfg.cpus = 16; /* 120 links x 32 MiB: still above the limit */
	expect_config_rejected(&cfg, "16 CPUs x 16 channels x 1 MiB");

	ipcc_config_init(&cfg);
	cfg.mode = S_IFREG | 0600;
	expect_config_rejected(&cfg, "mode with file type bits");
	cfg.mode = 04755;
	expect_config_rejected(&cfg, "mode with the setuid bit");
	cfg.mode = 02770;
	expect_config_rejected(&cfg, "mode with the setgid bit");
	cfg.mode = 01777;
	expect_config_rejected(&cfg, "mode with the sticky bit");
}

static mode_t object_mode(const char *name)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

Test(system, the_object_gets_the_configured_mode_whatever_the_umask, .fini = teardown)
{
	struct ipcc_config cfg;

	/* The umask would strip group bits; the configured mode is what the user asked for. */
	mode_t old = umask(077);
	ipcc_config_init(&cfg);
	cfg.mode = 0640;
	sys = test_system(&cfg);
	mode_t got = object_mode(ipcc_system_name(sys));
	umask(old);
	cr_assert_eq(got, 0640, "mode 0%o", got);
	ipcc_system_close(sys);

	umask(0);
	sys = test_system(NULL);
	got = object_mode(ipcc_system_name(sys));
	umask(old);
	cr_assert_eq(got, 0600, "default mode 0%o, not widened by umask 0", got);
}

/* ---- open of damaged, foreign and unfinished objects ---- */

static struct ipcc_shm_header valid_header(void)
{
	struct ipcc_shm_header h;
	const char *name = real_object();
	int fd = shm_open(name, O_RDONLY, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	return h;
}

Test(system, open_of_a_missing_name_fails_with_enoent, .fini = teardown)
{
	struct ipcc_system *s = NULL;
	cr_assert_eq(ipcc_system_open(test_name(), &s), -ENOENT);
	cr_assert_null(s);
}

Test(system, open_of_an_empty_object_fails_with_eagain, .fini = teardown)
{
	/* What an opener sees between the creator's shm_open and its first write. */
	expect_open(raw_object(NULL, 0, 0), -EAGAIN, "empty object");
}

Test(system, open_of_an_object_still_building_fails_with_eagain, .fini = teardown)
{
	struct ipcc_shm_header h = valid_header();
	h.state = IPCC_STATE_BUILDING;
	/* Just the header, as create writes it before growing the object... */
	expect_open(raw_object(&h, sizeof(h), sizeof(h)), -EAGAIN, "header only, BUILDING");
	/* ...and at full size, before the READY store. */
	expect_open(raw_object(&h, sizeof(h), (off_t)h.total_size), -EAGAIN, "full, BUILDING");
}

Test(system, open_of_a_foreign_object_fails_with_eproto, .fini = teardown)
{
	char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)('a' + i % 26);
	expect_open(raw_object(junk, sizeof(junk), sizeof(junk)), -EPROTO, "text");
	/* A zero-filled object of a plausible size: zero is not the magic. */
	expect_open(raw_object(NULL, 0, 1 << 16), -EPROTO, "zeros");
	struct ipcc_shm_header h = valid_header();
	h.magic ^= 1ull << 63;
	expect_open(raw_object(&h, sizeof(h), (off_t)h.total_size), -EPROTO, "one magic bit off");
}

/* Anyone may make these in /dev/shm: a FIFO would block an open without O_NONBLOCK. */
Test(system, open_of_a_fifo_or_directory_fails_at_once_with_eproto_or_eisdir, .fini = teardown,
     .timeout = 10)
{
	struct ipcc_system *s = NULL;
	char path[128];
	const char *name = test_name();

	snprintf(path, sizeof(path), "/dev/shm%s", name);
	cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo: %s", strerror(errno));
	int rw = ipcc_system_open(name, &s);
	int ro = ipcc_system_open_flags(name, IPCC_OPEN_READONLY, &s);
	unlink(path);
	cr_assert_eq(rw, -EPROTO, "FIFO: %d", rw);
	cr_assert_eq(ro, -EPROTO, "FIFO, r/o: %d", ro);
	cr_assert_eq(mkdir(path, 0700), 0, "mkdir: %s", strerror(errno));
	rw = ipcc_system_open(name, &s);
	ro = ipcc_system_open_flags(name, IPCC_OPEN_READONLY, &s);
	rmdir(path);
	cr_assert_eq(rw, -EISDIR, "directory: %d", rw);
	cr_assert_eq(ro, -EISDIR, "directory, r/o: %d", ro);
	cr_assert_null(s);
}

Test(system, open_of_another_layout_version_fails_with_eprotonosupport, .fini = teardown)
{
	const uint32_t versions[] = { 0, IPCC_LAYOUT_VERSION + 1, UINT32_MAX };
	for (unsigned i = 0; i < 3; i++) {
		const char *name = real_object();
		patch_u32(name, offsetof(struct ipcc_shm_header, layout_version), versions[i]);
		char what[32];
		snprintf(what, sizeof(what), "version %u", versions[i]);
		expect_open(name, -EPROTONOSUPPORT, what);
	}
	/* A future layout that is still building is still another version. */
	struct ipcc_shm_header h = valid_header();
	h.layout_version = IPCC_LAYOUT_VERSION + 1;
	h.state = IPCC_STATE_BUILDING;
	expect_open(raw_object(&h, sizeof(h), (off_t)h.total_size), -EPROTONOSUPPORT,
		    "next version, building");
}

Test(system, open_of_a_truncated_object_fails_with_ebadmsg, .fini = teardown)
{
	const off_t sizes[] = { -1, -64, -4096, IPCC_SHM_HEADER_SIZE, IPCC_SHM_HEADER_SIZE - 1,
				16, 1 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *name = real_object();
		off_t full = shm_size(name);
		off_t size = sizes[i] < 0 ? full + sizes[i] : sizes[i];
		int fd = shm_open(name, O_RDWR, 0);
		cr_assert_geq(fd, 0);
		cr_assert_eq(ftruncate(fd, size), 0);
		close(fd);
		char what[48];
		snprintf(what, sizeof(what), "%lld of %lld bytes", (long long)size,
			 (long long)full);
		expect_open(name, -EBADMSG, what);
	}
}

/* Offset of a field of directory entry i (0 header, 1 cpus, 2 links in a default object). */
#define SECTION_FIELD(i, field)                                                               \
	(offsetof(struct ipcc_shm_header, sections) + (i) * sizeof(struct ipcc_shm_section) + \
	 offsetof(struct ipcc_shm_section, field))

Test(system, open_of_corrupt_geometry_fails_with_euclean, .fini = teardown)
{
	static const struct {
		const char *what;
		size_t offset;
		uint32_t value; /* written as a 32-bit word */
	} cases[] = {
		{ "channels 99", offsetof(struct ipcc_shm_header, channels), 99 },
		{ "channels 0", offsetof(struct ipcc_shm_header, channels), 0 },
		{ "channels 5 (offsets for 6)", offsetof(struct ipcc_shm_header, channels), 5 },
		{ "cpus 65", offsetof(struct ipcc_shm_header, cpus), 65 },
		{ "cpus 1", offsetof(struct ipcc_shm_header, cpus), 1 },
		{ "buffer_size 4", offsetof(struct ipcc_shm_header, buffer_size), 4 },
		{ "buffer_size 448 (another stride)", offsetof(struct ipcc_shm_header, buffer_size),
		  448 },
		{ "link_count 2", offsetof(struct ipcc_shm_header, link_count), 2 },
		{ "link_count 0", offsetof(struct ipcc_shm_header, link_count), 0 },
		{ "header_size 512", offsetof(struct ipcc_shm_header, header_size), 512 },
		{ "section_size 40", offsetof(struct ipcc_shm_header, section_size), 40 },
		{ "section_count 0", offsetof(struct ipcc_shm_header, section_count), 0 },
		{ "section_count 65", offsetof(struct ipcc_shm_header, section_count), 65 },
		{ "cpus stride 128", SECTION_FIELD(1, stride), 128 },
		{ "cpus count 3", SECTION_FIELD(1, count), 3 },
		{ "cpus offset", SECTION_FIELD(1, offset), 2048 },
		{ "links offset", SECTION_FIELD(2, offset), 64 },
		{ "links stride", SECTION_FIELD(2, stride), 256 },
		{ "links slot stride 64", SECTION_FIELD(2, arg), 64 },
		{ "links flags", SECTION_FIELD(2, flags), 1 },
		{ "total_size small", offsetof(struct ipcc_shm_header, total_size), 4096 },
		/* link_map[0]: bit 1 is the only pair of 2 CPUs; bit 2 is a CPU that is not there */
		{ "link_map bit above cpus", offsetof(struct ipcc_shm_header, link_map), 0x6 },
		{ "link_map without links", offsetof(struct ipcc_shm_header, link_map), 0 },
		{ "link_map a > b", offsetof(struct ipcc_shm_header, link_map) + 8, 0x1 },
		{ "state garbage", offsetof(struct ipcc_shm_header, state), 0x12345678 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = real_object();
		patch_u32(name, cases[i].offset, cases[i].value);
		expect_open(name, -EUCLEAN, cases[i].what);
	}
	/* A total_size beyond what the object has would be truncation if it were consistent;
	 * inconsistent with the geometry, it is corruption. */
	const char *name = real_object();
	uint64_t huge = 1ull << 40;
	patch(name, offsetof(struct ipcc_shm_header, total_size), &huge, sizeof(huge));
	expect_open(name, -EUCLEAN, "total_size 1 TiB");
}

/* ---- attach ---- */

static struct ipcc_cpu_owner owner_of(unsigned id)
{
	struct ipcc_cpu_owner o;
	memset(&o, 0xA5, sizeof(o));
	cr_assert_eq(ipcc_system_cpu_owner(sys, id, &o), 0);
	return o;
}

Test(cpu, attach_claims_the_cpu_for_the_calling_process, .fini = teardown)
{
	sys = test_system_geometry(3, 6, 64);
	struct ipcc_cpu_owner o = owner_of(2);
	cr_assert_not(o.attached, "never attached");
	cr_assert_not(o.alive);
	cr_assert_eq(o.pid, 0);
	cr_assert_eq(o.generation, 0);

	struct ipcc_cpu *c = test_attach(sys, 2);
	cr_assert_eq(ipcc_cpu_id(c), 2);
	cr_assert_eq(ipcc_cpu_system(c), sys);
	o = owner_of(2);
	cr_assert(o.attached);
	cr_assert(o.alive);
	cr_assert_eq(o.pid, getpid());
	cr_assert_eq(o.tid, gettid_());
	cr_assert_eq(o.generation, 1);
	cr_assert_not(owner_of(1).attached, "another CPU");

	ipcc_cpu_detach(c);
	o = owner_of(2);
	cr_assert_not(o.attached, "after detach");
	cr_assert_not(o.alive, "after detach");
	cr_assert_eq(o.pid, getpid(), "pid of the last owner");
	cr_assert_eq(o.generation, 1);

	c = test_attach(sys, 2);
	cr_assert_eq(owner_of(2).generation, 2, "every attach counts");
	cr_assert(owner_of(2).alive);
	ipcc_cpu_detach(c);
	ipcc_cpu_detach(NULL);
}

Test(cpu, a_second_attach_of_a_live_cpu_fails_with_ebusy, .fini = teardown)
{
	struct ipcc_cpu *c, *again = (struct ipcc_cpu *)&c, *const marker = again;
	struct ipcc_system *other;

	sys = test_system(NULL);
	c = test_attach(sys, 0);
	cr_assert_eq(ipcc_cpu_attach(sys, 0, NULL, &again), -EBUSY, "same thread, same handle");
	cr_assert_eq(again, marker, "a failed attach wrote its output");
	cr_assert_eq(ipcc_system_open(ipcc_system_name(sys), &other), 0);
	cr_assert_eq(ipcc_cpu_attach(other, 0, NULL, &again), -EBUSY, "same thread, own handle");
	cr_assert_eq(owner_of(0).generation, 1, "a refused attach is not an attach");
	/* The other CPU is still free through either handle. */
	struct ipcc_cpu *c1 = test_attach(other, 1);
	ipcc_cpu_detach(c1);
	ipcc_system_close(other);
	ipcc_cpu_detach(c);
}

struct attach_arg {
	struct ipcc_system *sys;
	unsigned id;
	int result;
};

static void *attach_thread(void *p)
{
	struct attach_arg *a = p;
	struct ipcc_cpu *c = NULL;
	a->result = ipcc_cpu_attach(a->sys, a->id, NULL, &c);
	if (a->result == 0)
		ipcc_cpu_detach(c);
	return NULL;
}

Test(cpu, attach_of_a_cpu_held_by_another_thread_fails_with_ebusy, .fini = teardown)
{
	pthread_t t;
	sys = test_system(NULL);
	struct ipcc_cpu *c = test_attach(sys, 1);
	struct attach_arg a = { .sys = sys, .id = 1, .result = 1 };
	cr_assert_eq(pthread_create(&t, NULL, attach_thread, &a), 0);
	pthread_join(t, NULL);
	cr_assert_eq(a.result, -EBUSY);

	/* The other thread may take a free CPU, and gives it back on detach. */
	a.id = 0;
	cr_assert_eq(pthread_create(&t, NULL, attach_thread, &a), 0);
	pthread_join(t, NULL);
	cr_assert_eq(a.result, 0);
	ipcc_cpu_detach(test_attach(sys, 0));
	ipcc_cpu_detach(c);
}

static void *attach_and_end(void *p)
{
	struct attach_arg *a = p;
	struct ipcc_cpu *c = NULL;
	a->result = ipcc_cpu_attach(a->sys, a->id, NULL, &c);
	return c; /* no detach: the CPU belongs to the process, not to this thread */
}

/* Attach `id` in a thread that then ends; the handle it attached. */
static struct ipcc_cpu *end_thread_holding(unsigned id)
{
	pthread_t t;
	void *c = NULL;
	struct attach_arg a = { .sys = sys, .id = id, .result = 1 };
	cr_assert_eq(pthread_create(&t, NULL, attach_and_end, &a), 0);
	pthread_join(t, &c);
	cr_assert_eq(a.result, 0);
	cr_assert_not_null(c);
	return c;
}

Test(cpu, the_cpu_of_an_ended_thread_stays_with_its_process, .fini = teardown)
{
	struct ipcc_system *other;
	struct ipcc_cpu *c = NULL;

	sys = test_system(NULL);
	struct ipcc_cpu *held = end_thread_holding(1);
	struct ipcc_cpu_owner o = owner_of(1);
	cr_assert(o.attached && o.alive, "the thread ended, the process did not");
	cr_assert_eq(o.pid, getpid());
	cr_assert_eq(ipcc_cpu_attach(sys, 1, NULL, &c), -EBUSY, "same handle");
	cr_assert_eq(ipcc_system_open(ipcc_system_name(sys), &other), 0);
	cr_assert_eq(ipcc_cpu_attach(other, 1, NULL, &c), -EBUSY, "another handle");
	cr_assert_null(c);

	/* Any thread of the process may give it back; then anyone may take it. */
	ipcc_cpu_detach(held);
	cr_assert_not(owner_of(1).alive);
	cr_assert_not(owner_of(1).attached);
	c = test_attach(other, 1);
	cr_assert_eq(owner_of(1).tid, gettid_());
	ipcc_cpu_detach(c);
	ipcc_system_close(other);
}

static void *detach_thread(void *p)
{
	ipcc_cpu_detach(p);
	return NULL;
}

Test(cpu, a_cpu_is_used_and_detached_by_any_thread_of_its_process, .fini = teardown)
{
	pthread_t t;
	sys = test_system(NULL);
	struct ipcc_cpu *c0 = test_attach(sys, 0), *c1 = end_thread_holding(1);
	/* The handle attached by the ended thread carries traffic from this one. */
	cr_assert_eq(ipcc_send(c1, 0, 0, "ping", 4, IPCC_TIMEOUT_INFINITE), 0);
	char buf[8];
	cr_assert_eq(ipcc_recv(c0, 1, 0, buf, sizeof(buf), IPCC_TIMEOUT_INFINITE), 4);
	cr_assert_eq(ipcc_cpu_peer_alive(c0, 1), 1);

	cr_assert_eq(pthread_create(&t, NULL, detach_thread, c1), 0);
	pthread_join(t, NULL);
	cr_assert_eq(ipcc_cpu_peer_alive(c0, 1), 0, "detached, not dead");
	cr_assert_not(owner_of(1).attached);
	ipcc_cpu_detach(test_attach(sys, 1));
	ipcc_cpu_detach(c0);
}

/* In a child with a handle of its own: the attach result as the exit status (0..255). */
static int attach_in_child(const char *name, unsigned id)
{
	int status;
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ipcc_system *s;
		struct ipcc_cpu *c;
		int r = ipcc_system_open(name, &s);
		if (r == 0)
			r = ipcc_cpu_attach(s, id, NULL, &c);
		_exit(r < 0 ? -r : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died: status 0x%x", status);
	return -WEXITSTATUS(status);
}

Test(cpu, attach_of_a_cpu_held_by_another_process_fails_with_ebusy, .fini = teardown)
{
	sys = test_system(NULL);
	struct ipcc_cpu *c = test_attach(sys, 0);
	cr_assert_eq(attach_in_child(ipcc_system_name(sys), 0), -EBUSY);
	cr_assert_eq(attach_in_child(ipcc_system_name(sys), 1), 0, "a free CPU");
	struct ipcc_cpu_owner o = owner_of(0);
	cr_assert(o.alive);
	cr_assert_eq(o.pid, getpid(), "the refused child did not become the owner");
	ipcc_cpu_detach(c);
}

/* A refused attach from another thread: through the owner's handle, or one of its own. */
static void *attach_again_thread(void *p)
{
	struct attach_arg *a = p;
	struct ipcc_cpu *c = (struct ipcc_cpu *)&c, *const marker = c;
	struct ipcc_system *own = NULL;
	a->result = ipcc_cpu_attach(a->sys, a->id, NULL, &c);
	if (c != marker)
		a->result = 1000; /* a failed attach wrote its output */
	if (a->result != -EBUSY)
		return NULL;
	a->result = ipcc_system_open(ipcc_system_name(a->sys), &own);
	if (a->result == 0) {
		a->result = ipcc_cpu_attach(own, a->id, NULL, &c);
		if (c != marker)
			a->result = 1001;
		ipcc_system_close(own);
	}
	return NULL;
}

static void on_count(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		     void *arg)
{
	(*(unsigned *)arg)++;
}

Test(cpu, a_refused_attach_from_another_thread_leaves_the_owner_working, .fini = teardown)
{
	pthread_t t;
	char buf[8];
	unsigned got = 0;
	sys = test_system(NULL);
	struct ipcc_cpu *c0 = test_attach(sys, 0), *c1 = test_attach(sys, 1);
	/* State of the owner that an attach would reset: an unmasked, enabled channel. */
	cr_assert_eq(ipcc_recv_async(c0, 1, 2, on_count, &got), 0);

	struct attach_arg a = { .sys = sys, .id = 0, .result = 1 };
	cr_assert_eq(pthread_create(&t, NULL, attach_again_thread, &a), 0);
	pthread_join(t, NULL);
	cr_assert_eq(a.result, -EBUSY, "second attach from another thread: %d", a.result);

	struct ipcc_cpu_owner o = owner_of(0);
	cr_assert(o.alive);
	cr_assert_eq(o.pid, getpid());
	cr_assert_eq(o.tid, gettid_(), "the refused thread took over the owner record");
	cr_assert_eq(o.generation, 1, "a refused attach is not an attach");
	cr_assert_eq(attach_in_child(ipcc_system_name(sys), 0), -EBUSY, "the claim was lost");

	/* The owner's interrupt state and channels still work, both ways. */
	cr_assert_eq(ipcc_send(c1, 0, 2, "ping", 4, 5 * 1000000000ll), 0);
	cr_assert_eq(ipcc_cpu_wait(c0, 5 * 1000000000ll), 0, "the owner's line stays low");
	cr_assert_geq(ipcc_cpu_dispatch(c0), 0);
	cr_assert_eq(got, 1, "the owner's handler did not run");
	cr_assert_eq(ipcc_send(c0, 1, 3, "pong", 4, 5 * 1000000000ll), 0);
	cr_assert_eq(ipcc_recv(c1, 0, 3, buf, sizeof(buf), 5 * 1000000000ll), 4);
	cr_assert_eq(ipcc_cpu_peer_alive(c1, 0), 1);

	/* Its waits still learn of a peer's death (the handle's reaper wakes its CPUs). */
	ipcc_cpu_detach(c1);
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ipcc_system *s;
		struct ipcc_cpu *c;
		alarm(20);
		if (ipcc_system_open(ipcc_system_name(sys), &s) < 0 ||
		    ipcc_cpu_attach(s, 1, NULL, &c) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		usleep(200000);
		_exit(0); /* dies holding CPU 1 */
	}
	close(ready[1]);
	cr_assert_eq(read(ready[0], buf, 1), 1, "the child did not attach CPU 1");
	close(ready[0]);
	cr_assert_eq(ipcc_recv(c0, 1, 4, buf, sizeof(buf), 5 * 1000000000ll), -EPIPE,
		     "the owner's wait missed its peer's death");
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);

	/* And its detach still releases the CPU, to this process and to others. */
	ipcc_cpu_detach(c0);
	cr_assert_not(owner_of(0).alive, "the owner's detach did not release the claim");
	cr_assert_eq(attach_in_child(ipcc_system_name(sys), 0), 0, "another process");
	a.result = 1;
	cr_assert_eq(pthread_create(&t, NULL, attach_thread, &a), 0);
	pthread_join(t, NULL);
	cr_assert_eq(a.result, 0, "another thread: %d", a.result);
}

/*
 * A fork child inherits the handle and the attached CPU's handle, not the claim: the parent
 * still owns the CPU, the child's detach of the inherited handle gives nothing up, and the
 * parent's detach frees the CPU while the child lives.
 */
Test(cpu, a_fork_child_does_not_own_or_release_its_parents_cpu, .fini = teardown)
{
	int go[2], done[2];
	sys = test_system(NULL);
	struct ipcc_cpu *c = test_attach(sys, 0);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(done), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ipcc_cpu *again = NULL;
		struct ipcc_cpu_owner o;
		char b = 0;
		int code = 0;
		alarm(20);
		if (ipcc_cpu_attach(sys, 0, NULL, &again) != -EBUSY)
			code = 1;
		ipcc_cpu_detach(c); /* the inherited handle: no claim to give up */
		if (ipcc_system_cpu_owner(sys, 0, &o) < 0 || !o.alive || o.pid != getppid())
			code = 2;
		if (ipcc_cpu_attach(sys, 0, NULL, &again) != -EBUSY)
			code = 3; /* the parent, alive, still owns it */
		if (write(done[1], &code, sizeof(code)) != sizeof(code))
			_exit(4);
		if (read(go[0], &b, 1) != 1) /* until the parent detached */
			_exit(5);
		_exit(0);
	}
	close(done[1]);
	close(go[0]);
	int code = -1;
	cr_assert_eq(read(done[0], &code, sizeof(code)), (ssize_t)sizeof(code), "the child died");
	cr_assert_eq(code, 0, "child check %d failed", code);
	cr_assert(owner_of(0).alive, "the child's detach released the parent's claim");
	ipcc_cpu_detach(c);
	cr_assert_not(owner_of(0).alive, "the fork child kept the parent's claim alive");
	cr_assert_eq(attach_in_child(ipcc_system_name(sys), 0), 0, "free while the child lives");
	cr_assert_eq(write(go[1], "g", 1), 1);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
}

Test(cpu, detach_then_attach_again_succeeds, .fini = teardown)
{
	sys = test_system(NULL);
	for (unsigned i = 0; i < 100; i++) {
		struct ipcc_cpu *c = test_attach(sys, 1);
		ipcc_cpu_detach(c);
	}
	cr_assert_eq(owner_of(1).generation, 100);
	/* Through another handle and another process too: the claim really was released. */
	cr_assert_eq(attach_in_child(ipcc_system_name(sys), 1), 0);
}

Test(cpu, close_detaches_the_cpus_of_the_handle, .fini = teardown)
{
	struct ipcc_system *other;
	sys = test_system(NULL);
	cr_assert_eq(ipcc_system_open(ipcc_system_name(sys), &other), 0);
	test_attach(other, 0);
	test_attach(other, 1);
	ipcc_system_close(other);
	cr_assert_not(owner_of(0).attached);
	cr_assert_not(owner_of(1).attached);
	ipcc_cpu_detach(test_attach(sys, 0));
	ipcc_cpu_detach(test_attach(sys, 1));
}

Test(cpu, attach_of_a_bad_id_fails_with_einval, .fini = teardown)
{
	struct ipcc_cpu *c = (struct ipcc_cpu *)&c, *const marker = c;
	struct ipcc_cpu_owner o;

	sys = test_system_geometry(3, 6, 64);
	const unsigned bad[] = { 3, 63, 64, UINT_MAX };
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(ipcc_cpu_attach(sys, bad[i], NULL, &c), -EINVAL, "id %u", bad[i]);
		cr_assert_eq(ipcc_system_cpu_owner(sys, bad[i], &o), -EINVAL, "id %u", bad[i]);
	}
	cr_assert_eq(ipcc_cpu_attach(NULL, 0, NULL, &c), -EINVAL);
	cr_assert_eq(ipcc_cpu_attach(sys, 0, NULL, NULL), -EINVAL);
	cr_assert_eq(ipcc_system_cpu_owner(NULL, 0, &o), -EINVAL);
	cr_assert_eq(ipcc_system_cpu_owner(sys, 0, NULL), -EINVAL);
	cr_assert_eq(c, marker);
	cr_assert_not(owner_of(0).attached, "the NULL-output attach claimed the CPU");
}

Test(cpu, options_init_gives_the_documented_defaults)
{
	struct ipcc_cpu_options opt;
	memset(&opt, 0xA5, sizeof(opt));
	ipcc_cpu_options_init(&opt);
	cr_assert_eq(opt.wait, IPCC_WAIT_ADAPTIVE);
	cr_assert_eq(opt.spin_ns, 20000);
	cr_assert_eq(opt.flags, 0);
	for (unsigned i = 0; i < sizeof(opt.reserved) / sizeof(opt.reserved[0]); i++)
		cr_assert_eq(opt.reserved[i], 0);
	ipcc_cpu_options_init(NULL);
}

Test(cpu, bad_options_fail_with_einval_and_claim_nothing, .fini = teardown)
{
	struct ipcc_cpu_options opt;
	struct ipcc_cpu *c = NULL;

	sys = test_system(NULL);
	const int bad_wait[] = { IPCC_WAIT_MODE_COUNT, IPCC_WAIT_MODE_COUNT + 1, 1000, -1 };
	for (unsigned i = 0; i < 4; i++) {
		ipcc_cpu_options_init(&opt);
		opt.wait = (enum ipcc_wait_mode)bad_wait[i];
		cr_assert_eq(ipcc_cpu_attach(sys, 0, &opt, &c), -EINVAL, "wait %d", bad_wait[i]);
	}
	for (unsigned i = 0; i < sizeof(opt.reserved) / sizeof(opt.reserved[0]); i++) {
		ipcc_cpu_options_init(&opt);
		opt.reserved[i] = 1;
		cr_assert_eq(ipcc_cpu_attach(sys, 0, &opt, &c), -EINVAL, "reserved[%u]", i);
	}
	ipcc_cpu_options_init(&opt);
	opt.flags = 1u << 31;
	cr_assert_eq(ipcc_cpu_attach(sys, 0, &opt, &c), -EINVAL, "unknown flag");
	cr_assert_null(c);
	struct ipcc_cpu_owner o = owner_of(0);
	cr_assert_not(o.attached);
	cr_assert_eq(o.generation, 0);

	/* Every defined wait mode is accepted. */
	for (int w = 0; w < IPCC_WAIT_MODE_COUNT; w++) {
		ipcc_cpu_options_init(&opt);
		opt.wait = (enum ipcc_wait_mode)w;
		int r = ipcc_cpu_attach(sys, 0, &opt, &c);
		cr_assert_eq(r, 0, "wait mode %d: %s", w, strerror(-r));
		ipcc_cpu_detach(c);
	}
}

Test(cpu, attach_resets_the_banks_of_that_cpu_only, .fini = teardown)
{
	sys = test_system_geometry(3, 6, 64);
	struct ipcc_regs *l01 = test_regs(sys, 0, 1), *l02 = test_regs(sys, 0, 2),
			 *l12 = test_regs(sys, 1, 2);
	struct ipcc_regs *links[] = { l01, l02, l12 };
	const uint32_t cr = IPCC_CR_RXOIE | IPCC_CR_TXFIE, mr = 0xFFC0FFC0u | 0x00150015u;

	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < 3; i++) {
			test_wr(links[i], IPCC_C1CR, cr);
			test_wr(links[i], IPCC_C2CR, cr);
			test_wr(links[i], IPCC_C1MR, mr);
			test_wr(links[i], IPCC_C2MR, mr);
		}
		/* CPU 1: processor 2 of (0, 1), processor 1 of (1, 2), not on (0, 2). */
		struct ipcc_cpu *c = test_attach(sys, 1);
		cr_assert_eq(test_rd(l01, IPCC_C2CR), IPCC_CR_RESET, "round %u", round);
		cr_assert_eq(test_rd(l01, IPCC_C2MR), IPCC_MR_RESET, "round %u", round);
		cr_assert_eq(test_rd(l12, IPCC_C1CR), IPCC_CR_RESET, "round %u", round);
		cr_assert_eq(test_rd(l12, IPCC_C1MR), IPCC_MR_RESET, "round %u", round);
		/* The peers' banks belong to the peers. */
		cr_assert_eq(test_rd(l01, IPCC_C1CR), cr);
		cr_assert_eq(test_rd(l01, IPCC_C1MR), mr);
		cr_assert_eq(test_rd(l12, IPCC_C2CR), cr);
		cr_assert_eq(test_rd(l12, IPCC_C2MR), mr);
		for (unsigned i = 0; i < 2; i++) {
			cr_assert_eq(test_rd(l02, IPCC_C1CR + i * IPCC_BANK_STRIDE), cr);
			cr_assert_eq(test_rd(l02, IPCC_C1MR + i * IPCC_BANK_STRIDE), mr);
		}
		ipcc_cpu_detach(c);
	}
	ipcc_regs_close(l01);
	ipcc_regs_close(l02);
	ipcc_regs_close(l12);
}
