/* SPDX-License-Identifier: MIT */
/* The version report names every linked library, since the static binary carries them all. */
#include "entrypoint/version.h"

#include <stdio.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <zlib.h>

#ifndef PARITY_VERSION
#define PARITY_VERSION "0.0.0-dev"
#endif

void version_print(void)
{
    const struct scmp_version *sv = seccomp_version();
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

    printf("parity-init %s\n", PARITY_VERSION);
    printf("libcurl %s\n", cv->version);
    printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("cJSON %s\n", cJSON_Version());
    printf("libseccomp %u.%u.%u\n", sv->major, sv->minor, sv->micro);
    printf("libcap %d.%d\n", LIBCAP_MAJOR, LIBCAP_MINOR);
    printf("zlib %s\n", zlibVersion());
}
