/* SPDX-License-Identifier: MIT */
/*
 * What the files of the ipcc tool share: the escaping of strings read from an object or given
 * by a user, and the JSON helpers. tools/ipcc.c defines them.
 */
#ifndef IPCC_TOOLS_IPCC_TOOL_H
#define IPCC_TOOLS_IPCC_TOOL_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>

/*
 * Text output of a string we did not write (see esc in tools/ipcc.c): printable ASCII and
 * valid UTF-8 as they are, every other byte as \xNN. ESC(s) escapes into a temporary buffer
 * that lives until the end of the enclosing block.
 */
#define ESC_SIZE (4 * PATH_MAX + 1)
#define ESC(s)	 esc((s), (char[ESC_SIZE]){ 0 }, ESC_SIZE)

const char *esc(const char *s, char *buf, size_t size);

/* A JSON string for s (NULL: JSON null), invalid UTF-8 replaced; NULL when out of memory. */
json_t *jstr(const char *s);

/* Append e (a new reference, or NULL) to *a; on failure *a is freed and set to NULL. */
void append(json_t **a, json_t *e);

#endif
