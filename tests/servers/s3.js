#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// A SigV4-verifying S3 on 127.0.0.1: @20minutes/s3rver 4.0.4 (ci/node-deps.sh installs it;
// run with NODE_PATH=<that node_modules>), path-style, buckets created at start.
//
// s3rver checks signatures against its account registry, which holds only S3RVER/S3RVER. This
// wrapper makes it accept, in addition, every key the loopback fakes issue: their secrets are
// derived from the access key id (tests/servers/common.py secret_for), and a temporary key
// (ASIA...) must come with its own unexpired session token (common.py check_session_token),
// else 403 InvalidToken/ExpiredToken. s3rver lets unsigned requests through, so the request
// log records who signed each request: tests check that. One s3rver bug is worked around below
// (a bucket path with a trailing slash).
//
//   node s3.js --dir DIR [--port N] [--log FILE] [--bucket NAME]...
// Prints `ready port=N` once it listens. Log: one JSON line per request (ts, method, url,
// access_key, token_check, status; range: the Range header, when the request has one).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const AWSAccount = require('@20minutes/s3rver/lib/models/account');

// s3rver rebuilds the canonical URI from the route's bucket and key, so `/bucket/` (the JS
// SDK v3 lists a path-style bucket that way) is checked as `/bucket` and fails with
// SignatureDoesNotMatch, while S3 signs the path as sent. The authentication middleware is
// wrapped before s3rver's routes load it: for such a request it sees the bucket with its slash.
const authPath = require.resolve('@20minutes/s3rver/lib/middleware/authentication');
const authFactory = require(authPath);
require.cache[authPath].exports = () => {
  const inner = authFactory();
  return async function authentication(ctx, next) {
    const bucket = ctx.params && ctx.params.bucket;
    if (!bucket || ctx.params.key || ctx.path !== `/${bucket}/`) return inner(ctx, next);
    ctx.params.bucket = `${bucket}/`;
    return inner(ctx, async () => {
      ctx.params.bucket = bucket;
      return next();
    });
  };
};
const S3rver = require('@20minutes/s3rver');

const MASTER_KEY = 'parity-loopback-fake-aws-master-key';
const TOKEN_PREFIX = 'PARITYTOK-';
const OUR_KEY = /^(ASIA|AKIA)PARITY[A-Z2-7]{10}$/;

function mac(message) {
  return crypto.createHmac('sha256', MASTER_KEY).update(message).digest();
}

function secretFor(accessKeyId) {
  return mac('secret:' + accessKeyId).toString('base64').slice(0, 40);
}

function sessionToken(accessKeyId, expiry) {
  return `${TOKEN_PREFIX}${expiry}-${mac(`token:${accessKeyId}:${expiry}`).toString('base64')}`;
}

// null when token belongs to accessKeyId and has not expired, else an S3 error code.
function checkSessionToken(accessKeyId, token) {
  if (!token || !token.startsWith(TOKEN_PREFIX)) return 'InvalidToken';
  const expiry = parseInt(token.slice(TOKEN_PREFIX.length).split('-', 1)[0], 10);
  if (!Number.isFinite(expiry)) return 'InvalidToken';
  const want = Buffer.from(sessionToken(accessKeyId, expiry));
  const got = Buffer.from(token);
  if (want.length !== got.length || !crypto.timingSafeEqual(want, got)) return 'InvalidToken';
  if (Date.now() / 1000 >= expiry) return 'ExpiredToken';
  return null;
}

function parseArgs(argv) {
  const args = { port: 0, dir: null, log: null, buckets: [] };
  for (let i = 0; i < argv.length; i++) {
    const next = () => argv[++i];
    switch (argv[i]) {
      case '--port': args.port = parseInt(next(), 10); break;
      case '--dir': args.dir = next(); break;
      case '--log': args.log = next(); break;
      case '--bucket': args.buckets.push(next()); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!args.dir) throw new Error('--dir is required');
  if (!args.buckets.length) args.buckets.push('test-bucket');
  return args;
}

function accessKeyOf(ctx) {
  const auth = ctx.get('authorization');
  let m = /Credential=([^/,\s]+)\//.exec(auth);
  if (m) return m[1];
  m = /^AWS ([^:]+):/.exec(auth);
  if (m) return m[1];
  const cred = ctx.query['X-Amz-Credential'];
  return cred ? String(cred).split('/')[0] : null;
}

function xmlError(code, message) {
  return '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const logFd = args.log ? fs.openSync(args.log, 'a') : null;
  const log = (record) => {
    if (logFd !== null) fs.writeSync(logFd, JSON.stringify({ ts: Date.now() / 1000, server: 's3', ...record }) + '\n');
  };

  // Keys the fakes issued are registered on first sight, with their derived secret.
  const registry = AWSAccount.registry;
  const registryGet = registry.get.bind(registry);
  registry.get = (accessKeyId) => {
    if (!registryGet(accessKeyId) && OUR_KEY.test(accessKeyId || '')) {
      AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretFor(accessKeyId));
    }
    return registryGet(accessKeyId);
  };

  const server = new S3rver({
    address: '127.0.0.1',
    port: args.port,
    directory: args.dir,
    vhostBuckets: false,
    silent: true,
    configureBuckets: args.buckets.map((name) => ({ name })),
  });

  // First in the chain: log every request, and refuse temporary keys without their token.
  server.middleware.unshift(async (ctx, next) => {
    const record = { method: ctx.method, url: ctx.url, access_key: accessKeyOf(ctx) };
    if (ctx.get('range')) record.range = ctx.get('range'); // ranged GETs: which part was asked
    const token = ctx.get('x-amz-security-token') || ctx.query['X-Amz-Security-Token'];
    if (record.access_key && record.access_key.startsWith('ASIA')) {
      record.token_check = checkSessionToken(record.access_key, token);
      if (record.token_check) {
        ctx.status = record.token_check === 'ExpiredToken' ? 400 : 403;
        ctx.type = 'application/xml';
        ctx.body = xmlError(record.token_check, 'The provided token is expired or not valid.');
        record.status = ctx.status;
        log(record);
        return;
      }
    }
    try {
      await next();
      record.status = ctx.status;
    } catch (err) {
      // s3rver throws its S3 errors; koa answers them after this middleware returns.
      record.status = err.status || 500;
      record.error = err.code || String(err);
      throw err;
    } finally {
      log(record);
    }
  });

  const address = await server.run();
  process.stdout.write(`ready port=${address.port}\n`);
  const stop = () => server.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`s3.js: ${err.stack || err}\n`);
  process.exit(1);
});
