/* SPDX-License-Identifier: MIT */
/*
 * The version of libipcc: of the headers a program was compiled with (the macros) and of the
 * library it runs with (ipcc_version). They differ when a program built against one release
 * runs with another of the same soname, which the soname policy allows in one direction only:
 * a library runs programs built against an older or equal MINOR of its MAJOR.
 *
 * Soname policy (README, "Versions"): while MAJOR is 0 the soname is libipcc.so.0 and a
 * release that breaks the ABI (a removed or changed function or struct, a layout change an
 * older library cannot open) raises MINOR and the soname together; from 1.0 on, the soname is
 * libipcc.so.MAJOR. New functions go into a new version node of lib/libipcc.map.
 */
#ifndef IPCC_VERSION_H
#define IPCC_VERSION_H

#include <ipcc/common.h>

IPCC_BEGIN_DECLS

/* Kept equal to meson.build's project version by the `version` unit test. */
#define IPCC_VERSION_MAJOR  0
#define IPCC_VERSION_MINOR  1
#define IPCC_VERSION_PATCH  0
#define IPCC_VERSION_STRING "0.1.0"
/* One number that orders versions: 0x00MMmmpp. */
#define IPCC_VERSION_ENCODE(major, minor, patch) \
	((uint32_t)(((major) << 16) | ((minor) << 8) | (patch)))
#define IPCC_VERSION_NUMBER \
	IPCC_VERSION_ENCODE(IPCC_VERSION_MAJOR, IPCC_VERSION_MINOR, IPCC_VERSION_PATCH)

/*
 * The version of the library in use, as "MAJOR.MINOR.PATCH" (a static string). Any thread, any
 * time, before or without any other call; never fails.
 */
IPCC_EXPORT const char *ipcc_version(void);
/* The same as IPCC_VERSION_ENCODE(major, minor, patch) of the library in use. Never fails. */
IPCC_EXPORT uint32_t ipcc_version_number(void);

IPCC_END_DECLS

#endif
