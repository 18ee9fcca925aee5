/* SPDX-License-Identifier: MIT */
/*
 * Versions (lib/version.c, <ipcc/version.h>): the header's macros, the library's answer and
 * meson.build's project version are one number. tests/meson.build passes the project version
 * as IPCC_TEST_PROJECT_VERSION, so a release that bumps one and not the others fails here.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ipcc/version.h>

#ifndef IPCC_TEST_PROJECT_VERSION
#error "tests/meson.build passes the project version"
#endif

Test(version, header_macros_spell_the_project_version)
{
	char spelled[32];

	snprintf(spelled, sizeof(spelled), "%d.%d.%d", IPCC_VERSION_MAJOR, IPCC_VERSION_MINOR,
		 IPCC_VERSION_PATCH);
	cr_assert_str_eq(spelled, IPCC_TEST_PROJECT_VERSION);
	cr_assert_str_eq(IPCC_VERSION_STRING, IPCC_TEST_PROJECT_VERSION);
}

Test(version, the_library_reports_the_version_of_its_headers)
{
	cr_assert_str_eq(ipcc_version(), IPCC_VERSION_STRING);
	cr_assert_eq(ipcc_version_number(), IPCC_VERSION_NUMBER);
}

Test(version, version_numbers_order_like_releases)
{
	cr_assert_lt(IPCC_VERSION_ENCODE(0, 1, 9), IPCC_VERSION_ENCODE(0, 2, 0));
	cr_assert_lt(IPCC_VERSION_ENCODE(0, 255, 255), IPCC_VERSION_ENCODE(1, 0, 0));
	cr_assert_eq(IPCC_VERSION_NUMBER >> 16, (uint32_t)IPCC_VERSION_MAJOR);
	cr_assert_eq((IPCC_VERSION_NUMBER >> 8) & 0xff, (uint32_t)IPCC_VERSION_MINOR);
	cr_assert_eq(IPCC_VERSION_NUMBER & 0xff, (uint32_t)IPCC_VERSION_PATCH);
}
