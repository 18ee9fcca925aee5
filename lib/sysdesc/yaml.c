/* SPDX-License-Identifier: MIT */
/*
 * YAML text to a description tree, with libyaml's event parser. libyaml does the parsing;
 * this file only builds the tree, so that it can bound it (depth, entries, nodes), refuse what
 * a description never needs (aliases, anchors, tags, several documents, complex keys), catch
 * duplicate keys (libyaml does not) and, on a syntax error, say under which key it happened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sysdesc/tree.h"

struct builder {
	struct sysdesc_node *root;
	struct sysdesc_node *stack[SYSDESC_DEPTH_MAX]; /* the open collections */
	unsigned depth;
	unsigned nodes;
	unsigned documents;
	struct ipcc_sysdesc_error *err;
};

void ipcc_sysdesc_tree_free(struct sysdesc_node *node)
{
	if (!node)
		return;
	for (unsigned i = 0; i < node->count; i++)
		ipcc_sysdesc_tree_free(node->items[i]);
	free(node->items);
	free(node->text);
	free(node);
}

/* Append one path segment: "key" first, ".key" after; a long key keeps its start only. */
static void path_add_key(char *buf, size_t size, const char *key)
{
	size_t used = strlen(buf);

	snprintf(buf + used, size - used, "%s%.24s", used ? "." : "", key);
}

static void path_add_index(char *buf, size_t size, unsigned index)
{
	size_t used = strlen(buf);

	snprintf(buf + used, size - used, "[%u]", index);
}

/*
 * The key path of the position being parsed: through every open collection to the entry in
 * progress. `key`, if not NULL, is a key being added to the innermost mapping; `after` names
 * the last complete entry of the innermost mapping, where a syntax error found between two
 * entries most likely belongs.
 */
static void builder_path(const struct builder *b, const char *key, bool after, char *buf,
			 size_t size)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < b->depth; i++) {
		const struct sysdesc_node *n = b->stack[i];
		bool inner = i + 1 == b->depth;
		if (n->kind == SYSDESC_SEQUENCE) {
			/* An outer sequence holds the open child last. In the innermost one the
			 * position is between items: the sequence itself is named. */
			if (!inner)
				path_add_index(buf, size, n->count - 1);
		} else if (!inner || (after && n->count % 2 == 0 && n->count)) {
			/* the open child's key, or the last complete entry's */
			path_add_key(buf, size, n->items[n->count - 2]->text);
		} else if (n->count % 2) {
			/* a key that awaits its value */
			path_add_key(buf, size, n->items[n->count - 1]->text);
		}
	}
	if (key)
		path_add_key(buf, size, key);
}

static int builder_error_at(struct builder *b, const yaml_mark_t *mark, const char *key, bool after,
			    const char *what)
{
	char path[IPCC_SYSDESC_KEY_MAX];

	builder_path(b, key, after, path, sizeof(path));
	return ipcc_sysdesc_fail(b->err, (unsigned)mark->line + 1, (unsigned)mark->column + 1, path,
				 "%s", what);
}

static int builder_error(struct builder *b, const yaml_mark_t *mark, const char *key,
			 const char *what)
{
	return builder_error_at(b, mark, key, false, what);
}

static struct sysdesc_node *node_new(struct builder *b, enum sysdesc_kind kind,
				     const yaml_mark_t *mark)
{
	struct sysdesc_node *n;

	if (b->nodes >= SYSDESC_NODES_MAX)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	b->nodes++;
	n->kind = kind;
	n->line = (unsigned)mark->line + 1;
	n->column = (unsigned)mark->column + 1;
	return n;
}

/* Attach n where the parse is: the root, an item, a key or a value. Frees n on failure. */
static int builder_add(struct builder *b, struct sysdesc_node *n, const yaml_mark_t *mark)
{
	struct sysdesc_node *parent;
	char what[96];
	int r;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == SYSDESC_MAPPING && parent->count % 2 == 0) {
		if (n->kind != SYSDESC_SCALAR) {
			r = builder_error(b, mark, NULL,
					  "a key must be a plain word, not a collection");
			goto fail;
		}
		for (unsigned i = 0; i < parent->count; i += 2) {
			const struct sysdesc_node *k = parent->items[i];
			if (k->len == n->len && !memcmp(k->text, n->text, n->len)) {
				snprintf(what, sizeof(what), "duplicate key (first at line %u)",
					 k->line);
				r = builder_error(b, mark, n->text, what);
				goto fail;
			}
		}
	}
	if (parent->count >= 2 * SYSDESC_ENTRIES_MAX ||
	    (parent->kind == SYSDESC_SEQUENCE && parent->count >= SYSDESC_ENTRIES_MAX)) {
		snprintf(what, sizeof(what), "more than %u entries", SYSDESC_ENTRIES_MAX);
		r = builder_error(b, mark, NULL, what);
		goto fail;
	}
	if (parent->count == parent->cap) {
		unsigned cap = parent->cap ? 2 * parent->cap : 8;
		struct sysdesc_node **items = realloc(parent->items, cap * sizeof(*items));
		if (!items) {
			r = -ENOMEM;
			goto fail;
		}
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->count++] = n;
	return 0;
fail:
	ipcc_sysdesc_tree_free(n);
	return r;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct sysdesc_node *n = node_new(b, SYSDESC_SCALAR, &ev->start_mark);

	if (!n)
		return b->nodes >= SYSDESC_NODES_MAX
			       ? builder_error(b, &ev->start_mark, NULL, "too many nodes")
			       : -ENOMEM;
	n->len = ev->data.scalar.length;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->text = malloc(n->len + 1);
	if (!n->text) {
		ipcc_sysdesc_tree_free(n);
		return -ENOMEM;
	}
	memcpy(n->text, ev->data.scalar.value, n->len);
	n->text[n->len] = '\0';
	return builder_add(b, n, &ev->start_mark);
}

static int on_collection_start(struct builder *b, const yaml_event_t *ev, enum sysdesc_kind kind)
{
	struct sysdesc_node *n;
	int r;

	if (b->depth == SYSDESC_DEPTH_MAX)
		return builder_error(b, &ev->start_mark, NULL, "nested too deep");
	n = node_new(b, kind, &ev->start_mark);
	if (!n)
		return b->nodes >= SYSDESC_NODES_MAX
			       ? builder_error(b, &ev->start_mark, NULL, "too many nodes")
			       : -ENOMEM;
	r = builder_add(b, n, &ev->start_mark);
	if (r < 0)
		return r;
	b->stack[b->depth++] = n;
	return 0;
}

/* What no description needs, refused where it is written. */
static int refuse_extras(struct builder *b, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return builder_error(b, &ev->start_mark, NULL,
				     "aliases (*name) are not supported: write the value out");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		return 0;
	}
	if (anchor)
		return builder_error(b, &ev->start_mark, NULL, "anchors (&name) are not supported");
	if (tag)
		return builder_error(b, &ev->start_mark, NULL, "tags (!tag) are not supported");
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	int r = refuse_extras(b, ev);

	if (r < 0)
		return r;
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->documents++)
			return builder_error(b, &ev->start_mark, NULL,
					     "a second document: a file holds one description");
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_collection_start(b, ev, SYSDESC_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return on_collection_start(b, ev, SYSDESC_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--; /* libyaml balances starts and ends */
		return 0;
	default:
		return 0;
	}
}

/* The line (1-based) of byte `offset`: reader errors carry only an offset. */
static unsigned line_of(const char *text, size_t len, size_t offset)
{
	unsigned line = 1;

	for (size_t i = 0; i < offset && i < len; i++)
		line += text[i] == '\n';
	return line;
}

static int syntax_error(struct builder *b, const yaml_parser_t *p, const char *text, size_t len)
{
	char what[IPCC_SYSDESC_MESSAGE_MAX];
	yaml_mark_t mark = p->problem_mark;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		mark.line = line_of(text, len, p->problem_offset) - 1;
		mark.column = 0;
		snprintf(what, sizeof(what), "not UTF-8 text: %s",
			 p->problem ? p->problem : "invalid input");
	} else if (p->context) {
		snprintf(what, sizeof(what), "YAML syntax: %s %s at line %zu",
			 p->problem ? p->problem : "error", p->context, p->context_mark.line + 1);
	} else {
		snprintf(what, sizeof(what), "YAML syntax: %s", p->problem ? p->problem : "error");
	}
	return builder_error_at(b, &mark, NULL, true, what);
}

int ipcc_sysdesc_tree_build(const char *text, size_t len, struct sysdesc_node **ret_root,
			    struct ipcc_sysdesc_error *err)
{
	struct builder b = { .err = err };
	yaml_parser_t parser;
	bool done = false;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && r == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			r = syntax_error(&b, &parser, text, len);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		r = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (r < 0) {
		ipcc_sysdesc_tree_free(b.root);
		return r;
	}
	*ret_root = b.root;
	return 0;
}
