/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory log (include/ipcc/log.h): lines whole or dropped and counted, the merge,
 * readers on read-only handles, a writer killed mid-line, a full ring, and 4 writer processes
 * of 3 threads each followed by a reader.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <ipcc/ipcc.h>
#include <ipcc/layout.h>

#include "../ipcc-test.h"

/* lib/log/log.c: called between a line's words and its publication (tests only). */
extern void (*ipcc_log_test_mid_line)(void);

static struct ipcc_system *log_system(unsigned cpus, uint32_t ring_size)
{
	static struct ipcc_log_config lcfg;
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cfg.cpus = cpus;
	ipcc_log_config_init(&lcfg);
	lcfg.ring_size = ring_size;
	cfg.log = &lcfg;
	return test_system(&cfg);
}

static struct ipcc_system *open_ro(struct ipcc_system *sys)
{
	struct ipcc_system *ro = NULL;
	int r = ipcc_system_open_flags(ipcc_system_name(sys), IPCC_OPEN_READONLY, &ro);
	cr_assert_eq(r, 0, "read-only open: %s", strerror(-r));
	return ro;
}

static struct ipcc_log_reader *reader(struct ipcc_system *sys, uint64_t cpus, unsigned flags)
{
	struct ipcc_log_reader *rd = NULL;
	int r = ipcc_log_reader_new(sys, cpus, flags, &rd);
	cr_assert_eq(r, 0, "reader: %s", strerror(-r));
	return rd;
}

/* Read one line, waiting out lines in progress (none should last). */
static int read_line(struct ipcc_log_reader *rd, struct ipcc_log_line *l)
{
	for (;;) {
		int r = ipcc_log_read(rd, l);
		if (r != -EAGAIN)
			return r;
		ipcc_log_wait(rd, 50);
	}
}

TestSuite(log, .fini = test_cleanup, .timeout = 30);

Test(log, a_line_comes_back_whole_with_its_cpu_time_and_format)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_DEFAULT);
	struct ipcc_cpu *c1 = test_attach(sys, 1);
	struct ipcc_log_reader *rd = reader(sys, 0, 0);
	struct ipcc_log_line l;
	char long_line[300];

	cr_assert_eq(ipcc_log_ring_size(sys), (int)IPCC_LOG_RING_SIZE_DEFAULT);
	cr_assert_eq(ipcc_log_printf(c1, "hello %d\n", 42), 0);
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	long_line[0] = 'A';
	cr_assert_eq(ipcc_log_write(c1, long_line, strlen(long_line)), 0);
	cr_assert_eq(read_line(rd, &l), 1);
	cr_assert_str_eq(l.text, "hello 42", "the trailing newline is not stored");
	cr_assert_eq(l.cpu, 1);
	cr_assert_eq(l.number, 0);
	cr_assert_eq(l.lost, 0);
	cr_assert_gt(l.time_ns, 0);
	char buf[64];
	int n = ipcc_log_format(sys, &l, buf, sizeof(buf));
	cr_assert_eq(n, (int)strlen(buf));
	cr_assert(strncmp(buf, "[cpu1] ", 7) == 0 && strstr(buf, "s : hello 42"), "%s", buf);
	cr_assert_eq(read_line(rd, &l), 1);
	cr_assert_eq(l.len, 299);
	cr_assert_str_eq(l.text, long_line);
	cr_assert_eq(l.number, 1);
	cr_assert_eq(ipcc_log_read(rd, &l), 0, "caught up");
	ipcc_log_reader_free(rd);
	ipcc_cpu_detach(c1);
	ipcc_system_close(sys);
}

Test(log, a_system_without_a_log_refuses_with_eopnotsupp)
{
	struct ipcc_system *sys = test_system(NULL);
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	struct ipcc_log_reader *rd;
	uint64_t d;

	cr_assert_eq(ipcc_log_write(c0, "x", 1), -EOPNOTSUPP);
	cr_assert_eq(ipcc_log_printf(c0, "x"), -EOPNOTSUPP);
	cr_assert_eq(ipcc_log_reader_new(sys, 0, 0, &rd), -EOPNOTSUPP);
	cr_assert_eq(ipcc_log_ring_size(sys), -EOPNOTSUPP);
	cr_assert_eq(ipcc_log_dropped(sys, 0, &d), -EOPNOTSUPP);
	cr_assert_eq(ipcc_log_write(NULL, "x", 1), -EINVAL);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

Test(log, bad_arguments_get_einval)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_DEFAULT);
	struct ipcc_log_reader *rd;
	struct ipcc_log_stats st;
	struct ipcc_config cfg;
	struct ipcc_log_config lcfg;
	uint64_t size;

	cr_assert_eq(ipcc_log_reader_new(sys, 1u << 2, 0, &rd), -EINVAL, "no CPU 2");
	cr_assert_eq(ipcc_log_reader_new(sys, 0, 0x80, &rd), -EINVAL);
	rd = reader(sys, 1, 0);
	cr_assert_eq(ipcc_log_reader_stats(rd, 1, &st), -EINVAL, "CPU 1 is not read");
	cr_assert_eq(ipcc_log_wait(rd, -2), -EINVAL);
	ipcc_log_reader_free(rd);
	ipcc_config_init(&cfg);
	ipcc_log_config_init(&lcfg);
	cfg.log = &lcfg;
	lcfg.ring_size = 3000;
	cr_assert_eq(ipcc_config_size(&cfg, &size), -EINVAL, "not a power of two");
	lcfg.ring_size = IPCC_LOG_RING_SIZE_MIN / 2;
	cr_assert_eq(ipcc_config_size(&cfg, &size), -EINVAL);
	lcfg.ring_size = IPCC_LOG_RING_SIZE_MAX * 2;
	cr_assert_eq(ipcc_config_size(&cfg, &size), -EINVAL);
	ipcc_system_close(sys);
}

Test(log, a_line_too_long_is_dropped_whole_and_counted)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_MIN);
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	static char big[IPCC_LOG_LINE_MAX + 10];
	uint64_t dropped = 99;

	memset(big, 'y', sizeof(big) - 1);
	cr_assert_eq(ipcc_log_write(c0, big, IPCC_LOG_LINE_MAX + 1), -EMSGSIZE);
	/* A 4 KiB ring takes lines of at most a quarter of it. */
	cr_assert_eq(ipcc_log_write(c0, big, IPCC_LOG_LINE_MAX), -EMSGSIZE);
	cr_assert_eq(ipcc_log_printf(c0, "%s", big), -EMSGSIZE, "printf does not cut either");
	cr_assert_eq(ipcc_log_write(c0, big, 800), 0);
	cr_assert_eq(ipcc_log_dropped(sys, 0, &dropped), 0);
	cr_assert_eq(dropped, 3);
	struct ipcc_log_reader *rd = reader(sys, 0, 0);
	struct ipcc_log_line l;
	struct ipcc_log_stats st;
	cr_assert_eq(read_line(rd, &l), 1);
	cr_assert_eq(l.len, 800);
	cr_assert_eq(read_line(rd, &l), 0);
	cr_assert_eq(ipcc_log_reader_stats(rd, 0, &st), 0);
	cr_assert_eq(st.dropped, 3, "the reader sees the writers' drops");
	cr_assert_eq(st.lines, 1);
	ipcc_log_reader_free(rd);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

Test(log, an_overwritten_ring_keeps_its_newest_lines_and_counts_the_rest_as_lost)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_MIN);
	struct ipcc_system *ro = open_ro(sys);
	struct ipcc_log_reader *rd = reader(ro, 0, 0); /* before any line: it knows line 0 */
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	struct ipcc_log_line l;
	struct ipcc_log_stats st;
	unsigned got = 0, expect = 0;

	for (unsigned i = 0; i < 1000; i++)
		cr_assert_eq(ipcc_log_printf(c0, "line %u", i), 0);
	while (read_line(rd, &l) == 1) {
		unsigned n;
		cr_assert_eq(sscanf(l.text, "line %u", &n), 1, "%s", l.text);
		if (got == 0) {
			cr_assert_gt(n, 900, "the oldest lines were overwritten");
			cr_assert_eq(l.lost, n, "every line before the first one read is lost");
		} else {
			cr_assert_eq(n, expect, "in order, none twice");
			cr_assert_eq(l.lost, 0);
		}
		cr_assert_eq(l.number, n);
		expect = n + 1;
		got++;
	}
	cr_assert_eq(expect, 1000);
	cr_assert_eq(ipcc_log_reader_stats(rd, 0, &st), 0);
	cr_assert_eq(st.lines + st.lost, 1000);
	cr_assert_eq(st.dropped, 0, "overwriting is not dropping");
	ipcc_log_reader_free(rd);
	ipcc_cpu_detach(c0);
	ipcc_system_close(ro);
	ipcc_system_close(sys);
}

Test(log, lines_of_several_cpus_come_merged_in_time_order)
{
	struct ipcc_system *sys = log_system(3, IPCC_LOG_RING_SIZE_DEFAULT);
	struct ipcc_cpu *c[3] = { test_attach(sys, 0), test_attach(sys, 1), test_attach(sys, 2) };
	for (unsigned i = 0; i < 60; i++)
		cr_assert_eq(ipcc_log_printf(c[(i * 7) % 3], "%u", i), 0);
	struct ipcc_log_reader *rd = reader(sys, 0, 0);
	struct ipcc_log_line l;
	for (unsigned i = 0; i < 60; i++) {
		cr_assert_eq(read_line(rd, &l), 1);
		cr_assert_eq((unsigned)atoi(l.text), i, "line %u came as %s", i, l.text);
		cr_assert_eq(l.cpu, (i * 7) % 3);
	}
	cr_assert_eq(read_line(rd, &l), 0);
	ipcc_log_reader_free(rd);
	/* A reader of CPU 1 alone, and one that starts now. */
	rd = reader(sys, 1u << 1, 0);
	unsigned n = 0;
	while (read_line(rd, &l) == 1) {
		cr_assert_eq(l.cpu, 1);
		n++;
	}
	cr_assert_eq(n, 20);
	ipcc_log_reader_free(rd);
	rd = reader(sys, 0, IPCC_LOG_READ_NEW);
	cr_assert_eq(read_line(rd, &l), 0);
	cr_assert_eq(ipcc_log_printf(c[2], "new"), 0);
	cr_assert_eq(read_line(rd, &l), 1);
	cr_assert_str_eq(l.text, "new");
	ipcc_log_reader_free(rd);
	for (unsigned i = 0; i < 3; i++)
		ipcc_cpu_detach(c[i]);
	ipcc_system_close(sys);
}

Test(log, a_reader_made_with_read_until_stops_at_what_was_there)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_DEFAULT);
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	struct ipcc_log_line l;
	cr_assert_eq(ipcc_log_printf(c0, "before"), 0);
	struct ipcc_log_reader *rd = reader(sys, 0, IPCC_LOG_READ_UNTIL);
	cr_assert_eq(ipcc_log_printf(c0, "after"), 0);
	cr_assert_eq(read_line(rd, &l), 1);
	cr_assert_str_eq(l.text, "before");
	cr_assert_eq(read_line(rd, &l), 0, "'after' came later");
	ipcc_log_reader_free(rd);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

Test(log, a_reader_that_may_write_sleeps_until_a_writer_rings)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_DEFAULT);
	struct ipcc_log_reader *rd = reader(sys, 0, 0);
	struct ipcc_log_line l;
	int go[2];

	cr_assert_eq(pipe(go), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ipcc_system *s;
		struct ipcc_cpu *c;
		char b;
		close(go[1]); /* a parent that fails ends our read */
		if (ipcc_system_open(ipcc_system_name(sys), &s) < 0 ||
		    ipcc_cpu_attach(s, 1, NULL, &c) < 0 || read(go[0], &b, 1) != 1)
			_exit(2);
		usleep(20000); /* let the parent fall asleep: it must be woken, not time out */
		_exit(ipcc_log_printf(c, "ring") == 0 ? 0 : 3);
	}
	cr_assert_eq(ipcc_log_read(rd, &l), 0);
	cr_assert_eq(write(go[1], "x", 1), 1);
	/* No timeout: only the writer's ring ends this wait (or the test's own timeout). */
	int r;
	while ((r = ipcc_log_read(rd, &l)) != 1) {
		cr_assert(r == 0 || r == -EAGAIN, "%d", r);
		cr_assert_eq(ipcc_log_wait(rd, -1), 0);
	}
	cr_assert_str_eq(l.text, "ring");
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ipcc_log_reader_free(rd);
	ipcc_system_close(sys);
}

Test(log, a_read_only_reader_waits_by_polling_and_times_out)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_DEFAULT);
	struct ipcc_system *ro = open_ro(sys);
	struct ipcc_log_reader *rd = reader(ro, 0, 0);
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	struct ipcc_log_line l;

	cr_assert_eq(ipcc_log_wait(rd, 0), -ETIMEDOUT, "nothing to read, no time to wait");
	cr_assert_eq(ipcc_log_wait(rd, 1), -ETIMEDOUT);
	cr_assert_eq(ipcc_log_printf(c0, "polled"), 0);
	cr_assert_eq(ipcc_log_wait(rd, 1000), 0, "a line is there: no sleep");
	cr_assert_eq(read_line(rd, &l), 1);
	cr_assert_str_eq(l.text, "polled");
	/* A poll period passes without a line: 0, look again (not an error). */
	cr_assert_eq(ipcc_log_wait(rd, -1), 0);
	ipcc_log_reader_free(rd);
	ipcc_cpu_detach(c0);
	ipcc_system_close(ro);
	ipcc_system_close(sys);
}

/* ---- a writer killed mid-line --------------------------------------------------------------- */

static void die_now(void)
{
	raise(SIGKILL);
}

/* A child that attaches `cpu`, writes `lines` lines, then dies in the middle of a long one. */
static pid_t writer_killed_mid_line(const char *name, unsigned cpu, unsigned lines)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ipcc_system *s;
		struct ipcc_cpu *c;
		char text[500];
		if (ipcc_system_open(name, &s) < 0 || ipcc_cpu_attach(s, cpu, NULL, &c) < 0)
			_exit(2);
		for (unsigned i = 0; i < lines; i++)
			if (ipcc_log_printf(c, "complete %u", i) < 0)
				_exit(3);
		memset(text, 'G', sizeof(text) - 1);
		text[sizeof(text) - 1] = '\0';
		ipcc_log_test_mid_line = die_now;
		ipcc_log_write(c, text, strlen(text));
		_exit(4); /* not reached */
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the writer died by kill -9 (%x)",
		  st);
	return pid;
}

Test(log, a_writer_killed_mid_line_leaves_no_partial_line)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_DEFAULT);
	struct ipcc_system *ro = open_ro(sys);
	struct ipcc_log_reader *follower = reader(ro, 0, 0); /* made before the death */
	struct ipcc_log_line l;

	writer_killed_mid_line(ipcc_system_name(sys), 0, 3);
	for (int pass = 0; pass < 2; pass++) {
		struct ipcc_log_reader *rd = pass ? follower : reader(ro, 0, 0);
		for (unsigned i = 0; i < 3; i++) {
			cr_assert_eq(read_line(rd, &l), 1);
			char want[32];
			snprintf(want, sizeof(want), "complete %u", i);
			cr_assert_str_eq(l.text, want);
		}
		/* With no owner, the dead line is skipped: no G, no line in progress. */
		cr_assert_eq(read_line(rd, &l), 0);
		if (!pass)
			ipcc_log_reader_free(rd);
	}
	/* The next owner's attach marks the dead slots; its lines follow, the dead one lost. */
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	cr_assert_eq(ipcc_log_printf(c0, "next owner"), 0);
	cr_assert_eq(read_line(follower, &l), 1);
	cr_assert_str_eq(l.text, "next owner");
	cr_assert_eq(l.number, 4);
	cr_assert_eq(l.lost, 1, "the dead line's number is counted as lost");
	cr_assert_eq(read_line(follower, &l), 0);
	ipcc_log_reader_free(follower);
	struct ipcc_log_reader *rd = reader(sys, 0, 0);
	unsigned n = 0;
	while (read_line(rd, &l) == 1) {
		cr_assert_null(strchr(l.text, 'G'), "no part of the dead line: %s", l.text);
		n++;
	}
	cr_assert_eq(n, 4);
	ipcc_log_reader_free(rd);
	ipcc_cpu_detach(c0);
	ipcc_system_close(ro);
	ipcc_system_close(sys);
}

Test(log, a_reservation_written_by_hand_and_abandoned_is_skipped_once_nobody_owns_the_cpu)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_MIN);
	struct ipcc_cpu *c1 = test_attach(sys, 1);
	struct ipcc_log_line l;
	struct ipcc_section_info sec[8];
	int ns = ipcc_system_sections(sys, sec, 8);
	uint64_t off = 0;
	for (int i = 0; i < ns; i++)
		if (sec[i].type == IPCC_SECTION_LOG)
			off = sec[i].offset;
	cr_assert_neq(off, 0);
	cr_assert_eq(ipcc_log_printf(c1, "one"), 0);
	/* Reserve ticket 1 by hand, through the layout, as a writer that died there would. */
	int fd = shm_open(ipcc_system_name(sys), O_RDWR, 0);
	uint8_t *base =
		mmap(NULL, ipcc_system_size(sys), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(base, MAP_FAILED);
	close(fd);
	struct ipcc_shm_log_head *h = (void *)(base + off);
	struct ipcc_shm_log_ring *ring =
		(void *)(base + off + IPCC_SHM_LOG_HEAD_SIZE + (uint64_t)h->slots * 64 + 64);
	struct ipcc_shm_log_slot *slot = (struct ipcc_shm_log_slot *)(ring + 1);
	uint64_t head = atomic_load(&ring->head);
	cr_assert_eq(head, 1ull << 32 | 1, "one line of one slot");
	atomic_store(&ring->head, 2ull << 32 | 2);
	atomic_store(&slot[1].seq, 1ull << 32 | IPCC_LOG_SLOT_BUSY);
	atomic_store(&slot[1].word[2], 0x4747474747474747ull);
	cr_assert_eq(ipcc_log_printf(c1, "two"), 0);
	struct ipcc_log_reader *rd = reader(sys, 1u << 1, 0);
	cr_assert_eq(ipcc_log_read(rd, &l), 1);
	cr_assert_str_eq(l.text, "one");
	cr_assert_eq(ipcc_log_read(rd, &l), -EAGAIN, "a live owner may still finish it");
	ipcc_cpu_detach(c1);
	cr_assert_eq(read_line(rd, &l), 1, "no owner: skipped");
	cr_assert_str_eq(l.text, "two");
	cr_assert_eq(l.lost, 1);
	munmap(base, ipcc_system_size(sys));
	ipcc_log_reader_free(rd);
	ipcc_system_close(sys);
}

static sem_t in_line, go_on;
static _Thread_local bool pause_here;

static void pause_mid_line(void)
{
	if (!pause_here)
		return;
	sem_post(&in_line);
	sem_wait(&go_on);
}

static void *slow_writer(void *arg)
{
	pause_here = true;
	return (void *)(intptr_t)ipcc_log_printf(arg, "slow");
}

Test(log, a_line_left_unfinished_by_a_live_owner_is_skipped_after_the_stall_limit)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_MIN);
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	struct ipcc_log_line l;

	struct ipcc_log_reader *rd = reader(sys, 0, 0); /* before line 0: it counts from there */
	sem_init(&in_line, 0, 0);
	sem_init(&go_on, 0, 0);
	ipcc_log_test_mid_line = pause_mid_line;
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, slow_writer, c0), 0);
	sem_wait(&in_line); /* a writer stopped mid-line, its process alive (like SIGSTOP) */
	cr_assert_eq(ipcc_log_printf(c0, "behind it"), 0);
	cr_assert_eq(ipcc_log_read(rd, &l), -EAGAIN, "it may still come first");
	cr_assert_eq(read_line(rd, &l), 1, "after IPCC_LOG_STALL_MS, the others' lines go on");
	cr_assert_str_eq(l.text, "behind it");
	cr_assert_eq(l.lost, 1, "the stopped line counts as lost for this reader");
	sem_post(&go_on);
	pthread_join(t, NULL);
	ipcc_log_test_mid_line = NULL;
	cr_assert_eq(read_line(rd, &l), 0, "finished late, it is behind the reader: not shown");
	ipcc_log_reader_free(rd);
	rd = reader(sys, 0, 0);
	cr_assert_eq(read_line(rd, &l), 1, "a new reader gets it");
	cr_assert_str_eq(l.text, "slow");
	ipcc_log_reader_free(rd);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

Test(log, several_readers_each_read_every_line)
{
	struct ipcc_system *sys = log_system(3, IPCC_LOG_RING_SIZE_DEFAULT);
	struct ipcc_system *ro = open_ro(sys);
	struct ipcc_cpu *c2 = test_attach(sys, 2);
	struct ipcc_log_reader *a = reader(sys, 0, 0), *b = reader(ro, 0, 0),
			       *c = reader(ro, 1u << 2, 0);
	struct ipcc_log_line l;

	for (unsigned i = 0; i < 50; i++) {
		cr_assert_eq(ipcc_log_printf(c2, "%u", i), 0);
		struct ipcc_log_reader *rds[] = { a, b, c };
		/* Interleaved: one reader's progress is its own. */
		cr_assert_eq(read_line(rds[i % 3], &l), 1);
		cr_assert_eq((unsigned)atoi(l.text), l.number, "its own next line");
	}
	struct ipcc_log_reader *rds[] = { a, b, c };
	for (unsigned k = 0; k < 3; k++) {
		struct ipcc_log_stats st;
		while (read_line(rds[k], &l) == 1)
			;
		cr_assert_eq(ipcc_log_reader_stats(rds[k], 2, &st), 0);
		cr_assert_eq(st.lines, 50, "reader %u", k);
		cr_assert_eq(st.lost, 0);
		ipcc_log_reader_free(rds[k]);
	}
	ipcc_cpu_detach(c2);
	ipcc_system_close(ro);
	ipcc_system_close(sys);
}

/* ---- a full ring ---------------------------------------------------------------------------- */

Test(log, a_ring_whose_oldest_line_is_still_being_written_drops_and_counts)
{
	struct ipcc_system *sys = log_system(2, IPCC_LOG_RING_SIZE_MIN); /* 64 slots */
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	pthread_t t;
	void *ret;
	uint64_t dropped;

	sem_init(&in_line, 0, 0);
	sem_init(&go_on, 0, 0);
	ipcc_log_test_mid_line = pause_mid_line;
	cr_assert_eq(pthread_create(&t, NULL, slow_writer, c0), 0);
	sem_wait(&in_line); /* it holds ticket 0, unpublished */
	unsigned stored = 0, refused = 0;
	for (unsigned i = 0; i < 100; i++) {
		int r = ipcc_log_printf(c0, "fast %u", i);
		cr_assert(r == 0 || r == -ENOBUFS, "%d", r);
		if (r == 0) {
			cr_assert_eq(refused, 0, "once full, full until the slow line is done");
			stored++;
		} else {
			refused++;
		}
	}
	cr_assert_eq(stored, 63, "a lap of one-slot lines, less the slow one's slot");
	cr_assert_eq(ipcc_log_dropped(sys, 0, &dropped), 0);
	cr_assert_eq(dropped, refused);
	sem_post(&go_on);
	cr_assert_eq(pthread_join(t, &ret), 0);
	cr_assert_eq((intptr_t)ret, 0);
	ipcc_log_test_mid_line = NULL;
	cr_assert_eq(ipcc_log_printf(c0, "room again"), 0);
	struct ipcc_log_reader *rd = reader(sys, 0, 0);
	struct ipcc_log_line l;
	unsigned n = 0;
	while (read_line(rd, &l) == 1)
		n++;
	cr_assert_eq(n, 64,
		     "a lap: the 63 fast lines and 'room again', which took the slow one's slot");
	ipcc_log_reader_free(rd);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/* ---- 4 writer processes x 3 threads, a reader following ------------------------------------- */

#define PROCS	    4
#define THREADS	    3
#define TOTAL_LINES 100000u
#define LINES_EACH  ((TOTAL_LINES + PROCS * THREADS - 1) / (PROCS * THREADS))

struct tally {
	_Atomic uint64_t stored, dropped;
};

struct writer_arg {
	struct ipcc_cpu *cpu;
	unsigned proc, thread;
	struct tally *tally;
};

/* A checksum of the line's number and writer, repeated as padding of varying length. */
static unsigned line_pad(unsigned proc, unsigned thread, unsigned i)
{
	return (i * 37 + proc * 11 + thread * 5) % 150;
}

static void *stress_writer(void *arg)
{
	struct writer_arg *w = arg;
	char pad[200];
	for (unsigned i = 0; i < LINES_EACH; i++) {
		unsigned n = line_pad(w->proc, w->thread, i);
		memset(pad, 'a' + (char)(i % 26), n);
		pad[n] = '\0';
		int r = ipcc_log_printf(w->cpu, "w%u.%u %u %u %s", w->proc, w->thread, i, n, pad);
		if (r == 0)
			atomic_fetch_add(&w->tally[w->proc * THREADS + w->thread].stored, 1);
		else if (r == -ENOBUFS)
			atomic_fetch_add(&w->tally[w->proc * THREADS + w->thread].dropped, 1);
		else
			abort();
	}
	return NULL;
}

static bool line_check(const struct ipcc_log_line *l, unsigned next[PROCS][THREADS],
		       unsigned *ret_proc)
{
	unsigned p, t, i, n;
	int used = 0;
	if (sscanf(l->text, "w%u.%u %u %u %n", &p, &t, &i, &n, &used) != 4 || p >= PROCS ||
	    t >= THREADS || p != l->cpu)
		return false;
	const char *pad = l->text + used;
	if (n != line_pad(p, t, i) || strlen(pad) != n || l->len != used + n)
		return false;
	for (unsigned k = 0; k < n; k++)
		if (pad[k] != 'a' + (char)(i % 26))
			return false;
	if (i < next[p][t])
		return false; /* twice, or out of this writer's order */
	next[p][t] = i + 1;
	*ret_proc = p;
	return true;
}

ParameterizedTestParameters(log, four_processes_of_three_threads_while_a_reader_follows)
{
	/* The default ring, lapped many times (lines lost, drops); one the run never laps. */
	static uint32_t sizes[] = { IPCC_LOG_RING_SIZE_DEFAULT, 8u << 20 };
	return cr_make_param_array(uint32_t, sizes, 2);
}

ParameterizedTest(uint32_t *ring_size, log, four_processes_of_three_threads_while_a_reader_follows,
		  .timeout = 60)
{
	struct ipcc_system *sys = log_system(PROCS, *ring_size);
	struct tally *tally = mmap(NULL, sizeof(struct tally) * PROCS * THREADS,
				   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(tally, MAP_FAILED);
	struct ipcc_log_reader *rd = reader(sys, 0, 0);
	pid_t pids[PROCS];

	for (unsigned p = 0; p < PROCS; p++) {
		pids[p] = fork();
		cr_assert_geq(pids[p], 0);
		if (pids[p])
			continue;
		struct ipcc_system *s;
		struct ipcc_cpu *c;
		pthread_t th[THREADS];
		struct writer_arg wa[THREADS];
		if (ipcc_system_open(ipcc_system_name(sys), &s) < 0 ||
		    ipcc_cpu_attach(s, p, NULL, &c) < 0)
			_exit(2);
		for (unsigned t = 0; t < THREADS; t++) {
			wa[t] = (struct writer_arg){ c, p, t, tally };
			if (pthread_create(&th[t], NULL, stress_writer, &wa[t]))
				_exit(3);
		}
		for (unsigned t = 0; t < THREADS; t++)
			pthread_join(th[t], NULL);
		ipcc_cpu_detach(c);
		ipcc_system_close(s);
		_exit(0);
	}

	unsigned next[PROCS][THREADS] = { { 0 } };
	uint64_t got[PROCS] = { 0 };
	unsigned running = PROCS;
	struct ipcc_log_line l;
	uint64_t last_time = 0;
	bool draining = false;
	for (;;) {
		int r = ipcc_log_read(rd, &l);
		if (r == 1) {
			unsigned p;
			cr_assert(line_check(&l, next, &p),
				  "a line not whole, twice or out of order: "
				  "cpu %u '%.80s'",
				  l.cpu, l.text);
			got[p]++;
			(void)last_time;
			continue;
		}
		cr_assert(r == 0 || r == -EAGAIN, "%d", r);
		if (draining && r == 0)
			break;
		while (running) {
			int st;
			pid_t w = waitpid(-1, &st, WNOHANG);
			if (w <= 0)
				break;
			cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d: %x", (int)w,
				  st);
			running--;
		}
		if (!running)
			draining = true; /* every line is complete now: read to the end */
		else
			ipcc_log_wait(rd, 100);
	}
	uint64_t stored = 0, dropped = 0, lost = 0, lines = 0;
	for (unsigned p = 0; p < PROCS; p++) {
		struct ipcc_log_stats st;
		uint64_t p_stored = 0, p_dropped = 0;
		for (unsigned t = 0; t < THREADS; t++) {
			p_stored += tally[p * THREADS + t].stored;
			p_dropped += tally[p * THREADS + t].dropped;
		}
		cr_assert_eq(ipcc_log_reader_stats(rd, p, &st), 0);
		cr_assert_eq(st.lines, got[p]);
		cr_assert_eq(st.dropped, p_dropped, "CPU %u: the drops the writers were told of",
			     p);
		cr_assert_eq(st.lines + st.lost, p_stored,
			     "CPU %u: every stored line read or counted as lost (%" PRIu64
			     " read, %" PRIu64 " lost, %" PRIu64 " stored)",
			     p, st.lines, st.lost, p_stored);
		stored += p_stored;
		dropped += p_dropped;
		lost += st.lost;
		lines += st.lines;
	}
	cr_assert_eq(stored + dropped, (uint64_t)LINES_EACH * PROCS * THREADS);
	cr_assert_geq(stored + dropped, TOTAL_LINES);
	if (*ring_size == 8u << 20)
		/* 25000 lines of at most 4 slots per CPU never lap 131072 slots. */
		cr_assert(lost == 0 && dropped == 0 && lines == stored,
			  "a ring never lapped delivers every line (%" PRIu64 " lost, %" PRIu64
			  " dropped)",
			  lost, dropped);
	cr_log_info("ring %u: %" PRIu64 " lines read, %" PRIu64 " lost, %" PRIu64 " dropped",
		    *ring_size, lines, lost, dropped);
	ipcc_log_reader_free(rd);
	munmap(tally, sizeof(struct tally) * PROCS * THREADS);
	ipcc_system_close(sys);
}
