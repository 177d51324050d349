/* SPDX-License-Identifier: MIT */
/* AWS JSON calls for the launcher. */
#include "shim/aws_client.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/awsjson.h"
#include "lib/http.h"

#define DEFAULT_ATTEMPTS 5 /* users raise botocore's 3 for SageMaker (contract §1.5) */

static void endpoint(const struct envlist *env,
                     const char *service_env,
                     const char *host,
                     const char *region,
                     char *out,
                     size_t len)
{
    const char *e = envlist_get(env, service_env);

    if (!e || !*e)
        e = envlist_get(env, "AWS_ENDPOINT_URL");
    if (e && *e)
        snprintf(out, len, "%s", e);
    else
        snprintf(out, len, "https://%s.%s.amazonaws.com/", host, region);
}

static int fetch_creds(struct aws_client *a, struct perr *err)
{
    creds_wipe(&a->creds);
    if (a->provider->get(a->provider, &a->creds, err) < 0)
        return perr_wrap(err, "AWS credentials (%s)", a->provider->name);
    return 0;
}

int aws_client_init(struct aws_client *a,
                    const struct envlist *env,
                    const char *region,
                    struct perr *err)
{
    /* IMDS only where it was pointed at: on a laptop the probe costs seconds for nothing */
    bool imds = envlist_get(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT") != NULL;

    memset(a, 0, sizeof(*a));
    a->env = env;
    if (!region)
        region = creds_region_from_env(env);
    if (!region || !*region)
        return perr_set(err, PERR_USAGE,
                        "no AWS region: set aws.region in the spec, or AWS_REGION");
    snprintf(a->region, sizeof(a->region), "%s", region);
    endpoint(env, "AWS_ENDPOINT_URL_SAGEMAKER", "api.sagemaker", region, a->sagemaker_url,
             sizeof(a->sagemaker_url));
    endpoint(env, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "logs", region, a->logs_url,
             sizeof(a->logs_url));
    http_global_init();
    a->provider = creds_chain_select(env, region, "parity", imds, err);
    if (!a->provider)
        return perr_wrap(err, "AWS credentials");
    return fetch_creds(a, err);
}

void aws_client_cleanup(struct aws_client *a)
{
    if (a->provider)
        creds_provider_free(a->provider);
    a->provider = NULL;
    creds_wipe(&a->creds);
}

int aws_call(struct aws_client *a,
             enum aws_service svc,
             const char *op,
             const char *body,
             bool once,
             struct jdoc **out,
             char code[128],
             struct perr *err)
{
    char target[128];
    struct awsjson_call call = {
        .url = svc == AWS_SAGEMAKER ? a->sagemaker_url : a->logs_url,
        .target = target,
        .service = svc == AWS_SAGEMAKER ? "sagemaker" : "logs",
        .region = a->region,
        .body = body,
        .body_len = strlen(body),
        .once = once,
        .attempts = DEFAULT_ATTEMPTS,
    };
    struct http_response resp;
    int rc;

    snprintf(target, sizeof(target), "%s.%s", svc == AWS_SAGEMAKER ? "SageMaker" : "Logs_20140328",
             op);
    /* a follow lasts hours: temporary credentials are renewed five minutes before expiry */
    if (a->creds.expiry_epoch_s && time(NULL) + 300 > a->creds.expiry_epoch_s &&
        fetch_creds(a, err) < 0)
        return -1;
    *out = NULL;
    http_response_init(&resp);
    rc = awsjson_call(&call, &a->creds, &resp, code, err);
    if (rc == 0) {
        *out = jdoc_parse(resp.body.data ? resp.body.data : "{}",
                          resp.body.data ? resp.body.len : 2, NULL, err);
        if (!*out)
            rc = perr_wrap(err, "%s: the answer is not JSON", target);
    }
    http_response_cleanup(&resp);
    return rc;
}
