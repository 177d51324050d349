/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/log: text and JSON line shapes, levels, fields, errno, long lines. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "lib/log.h"

static int pipe_fds[2];
static char got[65536];

static int setup(void **state)
{
    (void)state;
    if (pipe2(pipe_fds, O_NONBLOCK) < 0)
        return -1;
    fcntl(pipe_fds[1], F_SETPIPE_SZ, 1 << 20);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    log_setup("parity", LOG_LEVEL_INFO, LOG_FORMAT_TEXT, 2);
    return 0;
}

/* Everything written since the last call, NUL-terminated. */
static const char *drain(void)
{
    ssize_t n = read(pipe_fds[0], got, sizeof(got) - 1);

    got[n > 0 ? n : 0] = '\0';
    return got;
}

static void test_log_text_line_shape(void **state)
{
    char want[128];

    (void)state;
    log_setup("parity-init", LOG_LEVEL_INFO, LOG_FORMAT_TEXT, pipe_fds[1]);
    log_info("detect", "done platform=%s", "eks");
    snprintf(want, sizeof(want), "parity-init[%ld]: info: detect: done platform=eks\n",
             (long)getpid());
    assert_string_equal(drain(), want);
    log_warn(NULL, "no phase");
    snprintf(want, sizeof(want), "parity-init[%ld]: warn: no phase\n", (long)getpid());
    assert_string_equal(drain(), want);
}

static int evaluated;

static const char *count_evaluation(void)
{
    evaluated++;
    return "x";
}

static void test_log_level_filters_before_evaluating(void **state)
{
    (void)state;
    log_setup("p", LOG_LEVEL_WARN, LOG_FORMAT_TEXT, pipe_fds[1]);
    evaluated = 0;
    log_info("x", "%s", count_evaluation());
    log_debug("x", "%s", count_evaluation());
    assert_int_equal(evaluated, 0);
    assert_string_equal(drain(), "");
    log_error("x", "%s", count_evaluation());
    assert_int_equal(evaluated, 1);
    assert_non_null(strstr(drain(), "error: x: x"));
}

static void test_log_json_fields_and_types(void **state)
{
    cJSON *doc;

    (void)state;
    log_setup("parity-init", LOG_LEVEL_DEBUG, LOG_FORMAT_JSON, pipe_fds[1]);
    log_info("finish", "child \"killed\" signal=%d name=%s reason=\"a b\" ratio=0.5 code=007", 9,
             "SIGKILL");
    doc = cJSON_Parse(drain());
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "level")->valuestring, "info");
    assert_string_equal(cJSON_GetObjectItem(doc, "prog")->valuestring, "parity-init");
    assert_string_equal(cJSON_GetObjectItem(doc, "phase")->valuestring, "finish");
    assert_string_equal(cJSON_GetObjectItem(doc, "msg")->valuestring, "child \"killed\"");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(doc, "signal")));
    assert_int_equal(cJSON_GetObjectItem(doc, "signal")->valueint, 9);
    assert_int_equal(cJSON_GetObjectItem(doc, "pid")->valueint, getpid());
    assert_string_equal(cJSON_GetObjectItem(doc, "name")->valuestring, "SIGKILL");
    assert_string_equal(cJSON_GetObjectItem(doc, "reason")->valuestring, "a b");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(doc, "ratio")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(doc, "code"))); /* leading zero: not a number */
    assert_non_null(cJSON_GetObjectItem(doc, "ts"));
    cJSON_Delete(doc);
}

static void test_log_json_escapes_control_bytes(void **state)
{
    cJSON *doc;

    (void)state;
    log_setup("p", LOG_LEVEL_INFO, LOG_FORMAT_JSON, pipe_fds[1]);
    log_info("x", "line1\nline2\ttab \x01 end");
    doc = cJSON_Parse(drain());
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "msg")->valuestring, "line1\nline2\ttab \x01 end");
    cJSON_Delete(doc);
}

static void test_log_long_line_is_one_line_and_valid_json(void **state)
{
    char *big = malloc(10000);
    const char *out;
    cJSON *doc;

    (void)state;
    memset(big, '"', 9999); /* each byte doubles when escaped */
    big[9999] = '\0';
    log_setup("p", LOG_LEVEL_INFO, LOG_FORMAT_JSON, pipe_fds[1]);
    log_info("x", "%s", big);
    out = drain();
    assert_int_equal(strchr(out, '\n'), out + strlen(out) - 1);
    doc = cJSON_Parse(out);
    assert_non_null(doc);
    cJSON_Delete(doc);
    log_setup("p", LOG_LEVEL_INFO, LOG_FORMAT_TEXT, pipe_fds[1]);
    log_info("x", "%s", big);
    out = drain();
    assert_int_equal(strchr(out, '\n'), out + strlen(out) - 1);
    free(big);
}

static void test_log_preserves_errno(void **state)
{
    (void)state;
    log_setup("p", LOG_LEVEL_INFO, LOG_FORMAT_TEXT, pipe_fds[1]);
    errno = EACCES;
    log_info("x", "hello");
    assert_int_equal(errno, EACCES);
    drain();
}

static void test_log_parse_names(void **state)
{
    enum log_level l;
    enum log_format f;
    struct perr e = {0};

    (void)state;
    assert_int_equal(log_level_parse("debug", &l, &e), 0);
    assert_int_equal(l, LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse("loud", &l, &e), -1);
    assert_non_null(strstr(e.msg, "'loud'"));
    assert_int_equal(log_format_parse("json", &f, &e), 0);
    assert_int_equal(f, LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("xml", &f, &e), -1);
    assert_non_null(strstr(e.msg, "text or json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_text_line_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_level_filters_before_evaluating, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_json_fields_and_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_json_escapes_control_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_long_line_is_one_line_and_valid_json, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_preserves_errno, setup, teardown),
        cmocka_unit_test(test_log_parse_names),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
