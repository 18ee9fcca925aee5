/* SPDX-License-Identifier: MIT */
/*
 * Messages for the library's error codes. libipcc returns negative errno values (never a
 * private error space), but libc's texts describe the kernel's use of them: -EUCLEAN is
 * "Structure needs cleaning" where libipcc means a corrupt object. ipcc_strerror says what the
 * code means when libipcc returns it.
 */
#ifndef IPCC_ERROR_H
#define IPCC_ERROR_H

#include <ipcc/common.h>

IPCC_BEGIN_DECLS

/*
 * A short lower-case text, without a final period, for `err` as a libipcc call returned it:
 * a negative errno (a positive one is read as its negative), 0 gives "success". A code libipcc
 * gives no meaning of its own (the errno of shm_open or mmap passed through, say) gets libc's
 * text; a number that is no errno at all gets "unknown error". The string is static and never
 * changes: any thread may call this at any time, concurrently, and it never fails or blocks.
 */
IPCC_EXPORT const char *ipcc_strerror(int err);

IPCC_END_DECLS

#endif
