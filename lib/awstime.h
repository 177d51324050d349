/* SPDX-License-Identifier: MIT */
/* The clock AWS requests are signed with: the system clock plus a correction learned from an
 * AWS answer that said our clock is off (containers inherit the host's clock, and botocore has no
 * such correction: boto/boto3#1252). Injectable for tests. */
#ifndef PARITY_AWSTIME_H
#define PARITY_AWSTIME_H

#include <stdbool.h>
#include <stdint.h>

typedef int64_t awstime_clock_fn(void);

/* Replaces the system clock (NULL restores it) and forgets any correction. */
void awstime_set_clock(awstime_clock_fn *fn);

/* Now, in seconds since the epoch, corrected. */
int64_t awstime_now(void);

/* "20261128T050000Z" for t. */
void awstime_amz_date(int64_t t, char out[17]);

/* True for an answer that blames the clock: RequestTimeTooSkewed, or a signature that "expired"
 * or is "not yet current". */
bool awstime_is_skew_error(const char *body);

/* Learns the correction from an HTTP Date header ("Sat, 28 Nov 2026 05:00:00 GMT"). Returns the
 * new offset in seconds, or 0 when the header cannot be read (the correction is then unchanged). */
int64_t awstime_correct_from_date(const char *http_date);

#endif
