/* SPDX-License-Identifier: MIT */
/* The parity/v1 job spec (DESIGN.md): parsed, checked against both targets' rules, every problem
 * reported with its JSON path. The launcher reads all of it; parity-init the fields it needs. */
#ifndef PARITY_JOBSPEC_H
#define PARITY_JOBSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/jdoc.h"

#define JOBSPEC_MAX_BYTES (1024u * 1024)

struct jobspec_channel {
    const char *name;
    const char *uri;          /* s3://bucket/prefix or file:///path */
    const char *mode;         /* File (default), Pipe, FastFile */
    const char *content_type; /* NULL when not given */
    const char *distribution; /* FullyReplicated (default) or ShardedByS3Key */
};

/* Pointers point into `doc`, which the spec owns. */
struct jobspec {
    struct jdoc *doc;
    const char *name;
    const char *role; /* train (default), serve, process */
    const char *image;
    const struct jdoc *command;         /* array of strings, or NULL */
    const struct jdoc *hyperparameters; /* object, or NULL */
    struct jobspec_channel *channels;
    size_t channel_count;
    const char *output;
    const char *model;
    const char *checkpoint_uri;
    const char *checkpoint_local_path;  /* default /opt/ml/checkpoints */
    const char *instance_type;          /* NULL when not given */
    long instance_count;                /* default 1 */
    const struct jdoc *instance_groups; /* SageMaker heterogeneous clusters, or NULL */
    long volume_gb;                     /* 0 when not given */
    const struct jdoc *environment;     /* object of strings, or NULL */
    long max_runtime_s;                 /* 0 when not given */
    bool spot;
    long spot_max_wait_s;
    const char *region;
    const char *role_arn;
    const char *eks_namespace;
    const char *eks_service_account;
    const char *eks_service;
};

/*
 * Parses and validates a job spec. On any problem returns -1; `problems` (when not NULL) receives
 * one line per problem, "$.inputs.train.mode: must be File, Pipe or FastFile", and err a summary
 * with the count and the first problems.
 */
PARITY_MUST_CHECK int jobspec_parse(
    const char *text, size_t len, struct jobspec *js, struct buf *problems, struct perr *err);

/* Frees the document and channel table; safe twice and on a zeroed struct. */
void jobspec_cleanup(struct jobspec *js);

/* True for a DNS-1123 label of at most 63 characters (Kubernetes and SageMaker names). */
bool jobspec_valid_name(const char *s);

#endif
