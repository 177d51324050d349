/* SPDX-License-Identifier: MIT */
/* Host names: every platform calls its hosts algo-1..algo-N; on EKS those names are made to
 * resolve to the pods of the Indexed Job. */
#ifndef PARITY_ENTRYPOINT_HOSTS_H
#define PARITY_ENTRYPOINT_HOSTS_H

#include <stdbool.h>

#include "lib/envlist.h"
#include "lib/err.h"

#define HOSTS_MAX 1000

struct hostplan {
    long count;         /* N: algo-1..algo-N */
    long index;         /* this host is algo-(index+1) */
    char *peers;        /* EKS: comma-separated DNS names of hosts 1..N, or NULL */
    bool write_aliases; /* EKS multi-host, or local in a container: write /etc/hosts aliases */
};

/*
 * Decides the host list. count comes from the job spec; index from JOB_COMPLETION_INDEX (EKS
 * Indexed Jobs) or PARITY_HOST_INDEX; peers from PARITY_HOSTS or "<name>-<i>.<service>".
 */
PARITY_MUST_CHECK int hosts_plan(struct hostplan *h,
                                 long count,
                                 bool eks,
                                 const char *job_name,
                                 const char *service,
                                 const struct envlist *env,
                                 struct perr *err);

void hosts_cleanup(struct hostplan *h);

/*
 * With peers (EKS) resolves every peer's DNS name, retrying until wait_s have passed (pods appear
 * in DNS one by one), and appends "IP algo-N" lines to hosts_file; without peers (local) every
 * algo-N is 127.0.0.1. Fails naming the peer that never resolved.
 */
PARITY_MUST_CHECK int hosts_write_aliases(const struct hostplan *h,
                                          const char *hosts_file,
                                          unsigned wait_s,
                                          struct perr *err);

#endif
