/* SPDX-License-Identifier: MIT */
/*
 * The registry of the layers: what each layer adds to the object (its section types) and, in
 * the same order, to a system handle and to an attached CPU. The code below a layer never
 * names it: it walks these tables. A new service adds its entries here, in layer order.
 */
#include "internal.h"

extern const struct ipcc_section_type ipcc_section_header;
extern const struct ipcc_section_type ipcc_section_cpus;
extern const struct ipcc_section_type ipcc_section_links;
extern const struct ipcc_section_type ipcc_section_trace;
extern const struct ipcc_section_type ipcc_section_notify;
extern const struct ipcc_section_type ipcc_section_rpmsg;
extern const struct ipcc_section_type ipcc_section_log;
extern const struct ipcc_section_type ipcc_section_user;

const struct ipcc_section_type *const ipcc_section_types[] = {
	&ipcc_section_header, /* region */
	&ipcc_section_cpus,   /* region */
	&ipcc_section_user,   /* region */
	&ipcc_section_links,  /* ipcc */
	&ipcc_section_trace,  /* ipcc */
	&ipcc_section_notify, /* notify */
	&ipcc_section_rpmsg,  /* rpmsg */
	&ipcc_section_log,    /* log */
};
const unsigned ipcc_section_type_count = sizeof(ipcc_section_types) / sizeof(ipcc_section_types[0]);

extern const struct ipcc_layer ipcc_layer_bell;
extern const struct ipcc_layer ipcc_layer_ipcc;
extern const struct ipcc_layer ipcc_layer_irq;
extern const struct ipcc_layer ipcc_layer_proc;
extern const struct ipcc_layer ipcc_layer_notify;
extern const struct ipcc_layer ipcc_layer_rpmsg;
extern const struct ipcc_layer ipcc_layer_log;
extern const struct ipcc_layer ipcc_layer_region;

/* Region owns the handle and the claim that the others hang off; its entry only holds the
 * user regions' view (lib/region/user.c). */
static const struct ipcc_layer *const layers[IPCC_LAYER_COUNT] = {
	[IPCC_LAYER_REGION] = &ipcc_layer_region, [IPCC_LAYER_BELL] = &ipcc_layer_bell,
	[IPCC_LAYER_IPCC] = &ipcc_layer_ipcc,	  [IPCC_LAYER_IRQ] = &ipcc_layer_irq,
	[IPCC_LAYER_PROC] = &ipcc_layer_proc,	  [IPCC_LAYER_NOTIFY] = &ipcc_layer_notify,
	[IPCC_LAYER_RPMSG] = &ipcc_layer_rpmsg,	  [IPCC_LAYER_LOG] = &ipcc_layer_log,
};

static void close_below(struct ipcc_system *sys, unsigned top)
{
	for (unsigned i = top; i-- > 0;)
		if (layers[i] && layers[i]->close)
			layers[i]->close(sys);
}

int ipcc_layers_open(struct ipcc_system *sys)
{
	for (unsigned i = 0; i < IPCC_LAYER_COUNT; i++) {
		if (!layers[i] || !layers[i]->open)
			continue;
		int r = layers[i]->open(sys);
		if (r < 0) {
			close_below(sys, i);
			return r;
		}
	}
	return 0;
}

void ipcc_layers_close(struct ipcc_system *sys)
{
	close_below(sys, IPCC_LAYER_COUNT);
}

static void detach_below(struct ipcc_cpu *cpu, unsigned top)
{
	for (unsigned i = top; i-- > 0;)
		if (layers[i] && layers[i]->detach)
			layers[i]->detach(cpu);
}

int ipcc_layers_attach(struct ipcc_cpu *cpu, const struct ipcc_cpu_options *opt)
{
	for (unsigned i = 0; i < IPCC_LAYER_COUNT; i++) {
		if (!layers[i] || !layers[i]->attach)
			continue;
		int r = layers[i]->attach(cpu, opt);
		if (r < 0) {
			/* As ipcc_layers_detach: the interrupt thread stops before what it runs goes. */
			for (unsigned j = 0; j < i; j++)
				if (layers[j] && layers[j]->quiesce)
					layers[j]->quiesce(cpu);
			detach_below(cpu, i);
			return r;
		}
	}
	return 0;
}

void ipcc_layers_detach(struct ipcc_cpu *cpu)
{
	for (unsigned i = 0; i < IPCC_LAYER_COUNT; i++)
		if (layers[i] && layers[i]->quiesce)
			layers[i]->quiesce(cpu);
	detach_below(cpu, IPCC_LAYER_COUNT);
}

void ipcc_layers_wake_sleepers(struct ipcc_system *sys, unsigned target)
{
	for (unsigned i = 0; i < IPCC_LAYER_COUNT; i++)
		if (layers[i] && layers[i]->wake_sleepers)
			layers[i]->wake_sleepers(sys, target);
}
