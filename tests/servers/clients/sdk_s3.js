// SPDX-License-Identifier: MIT
// Child program: the AWS SDK for JavaScript v3, unmodified. fromNodeProviderChain() finds the
// credentials; an S3Client with the default chain (no credentials given) makes PutObject,
// GetObject and ListObjectsV2 calls to the loopback S3. Run with NODE_PATH=<node_modules of
// ci/node-deps.sh>.
//
//   node sdk_s3.js ENDPOINT BUCKET PREFIX [--loop SECONDS [--interval S]]
//
// stdout: the same JSON lines as boto3_s3.py (start, call..., done). Exit 0 when every round
// succeeded.
'use strict';

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
const { fromNodeProviderChain } = require('@aws-sdk/credential-providers');
const {
  S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command,
} = require('@aws-sdk/client-s3');

function emit(record) {
  process.stdout.write(JSON.stringify(record) + '\n');
}

async function main() {
  const [endpoint, bucket, prefix, ...rest] = process.argv.slice(2);
  let loop = 0;
  let interval = 1;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--loop') loop = parseFloat(rest[++i]);
    else if (rest[i] === '--interval') interval = parseFloat(rest[++i]);
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AWS_')));
  let first;
  try {
    first = await fromNodeProviderChain()();
  } catch (err) {
    emit({ event: 'start', method: null, access_key: null, region: process.env.AWS_REGION || null, env, error: String(err) });
    emit({ event: 'done', ok: false, failures: 1, keys: [] });
    return 2;
  }
  emit({ event: 'start', method: 'node-provider-chain', access_key: first.accessKeyId, region: process.env.AWS_REGION || null, env });

  const s3 = new S3Client({ endpoint, forcePathStyle: true, maxAttempts: 1 });
  const deadline = Date.now() + loop * 1000;
  const keys = [];
  let failures = 0;
  for (let i = 0; ; i++) {
    const key = `${prefix}/js-${i}.txt`;
    const body = `parity credentials round ${i}`;
    let ok = false;
    let error = null;
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      const got = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body.transformToString();
      const listed = (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }))).Contents || [];
      ok = got === body && listed.length === 1 && listed[0].Key === key;
      if (!ok) error = 'read back something else';
    } catch (err) {
      error = `${err.name}: ${err.message}`;
    }
    const accessKey = (await s3.config.credentials()).accessKeyId;
    if (!keys.includes(accessKey)) keys.push(accessKey);
    if (!ok) failures++;
    emit({ event: 'call', i, ok, access_key: accessKey, error });
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, interval * 1000)); // the job's own pace
  }
  emit({ event: 'done', ok: failures === 0, failures, keys });
  return failures === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`sdk_s3.js: ${err.stack || err}\n`);
  process.exit(3);
});
