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

const struct ipcc_section_type *const ipcc_section_types[] = {
	&ipcc_section_header, /* region */
	&ipcc_section_cpus,   /* region */
	&ipcc_section_links,  /* ipcc */
};
const unsigned ipcc_section_type_count = sizeof(ipcc_section_types) / sizeof(ipcc_section_types[0]);
