/* SPDX-License-Identifier: MIT */
/*
 * The library's own version, compiled from the same header programs include, so that a
 * program can tell the headers it was built with from the library it runs with.
 */
#include <ipcc/version.h>

const char *ipcc_version(void)
{
	return IPCC_VERSION_STRING;
}

uint32_t ipcc_version_number(void)
{
	return IPCC_VERSION_NUMBER;
}
