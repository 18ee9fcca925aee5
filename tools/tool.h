/* SPDX-License-Identifier: MIT */
/*
 * What the subcommands of `ipcc` share (tools/ipcc.c): messages, escaping of untrusted
 * strings, names, JSON output. Each subcommand in a file of its own includes this.
 */
#ifndef IPCC_TOOL_H
#define IPCC_TOOL_H

#include <jansson.h>
#include <limits.h>
#include <stdio.h>

#include <ipcc/ipcc.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

/* The whole usage text, on f. */
void usage(FILE *f);
/* A usage error: one line naming the problem, a pointer to the help; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A string we did not write (names, text read from the object) made safe for a terminal:
 * printable ASCII and valid UTF-8 stay, every other byte is \xNN, a backslash \\.
 */
#define ESC_SIZE (4 * PATH_MAX + 1)
#define ESC(s)	 esc((s), (char[ESC_SIZE]){ 0 }, ESC_SIZE)
const char *esc(const char *s, char *buf, size_t size);

/* NAME with or without its leading '/', into buf (IPCC_NAME_MAX + 2): 0 or EXIT_USAGE. */
int name_normalize(const char *arg, char *buf, size_t size);
/* The one NAME operand left after the options of subcommand cmd. */
int name_operand(const char *cmd, int argc, char **argv, char *buf, size_t size);
/* "ipcc: cannot VERB NAME: cause" for an error of opening or reading; returns EXIT_RUNTIME. */
int fail(const char *verb, const char *name, int err);

/* A JSON string of any bytes (invalid UTF-8 as U+FFFD); NULL only when out of memory. */
json_t *jstr(const char *s);
/* Print doc (NULL: building it failed) and free it: 0 or EXIT_RUNTIME. */
int json_print(json_t *doc, const char *what);
/* Append e to array *a; on failure *a becomes NULL. */
void append(json_t **a, json_t *e);

/* tools/log.c: `ipcc log`, and what plan and info say about the log and the regions. */
int cmd_log(int argc, char **argv);
void log_print_plan(const struct ipcc_config *cfg);
/* Adds "log" and "regions" to doc (NULL passes through); NULL when out of memory. */
json_t *log_json_plan(json_t *doc, const struct ipcc_config *cfg);
void log_print_info(struct ipcc_system *sys);
/* Adds "log" and "regions" to doc: 0, or -1 when out of memory. */
int log_json_info(json_t *doc, struct ipcc_system *sys);

#endif
