/* SPDX-License-Identifier: MIT */
/* `parity-init credential-process`: the AWS credential_process (Version 1) view of parity's
 * endpoint, for tools configured through ~/.aws/config. */
#ifndef PARITY_ENTRYPOINT_CREDPROC_H
#define PARITY_ENTRYPOINT_CREDPROC_H

#include <stdbool.h>

/* True when argv asks for it: argv[1] is "credential-process", or argv[0] is a link by that name.
 */
bool credproc_requested(int argc, char **argv);

/* Fetches from AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN and
 * prints the Version 1 JSON on stdout. Returns the exit status (0, or 1 with a reason on stderr,
 * which the SDKs show). */
int credproc_main(void);

#endif
