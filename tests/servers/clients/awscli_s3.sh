#!/bin/sh
# SPDX-License-Identifier: MIT
# Child program: Debian's AWS CLI (/usr/bin/aws 2.x), unmodified: where it finds credentials,
# then `aws s3 cp` up and down and `aws s3 ls` against the loopback S3 (path-style through
# AWS_CONFIG_FILE, which the test writes). Prints `method=...`, `access_key=...`, `content=...`
# and `listed=...` lines; exits non-zero on the first failure.
#   awscli_s3.sh ENDPOINT BUCKET PREFIX WORKDIR
set -eu
endpoint=$1 bucket=$2 prefix=$3 work=$4
aws=/usr/bin/aws
export AWS_PAGER=""
echo "method=$($aws configure list | awk '$1 == "access_key" { print $3 }')"
echo "access_key=$($aws configure export-credentials --format process | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKeyId"])')"
printf 'hello from the aws cli\n' >"$work/up.txt"
$aws s3 cp --only-show-errors --endpoint-url "$endpoint" "$work/up.txt" "s3://$bucket/$prefix/cli.txt"
$aws s3 cp --only-show-errors --endpoint-url "$endpoint" "s3://$bucket/$prefix/cli.txt" "$work/down.txt"
echo "content=$(cat "$work/down.txt")"
echo "listed=$($aws s3 ls --endpoint-url "$endpoint" "s3://$bucket/$prefix/" | awk '{ print $4 }')"
