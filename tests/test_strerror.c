/* SPDX-License-Identifier: MIT */
/*
 * ipcc_strerror (lib/strerror.c): every code the public headers document reads in libipcc's
 * terms, anything else falls back to libc's text without failing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <ipcc/error.h>

/* Every error the headers in include/ipcc/ document, with a word its text must contain. */
static const struct {
	int err;
	const char *word;
} documented[] = {
	{ -EINVAL, "invalid" },
	{ -ENOENT, "no such" },
	{ -EEXIST, "exists" },
	{ -EACCES, "reserved" },
	{ -EPROTO, "not a libipcc object" },
	{ -EPROTONOSUPPORT, "layout version" },
	{ -EOPNOTSUPP, "feature" },
	{ -EUCLEAN, "corrupt" },
	{ -EBADMSG, "truncated" },
	{ -EROFS, "read-only" },
	{ -EBUSY, "busy" },
	{ -EAGAIN, "not ready" },
	{ -ETIMEDOUT, "timed out" },
	{ -EPIPE, "peer CPU died" },
	{ -EMSGSIZE, "buffer" },
	{ -EALREADY, "claimed" },
	{ -ENOMSG, "request" },
	{ -ENODEV, "eventfd" },
	{ -EINPROGRESS, "progress" },
	{ -ENOMEM, "memory" },
	{ -ESTALE, "fork" },
	{ -EPERM, "another user" },
	{ -EBADFD, "sealed" },
	{ -ECONNRESET, "closed the socket" },
};

Test(strerror, every_documented_code_has_a_text_in_the_library_s_terms)
{
	for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++) {
		const char *text = ipcc_strerror(documented[i].err);

		cr_assert_not_null(text);
		cr_assert(strstr(text, documented[i].word), "%d: '%s' does not say '%s'",
			  documented[i].err, text, documented[i].word);
		/* One line, no final period: the tools print it after "ipcc: NAME: ". */
		cr_assert_null(strchr(text, '\n'));
		cr_assert_neq(text[strlen(text) - 1], '.');
	}
}

Test(strerror, libc_s_misleading_texts_for_the_library_s_codes_are_replaced)
{
	cr_assert_str_eq(ipcc_strerror(-EPROTO), "not a libipcc object");
	cr_assert_str_eq(ipcc_strerror(-EPROTONOSUPPORT),
			 "object from an incompatible layout version");
	cr_assert_str_eq(ipcc_strerror(-EPIPE), "peer CPU died or detached");
	cr_assert_str_neq(ipcc_strerror(-EUCLEAN), strerror(EUCLEAN));
}

Test(strerror, a_positive_errno_reads_as_its_negative_and_zero_as_success)
{
	cr_assert_str_eq(ipcc_strerror(EPROTO), ipcc_strerror(-EPROTO));
	cr_assert_str_eq(ipcc_strerror(0), "success");
}

Test(strerror, codes_without_a_meaning_of_their_own_get_libc_s_text)
{
	/* EMFILE comes from eventfd() passed through: libc says it right. */
	cr_assert_str_eq(ipcc_strerror(-EMFILE), strerror(EMFILE));
	cr_assert_str_eq(ipcc_strerror(-EIO), strerror(EIO));
}

Test(strerror, numbers_that_are_no_errno_give_unknown_error_without_failing)
{
	cr_assert_str_eq(ipcc_strerror(-4095), "unknown error");
	cr_assert_str_eq(ipcc_strerror(123456), "unknown error");
	cr_assert_str_eq(ipcc_strerror(INT_MIN), "unknown error");
	cr_assert_str_eq(ipcc_strerror(INT_MAX), "unknown error");
}

static void *lookup_all(void *arg)
{
	const char **seen = arg;

	for (int round = 0; round < 1000; round++)
		for (int e = 0; e < 200; e++)
			if (ipcc_strerror(-e) != seen[e])
				return (void *)1;
	return NULL;
}

Test(strerror, concurrent_callers_get_the_same_static_strings)
{
	const char *seen[200];
	pthread_t t[4];
	void *ret;

	for (int e = 0; e < 200; e++)
		seen[e] = ipcc_strerror(-e);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, lookup_all, seen), 0);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(pthread_join(t[i], &ret), 0);
		cr_assert_null(ret, "a thread saw another pointer for the same code");
	}
}
