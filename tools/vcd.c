/* SPDX-License-Identifier: MIT */
/*
 * The Value Change Dump of `ipcc trace`: IEEE 1364-2005 section 18 (four-state VCD, here only
 * 0 and 1), which GTKWave, Surfer and every HDL simulator read.
 *
 * Each link is a module scope link_A_B (A, B its CPUs' names, processor 1 first) with a scope
 * per processor, proc1 and proc2, holding one 1-bit wire per register bit of that processor:
 * CHnF (its own channel flag: C1TOC2SR bit n for processor 1), CHnOM and CHnFM (its mask
 * register), RXOIE and TXFIE (its control register), and its two interrupt lines RXO and TXF,
 * derived from the registers by the reference manual's equations, and two 32-bit vectors,
 * NOTIFY_TX and NOTIFY_RX: the last IPC Notify entry (client << 28 | value) the processor's
 * CPU queued on this link, and the last it took (x until the first). The lines:
 *   RXO(p) = RXOIE(p) and some channel n with CHnF(peer) and not CHnOM(p)
 *   TXF(p) = TXFIE(p) and some channel n with not CHnF(p) and not CHnFM(p)
 * A record sets the bits it says it wrote (ipcc_trace_record.mask) to their new values, so the
 * two processors' writes to one status word land whatever order their stamps give them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vcd.h"

struct vcd_link {
	unsigned cpu[2];
	char scope[2 * IPCC_CPU_NAME_MAX + 8];
	uint32_t cr[2], mr[2], sr[2];
	uint8_t *last;	/* the values written, per signal */
	unsigned first; /* global index of the link's first signal */
};

struct vcd {
	struct ipcc_system *sys;
	uint64_t t0;
	unsigned channels, per_proc; /* signals per processor */
	unsigned link_count;
	struct vcd_link *links;
	uint16_t index[IPCC_CPUS_MAX][IPCC_CPUS_MAX]; /* link of cpu1 < cpu2, 0xFFFF: none */
};

/* Signal s of a processor: channels flags, channels OM masks, channels FM masks, then these. */
enum { SIG_RXOIE, SIG_TXFIE, SIG_RXO, SIG_TXF, SIG_FIXED };

/* A VCD identifier code: base 94 over the printable characters '!'..'~'. */
static void id_code(unsigned i, char buf[8])
{
	unsigned n = 0;
	do {
		buf[n++] = (char)('!' + i % 94);
		i /= 94;
	} while (i && n < 7);
	buf[n] = '\0';
}

/* A CPU name as a VCD identifier: letters, digits and '_' only. */
static void name_part(char *dst, size_t size, const char *name)
{
	size_t i = 0;
	for (; name[i] && i < size - 1; i++) {
		char c = name[i];
		bool ok =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		dst[i] = ok ? c : '_';
	}
	dst[i] = '\0';
}

void vcd_free(struct vcd *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < v->link_count; i++)
		free(v->links[i].last);
	free(v->links);
	free(v);
}

static int link_load(struct vcd *v, struct vcd_link *l)
{
	struct ipcc_regs *regs;
	struct ipcc_regs_state st;
	int r = ipcc_regs_open(v->sys, l->cpu[0], l->cpu[1], &regs);
	if (r < 0)
		return r;
	r = ipcc_regs_save(regs, &st);
	ipcc_regs_close(regs);
	if (r < 0)
		return r;
	for (unsigned p = 0; p < 2; p++) {
		l->cr[p] = st.cr[p];
		l->mr[p] = st.mr[p];
		l->sr[p] = st.sr[p];
	}
	return 0;
}

int vcd_new(struct ipcc_system *sys, uint64_t t0, struct vcd **ret)
{
	struct vcd *v = calloc(1, sizeof(*v));
	unsigned cpus = ipcc_system_cpus(sys);
	int r = -ENOMEM;

	if (!v)
		return -ENOMEM;
	v->sys = sys;
	v->t0 = t0;
	v->link_count = ipcc_system_link_count(sys);
	v->links = calloc(v->link_count, sizeof(*v->links));
	if (!v->links)
		goto fail;
	memset(v->index, 0xFF, sizeof(v->index));
	unsigned n = 0;
	for (unsigned a = 0; a < cpus; a++) {
		for (unsigned b = a + 1; b < cpus && n < v->link_count; b++) {
			struct ipcc_regs *regs;
			if (ipcc_regs_open(sys, a, b, &regs) < 0)
				continue; /* not linked */
			if (!v->channels)
				v->channels = ipcc_regs_channels(regs);
			ipcc_regs_close(regs);
			v->links[n].cpu[0] = a;
			v->links[n].cpu[1] = b;
			v->index[a][b] = (uint16_t)n++;
		}
	}
	v->link_count = n;
	v->per_proc = 3 * v->channels + SIG_FIXED;
	for (unsigned i = 0; i < n; i++) {
		struct vcd_link *l = &v->links[i];
		char pa[IPCC_CPU_NAME_MAX + 1], pb[IPCC_CPU_NAME_MAX + 1];
		name_part(pa, sizeof(pa), ipcc_system_cpu_name(sys, l->cpu[0]));
		name_part(pb, sizeof(pb), ipcc_system_cpu_name(sys, l->cpu[1]));
		snprintf(l->scope, sizeof(l->scope), "link_%s_%s", pa, pb);
		l->first = i * 2 * v->per_proc;
		l->last = malloc(2 * v->per_proc);
		r = l->last ? link_load(v, l) : -ENOMEM;
		if (r < 0)
			goto fail;
	}
	*ret = v;
	return 0;
fail:
	vcd_free(v);
	return r;
}

/* The value of signal s of processor p of l, from its registers. */
static int signal_value(const struct vcd *v, const struct vcd_link *l, unsigned p, unsigned s)
{
	uint32_t chmask = (1u << v->channels) - 1;
	unsigned c = v->channels;

	if (s < c)
		return l->sr[p] >> s & 1;
	if (s < 2 * c)
		return l->mr[p] >> (s - c) & 1;
	if (s < 3 * c)
		return l->mr[p] >> (16 + s - 2 * c) & 1;
	switch (s - 3 * c) {
	case SIG_RXOIE:
		return (l->cr[p] & IPCC_CR_RXOIE) != 0;
	case SIG_TXFIE:
		return (l->cr[p] & IPCC_CR_TXFIE) != 0;
	case SIG_RXO:
		return (l->cr[p] & IPCC_CR_RXOIE) && (l->sr[!p] & ~l->mr[p] & chmask);
	default:
		return (l->cr[p] & IPCC_CR_TXFIE) && (~l->sr[p] & ~(l->mr[p] >> 16) & chmask);
	}
}

static void signal_name(const struct vcd *v, unsigned s, char *buf, size_t size)
{
	static const char *const fixed[] = { "RXOIE", "TXFIE", "RXO", "TXF" };
	unsigned c = v->channels;

	if (s < c)
		snprintf(buf, size, "CH%uF", s);
	else if (s < 2 * c)
		snprintf(buf, size, "CH%uOM", s - c);
	else if (s < 3 * c)
		snprintf(buf, size, "CH%uFM", s - 2 * c);
	else
		snprintf(buf, size, "%s", fixed[s - 3 * c]);
}

/* The identifier of link i's processor p's Notify vector k (0: TX, 1: RX): after every bit. */
static unsigned vector_id(const struct vcd *v, unsigned i, unsigned p, unsigned k)
{
	return v->link_count * 2 * v->per_proc + (i * 2 + p) * 2 + k;
}

static void write_vector(FILE *f, unsigned id_index, uint32_t value)
{
	char id[8], bits[33];
	unsigned n = 0;

	for (int b = 31; b >= 0; b--)
		if (n || (value >> b & 1) || b == 0)
			bits[n++] = (char)('0' + (value >> b & 1));
	bits[n] = '\0';
	id_code(id_index, id);
	fprintf(f, "b%s %s\n", bits, id);
}

static void write_header(const struct vcd *v, FILE *f)
{
	char id[8], name[16], date[64] = "";
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm))
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "$date %s $end\n", date);
	fprintf(f, "$version ipcc trace %s (libipcc %s) $end\n", IPCC_VERSION_STRING,
		ipcc_version());
	fprintf(f, "$comment system %s; time 0 is the start of the trace $end\n",
		ipcc_system_name(v->sys));
	fputs("$timescale 1 ns $end\n", f);
	for (unsigned i = 0; i < v->link_count; i++) {
		const struct vcd_link *l = &v->links[i];
		fprintf(f, "$scope module %s $end\n", l->scope);
		for (unsigned p = 0; p < 2; p++) {
			fprintf(f, "$scope module proc%u $end\n", p + 1);
			for (unsigned s = 0; s < v->per_proc; s++) {
				id_code(l->first + p * v->per_proc + s, id);
				signal_name(v, s, name, sizeof(name));
				fprintf(f, "$var wire 1 %s %s $end\n", id, name);
			}
			for (unsigned k = 0; k < 2; k++) {
				id_code(vector_id(v, i, p, k), id);
				fprintf(f, "$var reg 32 %s %s $end\n", id,
					k ? "NOTIFY_RX" : "NOTIFY_TX");
			}
			fputs("$upscope $end\n", f);
		}
		fputs("$upscope $end\n", f);
	}
	fputs("$enddefinitions $end\n", f);
}

/* Write the signals of l that changed since the last call (all of them if `all`). */
static bool write_changes(const struct vcd *v, struct vcd_link *l, FILE *f, bool all, uint64_t t,
			  bool *stamped)
{
	char id[8];
	bool any = false;

	for (unsigned p = 0; p < 2; p++) {
		for (unsigned s = 0; s < v->per_proc; s++) {
			uint8_t val = (uint8_t)signal_value(v, l, p, s);
			uint8_t *last = &l->last[p * v->per_proc + s];
			if (!all && *last == val)
				continue;
			if (!*stamped) {
				fprintf(f, "#%" PRIu64 "\n", t);
				*stamped = true;
			}
			*last = val;
			id_code(l->first + p * v->per_proc + s, id);
			fprintf(f, "%c%s\n", '0' + val, id);
			any = true;
		}
	}
	return any;
}

static void apply(struct vcd_link *l, const struct ipcc_trace_record *rec)
{
	unsigned p = rec->proc - 1u;
	uint32_t *w = rec->kind == IPCC_TRACE_CR   ? &l->cr[p]
		      : rec->kind == IPCC_TRACE_MR ? &l->mr[p]
						   : &l->sr[p];
	*w = (*w & ~rec->mask) | (rec->value & rec->mask);
}

int vcd_write(struct vcd *v, FILE *f, const struct ipcc_trace_record *records, size_t n)
{
	uint64_t last_t = 0;
	bool stamped = false;

	write_header(v, f);
	fputs("#0\n$dumpvars\n", f);
	stamped = true; /* the #0 above */
	for (unsigned i = 0; i < v->link_count; i++) {
		char id[8];
		write_changes(v, &v->links[i], f, true, 0, &stamped);
		for (unsigned k = 0; k < 4; k++) {
			id_code(vector_id(v, i, k / 2, k % 2), id);
			fprintf(f, "bx %s\n", id);
		}
	}
	fputs("$end\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct ipcc_trace_record *rec = &records[i];
		if (rec->kind == IPCC_TRACE_LINES || rec->kind > IPCC_TRACE_NOTIFY_RECV ||
		    rec->proc < 1 || rec->proc > 2 || rec->cpu1 >= IPCC_CPUS_MAX ||
		    rec->cpu2 >= IPCC_CPUS_MAX)
			continue; /* lines are derived from the registers */
		unsigned idx = v->index[rec->cpu1][rec->cpu2];
		if (idx >= v->link_count)
			continue;
		/* Records from before the snapshot (racing the start) land at time 0. */
		uint64_t t = rec->time_ns > v->t0 ? rec->time_ns - v->t0 : 0;
		if (t < last_t)
			t = last_t; /* the caller sorted them: only equal stamps get here */
		if (t != last_t)
			stamped = false;
		last_t = t;
		if (rec->kind >= IPCC_TRACE_NOTIFY_SEND) {
			if (!stamped) {
				fprintf(f, "#%" PRIu64 "\n", t);
				stamped = true;
			}
			write_vector(f,
				     vector_id(v, idx, rec->proc - 1u,
					       rec->kind == IPCC_TRACE_NOTIFY_RECV),
				     rec->value);
			continue;
		}
		apply(&v->links[idx], rec);
		write_changes(v, &v->links[idx], f, false, t, &stamped);
	}
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
