/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/s3's pure parts: URIs, key placement, listing pages; and lib/xml. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/s3.h"
#include "lib/xml.h"

static void test_s3_parse_uri(void **state)
{
    char bucket[64], key[S3_MAX_KEY + 1];
    struct perr e = {0};

    (void)state;
    assert_int_equal(s3_parse_uri("s3://my-bucket/a/b/c.csv", bucket, key, &e), 0);
    assert_string_equal(bucket, "my-bucket");
    assert_string_equal(key, "a/b/c.csv");
    assert_int_equal(s3_parse_uri("s3://my.bucket", bucket, key, &e), 0);
    assert_string_equal(key, "");
    assert_int_equal(s3_parse_uri("https://my-bucket/a", bucket, key, &e), -1);
    assert_int_equal(s3_parse_uri("s3://My_Bucket/a", bucket, key, &e), -1);
    assert_int_equal(s3_parse_uri("s3://ab/a", bucket, key, &e), -1);
}

static void test_s3_relative_path_places_keys_like_sagemaker(void **state)
{
    static const struct {
        const char *prefix, *key, *rel;
    } ok[] = {
        {"data/train/", "data/train/a.csv", "a.csv"},
        {"data/train", "data/train/sub/b.csv", "sub/b.csv"},
        {"data/train", "data/train2/x", "2/x"},
        {"data/file.csv", "data/file.csv", "file.csv"},
        {"", "top.csv", "top.csv"},
        {"data/", "data/dir/", "dir/"},
        {"d/", "d/..hidden", "..hidden"},
    };

    static const struct {
        const char *prefix, *key;
    } bad[] = {
        {"data/", "data/../etc/passwd"},
        {"data/", "data/a/../../x"},
        {"data/", "data//x"},
        {"data/", "data/./x"},
        {"data", "data//x"},
        {"data/", "data/a/.."},
        {"", "/abs"},
        {"data/", "other/x"},
    };

    const char *rel;
    struct perr e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(s3_relative_path(ok[i].prefix, ok[i].key, &rel, &e), 0);
        assert_string_equal(rel, ok[i].rel);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(s3_relative_path(bad[i].prefix, bad[i].key, &rel, &e), -1);
}

struct seen {
    int count;
    char keys[4][64];
    uint64_t sizes[4];
};

static int remember(void *ctx, const struct s3_object *o, struct perr *err)
{
    struct seen *s = ctx;

    (void)err;
    if (s->count < 4) {
        snprintf(s->keys[s->count], sizeof(s->keys[0]), "%s", o->key);
        s->sizes[s->count] = o->size;
    }
    s->count++;
    return 0;
}

static void test_s3_list_page(void **state)
{
    static const char page[] =
        "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name><IsTruncated>true</IsTruncated>"
        "<Contents><Key>p/a&amp;b.csv</Key><Size>12</Size><ETag>&quot;abc&quot;</ETag></Contents>"
        "<Contents><Key>p/caf&#xE9;&#13;</Key><Size>0</Size></Contents>"
        "<NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>";
    static const char last[] =
        "<ListBucketResult><IsTruncated>false</IsTruncated>"
        "<Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>";
    struct seen s = {0};
    char token[64];
    struct perr e = {0};

    (void)state;
    assert_int_equal(s3_parse_list_page(page, strlen(page), remember, &s, token, sizeof(token), &e),
                     0);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.keys[0], "p/a&b.csv");
    assert_true(s.sizes[0] == 12);
    assert_string_equal(s.keys[1], "p/caf\xc3\xa9\r");
    assert_string_equal(token, "tok/+=");
    /* a negative size is not a size */
    assert_int_equal(s3_parse_list_page(last, strlen(last), remember, &s, token, sizeof(token), &e),
                     -1);
}

static void test_xml_text_entities_and_limits(void **state)
{
    char out[8];

    (void)state;
    assert_int_equal(xml_text("<A>x&lt;y</A>", 13, "A", out, sizeof(out)), 0);
    assert_string_equal(out, "x<y");
    assert_int_equal(xml_text("<A>x&bogus;</A>", 15, "A", out, sizeof(out)), -1);
    assert_int_equal(xml_text("<A>&#0;</A>", 11, "A", out, sizeof(out)), -1);
    assert_int_equal(xml_text("<A>&#xD800;</A>", 15, "A", out, sizeof(out)), -1);
    assert_int_equal(xml_text("<A>123456789</A>", 16, "A", out, sizeof(out)), -2);
    assert_int_equal(xml_text("<A>open", 7, "A", out, sizeof(out)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_parse_uri),
        cmocka_unit_test(test_s3_relative_path_places_keys_like_sagemaker),
        cmocka_unit_test(test_s3_list_page),
        cmocka_unit_test(test_xml_text_entities_and_limits),
    };
    return cmocka_run_group_tests_name("s3", tests, NULL, NULL);
}
