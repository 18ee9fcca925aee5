/* SPDX-License-Identifier: MIT */
/*
 * `ipcc log NAME [--follow] [--cpu CPU]... [--json]`: the shared-memory log of a system
 * (include/ipcc/log.h), merged in time order; and what `ipcc plan` and `ipcc info` say about
 * the log and the user regions (include/ipcc/region.h).
 *
 * Everything in a log line was written by a participant: the text goes through esc() like every
 * other string read from the object, NUL bytes included.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <ipcc/layout.h>

#include "ipcc-tool.h"

static volatile sig_atomic_t log_stop;

static void log_on_signal(int sig)
{
	log_stop = sig;
}

struct log_run {
	const char *name;
	struct ipcc_system *sys;
	struct ipcc_log_reader *rd;
	uint64_t cpus; /* the CPUs read */
	bool json, follow;
	json_t *lines;			   /* --json without --follow: the document's lines */
	uint64_t dropped[IPCC_CPUS_MAX];   /* the writers' drops already reported */
	uint64_t new_drops[IPCC_CPUS_MAX]; /* found since, for the CPU's next line (JSON) */
};

/* len bytes of text as esc() shows them, a NUL byte as \x00. */
static void print_escaped(const char *text, size_t len)
{
	size_t at = 0;
	for (;;) {
		fputs(ESC(text + at), stdout);
		at += strlen(text + at);
		if (at >= len)
			break;
		fputs("\\x00", stdout);
		at++;
	}
}

static const char *cpu_name(const struct log_run *run, unsigned cpu)
{
	const char *n = ipcc_system_cpu_name(run->sys, cpu);
	return n ? n : "?";
}

/* Text: one marker line per CPU whose writers dropped lines since the last look. */
static void note_drops(struct log_run *run)
{
	for (unsigned c = 0; c < IPCC_CPUS_MAX; c++) {
		struct ipcc_log_stats st;
		if (!(run->cpus >> c & 1))
			continue;
		if (ipcc_log_reader_stats(run->rd, c, &st) < 0 || st.dropped <= run->dropped[c])
			continue;
		uint64_t n = st.dropped - run->dropped[c];
		run->dropped[c] = st.dropped;
		if (run->json) {
			run->new_drops[c] += n;
			continue;
		}
		printf("[%s] --- %" PRIu64 " line%s dropped by the writer (no room) ---\n",
		       ESC(cpu_name(run, c)), n, n == 1 ? "" : "s");
	}
}

static json_t *json_line(struct log_run *run, const struct ipcc_log_line *l)
{
	char t[32];
	snprintf(t, sizeof(t), "%" PRIu64 ".%06" PRIu64, l->time_ns / 1000000000u,
		 l->time_ns % 1000000000u / 1000u);
	json_t *o = json_pack("{s:i, s:o, s:I, s:s, s:I, s:I, s:I, s:o}", "cpu", (int)l->cpu,
			      "cpu_name", jstr(cpu_name(run, l->cpu)), "time_ns",
			      (json_int_t)l->time_ns, "time", t, "number", (json_int_t)l->number,
			      "lost", (json_int_t)l->lost, "dropped",
			      (json_int_t)run->new_drops[l->cpu], "text", jstr(l->text));
	run->new_drops[l->cpu] = 0;
	return o;
}

/* One line out: 0, or EXIT_RUNTIME when out of memory. */
static int emit(struct log_run *run, const struct ipcc_log_line *l)
{
	note_drops(run);
	if (run->json) {
		json_t *o = json_line(run, l);
		if (!o)
			return EXIT_RUNTIME;
		if (!run->follow) {
			append(&run->lines, o);
			return run->lines ? 0 : EXIT_RUNTIME;
		}
		int r = json_dumpf(o, stdout, JSON_COMPACT);
		json_decref(o);
		putchar('\n');
		return r < 0 ? EXIT_RUNTIME : 0;
	}
	if (l->lost)
		printf("[%s] --- %" PRIu32 " line%s lost (overwritten before they were read, or "
		       "their writer died) ---\n",
		       ESC(cpu_name(run, l->cpu)), l->lost, l->lost == 1 ? "" : "s");
	char buf[IPCC_CPU_NAME_MAX + IPCC_LOG_LINE_MAX + 64];
	int n = ipcc_log_format(run->sys, l, buf, sizeof(buf));
	if (n < 0)
		return EXIT_RUNTIME;
	print_escaped(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	putchar('\n');
	return 0;
}

/* The document of --json without --follow: the lines, then what each CPU's reading gave. */
static int json_document(struct log_run *run)
{
	json_t *cpus = json_array();

	for (unsigned c = 0; c < IPCC_CPUS_MAX; c++) {
		struct ipcc_log_stats st = { 0 };
		if (!(run->cpus >> c & 1))
			continue;
		ipcc_log_reader_stats(run->rd, c, &st);
		append(&cpus,
		       json_pack("{s:i, s:o, s:I, s:I, s:I}", "id", (int)c, "name",
				 jstr(cpu_name(run, c)), "lines", (json_int_t)st.lines, "lost",
				 (json_int_t)st.lost, "dropped", (json_int_t)st.dropped));
	}
	json_t *doc = json_pack("{s:o, s:I, s:o, s:o}", "name", jstr(run->name), "ring_size",
				(json_int_t)ipcc_log_ring_size(run->sys), "lines", run->lines,
				"cpus", cpus);
	run->lines = NULL;
	return json_print(doc, run->name);
}

/* Read and print until the end (or, following, until a signal): 0 or EXIT_RUNTIME. */
static int log_loop(struct log_run *run)
{
	struct ipcc_log_line *l = malloc(sizeof(*l));
	int ret = 0;

	if (!l)
		return EXIT_RUNTIME;
	while (!log_stop) {
		int r = ipcc_log_read(run->rd, l);
		if (r == 1) {
			ret = emit(run, l);
			if (ret)
				break;
			continue;
		}
		if (r < 0 && r != -EAGAIN) {
			fprintf(stderr, "ipcc: cannot read the log of %s: %s\n", ESC(run->name),
				ipcc_strerror(r));
			ret = EXIT_RUNTIME;
			break;
		}
		note_drops(run);
		if (fflush(stdout) == EOF) {
			ret = EXIT_RUNTIME;
			break;
		}
		if (r == 0 && !run->follow)
			break;
		/*
		 * A line in progress (-EAGAIN) is waited for; following, so is the next one, a
		 * second at a time: a signal that lands between the check of log_stop and the
		 * sleep does not interrupt it, and then ends the run within that second.
		 */
		r = ipcc_log_wait(run->rd, run->follow ? 1000 : 100);
		if (r == -EINTR)
			break;
	}
	free(l);
	return ret;
}

/* The CPUs named by --cpu (names or ids) as a mask; 0 with every CPU when none was given. */
static int cpu_mask(const char *name, struct ipcc_system *sys, char **names, unsigned count,
		    uint64_t *ret)
{
	uint64_t mask = 0;
	for (unsigned i = 0; i < count; i++) {
		int id = ipcc_system_cpu_by_name(sys, names[i]);
		char *end;
		if (id < 0) {
			unsigned long v = strtoul(names[i], &end, 10);
			if (names[i][0] >= '0' && names[i][0] <= '9' && !*end &&
			    v < ipcc_system_cpus(sys))
				id = (int)v;
		}
		if (id < 0) {
			fprintf(stderr, "ipcc: cannot read the log of %s: it has no CPU '%s'\n",
				ESC(name), ESC(names[i]));
			return EXIT_RUNTIME;
		}
		mask |= 1ull << id;
	}
	*ret = mask;
	return 0;
}

int cmd_log(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char name[IPCC_NAME_MAX + 2];
	char *cpu_names[IPCC_CPUS_MAX];
	unsigned ncpus = 0;
	struct log_run run = { .name = name };
	int c, r;

	while ((c = getopt_long(argc, argv, ":hf", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (c) {
		case 'f':
			run.follow = true;
			break;
		case 'c':
			if (ncpus == IPCC_CPUS_MAX)
				return usage_error("log: more than %u --cpu options",
						   IPCC_CPUS_MAX);
			cpu_names[ncpus++] = optarg;
			break;
		case 'j':
			run.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("log: option '%s' needs a value", opt);
		default:
			return usage_error("log: unknown option '%s'", opt);
		}
	}
	r = name_operand("log", argc, argv, name, sizeof(name));
	if (r)
		return r;
	/* Read-only is enough to read; a follower that may write the doorbell word is rung. */
	r = -EACCES;
	if (run.follow)
		r = ipcc_system_open(name, &run.sys);
	if (r < 0)
		r = ipcc_system_open_flags(name, IPCC_OPEN_READONLY, &run.sys);
	if (r < 0)
		return fail("open", name, r);
	r = cpu_mask(name, run.sys, cpu_names, ncpus, &run.cpus);
	if (r)
		goto out;
	r = ipcc_log_reader_new(run.sys, run.cpus, run.follow ? 0 : IPCC_LOG_READ_UNTIL, &run.rd);
	if (r == -EOPNOTSUPP) {
		fprintf(stderr,
			"ipcc: cannot read the log of %s: it has no log (create it with "
			"'services: log:' in its description)\n",
			ESC(name));
		r = EXIT_RUNTIME;
		goto out;
	}
	if (r < 0) {
		r = fail("read the log of", name, r);
		goto out;
	}
	if (!run.cpus)
		run.cpus = ipcc_system_cpus(run.sys) == 64
				   ? ~0ull
				   : (1ull << ipcc_system_cpus(run.sys)) - 1;
	if (run.json && !run.follow && !(run.lines = json_array())) {
		r = EXIT_RUNTIME;
		goto out;
	}
	struct sigaction sa = { .sa_handler = log_on_signal }; /* no SA_RESTART: end the wait */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = log_loop(&run);
	if (r == 0 && run.json && !run.follow)
		r = json_document(&run);
	if (r == 0 && fflush(stdout) == EOF)
		r = EXIT_RUNTIME;
out:
	json_decref(run.lines);
	ipcc_log_reader_free(run.rd);
	ipcc_system_close(run.sys);
	return r;
}

/* ---- plan and info ------------------------------------------------------------------------ */

static void print_regions(const struct ipcc_region_info *ri, int n)
{
	if (n <= 0)
		return;
	printf("  regions:\n    %5s  %-31s  %-10s  %12s  %5s\n", "INDEX", "NAME", "OFFSET", "SIZE",
	       "ALIGN");
	for (int i = 0; i < n; i++)
		printf("    %5u  %-31s  0x%08" PRIx64 "  %12" PRIu64 "  %5" PRIu32 "\n",
		       ri[i].index, ESC(ri[i].name), ri[i].offset, ri[i].size, ri[i].align);
}

static json_t *json_regions(const struct ipcc_region_info *ri, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		append(&a, json_pack("{s:i, s:o, s:I, s:I, s:I}", "index", (int)ri[i].index, "name",
				     jstr(ri[i].name), "offset", (json_int_t)ri[i].offset, "size",
				     (json_int_t)ri[i].size, "align", (json_int_t)ri[i].align));
	return a;
}

static int plan_regions(const struct ipcc_config *cfg, struct ipcc_region_info *ri)
{
	int n = ipcc_region_plan(cfg, ri, IPCC_REGIONS_MAX);
	return n < 0 ? 0 : n > (int)IPCC_REGIONS_MAX ? (int)IPCC_REGIONS_MAX : n;
}

static int system_regions(const struct ipcc_system *sys, struct ipcc_region_info *ri)
{
	int n = ipcc_region_count(sys);
	for (int i = 0; i < n && i < (int)IPCC_REGIONS_MAX; i++)
		if (ipcc_region_get(sys, (unsigned)i, &ri[i]) < 0)
			return i;
	return n < 0 ? 0 : n;
}

void log_print_plan(const struct ipcc_config *cfg)
{
	struct ipcc_region_info ri[IPCC_REGIONS_MAX];

	if (cfg->log)
		printf("  log: %" PRIu32 " KiB per CPU (%" PRIu32 " slots of %u B)\n",
		       cfg->log->ring_size >> 10, cfg->log->ring_size / IPCC_SHM_LOG_SLOT_SIZE,
		       IPCC_SHM_LOG_SLOT_SIZE);
	print_regions(ri, plan_regions(cfg, ri));
}

json_t *log_json_plan(json_t *doc, const struct ipcc_config *cfg)
{
	struct ipcc_region_info ri[IPCC_REGIONS_MAX];
	json_t *log = cfg->log ? json_pack("{s:I}", "ring_size", (json_int_t)cfg->log->ring_size)
			       : json_null();

	if (json_object_set_new(doc, "log", log) < 0 ||
	    json_object_set_new(doc, "regions", json_regions(ri, plan_regions(cfg, ri))) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

void log_print_info(struct ipcc_system *sys)
{
	struct ipcc_region_info ri[IPCC_REGIONS_MAX];
	int size = ipcc_log_ring_size(sys);

	if (size > 0) {
		uint64_t total = 0, d;
		for (unsigned i = 0; i < ipcc_system_cpus(sys); i++)
			if (ipcc_log_dropped(sys, i, &d) == 0)
				total += d;
		printf("\n  log: %d KiB per CPU, %" PRIu64 " lines dropped (ipcc log %s)\n",
		       size >> 10, total, ESC(ipcc_system_name(sys)));
	}
	int n = system_regions(sys, ri);
	if (n > 0)
		putchar('\n');
	print_regions(ri, n);
}

int log_json_info(json_t *doc, struct ipcc_system *sys)
{
	struct ipcc_region_info ri[IPCC_REGIONS_MAX];
	int size = ipcc_log_ring_size(sys);
	json_t *log = json_null();

	if (size > 0) {
		json_t *dropped = json_array();
		for (unsigned i = 0; i < ipcc_system_cpus(sys); i++) {
			uint64_t d = 0;
			ipcc_log_dropped(sys, i, &d);
			append(&dropped, json_integer((json_int_t)d));
		}
		log = json_pack("{s:i, s:o}", "ring_size", size, "dropped", dropped);
	}
	if (json_object_set_new(doc, "log", log) < 0 ||
	    json_object_set_new(doc, "regions", json_regions(ri, system_regions(sys, ri))) < 0)
		return -1;
	return 0;
}
