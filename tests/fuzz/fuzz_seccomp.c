/* SPDX-License-Identifier: MIT */
/* Fuzz target: OCI seccomp profiles, parsed and compiled to BPF with libseccomp. */
#include <stdint.h>

#include "lib/seccomp_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jdoc_opts o = {.max_depth = 16};
    struct perr err = {0};
    struct jdoc *d = jdoc_parse((const char *)data, size, &o, &err);
    struct seccomp_program p;

    if (!d)
        return 0;
    if (seccomp_profile_compile(d, 0xa80425fbULL, &p, &err) == 0)
        seccomp_program_cleanup(&p);
    jdoc_free(d);
    return 0;
}
