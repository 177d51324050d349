/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/jobspec: the DESIGN.md example, defaults, and every problem at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/jobspec.h"

static const char design_example[] =
    "{\"apiVersion\": \"parity/v1\", \"name\": \"fraud-train-20261128\", \"role\": \"train\","
    " \"image\": \"123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud:1.4\","
    " \"command\": [\"python3\", \"train.py\"],"
    " \"hyperparameters\": {\"epochs\": 10, \"lr\": 0.001, \"arch\": \"resnet50\", \"use_amp\": true},"
    " \"inputs\": {\"train\": {\"uri\": \"s3://bucket/fraud/train/\", \"mode\": \"File\","
    " \"content_type\": \"text/csv\", \"distribution\": \"FullyReplicated\"},"
    " \"validation\": \"s3://bucket/fraud/validation/\"},"
    " \"output\": \"s3://bucket/fraud/output/\","
    " \"checkpoints\": {\"uri\": \"s3://bucket/fraud/checkpoints/\", \"local_path\": \"/opt/ml/checkpoints\"},"
    " \"model\": \"s3://bucket/fraud/output/fraud-train-20261127/output/model.tar.gz\","
    " \"resources\": {\"instance_type\": \"ml.g5.2xlarge\", \"instance_count\": 2, \"volume_gb\": 100},"
    " \"environment\": {\"LOG_FORMAT\": \"json\"}, \"max_runtime_seconds\": 86400,"
    " \"spot\": {\"enabled\": true, \"max_wait_seconds\": 172800},"
    " \"aws\": {\"region\": \"us-east-1\", \"role_arn\": \"arn:aws:iam::123456789012:role/fraud-training\"},"
    " \"sagemaker\": {\"tags\": {\"team\": \"fraud\"}},"
    " \"eks\": {\"namespace\": \"ml-fraud\", \"service_account\": \"fraud-training\","
    " \"service\": \"fraud-train-20261128\", \"node_selector\": {}, \"tolerations\": []}}";

static void test_jobspec_design_example(void **state)
{
    struct jobspec js;
    struct buf problems;
    struct perr e = {0};

    (void)state;
    buf_init(&problems, 65536);
    assert_int_equal(jobspec_parse(design_example, strlen(design_example), &js, &problems, &e), 0);
    assert_string_equal(js.name, "fraud-train-20261128");
    assert_string_equal(js.role, "train");
    assert_int_equal(js.channel_count, 2);
    assert_string_equal(js.channels[0].name, "train");
    assert_string_equal(js.channels[0].content_type, "text/csv");
    assert_string_equal(js.channels[1].uri, "s3://bucket/fraud/validation/");
    assert_string_equal(js.channels[1].mode, "File");
    assert_string_equal(js.channels[1].distribution, "FullyReplicated");
    assert_null(js.channels[1].content_type);
    assert_int_equal(js.instance_count, 2);
    assert_int_equal(js.volume_gb, 100);
    assert_true(js.spot);
    assert_int_equal(js.spot_max_wait_s, 172800);
    assert_string_equal(js.eks_service, "fraud-train-20261128");
    assert_string_equal(js.checkpoint_local_path, "/opt/ml/checkpoints");
    jobspec_cleanup(&js);
    buf_cleanup(&problems);
}

static void test_jobspec_defaults(void **state)
{
    const char *min = "{\"apiVersion\": \"parity/v1\", \"name\": \"a\"}";
    struct jobspec js;
    struct perr e = {0};

    (void)state;
    assert_int_equal(jobspec_parse(min, strlen(min), &js, NULL, &e), 0);
    assert_string_equal(js.role, "train");
    assert_int_equal(js.instance_count, 1);
    assert_int_equal(js.channel_count, 0);
    assert_null(js.command);
    jobspec_cleanup(&js);
}

static void test_jobspec_reports_every_problem(void **state)
{
    const char *bad =
        "{\"apiVersion\": \"parity/v2\", \"name\": \"Bad_Name\", \"role\": \"dance\", \"foo\": 1,"
        " \"command\": [],"
        " \"inputs\": {\"train\": {\"uri\": \"http://x\", \"mode\": \"Stream\", \"extra\": 1},"
        " \"bad name!\": \"s3://b/p\", \"n\": 5},"
        " \"resources\": {\"instance_count\": \"2\", \"instance_type\": \"g5.xlarge\"},"
        " \"environment\": {\"1BAD\": \"x\", \"OK\": 3},"
        " \"checkpoints\": {\"local_path\": \"/x\"}, \"spot\": {\"enabled\": \"yes\"}}";
    static const char *const expected[] = {
        "$.apiVersion: must be \"parity/v1\"",
        "$.name: 'Bad_Name' must be a DNS-1123 label",
        "$.role: must be train, serve or process",
        "$.foo: unknown field",
        "$.command: must not be empty",
        "$.inputs.train.extra: unknown field",
        "$.inputs.train.mode: must be File, Pipe or FastFile",
        "$.inputs.train.uri: 'http://x' must be s3://bucket/prefix or file:///path",
        "$.inputs.bad name!: channel names are",
        "$.inputs.n: must be a URI string or an object",
        "$.resources.instance_count: must be an integer",
        "$.resources.instance_type: 'g5.xlarge' must be a SageMaker instance type",
        "$.environment: must be an object of strings",
        "$.checkpoints.uri: is required",
        "$.spot.enabled: must be true or false",
    };
    struct jobspec js;
    struct buf problems;
    struct perr e = {0};

    (void)state;
    buf_init(&problems, 65536);
    assert_int_equal(jobspec_parse(bad, strlen(bad), &js, &problems, &e), -1);
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        if (!strstr(problems.data, expected[i]))
            fail_msg("missing problem '%s' in:\n%s", expected[i], problems.data);
    }
    assert_non_null(strstr(e.msg, "job spec has"));
    assert_null(js.doc);
    buf_cleanup(&problems);
}

static void test_jobspec_limits(void **state)
{
    char spec[200000];
    size_t n = 0;
    struct jobspec js;
    struct buf problems;
    struct perr e = {0};

    (void)state;
    n +=
        (size_t)snprintf(spec + n, sizeof(spec) - n,
                         "{\"apiVersion\": \"parity/v1\", \"name\": \"x\", \"hyperparameters\": {");
    for (int i = 0; i < 101; i++)
        n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s\"k%d\": 1", i ? ", " : "", i);
    n += (size_t)snprintf(spec + n, sizeof(spec) - n, ", \"long\": \"");
    memset(spec + n, 'v', 2600);
    n += 2600;
    n += (size_t)snprintf(spec + n, sizeof(spec) - n, "\"}}");
    buf_init(&problems, 65536);
    assert_int_equal(jobspec_parse(spec, n, &js, &problems, &e), -1);
    assert_non_null(strstr(problems.data, "$.hyperparameters: has 102 entries"));
    assert_non_null(
        strstr(problems.data, "$.hyperparameters.long: encoded value has 2602 characters"));
    buf_cleanup(&problems);
    assert_int_equal(jobspec_parse("[1]", 3, &js, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "must be a JSON object"));
    assert_int_equal(jobspec_parse("{", 1, &js, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "not valid JSON: line 1 column 2"));
}

static void test_jobspec_names(void **state)
{
    (void)state;
    assert_true(jobspec_valid_name("a"));
    assert_true(jobspec_valid_name("fraud-train-1"));
    assert_false(jobspec_valid_name("-a"));
    assert_false(jobspec_valid_name("a-"));
    assert_false(jobspec_valid_name("A"));
    assert_false(jobspec_valid_name("a_b"));
    assert_false(jobspec_valid_name(""));
    assert_true(
        jobspec_valid_name("123456789012345678901234567890123456789012345678901234567890123"));
    assert_false(
        jobspec_valid_name("1234567890123456789012345678901234567890123456789012345678901234"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobspec_design_example),
        cmocka_unit_test(test_jobspec_defaults),
        cmocka_unit_test(test_jobspec_reports_every_problem),
        cmocka_unit_test(test_jobspec_limits),
        cmocka_unit_test(test_jobspec_names),
    };
    return cmocka_run_group_tests_name("jobspec", tests, NULL, NULL);
}
