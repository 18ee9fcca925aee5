/* SPDX-License-Identifier: MIT */
/*
 * Description trees in a build without libyaml: the same seam, refusing with -EOPNOTSUPP, so
 * that <ipcc/sysdesc.h> is the same in every build.
 */
#include <errno.h>

#include "sysdesc/tree.h"

int ipcc_sysdesc_tree_build(const char *text, size_t len, struct sysdesc_node **ret_root,
			    struct ipcc_sysdesc_error *err)
{
	ipcc_sysdesc_fail(err, 0, 0, "", "this libipcc was built without libyaml (meson -Dyaml)");
	return -EOPNOTSUPP;
}

void ipcc_sysdesc_tree_free(struct sysdesc_node *node)
{
	/* Nothing is ever built. */
}
