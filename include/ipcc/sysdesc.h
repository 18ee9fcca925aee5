/* SPDX-License-Identifier: MIT */
/*
 * System descriptions: a YAML file that describes a whole system once (its CPUs, the links
 * between them, channels, buffer size, permissions, services) and that is refused, with one
 * error naming the file, the line and the key, before anything is created. The README's
 * "System description" section is the reference of every key.
 *
 * A description maps onto struct ipcc_config and, for each service block, onto that service's
 * own config struct (struct ipcc_notify_config for `notify`, struct ipcc_rpmsg_config for
 * `rpmsg`), which the config points at:
 * ipcc_sysdesc_load reads a file, ipcc_sysdesc_parse a buffer, and the result is an opaque
 * handle whose config is handed to ipcc_system_create, ipcc_config_size or ipcc_config_plan.
 * The library parses with libyaml; a build without it has the same functions, which return
 * -EOPNOTSUPP.
 *
 * Every function returns 0 on success and a negative errno on failure; output parameters
 * (ret_*) are written only on success, the error struct only on failure. Nothing here prints,
 * exits or touches a shm object. Handles are plain memory: any thread may use one, one thread
 * at a time.
 */
#ifndef IPCC_SYSDESC_H
#define IPCC_SYSDESC_H

#include <stddef.h>

#include <ipcc/common.h>
#include <ipcc/system.h>

IPCC_BEGIN_DECLS

struct ipcc_sysdesc;

/* A description file is read whole: no larger than this. */
#define IPCC_SYSDESC_SIZE_MAX (1u << 20)

#define IPCC_SYSDESC_KEY_MAX	 64u
#define IPCC_SYSDESC_MESSAGE_MAX 192u

/* Why a description was refused: filled by a failing ipcc_sysdesc_load or _parse. */
struct ipcc_sysdesc_error {
	const char *file; /* the path (or label) given to the call: the caller's string */
	unsigned line;	  /* 1-based; 0 when the error is about the file as a whole */
	unsigned column;  /* 1-based; 0 with line 0 */
	/* Where in the description: "channels", "links[2]", "cpus[1].name", "services.notify";
	 * "" for the document as a whole. Printable ASCII, truncated with "..." if long. */
	char key[IPCC_SYSDESC_KEY_MAX];
	/* One line of printable ASCII, no trailing newline. */
	char message[IPCC_SYSDESC_MESSAGE_MAX];
};

/*
 * Read and check the description in file `path`. On success *ret_desc is a new handle (free
 * it with ipcc_sysdesc_free). On failure *err (if not NULL) says why, and:
 *   -EINVAL a bad description (YAML syntax, unknown key, wrong type, value out of range,
 *           inconsistent combination), or path NULL or ret_desc NULL;
 *   -ENOENT, -EACCES, -EISDIR ... the errno of opening or reading the file;
 *   -EFBIG  the file is larger than IPCC_SYSDESC_SIZE_MAX;
 *   -ENOMEM;
 *   -EOPNOTSUPP this libipcc was built without libyaml.
 * Blocks on the file's reads only. Any thread.
 */
IPCC_EXPORT int ipcc_sysdesc_load(const char *path, struct ipcc_sysdesc **ret_desc,
				  struct ipcc_sysdesc_error *err);

/*
 * The same for the `len` bytes at `text` (need not be NUL-terminated); `label` names them in
 * *err (NULL: "<buffer>"). Errors as ipcc_sysdesc_load (-EFBIG above IPCC_SYSDESC_SIZE_MAX;
 * -EINVAL also for text NULL with len > 0). Never blocks. Any thread.
 */
IPCC_EXPORT int ipcc_sysdesc_parse(const char *label, const char *text, size_t len,
				   struct ipcc_sysdesc **ret_desc, struct ipcc_sysdesc_error *err);

/* Free a handle. Accepts NULL. */
IPCC_EXPORT void ipcc_sysdesc_free(struct ipcc_sysdesc *desc);

/*
 * The configuration the description gives (every key it leaves out has its default), valid
 * for ipcc_system_create: checked, including the size limit. NULL for desc NULL. The pointer
 * lives as long as the handle; copy the struct to change it. Its service pointers (notify,
 * trace, rpmsg: the `services:` blocks, NULL without one) point into the handle: a copy keeps
 * them, so free the handle only after the copy's last use.
 */
IPCC_EXPORT const struct ipcc_config *ipcc_sysdesc_config(const struct ipcc_sysdesc *desc);

/*
 * The shm name the description gives (key `name`, with its leading '/'), or NULL if it gives
 * none (or desc is NULL). Lives as long as the handle.
 */
IPCC_EXPORT const char *ipcc_sysdesc_name(const struct ipcc_sysdesc *desc);

/*
 * Write *err as one line into buf: "FILE:LINE:COLUMN: KEY: MESSAGE", without the parts that
 * are empty or 0. Returns the length it needed, as snprintf does (the line is truncated if
 * size is smaller); -EINVAL for err NULL, or buf NULL with size > 0.
 */
IPCC_EXPORT int ipcc_sysdesc_error_format(const struct ipcc_sysdesc_error *err, char *buf,
					  size_t size);

IPCC_END_DECLS

#endif
