/* SPDX-License-Identifier: MIT */
/*
 * RPMessage in `ipcc plan` and `ipcc info` (tools/ipcc-rpmsg.c): the settings and vring
 * sections of a config, and the vrings, end points and names of an open system, as text and
 * as JSON, in the style of the Notify part of tools/ipcc.c.
 */
#ifndef IPCC_TOOLS_IPCC_RPMSG_H
#define IPCC_TOOLS_IPCC_RPMSG_H

#include <jansson.h>
#include <stdbool.h>

#include <ipcc/ipcc.h>

/* plan: the lines of a config with RPMessage (nothing without), after the Notify line. */
void rpmsg_plan_print(const struct ipcc_config *cfg, const struct ipcc_section_info *sections,
		      unsigned count);
/* plan --json's "rpmsg": null without RPMessage; NULL when out of memory. */
json_t *rpmsg_plan_json(const struct ipcc_config *cfg, const struct ipcc_section_info *sections,
			unsigned count);

/* What ipcc info shows of RPMessage, read once: both output formats print the same read. */
struct rpmsg_snapshot;

/*
 * Read the vrings of every ordered pair with RPMessage (only_a-only_b's two if only) and the
 * end points and names of every CPU with RPMessage (only_a and only_b if only). *ret is NULL
 * for a system without RPMessage. 0, -ENOMEM, or an error of the ipcc_rpmsg_* queries.
 */
int rpmsg_snapshot_read(struct ipcc_system *sys, bool only, unsigned only_a, unsigned only_b,
			struct rpmsg_snapshot **ret);
void rpmsg_snapshot_free(struct rpmsg_snapshot *s);

/* info: the RPMessage part (nothing for a NULL snapshot). */
void rpmsg_info_print(struct ipcc_system *sys, const struct rpmsg_snapshot *s);
/* info --json's "rpmsg": null for a NULL snapshot; NULL when out of memory. */
json_t *rpmsg_info_json(struct ipcc_system *sys, const struct rpmsg_snapshot *s);

#endif
