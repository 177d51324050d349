/* SPDX-License-Identifier: MIT */
/* S3: ListObjectsV2 with pagination, GetObject streamed into a file with resumable retries,
 * PutObject from a file, signed with SigV4 (S3's rules). Virtual-hosted or path style, and
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL for other endpoints. */
#ifndef PARITY_S3_H
#define PARITY_S3_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"

#define S3_MAX_KEY 1024 /* S3's own limit, in bytes */

struct s3_client {
    const struct creds *creds;
    char region[64];
    char endpoint[512]; /* a custom endpoint (path style), or "" for AWS */
};

struct s3_object {
    char key[S3_MAX_KEY + 1];
    uint64_t size;
    char etag[128]; /* as S3 sends it, quotes included; "-N" marks a multipart upload */
};

/* "s3://bucket/key" -> bucket and key (the key may be empty). */
PARITY_MUST_CHECK int
s3_parse_uri(const char *uri, char bucket[64], char key[S3_MAX_KEY + 1], struct perr *err);

/*
 * Where key goes below a download folder for a listing of prefix, as SageMaker places channel
 * files: the key relative to the prefix (a prefix naming one object gives its name). Refuses
 * what would leave the folder or collide: an empty or absolute result, empty, "." or ".."
 * segments. A trailing '/' (a folder marker) is allowed.
 */
PARITY_MUST_CHECK int
s3_relative_path(const char *prefix, const char *key, const char **rel, struct perr *err);

/* Endpoint from env (AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL), region (AWS_REGION, as the
 * credentials phase sets it; else us-east-1) and credentials c, which S3 cannot do without:
 * NULL is an error (PERR_AUTH). */
PARITY_MUST_CHECK int s3_client_init(struct s3_client *s,
                                     const struct envlist *env,
                                     const struct creds *c,
                                     struct perr *err);

typedef int s3_list_fn(void *ctx, const struct s3_object *o, struct perr *err);

/* Calls fn for every object under prefix, in S3's order (UTF-8 binary), page after page. */
PARITY_MUST_CHECK int s3_list(const struct s3_client *s,
                              const char *bucket,
                              const char *prefix,
                              s3_list_fn *fn,
                              void *ctx,
                              struct perr *err);

/*
 * Downloads the object into path: written to "path.parity-partial" first and renamed only when
 * complete, so a partial file never has the final name. A dropped connection or a 5xx resumes
 * where it stopped (a Range request bound to the ETag with If-Match), up to 5 tries. The size
 * and ETag must match `o` (from s3_list).
 */
PARITY_MUST_CHECK int s3_get_file(const struct s3_client *s,
                                  const char *bucket,
                                  const struct s3_object *o,
                                  const char *path,
                                  struct perr *err);

/* Uploads the file at path as one PutObject (up to 5 GiB), its SHA-256 signed, so S3 refuses a
 * body that changed on the way. 5xx, throttling and transport errors are retried from the start. */
PARITY_MUST_CHECK int s3_put_file(const struct s3_client *s,
                                  const char *bucket,
                                  const char *key,
                                  const char *path,
                                  struct perr *err);

/* Parses one ListObjectsV2 page (exposed for tests and fuzzing): fn per object, then the
 * continuation token ("" on the last page). */
PARITY_MUST_CHECK int s3_parse_list_page(const char *xml,
                                         size_t len,
                                         s3_list_fn *fn,
                                         void *ctx,
                                         char *token,
                                         size_t token_len,
                                         struct perr *err);

#endif
