/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/yaml: kubeconfig files as kubectl, `aws eks update-kubeconfig` and people
 * write them read into the same tree as their JSON form, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/pyfmt.h"
#include "lib/yaml.h"

/* The tree as compact sorted JSON, to compare with what it should be. */
static void assert_yaml(const char *yaml, const char *json)
{
    struct perr e = {0};
    struct jdoc *d = yaml_parse(yaml, strlen(yaml), &e);
    struct buf b;

    if (!d)
        print_message("yaml_parse: %s\n", e.msg);
    assert_non_null(d);
    buf_init(&b, 1 << 20);
    assert_int_equal(pyfmt_json(&b, d, &e), 0);
    if (strcmp(b.data, json) != 0)
        print_message("got  %s\nwant %s\n", b.data, json);
    assert_string_equal(b.data, json);
    buf_cleanup(&b);
    jdoc_free(d);
}

static void assert_refused(const char *yaml, const char *message)
{
    struct perr e = {0};
    struct jdoc *d = yaml_parse(yaml, strlen(yaml), &e);

    assert_null(d);
    if (!strstr(e.msg, message))
        print_message("message: %s\n", e.msg);
    assert_non_null(strstr(e.msg, message));
}

static void test_yaml_reads_the_kubeconfig_example(void **state)
{
    (void)state;
    /* ../shared/testdata/launcher/kubeconfig.example, with comments added */
    assert_yaml(
        "apiVersion: v1\n"
        "kind: Config   # the only kind\n"
        "clusters:\n"
        "- name: fake\n"
        "  cluster:\n"
        "    server: https://127.0.0.1:18443\n"
        "    certificate-authority-data: TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRM==\n"
        "contexts:\n"
        "- name: fake\n"
        "  context: {cluster: fake, user: eks-user, namespace: ml}\n"
        "current-context: fake\n"
        "\n"
        "# users below\n"
        "users:\n"
        "- name: eks-user\n"
        "  user:\n"
        "    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        "      command: ./token.sh\n"
        "      args: []\n"
        "      interactiveMode: Never\n",
        "{\"apiVersion\":\"v1\",\"clusters\":[{\"cluster\":{\"certificate-authority-data\":"
        "\"TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRM==\",\"server\":"
        "\"https://127.0.0.1:18443\"},\"name\":\"fake\"}],\"contexts\":[{\"context\":"
        "{\"cluster\":\"fake\",\"namespace\":\"ml\",\"user\":\"eks-user\"},\"name\":\"fake\"}],"
        "\"current-context\":\"fake\",\"kind\":\"Config\",\"users\":[{\"name\":\"eks-user\","
        "\"user\":{\"exec\":{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
        "\"args\":[],\"command\":\"./token.sh\",\"interactiveMode\":\"Never\"}}}]}");
}

static void test_yaml_reads_what_aws_and_kubectl_write(void **state)
{
    (void)state;
    /* indented sequences, quoted values, env lists, null, booleans, numbers */
    assert_yaml(
        "users:\n"
        "  - name: \"arn:aws:eks:us-east-1:1:cluster/c\"\n"
        "    user:\n"
        "      exec:\n"
        "        args:\n"
        "          - --region\n"
        "          - us-east-1\n"
        "          - 'it''s'\n"
        "        env:\n"
        "        - name: AWS_PROFILE\n"
        "          value: \"dev\\tx\\u00e9\"\n"
        "        provideClusterInfo: false\n"
        "preferences: {}\n"
        "extra: ~\n"
        "port: 6443\n"
        "ratio: -1.5e3\n"
        "version: 1.20\n",
        "{\"extra\":null,\"port\":6443,\"preferences\":{},\"ratio\":-1500.0,"
        "\"users\":[{\"name\":\"arn:aws:eks:us-east-1:1:cluster/c\",\"user\":{\"exec\":"
        "{\"args\":[\"--region\",\"us-east-1\",\"it's\"],\"env\":[{\"name\":\"AWS_PROFILE\","
        "\"value\":\"dev\\tx\\u00e9\"}],\"provideClusterInfo\":false}}}],\"version\":1.2}");
    /* block scalars, nested sequences, a document marker */
    assert_yaml("---\n"
                "pem: |\n"
                "  -----BEGIN-----\n"
                "  abc\n"
                "\n"
                "  -----END-----\n"
                "folded: >-\n"
                "  one\n"
                "  two\n"
                "grid:\n"
                "- - 1\n"
                "  - 2\n"
                "- [3, \"4\", {a: b}]\n",
                "{\"folded\":\"one two\",\"grid\":[[1,2],[3,\"4\",{\"a\":\"b\"}]],"
                "\"pem\":\"-----BEGIN-----\\nabc\\n\\n-----END-----\\n\"}");
    /* JSON is YAML: a kubeconfig written as JSON reads the same */
    assert_yaml(
        "{\n \"kind\": \"Config\",\n \"clusters\": [\n  {\"name\": \"x\"}\n ],\n \"n\": 1\n}\n",
        "{\"clusters\":[{\"name\":\"x\"}],\"kind\":\"Config\",\"n\":1}");
    /* a value with a '#' that is not a comment, and a URL with colons */
    assert_yaml("server: https://h:443/p#frag\ntoken: a#b  # comment\n",
                "{\"server\":\"https://h:443/p#frag\",\"token\":\"a#b\"}");
}

static void test_yaml_refuses_what_it_does_not_read(void **state)
{
    (void)state;
    assert_refused("a: &anchor 1\nb: *anchor\n", "anchors");
    assert_refused("a: 1\n---\nb: 2\n", "more than one YAML document");
    assert_refused("a:\n\t- b\n", "tab");
    assert_refused("a: 1\n   b: 2\n", "line 2");
    assert_refused("a: [1, 2\n", "does not end on its line");
    assert_refused("a: \"open\n", "does not end");
    assert_refused("a: \"\\q\"\n", "escape");
    assert_refused("a: 1\n- b\n", "line 2");
    assert_refused("%YAML 1.2\n---\na: 1\n", "directives");
    assert_refused("a: !!str 1\n", "tags");
    struct perr e = {0};
    assert_null(yaml_parse("a: b\0c\n", 7, &e));
    assert_non_null(strstr(e.msg, "NUL"));
}

static void test_yaml_limits_nesting(void **state)
{
    char deep[400];
    size_t n = 0;

    (void)state;
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    assert_refused(deep, "nested deeper than 64");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_reads_the_kubeconfig_example),
        cmocka_unit_test(test_yaml_reads_what_aws_and_kubectl_write),
        cmocka_unit_test(test_yaml_refuses_what_it_does_not_read),
        cmocka_unit_test(test_yaml_limits_nesting),
    };
    return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
