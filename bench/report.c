/* SPDX-License-Identifier: MIT */
/*
 * Reporting. Everything here works on finished rows in the parent; nothing is timed.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
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

void bench_resolve_baselines(struct bench_result *r, size_t n)
{
	const struct bench_result *best;
	const char *name;
	size_t i, j, size;

	for (i = 0; i < n; i++) {
		if (!is_ok(&r[i]) || !r[i].t->baseline)
			continue;
		name = r[i].t->baseline(r[i].t, r[i].pattern, r[i].size);
		if (!name)
			continue;
		/*
		 * Same size (or the transport's baseline_size) if the baseline ran at it, else a
		 * fixed-size baseline's only row.
		 */
		size = r[i].t->baseline_size ? r[i].t->baseline_size : r[i].size;
		best = NULL;
		for (j = 0; j < n; j++) {
			if (j == i || !is_ok(&r[j]) || r[j].pattern != r[i].pattern ||
			    strcmp(r[j].t->name, name))
				continue;
			if (r[j].size == size) {
				best = &r[j];
				break;
			}
			if (r[j].t->fixed_size && !best)
				best = &r[j];
		}
		if (!best)
			continue;
		r[i].base = best;
		/* Both ways "time per message relative to the baseline": above 1 is slower. */
		if (is_latency(&r[i]))
			r[i].ratio =
				best->st.p50 ? (double)r[i].st.p50 / (double)best->st.p50 : NAN;
		else
			r[i].ratio = r[i].msgs_per_s > 0 ? best->msgs_per_s / r[i].msgs_per_s : NAN;
	}
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

static void fmt_ratio(char *buf, size_t len, const struct bench_result *r)
{
	if (r->base && !isnan(r->ratio))
		snprintf(buf, len, "%.2f", r->ratio);
	else
		snprintf(buf, len, "-");
}

void bench_print_table(FILE *f, const struct bench_result *r, size_t n)
{
	bool any_lat = false, any_stream = false, any_clamped = false;
	char ratio[32];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_ok(&r[i]))
			continue;
		any_lat |= is_latency(&r[i]);
		any_stream |= !is_latency(&r[i]);
		any_clamped |= r[i].clamped != 0;
	}

	if (any_lat) {
		fprintf(f, "latency, ns (half-duplex: round trip; simplex: one way)\n");
		fprintf(f, "%-10s %-9s %-11s %6s %10s %8s %8s %8s %8s %8s %9s %9s %6s\n",
			"transport", "wait", "pattern", "size", "iterations", "min", "p50", "p90",
			"p99", "p99.9", "max", "mean", "ratio");
		for (i = 0; i < n; i++) {
			const struct bench_result *x = &r[i];

			if (!is_ok(x) || !is_latency(x))
				continue;
			fmt_ratio(ratio, sizeof(ratio), x);
			fprintf(f,
				"%-10s %-9s %-11s %6zu %10llu %8llu %8llu %8llu %8llu %8llu %9llu "
				"%9.1f %6s%s\n",
				x->t->name, x->t->wait, bench_pattern_name(x->pattern), x->size,
				(unsigned long long)x->iterations, (unsigned long long)x->st.min,
				(unsigned long long)x->st.p50, (unsigned long long)x->st.p90,
				(unsigned long long)x->st.p99, (unsigned long long)x->st.p999,
				(unsigned long long)x->st.max, x->st.mean, ratio,
				x->clamped ? " *" : "");
		}
		fprintf(f, "\n");
	}

	if (any_stream) {
		fprintf(f, "stream throughput\n");
		fprintf(f, "%-10s %-9s %-11s %6s %10s %14s %10s %6s\n", "transport", "wait",
			"pattern", "size", "messages", "msgs/s", "MB/s", "ratio");
		for (i = 0; i < n; i++) {
			const struct bench_result *x = &r[i];

			if (!is_ok(x) || is_latency(x))
				continue;
			fmt_ratio(ratio, sizeof(ratio), x);
			fprintf(f, "%-10s %-9s %-11s %6zu %10llu %14.0f %10.1f %6s\n", x->t->name,
				x->t->wait, bench_pattern_name(x->pattern), x->size,
				(unsigned long long)x->iterations, x->msgs_per_s,
				x->msgs_per_s * (double)x->size / 1e6, ratio);
		}
		fprintf(f, "\n");
	}

	if (any_lat || any_stream)
		fprintf(f, "ratio: p50 / baseline p50 (stream: baseline msgs/s / msgs/s), "
			   "'-' for baselines and rows without one\n");
	if (any_clamped)
		fprintf(f, "*: some one-way samples were negative (clocks of the two CPUs "
			   "disagree) and were counted as 0\n");
	for (i = 0; i < n; i++) {
		if (is_ok(&r[i]))
			continue;
		fprintf(f, "%s: %s %s %s size %zu: %s\n",
			r[i].status == BENCH_SKIPPED ? "skipped" : "FAILED", r[i].t->name,
			r[i].t->wait, bench_pattern_name(r[i].pattern), r[i].size, r[i].note);
	}
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
	json_t *o = json_object();
	bool st = !is_latency(x);

	if (!o) {
		*ok = false;
		return NULL;
	}
	set(o, "transport", json_string(x->t->name), ok);
	set(o, "wait", json_string(x->t->wait), ok);
	set(o, "pattern", json_string(bench_pattern_name(x->pattern)), ok);
	set(o, "size", json_integer((json_int_t)x->size), ok);
	set(o, "iterations", json_integer((json_int_t)x->iterations), ok);
	set(o, "min_ns", u64_or_null(x->st.min, st), ok);
	set(o, "p50_ns", u64_or_null(x->st.p50, st), ok);
	set(o, "p90_ns", u64_or_null(x->st.p90, st), ok);
	set(o, "p99_ns", u64_or_null(x->st.p99, st), ok);
	set(o, "p999_ns", u64_or_null(x->st.p999, st), ok);
	set(o, "max_ns", u64_or_null(x->st.max, st), ok);
	set(o, "mean_ns", real_or_null(x->st.mean, 1, st), ok);
	set(o, "msgs_per_s", real_or_null(x->msgs_per_s, 0, !st), ok);
	set(o, "clamped_samples", u64_or_null(x->clamped, st), ok);
	set(o, "baseline", str_or_null(x->base ? x->base->t->name : NULL), ok);
	set(o, "ratio", real_or_null(x->ratio, 4, !x->base), ok);
	return o;
}

int bench_write_json(const char *path, const struct bench_machine *m, const struct bench_result *r,
		     size_t n)
{
	json_t *doc = json_object(), *results = json_array();
	bool ok = doc && results;
	int ret = -1;
	size_t i;

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
		   "max_ns,mean_ns,msgs_per_s,clamped_samples,baseline,ratio\n");
	for (i = 0; i < n; i++) {
		const struct bench_result *x = &r[i];

		if (!is_ok(x))
			continue;
		fprintf(f, "%s,%s,%s,%zu,%llu,", x->t->name, x->t->wait,
			bench_pattern_name(x->pattern), x->size, (unsigned long long)x->iterations);
		if (is_latency(x))
			fprintf(f, "%llu,%llu,%llu,%llu,%llu,%llu,%.1f,,%llu,",
				(unsigned long long)x->st.min, (unsigned long long)x->st.p50,
				(unsigned long long)x->st.p90, (unsigned long long)x->st.p99,
				(unsigned long long)x->st.p999, (unsigned long long)x->st.max,
				x->st.mean, (unsigned long long)x->clamped);
		else
			fprintf(f, ",,,,,,,%.0f,,", x->msgs_per_s);
		if (x->base && !isnan(x->ratio))
			fprintf(f, "%s,%.4f\n", x->base->t->name, x->ratio);
		else
			fprintf(f, ",\n");
	}
	return finish(f);
}

/* ---- SVG ---- */

#define SVG_W	     1280
#define SVG_LEGEND_W 300
#define SVG_TOP	     78
#define SVG_PANEL_H  290
#define SVG_ML	     80 /* left of each panel: y labels */
#define SVG_MR	     22
#define SVG_GAP	     64 /* below each panel: x labels and the panel title of the next row */

/* Distinguishable on white; the second half are darker companions for more than 10 series. */
static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
	"#17becf", "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39",
	"#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363",
};
#define PALETTE_N (sizeof(palette) / sizeof(palette[0]))

struct plot {
	FILE *f;
	double dmin, dmax; /* x axis: log10(ns) decades */
	int tail_dec;	   /* tail panel: 1 - CDF from 1 down to 10^-tail_dec */
	double x0, y0, w, h;
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

static double px_x(const struct plot *p, double ns)
{
	double l = ns < 1 ? 0 : log10(ns);

	if (l < p->dmin)
		l = p->dmin;
	return p->x0 + (l - p->dmin) / (p->dmax - p->dmin) * p->w;
}

static double px_cdf(const struct plot *p, double frac)
{
	return p->y0 + (1 - frac) * p->h;
}

static double px_tail(const struct plot *p, double q)
{
	return p->y0 + (-log10(q) / p->tail_dec) * p->h;
}

static void decade_label(char *buf, size_t len, int d)
{
	static const char *const unit[] = { "ns", "µs", "ms", "s" };
	static const char *const mant[] = { "1", "10", "100" };
	int u = d / 3;

	if (d < 0 || u > 3)
		snprintf(buf, len, "1e%d ns", d);
	else
		snprintf(buf, len, "%s %s", mant[d % 3], unit[u]);
}

/* Frame, grid and axis labels of one panel. */
static void panel_axes(const struct plot *p, bool tail, const char *title, int clip_id)
{
	FILE *f = p->f;
	char lab[32];
	double x, y;
	int d, k, i;

	fprintf(f,
		"<clipPath id=\"c%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%.1f\"/></clipPath>\n",
		clip_id, p->x0, p->y0 - 2, p->w, p->h + 4);
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fcfcfc\" "
		"stroke=\"#444\"/>\n",
		p->x0, p->y0, p->w, p->h);
	for (d = (int)p->dmin; d <= (int)p->dmax; d++) {
		x = px_x(p, pow(10, d));
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\"/>\n",
			x, p->y0, x, p->y0 + p->h);
		decade_label(lab, sizeof(lab), d);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x,
			p->y0 + p->h + 16, lab);
		for (k = 2; k <= 9 && d < (int)p->dmax; k++) {
			x = px_x(p, k * pow(10, d));
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"#e6e6e6\"/>\n",
				x, p->y0, x, p->y0 + p->h);
		}
	}
	if (!tail) {
		for (i = 0; i <= 10; i++) {
			y = px_cdf(p, i / 10.0);
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"%s\"/>\n",
				p->x0, y, p->x0 + p->w, y, i == 5 ? "#aaa" : "#e6e6e6");
			if (i % 2 == 0 || i == 5)
				fprintf(f,
					"<text x=\"%.1f\" y=\"%.1f\" "
					"text-anchor=\"end\">%.1f</text>\n",
					p->x0 - 6, y + 4, i / 10.0);
		}
	} else {
		static const char *const tl[] = { "min",    "p90",     "p99",	   "p99.9",
						  "p99.99", "p99.999", "p99.9999", "p99.99999" };
		for (i = 0; i <= p->tail_dec; i++) {
			y = px_tail(p, pow(10, -i));
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"#ddd\"/>\n",
				p->x0, y, p->x0 + p->w, y);
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
				p->x0 - 6, y + 4, tl[i]);
		}
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">", p->x0, p->y0 - 8);
	xml_str(f, title);
	fprintf(f, "</text>\n");
}

/* One series; points closer than half a pixel in x are merged (keeping the later y). */
static void panel_series(const struct plot *p, const struct bench_result *r, bool tail,
			 const char *colour, const char *dash, int clip_id)
{
	const struct bench_hist *h = r->hist;
	FILE *f = p->f;
	double lastx = -1e9, x, y, frac;
	uint64_t cum = 0, v;
	unsigned int i;
	bool pending = false;
	double px = 0, py = 0;

	fprintf(f,
		"<polyline clip-path=\"url(#c%d)\" fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"1.7\" stroke-linejoin=\"round\"%s%s%s points=\"",
		clip_id, colour, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
		dash ? "\"" : "");
	x = px_x(p, (double)h->min);
	fprintf(f, "%.1f,%.1f", x, tail ? px_tail(p, 1) : px_cdf(p, 0));
	lastx = x;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		if (!h->bucket[i])
			continue;
		cum += h->bucket[i];
		v = bench_hist_bucket_high(i);
		if (v > h->max)
			v = h->max;
		frac = (double)cum / (double)h->count;
		x = px_x(p, (double)v);
		if (tail) {
			/* 1 - CDF reaches 0 at the max, which a log axis cannot show. */
			if (cum == h->count || 1 - frac < pow(10, -p->tail_dec))
				break;
			y = px_tail(p, 1 - frac);
		} else {
			y = px_cdf(p, frac);
		}
		if (pending && x - lastx >= 0.5) {
			fprintf(f, " %.1f,%.1f", px, py);
			lastx = px;
		}
		px = x;
		py = y;
		pending = true;
	}
	if (pending)
		fprintf(f, " %.1f,%.1f", px, py);
	fprintf(f, "\"/>\n");
}

static int series_key(const struct bench_result *r, size_t idx)
{
	int key = 0;
	size_t i;

	/* Colour by (transport, wait, size) so one series has the same colour in every panel. */
	for (i = 0; i < idx; i++) {
		size_t j;
		bool seen = false;

		if (!is_ok(&r[i]) || !is_latency(&r[i]))
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = is_ok(&r[j]) && is_latency(&r[j]) && r[j].t == r[i].t &&
			       r[j].size == r[i].size;
		if (seen)
			continue;
		if (r[i].t == r[idx].t && r[i].size == r[idx].size)
			return key;
		key++;
	}
	return key;
}

int bench_write_svg(const char *path, const struct bench_machine *m, const struct bench_result *r,
		    size_t n)
{
	static const enum bench_pattern order[] = { BENCH_HALF_DUPLEX, BENCH_SIMPLEX };
	static const char *const ptitle[] = { "half-duplex (round trip)", "simplex (one way)" };
	enum bench_pattern cols[2];
	const char *ctitle[2];
	uint64_t lo = UINT64_MAX, hi = 0, maxcount = 0;
	int ncols = 0, c, row, clip = 0, key, nkeys = 0, height;
	double panel_w, ly;
	struct plot p;
	char title[400], lab[160];
	size_t i, j;
	FILE *f;

	for (j = 0; j < 2; j++) {
		for (i = 0; i < n; i++) {
			if (is_ok(&r[i]) && r[i].pattern == order[j] && r[i].hist) {
				cols[ncols] = order[j];
				ctitle[ncols++] = ptitle[j];
				break;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (!is_ok(&r[i]) || !r[i].hist || !r[i].hist->count)
			continue;
		lo = r[i].hist->min < lo ? r[i].hist->min : lo;
		hi = r[i].hist->max > hi ? r[i].hist->max : hi;
		maxcount = r[i].hist->count > maxcount ? r[i].hist->count : maxcount;
		key = series_key(r, i);
		nkeys = key + 1 > nkeys ? key + 1 : nkeys;
	}

	f = fopen(path, "w");
	if (!f)
		return -1;
	memset(&p, 0, sizeof(p));
	p.f = f;
	p.dmin = floor(log10(lo < 1 || lo == UINT64_MAX ? 1.0 : (double)lo));
	p.dmax = ceil(log10(hi < 10 ? 10.0 : (double)hi));
	if (p.dmax <= p.dmin)
		p.dmax = p.dmin + 1;
	p.tail_dec = (int)ceil(log10(maxcount > 1000 ? (double)maxcount : 1000.0));
	if (p.tail_dec > 7)
		p.tail_dec = 7;
	p.h = SVG_PANEL_H;
	panel_w = (double)(SVG_W - SVG_LEGEND_W) / (ncols ? ncols : 1) - SVG_ML - SVG_MR;
	p.w = panel_w;
	height = SVG_TOP + 2 * (SVG_PANEL_H + SVG_GAP);
	if (height < SVG_TOP + 40 + 18 * nkeys)
		height = SVG_TOP + 40 + 18 * nkeys;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
		"font-size=\"12\">\n",
		SVG_W, height, SVG_W, height);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f,
		"<text x=\"%d\" y=\"24\" font-size=\"17\" font-weight=\"bold\">ipcc-bench "
		"latency CDFs</text>\n",
		SVG_ML);
	snprintf(title, sizeof(title), "%s, %ld CPUs, %s %s%s, sides on CPUs %d/%d, %s",
		 m->cpu_model, m->online_cpus, m->sysname, m->release,
		 m->virtualized ? ", virtualised" : "", m->cpu[0], m->cpu[1], m->date);
	fprintf(f, "<text x=\"%d\" y=\"44\" fill=\"#333\">", SVG_ML);
	xml_str(f, title);
	fprintf(f, "</text>\n");

	if (!ncols)
		fprintf(f, "<text x=\"%d\" y=\"%d\">no latency rows</text>\n", SVG_ML,
			SVG_TOP + 20);

	for (c = 0; c < ncols; c++) {
		for (row = 0; row < 2; row++) {
			p.x0 = c * (panel_w + SVG_ML + SVG_MR) + SVG_ML;
			p.y0 = SVG_TOP + row * (SVG_PANEL_H + SVG_GAP);
			snprintf(lab, sizeof(lab), "%s: %s", ctitle[c],
				 row ? "tail, 1 - CDF (log)" : "CDF");
			panel_axes(&p, row == 1, lab, clip);
			for (i = 0; i < n; i++) {
				if (!is_ok(&r[i]) || r[i].pattern != cols[c] || !r[i].hist ||
				    !r[i].hist->count)
					continue;
				key = series_key(r, i);
				panel_series(&p, &r[i], row == 1, palette[key % PALETTE_N],
					     key >= (int)PALETTE_N ? "7,3" : NULL, clip);
			}
			clip++;
		}
		fprintf(f,
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">"
			"latency (log scale)</text>\n",
			p.x0 + p.w / 2, SVG_TOP + 2 * SVG_PANEL_H + SVG_GAP + 34);
	}

	/* Legend: one entry per colour, in row order. */
	ly = SVG_TOP + 4;
	fprintf(f,
		"<text x=\"%d\" y=\"%.1f\" font-weight=\"bold\">transport / wait / size</text>\n",
		SVG_W - SVG_LEGEND_W + 14, ly);
	for (key = 0; key < nkeys; key++) {
		for (i = 0; i < n; i++) {
			if (is_ok(&r[i]) && r[i].hist && r[i].hist->count &&
			    series_key(r, i) == key)
				break;
		}
		if (i == n)
			continue;
		ly += 18;
		fprintf(f,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"3\"%s/>\n",
			SVG_W - SVG_LEGEND_W + 14, ly - 4, SVG_W - SVG_LEGEND_W + 44, ly - 4,
			palette[key % PALETTE_N],
			key >= (int)PALETTE_N ? " stroke-dasharray=\"7,3\"" : "");
		snprintf(lab, sizeof(lab), "%s / %s / %zu B", r[i].t->name, r[i].t->wait,
			 r[i].size);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\">", SVG_W - SVG_LEGEND_W + 52, ly);
		xml_str(f, lab);
		fprintf(f, "</text>\n");
	}
	ly += 30;
	fprintf(f, "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">clock read: %llu ns (p50)</text>\n",
		SVG_W - SVG_LEGEND_W + 14, ly, (unsigned long long)m->clock_read_p50_ns);
	fprintf(f,
		"<text x=\"%d\" y=\"%.1f\" fill=\"#555\">histogram buckets &lt;= 0.8%% "
		"wide</text>\n",
		SVG_W - SVG_LEGEND_W + 14, ly + 16);
	fprintf(f, "</svg>\n");
	return finish(f);
}
