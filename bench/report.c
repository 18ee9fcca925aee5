/* SPDX-License-Identifier: MIT */
/*
 * Reporting. Everything here works on finished rows in the parent; nothing is timed.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static bool is_ok(const struct bench_result *r)
{
	return r->status == BENCH_OK;
}

static bool is_latency(const struct bench_result *r)
{
	return r->pattern != BENCH_STREAM;
}

/* Rows with a message rate: streams, and meshes (which have latencies too). */
static bool has_rate(const struct bench_result *r)
{
	return r->pattern == BENCH_STREAM || r->pattern == BENCH_MESH;
}

/*
 * What must not pass silently. A latency baseline is the same wait done with nothing around
 * it (raw-spin: one line bounced; raw-futex, eventfd, io_uring: one word and one wake), so a
 * library row below it has lost a step or been mismeasured. Stream baselines (pipe) are no
 * floor.
 */
static void set_warnings(struct bench_result *r)
{
	r->warn = 0;
	if (!is_ok(r))
		return;
	if (is_latency(r) && r->base && r->st.p50 < r->base->st.p50)
		r->warn |= BENCH_W_BELOW_FLOOR;
	if (is_latency(r) && r->st.max > (uint64_t)BENCH_OUTLIER_FACTOR * r->st.p999)
		r->warn |= BENCH_W_OUTLIERS;
	if (r->runs > 1 && r->spread_pct > BENCH_UNSTABLE_PCT)
		r->warn |= BENCH_W_UNSTABLE;
}

/*
 * The row named @name that row i compares with: same pattern, same size (or the transport's
 * baseline_size) if the baseline ran at it, else a fixed-size baseline's only row.
 */
static const struct bench_result *find_base(const struct bench_result *r, size_t n, size_t i,
					    const char *name)
{
	const struct bench_result *best = NULL;
	size_t j, size = r[i].t->baseline_size ? r[i].t->baseline_size : r[i].size;

	for (j = 0; j < n; j++) {
		if (j == i || !is_ok(&r[j]) || r[j].pattern != r[i].pattern ||
		    strcmp(r[j].t->name, name))
			continue;
		if (r[j].size == size)
			return &r[j];
		if (r[j].t->fixed_size && !best)
			best = &r[j];
	}
	return best;
}

/* Both ways "time per message relative to the baseline": above 1 is slower. */
static double time_ratio(const struct bench_result *x, const struct bench_result *base)
{
	if (is_latency(x))
		return base->st.p50 ? (double)x->st.p50 / (double)base->st.p50 : NAN;
	return x->msgs_per_s > 0 ? base->msgs_per_s / x->msgs_per_s : NAN;
}

void bench_resolve_baselines(struct bench_result *r, size_t n)
{
	const struct bench_result *best;
	const char *name;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_ok(&r[i]))
			continue;
		name = r[i].t->baseline ? r[i].t->baseline(r[i].t, r[i].pattern, r[i].size) : NULL;
		best = name ? find_base(r, n, i, name) : NULL;
		if (best) {
			r[i].base = best;
			r[i].ratio = time_ratio(&r[i], best);
		}
		name = r[i].t->baseline2 ? r[i].t->baseline2(r[i].t, r[i].pattern, r[i].size)
					 : NULL;
		best = name ? find_base(r, n, i, name) : NULL;
		if (best) {
			r[i].base2 = best;
			r[i].ratio2 = time_ratio(&r[i], best);
		}
	}
	for (i = 0; i < n; i++)
		set_warnings(&r[i]);
}

/* ---- stdout ---- */

void bench_print_machine(FILE *f, const struct bench_machine *m)
{
	fprintf(f, "machine: %s, %ld online CPUs (%d allowed), %s %s %s\n", m->cpu_model,
		m->online_cpus, m->allowed_cpus, m->sysname, m->release, m->arch);
	fprintf(f, "virtualised: %s%s%s%s\n", m->virtualized ? "yes" : "no (no evidence)",
		m->virtualized ? " (" : "", m->virt_evidence, m->virtualized ? ")" : "");
	fprintf(f,
		"clock: %s via %s, clocksource %s, resolution %llu ns, read cost p50 %llu ns "
		"(min %llu, mean %.1f)\n",
		m->clock, m->vdso ? "vDSO" : "syscall", m->clocksource[0] ? m->clocksource : "?",
		(unsigned long long)m->clock_res_ns, (unsigned long long)m->clock_read_p50_ns,
		(unsigned long long)m->clock_read_min_ns, m->clock_read_mean_ns);
	fprintf(f, "pinned: side A on CPU %d, side B on CPU %d\n\n", m->cpu[0], m->cpu[1]);
}

void bench_fmt_versus(char *buf, size_t len, double ratio)
{
	if (isnan(ratio) || ratio <= 0)
		snprintf(buf, len, "-");
	else if (fabs(ratio - 1) < 0.005)
		snprintf(buf, len, "same (1.00x)");
	else if (ratio > 1)
		snprintf(buf, len, "%.2fx slower", ratio);
	else
		snprintf(buf, len, "%.2fx faster", 1 / ratio);
}

static void fmt_spread(char *buf, size_t len, const struct bench_result *r)
{
	if (r->runs > 1 && !isnan(r->spread_pct))
		snprintf(buf, len, "%u:%.1f%%", r->runs, r->spread_pct);
	else
		snprintf(buf, len, "-");
}

static void print_header(FILE *f, enum bench_pattern p, unsigned int repeat)
{
	static const char *const what[] = {
		[BENCH_SIMPLEX] =
			"simplex latency, ns (one way: B's receive stamp - A's send stamp)",
		[BENCH_HALF_DUPLEX] = "half-duplex latency, ns (round trip)",
		[BENCH_STREAM] = "stream throughput",
		[BENCH_MESH] = "mesh: K CPUs, each sending to and receiving from every other in "
			       "rounds; aggregate msgs/s, delivery latency ns (send stamp to "
			       "receipt)",
	};

	fprintf(f, "%s%s\n", what[p],
		repeat > 1
			? "; runs:sprd = the runs, and how far their p50s (stream: msgs/s) spread"
			: "");
	if (p == BENCH_MESH) {
		fprintf(f, "%-13s %-9s %-11s %6s %6s %10s %12s %9s %8s %8s %8s %9s\n", "transport",
			"wait", "pattern", "cpus", "links", "messages", "msgs/s", "ns/msg", "p50",
			"p99", "p99.9", "max");
		return;
	}
	if (p == BENCH_STREAM)
		fprintf(f, "%-13s %-9s %-11s %6s %10s %14s %10s", "transport", "wait", "pattern",
			"size", "messages", "msgs/s", "MB/s");
	else
		fprintf(f, "%-13s %-9s %-11s %6s %10s %8s %8s %8s %8s %8s %9s %9s", "transport",
			"wait", "pattern", "size", "iterations", "min", "p50", "p90", "p99",
			"p99.9", "max", "mean");
	if (repeat > 1)
		fprintf(f, " %10s", "runs:sprd");
	fprintf(f, "  %-13s %s\n", "baseline", "vs baseline; vs second reference");
}

static void print_warnings(FILE *f, const struct bench_result *x)
{
	if (x->warn & BENCH_W_BELOW_FLOOR)
		fprintf(f,
			"  ! below its floor: p50 %llu ns is under %s's %llu ns, the same wait "
			"with "
			"nothing around it; suspect the measurement\n",
			(unsigned long long)x->st.p50, x->base->t->name,
			(unsigned long long)x->base->st.p50);
	if (x->warn & BENCH_W_OUTLIERS)
		fprintf(f,
			"  ! outliers: max %llu ns is %.0fx p99.9 (%llu ns): a few samples far "
			"beyond "
			"the tail (preemption, interrupts?)\n",
			(unsigned long long)x->st.max,
			x->st.p999 ? (double)x->st.max / (double)x->st.p999 : 0.0,
			(unsigned long long)x->st.p999);
	if (x->warn & BENCH_W_UNSTABLE)
		fprintf(f, "  ! unstable: the %u runs' %s spread %.1f%% (more than %.0f%%)\n",
			x->runs, is_latency(x) ? "p50s" : "msgs/s", x->spread_pct,
			BENCH_UNSTABLE_PCT);
}

void bench_print_row(FILE *f, const struct bench_result *r, size_t i, unsigned int repeat)
{
	const struct bench_result *x = &r[i];
	char versus[32], spread[32];

	if (i == 0 || r[i - 1].pattern != x->pattern) {
		if (i)
			fprintf(f, "\n");
		print_header(f, x->pattern, repeat);
	}
	if (!is_ok(x)) {
		fprintf(f, "%s: %s %s %s %s %zu: %s\n",
			x->status == BENCH_SKIPPED ? "skipped" : "FAILED", x->t->name, x->t->wait,
			bench_pattern_name(x->pattern), x->cpus ? "cpus" : "size",
			x->cpus ? (size_t)x->cpus : x->size, x->note);
		return;
	}
	if (x->pattern == BENCH_MESH) {
		fprintf(f, "%-13s %-9s %-11s %6u %6u %10llu %12.0f %9.1f %8llu %8llu %8llu %9llu",
			x->t->name, x->t->wait, "mesh", x->cpus, x->cpus * (x->cpus - 1) / 2,
			(unsigned long long)x->iterations, x->msgs_per_s,
			x->msgs_per_s > 0 ? 1e9 / x->msgs_per_s : 0.0,
			(unsigned long long)x->st.p50, (unsigned long long)x->st.p99,
			(unsigned long long)x->st.p999, (unsigned long long)x->st.max);
		if (repeat > 1) {
			fmt_spread(spread, sizeof(spread), x);
			fprintf(f, " %10s", spread);
		}
		fprintf(f, "\n");
		print_warnings(f, x);
		return;
	}
	if (is_latency(x))
		fprintf(f, "%-13s %-9s %-11s %6zu %10llu %8llu %8llu %8llu %8llu %8llu %9llu %9.1f",
			x->t->name, x->t->wait, bench_pattern_name(x->pattern), x->size,
			(unsigned long long)x->iterations, (unsigned long long)x->st.min,
			(unsigned long long)x->st.p50, (unsigned long long)x->st.p90,
			(unsigned long long)x->st.p99, (unsigned long long)x->st.p999,
			(unsigned long long)x->st.max, x->st.mean);
	else
		fprintf(f, "%-13s %-9s %-11s %6zu %10llu %14.0f %10.1f", x->t->name, x->t->wait,
			bench_pattern_name(x->pattern), x->size, (unsigned long long)x->iterations,
			x->msgs_per_s, x->msgs_per_s * (double)x->size / 1e6);
	if (repeat > 1) {
		fmt_spread(spread, sizeof(spread), x);
		fprintf(f, " %10s", spread);
	}
	bench_fmt_versus(versus, sizeof(versus), x->base ? x->ratio : NAN);
	fprintf(f, "  %-13s %s%s", x->base ? x->base->t->name : "-", versus,
		x->clamped ? " *" : "");
	if (x->base2) {
		bench_fmt_versus(versus, sizeof(versus), x->ratio2);
		fprintf(f, "; %s %s", x->base2->t->name, versus);
	}
	fprintf(f, "\n");
	print_warnings(f, x);
}

void bench_print_legend(FILE *f, const struct bench_result *r, size_t n)
{
	bool any = false, any_clamped = false;
	size_t i;

	for (i = 0; i < n; i++) {
		any |= is_ok(&r[i]);
		any_clamped |= is_ok(&r[i]) && r[i].clamped != 0;
	}
	fprintf(f, "\n");
	if (any)
		fprintf(f,
			"vs baseline: time per message (latency: p50; stream: 1 / msgs/s) against "
			"the baseline row named beside it,\nthe same convention for both: "
			"\"2.70x slower\" takes 2.7 times as long, \"1.25x faster\" 1/1.25 as "
			"long; "
			"'-' for baselines and rows without one.\nAfter the ';': the same against "
			"the second reference, the plain floor (raw-spin, eventfd, io_uring)\n");
	if (any_clamped)
		fprintf(f, "*: some one-way samples were negative (clocks of the two CPUs "
			   "disagree) and were counted as 0\n");
}

/* ---- JSON ---- */

/*
 * The document is built with jansson, so escaping and structure are right by construction;
 * null-able fields follow SCHEMA.md. Building can only fail for lack of memory (then errno is
 * ENOMEM): jansson's setters take a reference even when they fail, so every json_*_new below
 * is handed to its parent at once.
 */
static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *u64_or_null(uint64_t v, bool null)
{
	/* json_int_t is long long: latencies and counts stay far below 2^63 ns. */
	return null ? json_null() : json_integer((json_int_t)v);
}

/* A real rounded to `decimals` places, or null (also for NaN and infinity). */
static json_t *real_or_null(double v, int decimals, bool null)
{
	double scale = pow(10, decimals);

	if (null || isnan(v) || isinf(v))
		return json_null();
	return json_real(round(v * scale) / scale);
}

static void set(json_t *obj, const char *key, json_t *v, bool *ok)
{
	if (!v || json_object_set_new(obj, key, v))
		*ok = false;
}

static json_t *machine_json(const struct bench_machine *m, bool *ok)
{
	json_t *o = json_object(), *k = json_object(), *cpus = json_array();

	if (!o || !k || !cpus) {
		json_decref(o);
		json_decref(k);
		json_decref(cpus);
		*ok = false;
		return NULL;
	}
	set(o, "cpu_model", json_string(m->cpu_model), ok);
	set(o, "online_cpus", json_integer(m->online_cpus), ok);
	set(o, "allowed_cpus", json_integer(m->allowed_cpus), ok);
	set(k, "sysname", json_string(m->sysname), ok);
	set(k, "release", json_string(m->release), ok);
	set(k, "version", json_string(m->version), ok);
	set(k, "arch", json_string(m->arch), ok);
	set(o, "kernel", k, ok);
	set(o, "virtualized", json_boolean(m->virtualized), ok);
	set(o, "virt_evidence", json_string(m->virt_evidence), ok);
	set(o, "sys_vendor", str_or_null(m->sys_vendor), ok);
	set(o, "clock", json_string(m->clock), ok);
	set(o, "clocksource", str_or_null(m->clocksource), ok);
	set(o, "vdso", json_boolean(m->vdso), ok);
	set(o, "clock_res_ns", json_integer((json_int_t)m->clock_res_ns), ok);
	set(o, "clock_read_ns", json_integer((json_int_t)m->clock_read_p50_ns), ok);
	set(o, "clock_read_min_ns", json_integer((json_int_t)m->clock_read_min_ns), ok);
	set(o, "clock_read_mean_ns", real_or_null(m->clock_read_mean_ns, 1, false), ok);
	if (json_array_append_new(cpus, json_integer(m->cpu[0])) ||
	    json_array_append_new(cpus, json_integer(m->cpu[1])))
		*ok = false;
	set(o, "cpus", cpus, ok);
	set(o, "date", json_string(m->date), ok);
	return o;
}

static json_t *result_json(const struct bench_result *x, bool *ok)
{
	json_t *o = json_object(), *runs, *p99, *warn;
	bool st = !is_latency(x);
	char versus[32];
	unsigned int k;

	if (!o) {
		*ok = false;
		return NULL;
	}
	set(o, "transport", json_string(x->t->name), ok);
	set(o, "wait", json_string(x->t->wait), ok);
	set(o, "pattern", json_string(bench_pattern_name(x->pattern)), ok);
	set(o, "size", json_integer((json_int_t)x->size), ok);
	set(o, "cpus", x->cpus ? json_integer(x->cpus) : json_null(), ok);
	set(o, "links", x->cpus ? json_integer(x->cpus * (x->cpus - 1) / 2) : json_null(), ok);
	set(o, "iterations", json_integer((json_int_t)x->iterations), ok);
	set(o, "min_ns", u64_or_null(x->st.min, st), ok);
	set(o, "p50_ns", u64_or_null(x->st.p50, st), ok);
	set(o, "p90_ns", u64_or_null(x->st.p90, st), ok);
	set(o, "p99_ns", u64_or_null(x->st.p99, st), ok);
	set(o, "p999_ns", u64_or_null(x->st.p999, st), ok);
	set(o, "max_ns", u64_or_null(x->st.max, st), ok);
	set(o, "mean_ns", real_or_null(x->st.mean, 1, st), ok);
	set(o, "msgs_per_s", real_or_null(x->msgs_per_s, 0, !has_rate(x)), ok);
	set(o, "clamped_samples", u64_or_null(x->clamped, st), ok);
	set(o, "baseline", str_or_null(x->base ? x->base->t->name : NULL), ok);
	set(o, "ratio", real_or_null(x->ratio, 4, !x->base), ok);
	bench_fmt_versus(versus, sizeof(versus), x->base ? x->ratio : NAN);
	set(o, "versus", str_or_null(x->base ? versus : NULL), ok);
	set(o, "baseline2", str_or_null(x->base2 ? x->base2->t->name : NULL), ok);
	set(o, "ratio2", real_or_null(x->ratio2, 4, !x->base2), ok);
	bench_fmt_versus(versus, sizeof(versus), x->base2 ? x->ratio2 : NAN);
	set(o, "versus2", str_or_null(x->base2 ? versus : NULL), ok);
	set(o, "runs", json_integer(x->runs), ok);
	runs = json_array();
	p99 = st ? json_null() : json_array();
	for (k = 0; runs && k < x->runs; k++) {
		if (json_array_append_new(runs, st ? real_or_null(x->run_value[k], 0, false)
						   : json_integer((json_int_t)x->run_value[k])))
			*ok = false;
		if (!st && p99 &&
		    json_array_append_new(p99, json_integer((json_int_t)x->run_p99[k])))
			*ok = false;
	}
	set(o, st ? "runs_msgs_per_s" : "runs_p50_ns", runs, ok);
	set(o, st ? "runs_p50_ns" : "runs_msgs_per_s", json_null(), ok);
	set(o, "runs_p99_ns", p99, ok);
	set(o, "spread_pct", real_or_null(x->spread_pct, 2, x->runs < 2), ok);
	set(o, "spread_p99_pct", real_or_null(x->spread_p99_pct, 2, st || x->runs < 2), ok);
	warn = json_array();
	if (warn && (x->warn & BENCH_W_BELOW_FLOOR) &&
	    json_array_append_new(warn, json_string("below_floor")))
		*ok = false;
	if (warn && (x->warn & BENCH_W_OUTLIERS) &&
	    json_array_append_new(warn, json_string("outliers")))
		*ok = false;
	if (warn && (x->warn & BENCH_W_UNSTABLE) &&
	    json_array_append_new(warn, json_string("unstable")))
		*ok = false;
	set(o, "warnings", warn, ok);
	return o;
}

static json_t *str_list(char *const *v, int n)
{
	json_t *a;
	int i;

	if (!n)
		return json_null();
	a = json_array();
	for (i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *tool_json(const struct bench_run_info *in, bool *ok)
{
	json_t *o = json_object();

	if (!o) {
		*ok = false;
		return NULL;
	}
	set(o, "name", json_string("ipcc-bench"), ok);
	set(o, "version", json_string(in->version), ok);
	set(o, "libipcc_version", json_string(in->lib_version), ok);
	set(o, "commit", str_or_null(in->commit), ok);
	return o;
}

static json_t *options_json(const struct bench_run_info *in, bool *ok)
{
	json_t *o = json_object(), *a;
	int i;

	if (!o) {
		*ok = false;
		return NULL;
	}
	set(o, "quick", json_boolean(in->quick), ok);
	set(o, "modes", str_list(in->modes, in->nmodes), ok);
	set(o, "transports", str_list(in->transports, in->ntransports), ok);
	set(o, "no_baselines", json_boolean(in->no_baselines), ok);
	a = json_array();
	for (i = 0; a && i < in->npatterns; i++)
		if (json_array_append_new(a, json_string(bench_pattern_name(in->patterns[i]))))
			*ok = false;
	set(o, "patterns", a, ok);
	a = json_array();
	for (i = 0; a && i < in->nsizes; i++)
		if (json_array_append_new(a, json_integer((json_int_t)in->sizes[i])))
			*ok = false;
	set(o, "sizes", a, ok);
	a = json_array();
	for (i = 0; a && i < 2; i++)
		if (json_array_append_new(a, json_integer(in->cpus[i])))
			*ok = false;
	set(o, "cpus", a, ok);
	set(o, "time_ms", json_integer(in->time_ms), ok);
	set(o, "warmup_time_ms", json_integer(in->warmup_time_ms), ok);
	set(o, "iterations", u64_or_null(in->iterations, !in->iterations), ok);
	set(o, "warmup", u64_or_null(in->warmup, !in->warmup_set), ok);
	set(o, "timeout_s", json_integer(in->timeout_s), ok);
	set(o, "repeat", json_integer(in->repeat), ok);
	a = json_array();
	for (i = 0; a && i < in->nmesh; i++)
		if (json_array_append_new(a, json_integer(in->mesh_cpus[i])))
			*ok = false;
	set(o, "mesh_cpus", a, ok);
	set(o, "json", str_or_null(in->json), ok);
	set(o, "csv", str_or_null(in->csv), ok);
	set(o, "plot", str_or_null(in->plot), ok);
	return o;
}

int bench_write_json(const char *path, const struct bench_machine *m,
		     const struct bench_run_info *info, const struct bench_result *r, size_t n)
{
	json_t *doc = json_object(), *results = json_array();
	bool ok = doc && results;
	int ret = -1;
	size_t i;

	set(doc, "tool", tool_json(info, &ok), &ok);
	set(doc, "options", options_json(info, &ok), &ok);
	set(doc, "complete", json_boolean(!info->stop_signal), &ok);
	set(doc, "stopped_by",
	    info->stop_signal ? json_string(info->stop_signal == SIGINT ? "SIGINT" : "SIGTERM")
			      : json_null(),
	    &ok);
	set(doc, "machine", machine_json(m, &ok), &ok);
	for (i = 0; ok && i < n; i++)
		if (is_ok(&r[i]) && json_array_append_new(results, result_json(&r[i], &ok)))
			ok = false;
	if (ok && json_object_set(doc, "results", results))
		ok = false;
	if (!ok) {
		errno = ENOMEM;
		goto out;
	}
	/* 15 significant digits: the rounded values print as written (no 0.30000000000000004). */
	errno = 0;
	if (json_dump_file(doc, path, JSON_INDENT(2) | JSON_REAL_PRECISION(15))) {
		if (!errno)
			errno = EIO;
		goto out;
	}
	ret = 0;
out:
	json_decref(results);
	json_decref(doc);
	return ret;
}

static int finish(FILE *f)
{
	int err = ferror(f);

	if (fclose(f) || err) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* ---- CSV ---- */

int bench_write_csv(const char *path, const struct bench_result *r, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f)
		return -1;
	/* Names never contain commas or quotes, so no quoting is needed. Empty field = null. */
	fprintf(f, "transport,wait,pattern,size,iterations,min_ns,p50_ns,p90_ns,p99_ns,p999_ns,"
		   "max_ns,mean_ns,msgs_per_s,clamped_samples,baseline,ratio,baseline2,ratio2\n");
	for (i = 0; i < n; i++) {
		const struct bench_result *x = &r[i];

		if (!is_ok(x))
			continue;
		fprintf(f, "%s,%s,%s,%zu,%llu,", x->t->name, x->t->wait,
			bench_pattern_name(x->pattern), x->size, (unsigned long long)x->iterations);
		if (is_latency(x) && has_rate(x))
			fprintf(f, "%llu,%llu,%llu,%llu,%llu,%llu,%.1f,%.0f,%llu,",
				(unsigned long long)x->st.min, (unsigned long long)x->st.p50,
				(unsigned long long)x->st.p90, (unsigned long long)x->st.p99,
				(unsigned long long)x->st.p999, (unsigned long long)x->st.max,
				x->st.mean, x->msgs_per_s, (unsigned long long)x->clamped);
		else if (is_latency(x))
			fprintf(f, "%llu,%llu,%llu,%llu,%llu,%llu,%.1f,,%llu,",
				(unsigned long long)x->st.min, (unsigned long long)x->st.p50,
				(unsigned long long)x->st.p90, (unsigned long long)x->st.p99,
				(unsigned long long)x->st.p999, (unsigned long long)x->st.max,
				x->st.mean, (unsigned long long)x->clamped);
		else
			fprintf(f, ",,,,,,,%.0f,,", x->msgs_per_s);
		if (x->base && !isnan(x->ratio))
			fprintf(f, "%s,%.4f,", x->base->t->name, x->ratio);
		else
			fprintf(f, ",,");
		if (x->base2 && !isnan(x->ratio2))
			fprintf(f, "%s,%.4f\n", x->base2->t->name, x->ratio2);
		else
			fprintf(f, ",\n");
	}
	return finish(f);
}

/* ---- SVG ---- */

/*
 * Layout: one latency panel per (pattern, wait) in a grid, a column per latency pattern and a
 * row per wait mode, each drawing the library rows of that wait with their baseline (black,
 * dashed), a dot at each median; then one throughput chart of the stream rows, full width.
 * Each panel's time axis runs from its rows' p1 to their largest p99.9, so one preempted
 * sample does not squash the rest: the table has the max.
 */
#define SVG_W	     1280
#define SVG_TOP	     84
#define SVG_ML	     64 /* left of a panel: y labels */
#define SVG_MR	     26
#define SVG_PANEL_H  210
#define SVG_GAP	     58 /* below a panel: x labels and the next title */
#define SVG_BAR_H    20
#define SVG_BAR_LAB  330 /* left of the bars: their labels */
#define MAX_PANELS   16
#define MAX_IN_PANEL 24

/* Library series by size (notify has its own); baselines are always black and dashed. */
static const char *const size_colour[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
					   "#8c564b", "#17becf", "#bcbd22", "#7f7f7f" };
#define NOTIFY_COLOUR "#9467bd"

struct axis {
	double lo, hi; /* log10(ns) */
	double x0, w;
};

static void xml_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static double ax_x(const struct axis *a, double v)
{
	double l = v < 1 ? 0 : log10(v);

	if (l < a->lo)
		l = a->lo;
	if (l > a->hi)
		l = a->hi;
	return a->x0 + (l - a->lo) / (a->hi - a->lo) * a->w;
}

static void fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.3g µs", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.3g ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3g s", ns / 1e9);
}

static void fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.3g M", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.3g k", v / 1e3);
	else
		snprintf(buf, len, "%.3g", v);
}

/*
 * Ticks at 1, 2 and 5 times each power of ten inside the axis, labelled by @fmt: all three
 * on a short axis, the powers of ten alone on a long one, where the labels would overlap.
 */
static void x_ticks(FILE *f, const struct axis *a, double y0, double h,
		    void (*fmt)(char *, size_t, double))
{
	static const int mant[] = { 1, 2, 5 };
	bool all = a->hi - a->lo < 2.2;
	char lab[32];
	double v, x;
	int d, k;

	for (d = (int)floor(a->lo); d <= (int)ceil(a->hi); d++) {
		for (k = 0; k < 3; k++) {
			v = mant[k] * pow(10, d);
			if (log10(v) < a->lo - 1e-9 || log10(v) > a->hi + 1e-9)
				continue;
			x = ax_x(a, v);
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"%s\"/>\n",
				x, y0, x, y0 + h, k ? "#e8e8e8" : "#c8c8c8");
			if (k && !all)
				continue;
			fmt(lab, sizeof(lab), v);
			fprintf(f,
				"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
				"fill=\"#444\">%s</text>\n",
				x, y0 + h + 15, lab);
		}
	}
}

static const char *series_colour(const struct bench_result *x, const size_t *sizes, int nsizes)
{
	int i;

	if (x->t->flags & BENCH_F_BASELINE)
		return "#000";
	if (!strcmp(x->t->name, "notify"))
		return NOTIFY_COLOUR;
	for (i = 0; i < nsizes; i++)
		if (sizes[i] == x->size)
			return size_colour[i % (int)(sizeof(size_colour) / sizeof(size_colour[0]))];
	return size_colour[0];
}

static bool is_baseline(const struct bench_result *x)
{
	return x->t->flags & BENCH_F_BASELINE;
}

/*
 * The stroke pattern of a series: baselines dashed, rpmsg rows dotted (they share the size
 * colours with the ipcc rows of the same panel), the rest solid.
 */
static const char *series_dash(const struct bench_result *x, bool key)
{
	if (is_baseline(x))
		return key ? " stroke-dasharray=\"5,3\"" : " stroke-dasharray=\"7,4\"";
	if (!strcmp(x->t->name, "rpmsg"))
		return " stroke-dasharray=\"2,2\"";
	return "";
}

static bool plottable(const struct bench_result *x)
{
	return is_ok(x) && is_latency(x) && x->pattern != BENCH_MESH && x->hist && x->hist->count;
}

/* The panel of a baseline row no library row of its pattern compares with: its own wait. */
static bool referenced(const struct bench_result *r, size_t n, const struct bench_result *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (plottable(&r[i]) && !is_baseline(&r[i]) && r[i].base == b)
			return true;
	return false;
}

/* Does row x belong to the panel of @wait and pattern p? */
static bool in_panel(const struct bench_result *r, size_t n, const struct bench_result *x,
		     enum bench_pattern p, const char *wait)
{
	size_t i;

	if (!plottable(x) || x->pattern != p)
		return false;
	if (!is_baseline(x))
		return !strcmp(x->t->wait, wait);
	for (i = 0; i < n; i++)
		if (plottable(&r[i]) && !is_baseline(&r[i]) && r[i].base == x &&
		    !strcmp(r[i].t->wait, wait))
			return true;
	return !referenced(r, n, x) && !strcmp(x->t->wait, wait);
}

/* The waits that get a panel: library rows' first, in row order, then lone baselines'. */
static int panel_waits(const struct bench_result *r, size_t n, const char **waits)
{
	int nw = 0, k, pass;
	size_t i;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if (!plottable(&r[i]) || is_baseline(&r[i]) != (pass == 1))
				continue;
			if (pass == 1 && referenced(r, n, &r[i]))
				continue;
			for (k = 0; k < nw && strcmp(waits[k], r[i].t->wait); k++)
				;
			if (k == nw && nw < MAX_PANELS)
				waits[nw++] = r[i].t->wait;
		}
	}
	return nw;
}

static void cdf_series(FILE *f, const struct axis *a, double y0, double h,
		       const struct bench_result *x, const char *colour, int clip)
{
	const struct bench_hist *hg = x->hist;
	double lastx = -1e9, px = 0, py = 0, xx, yy;
	bool base = is_baseline(x), pending = false;
	uint64_t cum = 0, v;
	unsigned int i;

	fprintf(f,
		"<polyline class=\"%s\" clip-path=\"url(#c%d)\" fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"%s\" stroke-linejoin=\"round\"%s points=\"",
		base ? "baseline" : "series", clip, colour, base ? "2.4" : "1.8",
		series_dash(x, false));
	fprintf(f, "%.1f,%.1f", ax_x(a, (double)hg->min), y0 + h);
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		if (!hg->bucket[i])
			continue;
		cum += hg->bucket[i];
		v = bench_hist_bucket_high(i);
		if (v > hg->max)
			v = hg->max;
		xx = ax_x(a, (double)v);
		yy = y0 + (1 - (double)cum / (double)hg->count) * h;
		/* Points closer than half a pixel merge, keeping the later y. */
		if (pending && xx - lastx >= 0.5) {
			fprintf(f, " %.1f,%.1f", px, py);
			lastx = px;
		}
		px = xx;
		py = yy;
		pending = true;
	}
	if (pending)
		fprintf(f, " %.1f,%.1f", px, py);
	fprintf(f, "\"/>\n");
}

static void latency_panel(FILE *f, const struct bench_result *r, size_t n, enum bench_pattern p,
			  const char *wait, double x0, double y0, double w, int clip,
			  const size_t *sizes, int nsizes)
{
	const struct bench_result *in[MAX_IN_PANEL];
	const char *colour[MAX_IN_PANEL];
	bool lone = true; /* baselines only: tell them apart by colour */
	double lo = 1e18, hi = 0, q, y;
	struct axis a = { .x0 = x0, .w = w };
	char lab[160], v[32];
	int k, nin = 0, i;
	size_t j;

	for (j = 0; j < n && nin < MAX_IN_PANEL; j++)
		if (in_panel(r, n, &r[j], p, wait))
			in[nin++] = &r[j];
	for (k = 0; k < nin; k++)
		lone &= is_baseline(in[k]);
	for (k = 0; k < nin; k++) {
		colour[k] =
			lone ? size_colour[k % (int)(sizeof(size_colour) / sizeof(size_colour[0]))]
			     : series_colour(in[k], sizes, nsizes);
		q = (double)bench_hist_quantile(in[k]->hist, 0.01);
		lo = q < lo ? q : lo;
		q = (double)in[k]->st.p999;
		hi = q > hi ? q : hi;
	}
	a.lo = log10(lo / 1.3 < 1 ? 1 : lo / 1.3);
	a.hi = log10(hi * 1.3 < 10 ? 10 : hi * 1.3);
	if (a.hi - a.lo < 0.5)
		a.hi = a.lo + 0.5;

	fprintf(f, "<g class=\"panel\" data-pattern=\"%s\" data-wait=\"%s\">\n",
		bench_pattern_name(p), wait);
	fprintf(f,
		"<clipPath id=\"c%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%d\"/></clipPath>\n",
		clip, x0, y0 - 2, w, SVG_PANEL_H + 4);
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"#fcfcfc\" "
		"stroke=\"#444\"/>\n",
		x0, y0, w, SVG_PANEL_H);
	x_ticks(f, &a, y0, SVG_PANEL_H, fmt_ns);
	for (i = 0; i <= 4; i++) {
		y = y0 + (1 - i / 4.0) * SVG_PANEL_H;
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
			x0, y, x0 + w, y, i == 2 ? "#999" : "#e8e8e8");
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.2g</text>\n", x0 - 5,
			y + 4, i / 4.0);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">", x0, y0 - 8);
	snprintf(lab, sizeof(lab), "%s, wait %s", bench_pattern_name(p), wait);
	xml_str(f, lab);
	fprintf(f, "</text>\n");

	for (k = 0; k < nin; k++)
		cdf_series(f, &a, y0, SVG_PANEL_H, in[k], colour[k], clip);
	/* Medians on the 0.5 line, over the curves. */
	for (k = 0; k < nin; k++)
		fprintf(f,
			"<circle class=\"median\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" "
			"stroke=\"white\"/>\n",
			ax_x(&a, (double)in[k]->st.p50), y0 + SVG_PANEL_H / 2.0, colour[k]);
	/*
	 * The panel's key, bottom right where a CDF has no ink (it has reached 1 there): name,
	 * size, p50 and the ratio to the baseline, on white in case a slow tail passes under.
	 */
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"270\" height=\"%d\" fill=\"white\" "
		"fill-opacity=\"0.85\"/>\n",
		x0 + w - 274, y0 + SVG_PANEL_H - 10 - 15 * nin, 15 * nin + 6);
	for (k = 0; k < nin; k++) {
		char versus[32] = "";

		fmt_ns(v, sizeof(v), (double)in[k]->st.p50);
		if (in[k]->base)
			bench_fmt_versus(versus, sizeof(versus), in[k]->ratio);
		snprintf(lab, sizeof(lab), "%s %zu B: p50 %s%s%s", in[k]->t->name, in[k]->size, v,
			 versus[0] ? ", " : "", versus);
		y = y0 + SVG_PANEL_H - 8 - 15 * (nin - 1 - k);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"2.4\"%s/>\n",
			x0 + w - 28, y - 4, x0 + w - 8, y - 4, colour[k], series_dash(in[k], true));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">",
			x0 + w - 33, y);
		xml_str(f, lab);
		fprintf(f, "</text>\n");
	}
	fprintf(f, "</g>\n");
}

static void throughput_chart(FILE *f, const struct bench_result *r, size_t n, double y0,
			     const size_t *sizes, int nsizes)
{
	double lo = 1e18, hi = 0, y;
	struct axis a = { .x0 = SVG_ML + SVG_BAR_LAB, .w = SVG_W - SVG_ML - SVG_BAR_LAB - SVG_MR };
	char lab[200], rate[32], versus[32];
	int nbars = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_ok(&r[i]) || is_latency(&r[i]) || !(r[i].msgs_per_s > 0))
			continue;
		lo = r[i].msgs_per_s < lo ? r[i].msgs_per_s : lo;
		hi = r[i].msgs_per_s > hi ? r[i].msgs_per_s : hi;
		nbars++;
	}
	fprintf(f, "<g class=\"throughput\">\n");
	fprintf(f,
		"<text x=\"%d\" y=\"%.1f\" font-weight=\"bold\">stream throughput, messages per "
		"second (log scale; baselines grey)</text>\n",
		SVG_ML, y0 - 8);
	if (!nbars) {
		fprintf(f, "<text x=\"%d\" y=\"%.1f\">no stream rows</text>\n</g>\n", SVG_ML,
			y0 + 14);
		return;
	}
	/* Bars start a little below the slowest row, so every bar has a length. */
	a.lo = floor(log10(lo / 2));
	a.hi = log10(hi * 1.15);
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"#fcfcfc\" "
		"stroke=\"#444\"/>\n",
		a.x0, y0, a.w, nbars * SVG_BAR_H);
	x_ticks(f, &a, y0, nbars * SVG_BAR_H, fmt_rate);
	y = y0;
	for (i = 0; i < n; i++) {
		const struct bench_result *x = &r[i];

		if (!is_ok(x) || is_latency(x) || !(x->msgs_per_s > 0))
			continue;
		fprintf(f,
			"<rect class=\"bar\" data-baseline=\"%d\" x=\"%.1f\" y=\"%.1f\" "
			"width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n",
			is_baseline(x), a.x0, y + 3, ax_x(&a, x->msgs_per_s) - a.x0, SVG_BAR_H - 6,
			is_baseline(x) ? "#9a9a9a" : series_colour(x, sizes, nsizes));
		fmt_rate(rate, sizeof(rate), x->msgs_per_s);
		versus[0] = 0;
		if (x->base)
			bench_fmt_versus(versus, sizeof(versus), x->ratio);
		if (x->base)
			snprintf(lab, sizeof(lab), "%s %s %zu B: %s/s (%s%s%s)", x->t->name,
				 x->t->wait, x->size, rate,
				 strncmp(versus, "same", 4) ? versus : "the same as",
				 strncmp(versus, "same", 4) ? " than " : " ", x->base->t->name);
		else
			snprintf(lab, sizeof(lab), "%s %s %zu B: %s/s", x->t->name, x->t->wait,
				 x->size, rate);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">",
			a.x0 - 6, y + SVG_BAR_H - 6);
		xml_str(f, lab);
		fprintf(f, "</text>\n");
		y += SVG_BAR_H;
	}
	fprintf(f, "</g>\n");
}

int bench_write_svg(const char *path, const struct bench_machine *m, const struct bench_result *r,
		    size_t n)
{
	static const enum bench_pattern order[] = { BENCH_HALF_DUPLEX, BENCH_SIMPLEX };
	const char *waits[MAX_PANELS];
	enum bench_pattern cols[2];
	size_t sizes[MAX_PANELS];
	int ncols = 0, nw, nsizes = 0, nbars = 0, c, k, height, clip = 0;
	double panel_w, y_thr;
	char title[400];
	size_t i, j;
	FILE *f;

	for (j = 0; j < 2; j++)
		for (i = 0; i < n; i++)
			if (plottable(&r[i]) && r[i].pattern == order[j]) {
				cols[ncols++] = order[j];
				break;
			}
	nw = panel_waits(r, n, waits);
	for (i = 0; i < n; i++) {
		if (!is_ok(&r[i]))
			continue;
		nbars += !is_latency(&r[i]) && r[i].msgs_per_s > 0;
		if (is_baseline(&r[i]) || !strcmp(r[i].t->name, "notify"))
			continue;
		for (k = 0; k < nsizes && sizes[k] != r[i].size; k++)
			;
		if (k == nsizes && nsizes < MAX_PANELS)
			sizes[nsizes++] = r[i].size;
	}
	panel_w = (double)SVG_W / (ncols ? ncols : 1) - SVG_ML - SVG_MR;
	y_thr = SVG_TOP + (ncols ? nw : 0) * (SVG_PANEL_H + SVG_GAP) + 24;
	height = (int)y_thr + (nbars ? nbars : 1) * SVG_BAR_H + 70;

	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
		"font-size=\"12\">\n",
		SVG_W, height, SVG_W, height);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f,
		"<text x=\"%d\" y=\"24\" font-size=\"17\" font-weight=\"bold\">ipcc-bench: latency "
		"CDFs by wait mode, with each mode's baseline (black, dashed)</text>\n",
		SVG_ML);
	snprintf(title, sizeof(title), "%s, %ld CPUs, %s %s%s, sides on CPUs %d/%d, %s",
		 m->cpu_model, m->online_cpus, m->sysname, m->release,
		 m->virtualized ? ", virtualised" : "", m->cpu[0], m->cpu[1], m->date);
	fprintf(f, "<text x=\"%d\" y=\"44\" fill=\"#333\">", SVG_ML);
	xml_str(f, title);
	fprintf(f, "</text>\n");
	fprintf(f,
		"<text x=\"%d\" y=\"62\" fill=\"#555\">dots: medians (p50). Each panel's time axis "
		"(log) ends at its rows' largest p99.9; the tables have the max. Clock read: %llu "
		"ns</text>\n",
		SVG_ML, (unsigned long long)m->clock_read_p50_ns);
	if (!ncols)
		fprintf(f, "<text x=\"%d\" y=\"%d\">no latency rows</text>\n", SVG_ML,
			SVG_TOP + 20);
	for (c = 0; c < ncols; c++)
		for (k = 0; k < nw; k++) {
			for (i = 0; i < n && !in_panel(r, n, &r[i], cols[c], waits[k]); i++)
				;
			if (i == n)
				continue;
			latency_panel(f, r, n, cols[c], waits[k],
				      c * (panel_w + SVG_ML + SVG_MR) + SVG_ML,
				      SVG_TOP + k * (SVG_PANEL_H + SVG_GAP), panel_w, clip++, sizes,
				      nsizes);
		}
	throughput_chart(f, r, n, y_thr, sizes, nsizes);
	fprintf(f, "</svg>\n");
	return finish(f);
}

/* ---- --compare ---- */

static const char *jstr(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* A number, or NaN when missing or null. */
static double jnum(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *load_results(const char *path, json_t **doc)
{
	json_error_t e;
	json_t *res;

	*doc = json_load_file(path, 0, &e);
	if (!*doc) {
		fprintf(stderr, "ipcc-bench: --compare '%s': %s (line %d)\n", path, e.text, e.line);
		return NULL;
	}
	res = json_object_get(*doc, "results");
	if (!json_is_array(res)) {
		fprintf(stderr,
			"ipcc-bench: --compare '%s': no \"results\" array: not ipcc-bench "
			"JSON\n",
			path);
		json_decref(*doc);
		*doc = NULL;
		return NULL;
	}
	return res;
}

static bool same_row(const json_t *a, const json_t *b)
{
	double ca = jnum(a, "cpus"), cb = jnum(b, "cpus");

	/* cpus: the K of mesh rows; null (NaN here) for the others, and in older files. */
	return !strcmp(jstr(a, "transport"), jstr(b, "transport")) &&
	       !strcmp(jstr(a, "wait"), jstr(b, "wait")) &&
	       !strcmp(jstr(a, "pattern"), jstr(b, "pattern")) &&
	       jnum(a, "size") == jnum(b, "size") && (isnan(ca) ? isnan(cb) : ca == cb);
}

/* The noise allowance of a change: the larger spread when both ran repeated, else @dflt. */
static double noise(const json_t *a, const json_t *b, const char *key, double dflt)
{
	double x = jnum(a, key), y = jnum(b, key);

	if (isnan(x) || isnan(y))
		return dflt;
	return x > y ? x : y;
}

static void describe(FILE *f, const char *what, const json_t *doc)
{
	const json_t *tool = json_object_get(doc, "tool"), *m = json_object_get(doc, "machine");

	fprintf(f, "%s: %s, commit %s, %s\n", what, jstr(m, "date"),
		jstr(tool, "commit")[0] ? jstr(tool, "commit") : "unknown", jstr(m, "cpu_model"));
}

/* Change of a time (above 0: slower), as text, and its verdict against @allow percent. */
static int change(char *buf, size_t len, double pct, double allow)
{
	if (isnan(pct)) {
		snprintf(buf, len, "-");
		return 0;
	}
	snprintf(buf, len, "%+.1f%%", pct);
	if (pct > allow)
		return 1;
	if (pct < -allow)
		return -1;
	return 0;
}

int bench_compare(FILE *f, const char *old_path, const char *new_path, double threshold_pct)
{
	json_t *old_doc, *new_doc, *olds, *news, *o, *n;
	size_t i, j, both = 0, only_new = 0, regress = 0, improve = 0;
	char c50[32], c99[32], name[96], allow[32];
	const char *verdict;
	int v50, v99;

	olds = load_results(old_path, &old_doc);
	if (!olds)
		return -1;
	news = load_results(new_path, &new_doc);
	if (!news) {
		json_decref(old_doc);
		return -1;
	}
	describe(f, "old", old_doc);
	describe(f, "new", new_doc);
	if (strcmp(jstr(json_object_get(old_doc, "machine"), "cpu_model"),
		   jstr(json_object_get(new_doc, "machine"), "cpu_model")))
		fprintf(f, "note: the two runs are from different CPU models\n");
	fprintf(f,
		"\nchange = new time per message / old - 1 (latency: p50 and p99; stream: 1 / "
		"msgs/s): above 0 is slower.\nallowed = the run-to-run spread (the larger of the "
		"two runs' --repeat spreads, else %.0f%%)\n\n",
		threshold_pct);
	fprintf(f, "%-36s %10s %10s %8s %10s %10s %8s %8s  %s\n", "row", "old p50", "new p50",
		"change", "old p99", "new p99", "change", "allowed", "verdict");
	json_array_foreach(news, i, n)
	{
		o = NULL;
		for (j = 0; j < json_array_size(olds) && !o; j++)
			if (same_row(json_array_get(olds, j), n))
				o = json_array_get(olds, j);
		if (!o) {
			only_new++;
			continue;
		}
		both++;
		if (isnan(jnum(n, "cpus")))
			snprintf(name, sizeof(name), "%s %s %s %.0f", jstr(n, "transport"),
				 jstr(n, "wait"), jstr(n, "pattern"), jnum(n, "size"));
		else
			snprintf(name, sizeof(name), "%s %s %s %.0f cpus", jstr(n, "transport"),
				 jstr(n, "wait"), jstr(n, "pattern"), jnum(n, "cpus"));
		if (!strcmp(jstr(n, "pattern"), "stream")) {
			double a = jnum(o, "msgs_per_s"), b = jnum(n, "msgs_per_s");
			double allow50 = noise(o, n, "spread_pct", threshold_pct);

			v50 = change(c50, sizeof(c50), b > 0 ? (a / b - 1) * 100 : NAN, allow50);
			v99 = 0;
			snprintf(allow, sizeof(allow), "%.1f%%", allow50);
			fprintf(f, "%-36s %10.0f %10.0f %8s %10s %10s %8s %8s", name, a, b, c50,
				"-", "-", "-", allow);
		} else {
			double a = jnum(o, "p50_ns"), b = jnum(n, "p50_ns");
			double a99 = jnum(o, "p99_ns"), b99 = jnum(n, "p99_ns");
			double allow50 = noise(o, n, "spread_pct", threshold_pct);

			v50 = change(c50, sizeof(c50), a > 0 ? (b / a - 1) * 100 : NAN, allow50);
			v99 = change(c99, sizeof(c99), a99 > 0 ? (b99 / a99 - 1) * 100 : NAN,
				     noise(o, n, "spread_p99_pct", threshold_pct));
			snprintf(allow, sizeof(allow), "%.1f%%", allow50);
			fprintf(f, "%-36s %10.0f %10.0f %8s %10.0f %10.0f %8s %8s", name, a, b, c50,
				a99, b99, c99, allow);
		}
		if (v50 > 0)
			verdict = v99 > 0 ? "REGRESSION (p50 and p99)" : "REGRESSION";
		else if (v50 < 0)
			verdict = v99 > 0 ? "faster, but p99 slower" : "faster";
		else
			verdict =
				v99 > 0 ? "p99 slower" : (v99 < 0 ? "p99 faster" : "within noise");
		regress += v50 > 0;
		improve += v50 < 0;
		fprintf(f, "  %s\n", verdict);
	}
	fprintf(f,
		"\n%zu rows in both: %zu regressions, %zu faster, %zu within noise; %zu only in "
		"old, %zu only in new\n",
		both, regress, improve, both - regress - improve, json_array_size(olds) - both,
		only_new);
	if (regress)
		fprintf(f, "REGRESSION: %zu rows slower than the spread allows\n", regress);
	json_decref(old_doc);
	json_decref(new_doc);
	return regress ? 1 : 0;
}
