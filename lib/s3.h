/* SPDX-License-Identifier: MIT */
/* S3: ListObjectsV2 with pagination, HeadObject, GetObject of byte ranges streamed into a file
 * with resumable retries, PutObject and multipart uploads from a file, DeleteObject, signed with
 * SigV4 (S3's rules). Virtual-hosted or path style, and AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
 * for other endpoints. Every call is safe from several threads on one client. */
#ifndef PARITY_S3_H
#define PARITY_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/creds.h"
#include "lib/envlist.h"
#include "lib/err.h"

#define S3_MAX_KEY 1024 /* S3's own limit, in bytes */

#define S3_MIN_PART  (5ULL << 20) /* S3's smallest part of a multipart upload, but the last */
#define S3_MAX_PARTS 10000

struct s3_client {
    const struct creds *creds;
    char region[64];
    char endpoint[512]; /* a custom endpoint (path style), or "" for AWS */
    /* set by the caller when wanted */
    /* CLOCK_MONOTONIC ms after which no request starts or lasts (0: none), read atomically at
     * each request, so another thread may set it while transfers run; NULL: none */
    const uint64_t *deadline_ms;
    uint64_t *moved; /* bytes transferred are added here atomically (progress), or NULL */
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

/* HeadObject: the key's size and ETag into o; a missing key is PERR_USAGE "no such object". */
PARITY_MUST_CHECK int s3_head(const struct s3_client *s,
                              const char *bucket,
                              const char *key,
                              struct s3_object *o,
                              struct perr *err);

/*
 * One ranged download: bytes [off, off+len) of the object into fd at the same offsets (pwrite),
 * buffered in buf (the caller's, buf_size bytes, kept for many downloads). It runs as attempts
 * that lib/http_parallel performs: s3_get_next gives the next attempt's request, s3_get_ended
 * reads how it went. A dropped connection or a 5xx resumes where it stopped, up to 5 attempts;
 * every request after the first (and every ranged one) is bound to the listed ETag with
 * If-Match, so the bytes of two versions never mix. A whole object is asked for without a Range.
 */
struct s3_get;
struct http_request;
struct http_opts;
struct http_response;

/* NULL when out of memory. s, bucket and o must outlive it. */
struct s3_get *s3_get_new(const struct s3_client *s,
                          const char *bucket,
                          const struct s3_object *o,
                          int fd,
                          uint64_t off,
                          uint64_t len,
                          char *buf,
                          size_t buf_size);

/* The next attempt, signed now: its request, options and response (all g's) for
 * http_parallel_add. Fails when the stop budget is spent or signing fails. */
PARITY_MUST_CHECK int s3_get_next(struct s3_get *g,
                                  const struct http_request **req,
                                  const struct http_opts **opts,
                                  struct http_response **resp,
                                  struct perr *err);

/* The attempt ended (rc and err from lib/http): 0 when every byte is written; 1 to try again
 * after *pause_ms; -1 when it failed for good (err says why). */
PARITY_MUST_CHECK int s3_get_ended(struct s3_get *g, int rc, struct perr *err, long *pause_ms);

void s3_get_free(struct s3_get *g);

/* A small object (a config document) into out, at most out's max_bytes. */
PARITY_MUST_CHECK int s3_get_buf(const struct s3_client *s,
                                 const char *bucket,
                                 const char *key,
                                 struct buf *out,
                                 struct perr *err);

/* Uploads the file at path as one PutObject (up to 5 GiB), its SHA-256 signed, so S3 refuses a
 * body that changed on the way. 5xx, throttling and transport errors are retried from the start. */
PARITY_MUST_CHECK int s3_put_file(const struct s3_client *s,
                                  const char *bucket,
                                  const char *key,
                                  const char *path,
                                  struct perr *err);

/* Multipart upload (for files over 5 GiB, and faster for large ones): create, parts (each
 * signed with its SHA-256, retried on its own), complete with every part's ETag in order, or
 * abort, which drops the parts already stored. */
PARITY_MUST_CHECK int s3_mpu_create(const struct s3_client *s,
                                    const char *bucket,
                                    const char *key,
                                    char *upload_id,
                                    size_t upload_id_len,
                                    struct perr *err);
/* Uploads bytes [off, off+len) of fd (read with pread) as part `part` (1-based); its ETag
 * goes into etag. */
PARITY_MUST_CHECK int s3_mpu_part(const struct s3_client *s,
                                  const char *bucket,
                                  const char *key,
                                  const char *upload_id,
                                  unsigned part,
                                  int fd,
                                  uint64_t off,
                                  uint64_t len,
                                  char etag[128],
                                  struct perr *err);
PARITY_MUST_CHECK int s3_mpu_complete(const struct s3_client *s,
                                      const char *bucket,
                                      const char *key,
                                      const char *upload_id,
                                      char (*etags)[128],
                                      unsigned parts,
                                      struct perr *err);
/* Best effort: a failed abort is logged by the caller; S3's lifecycle rules are the backstop. */
PARITY_MUST_CHECK int s3_mpu_abort(const struct s3_client *s,
                                   const char *bucket,
                                   const char *key,
                                   const char *upload_id,
                                   struct perr *err);

/* DeleteObject; a key that is already gone is no error (S3 answers 204 either way). */
PARITY_MUST_CHECK int
s3_delete(const struct s3_client *s, const char *bucket, const char *key, struct perr *err);

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
