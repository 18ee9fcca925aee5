/* SPDX-License-Identifier: MIT */
/*
 * The seam between YAML and the description checks: lib/sysdesc/yaml.c turns text into this
 * tree with libyaml (lib/sysdesc/yaml-none.c refuses with -EOPNOTSUPP), lib/sysdesc/sysdesc.c
 * checks the tree. Only these files know the tree.
 */
#ifndef IPCC_LIB_SYSDESC_TREE_H
#define IPCC_LIB_SYSDESC_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include <ipcc/sysdesc.h>

/* Bounds on what a description may build: it is user input. */
#define SYSDESC_DEPTH_MAX   16u	  /* nested collections */
#define SYSDESC_ENTRIES_MAX 4096u /* items of one sequence, pairs of one mapping */
#define SYSDESC_NODES_MAX   65536u

enum sysdesc_kind {
	SYSDESC_SCALAR,
	SYSDESC_SEQUENCE,
	SYSDESC_MAPPING,
};

struct sysdesc_node {
	enum sysdesc_kind kind;
	unsigned line, column; /* 1-based, of the node's first character */
	/* scalar */
	bool plain; /* written without quotes: may be a number or a word */
	char *text; /* NUL-terminated; may hold NUL bytes before len (a "\0" escape) */
	size_t len;
	/* sequence: count items; mapping: keys and values alternate in items (count is even) */
	unsigned count, cap;
	struct sysdesc_node **items;
};

/*
 * Build the tree of the one YAML document in text[0..len). *ret_root is NULL for a stream
 * with no document. Refuses, with *err filled (file left to the caller): syntax errors,
 * several documents, aliases, tags, keys that are not scalars, duplicate keys, and the bounds
 * above (-EINVAL); -ENOMEM; -EOPNOTSUPP without libyaml.
 */
int ipcc_sysdesc_tree_build(const char *text, size_t len, struct sysdesc_node **ret_root,
			    struct ipcc_sysdesc_error *err);

void ipcc_sysdesc_tree_free(struct sysdesc_node *node);

/*
 * Fill err's position, key and message (printf-style), forcing both into printable one-line
 * ASCII and truncating them. Returns -EINVAL, the error of a bad description.
 */
int ipcc_sysdesc_fail(struct ipcc_sysdesc_error *err, unsigned line, unsigned column,
		      const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
