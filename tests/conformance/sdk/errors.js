#!/usr/bin/env node
// Prints, one JSON object per line, the errors the provider's official Node
// SDK itself names for the OTP send/verify calls, with where the name comes
// from (file:line inside node_modules) and the HTTP status / body shape when
// the SDK says. Lists are read from the installed SDK (exports, type
// definitions, sources), so a new SDK version's additions show up.
//
//   node errors.js stytch|descope|twilio_verify
//
// Record fields: provider, kind, name, code?, http_status (null: the SDK does
// not say), body (shape the SDK reads), source, note?
'use strict';

const fs = require('fs');
const path = require('path');

const NM = path.join(__dirname, 'node_modules');
const read = (rel) => fs.readFileSync(path.join(NM, rel), 'utf8');
const out = (rec) => process.stdout.write(JSON.stringify(rec) + '\n');

// First line matching `re` (after the first line matching `after`, if given).
function where(rel, re, after) {
  const lines = read(rel).split('\n');
  let from = 0;
  if (after) from = lines.findIndex((l) => after.test(l)) + 1;
  for (let i = Math.max(from, 0); i < lines.length; i++) {
    if (re.test(lines[i])) return { source: `node_modules/${rel}:${i + 1}`, line: lines[i].trim() };
  }
  return { source: null, line: null };
}

// Same, inside a source embedded in a source map (Descope ships minified JS
// with its TypeScript sources in the .map): "node_modules/x.map -> src/f.ts:12".
function whereInMap(mapRel, srcSuffix, re) {
  const map = JSON.parse(read(mapRel));
  const i = map.sources.findIndex((s) => s.endsWith(srcSuffix));
  if (i < 0) return { source: null, line: null, text: '' };
  const text = map.sourcesContent[i];
  const lines = text.split('\n');
  const n = lines.findIndex((l) => re.test(l));
  const src = map.sources[i].replace(/^(\.\.\/)+/, '');
  return { source: n < 0 ? null : `node_modules/${mapRel} -> ${src}:${n + 1}`, line: n < 0 ? null : lines[n].trim(), text };
}

// Every match of `re` (global) in the package's files with these endings.
function grep(relDir, re, endings) {
  const hits = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(NM, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) { if (e.name !== 'node_modules') walk(r); continue; }
      if (!endings.some((x) => e.name.endsWith(x))) continue;
      read(r).split('\n').forEach((l, i) => {
        for (const m of l.matchAll(re)) hits.push({ match: m, source: `node_modules/${r}:${i + 1}`, line: l.trim() });
      });
    }
  };
  walk(relDir);
  return hits;
}

// ---------------------------------------------------------------- Stytch
// stytch-node has no error_type enum: StytchErrorJSON.error_type is `string`
// (types/lib/shared/errors.d.ts) and the OTP methods are generated wrappers
// around one request() that throws StytchError for any status >= 400. We
// still scan for error_type values compared or declared anywhere in the
// package (dist, types, README) so that an enum added later is listed.
function stytch() {
  const p = 'stytch';
  const named = grep(p, /error_type\s*(?:===?|:|\|)\s*["']([a-z0-9_]+)["']/g, ['.js', '.d.ts', '.md']);
  for (const h of named) {
    out({ provider: 'stytch', kind: 'error_type', name: h.match[1], http_status: null, source: h.source, note: h.line });
  }
  const decl = where(`${p}/types/lib/shared/errors.d.ts`, /error_type:/);
  out({ provider: 'stytch', kind: 'error_type_declaration', name: 'error_type', http_status: null,
    source: decl.source, note: `${decl.line} — ${named.length} value(s) named in the package` });

  // StytchError: the body shapes it accepts (StytchErrorJSON / OAuth2ErrorJSON
  // in errors.d.ts) and where it is thrown.
  const dtsRel = `${p}/types/lib/shared/errors.d.ts`;
  const iface = (name) => {
    const lines = read(dtsRel).split('\n');
    const at = lines.findIndex((l) => l.includes(`interface ${name} {`));
    const body = {};
    for (let i = at + 1; !/^\s*\}/.test(lines[i]); i++) {
      const m = /(\w+\??): (.+);/.exec(lines[i]);
      if (m) body[m[1]] = m[2];
    }
    return { body, source: `node_modules/${dtsRel}:${at + 1}` };
  };
  const errRel = `${p}/dist/shared/errors.js`;
  const thrown = where(`${p}/dist/shared/index.js`, /response\.status >= 400/);
  const std = iface('StytchErrorJSON');
  out({ provider: 'stytch', kind: 'error_class', name: 'StytchError', http_status: '>= 400', body: std.body,
    source: where(errRel, /class StytchError/).source,
    note: `thrown by request() (${thrown.source}: ${thrown.line}); body type ${std.source}` });
  const oauth = iface('OAuth2ErrorJSON');
  out({ provider: 'stytch', kind: 'error_class', name: 'StytchError(oauth2)', http_status: '>= 400', body: oauth.body,
    source: where(errRel, /if \("error" in data\)/).source,
    note: `a body with "error" is read as error/error_description/error_uri (${oauth.source})` });
  const json = where(`${p}/dist/shared/index.js`, /Unable to parse JSON response/);
  out({ provider: 'stytch', kind: 'error_class', name: 'RequestError', http_status: null, body: null,
    source: where(errRel, /class RequestError/).source,
    note: `network failure, or a response body that is not JSON (${json.source})` });
}

// --------------------------------------------------------------- Descope
function descope() {
  const sdk = require('@descope/node-sdk');
  const nodeMap = '@descope/node-sdk/dist/cjs/index.cjs.js.map';
  const coreMap = '@descope/core-js-sdk/dist/cjs/index.cjs.js.map';
  const coreDts = '@descope/core-js-sdk/dist/index.d.ts';

  // The SDK's own error-code list, exported as DescopeErrors (lib/errors.ts).
  // It gives no HTTP status per code.
  const known = new Set();
  for (const [name, code] of Object.entries(sdk.DescopeErrors)) {
    known.add(code);
    const dts = where('@descope/node-sdk/dist/index.d.ts', new RegExp(`^\\s*${name}: string;`), /DescopeErrors: \{/);
    const src = whereInMap(nodeMap, 'lib/errors.ts', new RegExp(`${name}: '${code}'`));
    out({ provider: 'descope', kind: 'error_code', name, code, http_status: null,
      body: { errorCode: code }, source: src.source, note: `exported as DescopeErrors.${name} (${dts.source})` });
  }
  // Any other E-code literal in the shipped code (none in 2.13.0).
  for (const h of grep('@descope', /\bE\d{6}\b/g, ['.js', '.d.ts'])) {
    if (known.has(h.match[0])) continue;
    known.add(h.match[0]);
    out({ provider: 'descope', kind: 'error_code', name: null, code: h.match[0], http_status: null, source: h.source });
  }

  // The error body shape (SdkResponse.error in core-js's type definitions).
  const dtsLines = read(coreDts).split('\n');
  const start = dtsLines.findIndex((l) => /^type SdkResponse</.test(l));
  const errAt = dtsLines.findIndex((l, i) => i > start && /error\?: \{/.test(l));
  const body = {};
  for (let i = errAt + 1; !/^\s*\};/.test(dtsLines[i]); i++) {
    const m = /(\w+)(\??): (\w+);/.exec(dtsLines[i]);
    if (m) body[m[1] + m[2]] = m[3];
  }
  out({ provider: 'descope', kind: 'error_shape', name: 'SdkResponse.error', http_status: 'not ok (fetch Response.ok false)',
    body, source: `node_modules/${coreDts}:${errAt + 1}`,
    note: 'the SDK resolves (never throws) with {ok:false, code: HTTP status, error: body}' });

  // The one status the SDK treats specially: 429, Retry-After -> error.retryAfter.
  const st = whereInMap(coreMap, 'constants/httpStatusCodes.ts', /TOO_MANY_REQUESTS/);
  const ra = whereInMap(coreMap, 'sdk/helpers/index.ts', /retry-after/);
  out({ provider: 'descope', kind: 'http_status', name: 'TOO_MANY_REQUESTS',
    http_status: Number(/(\d+)/.exec(st.line)[1]), headers: { 'retry-after': '<seconds>' },
    body: { ...body, 'retryAfter?': 'number: parseInt(Retry-After) || 0, set by the SDK' }, source: st.source,
    note: `${ra.source}: ${ra.line}` });

  // Errors thrown before any request (argument validation in core-js).
  const client = sdk({ projectId: 'P2pamotpTEST0000000000000000', fetch: () => { throw new Error('no network'); } });
  const checks = {
    'otp.signIn.sms("")': () => client.otp.signIn.sms(''),
    'otp.signIn.email(undefined)': () => client.otp.signIn.email(undefined),
    'otp.verify.sms("+15551234567", "")': () => client.otp.verify.sms('+15551234567', ''),
    'otp.verify.sms("", "123456")': () => client.otp.verify.sms('', '123456'),
  };
  const val = whereInMap(coreMap, 'sdk/validations/index.ts', /must not be empty/);
  return Promise.all(Object.entries(checks).map(async ([call, f]) => {
    try { await f(); return null; } catch (e) {
      return { provider: 'descope', kind: 'client_validation', name: call, http_status: null, body: null,
        source: val.source, note: e.message };
    }
  })).then((recs) => recs.filter(Boolean).forEach(out));
}

// ---------------------------------------------------------------- Twilio
// Statuses come from the VerificationCheck type definitions (a doc comment:
// the `status` field is typed `string`). No Verify error code (60200, 60202,
// 60203, 60205, 20404, 20429, ...) appears anywhere in twilio 5.13.1: errors
// arrive as RestException {status, code, message, moreInfo, details} or, for
// RFC 9457 bodies, TwilioServiceException. We grep for the codes anyway.
function twilio() {
  const p = 'twilio';
  const check = `${p}/lib/rest/verify/v2/service/verificationCheck.d.ts`;
  const doc = where(check, /The status of the verification\. Can be:/);
  for (const [, status] of doc.line.matchAll(/`(\w+)`/g)) {
    out({ provider: 'twilio_verify', kind: 'verification_check_status', name: status, http_status: null,
      body: { status, valid: 'boolean' }, source: doc.source,
      note: 'VerificationCheckInstance.status (typed string); the SDK does not say which HTTP status comes with it' });
  }
  // Verify error codes: the ones pam_otp's preset and providers.md rely on,
  // searched in the whole package, plus any 20xxx/60xxx number in the Verify
  // API files (a new SDK version that documents codes shows up here).
  const WATCH = ['60200', '60202', '60203', '60205', '20404', '20429'];
  const hits = [
    ...grep(`${p}/lib`, new RegExp(`\\b(${WATCH.join('|')})\\b`, 'g'), ['.js', '.d.ts']),
    ...grep(`${p}/lib/rest/verify`, /\b[26]0\d{3}\b/g, ['.js', '.d.ts']),
  ];
  const codes = new Set([...WATCH, ...hits.map((h) => h.match[0])]);
  for (const code of codes) {
    const found = [...new Set(hits.filter((h) => h.match[0] === code).map((h) => h.source))];
    out({ provider: 'twilio_verify', kind: 'error_code', name: null, code: Number(code), http_status: null,
      body: { code: Number(code) }, source: found[0] || null, mentioned: found.length > 0,
      note: found.length ? found.join(' ') : 'not mentioned in the package (lib/**/*.js, *.d.ts)' });
  }
  // Exceptions: which body fields each reads, and when they are thrown.
  const restRel = `${p}/lib/base/RestException.js`;
  const restFields = [...new Set([...read(restRel).matchAll(/body\.(\w+)/g)].map((m) => m[1]))];
  const thrown = where(`${p}/lib/base/Version.js`, /statusCode < 200 \|\| response\.statusCode >= 300/);
  out({ provider: 'twilio_verify', kind: 'error_class', name: 'RestException', http_status: 'not 2xx',
    body: Object.fromEntries(restFields.map((f) => [f, 'any'])), source: where(restRel, /class RestException/).source,
    note: `create() throws it (${thrown.source}); err.status = HTTP status, err.moreInfo = more_info` });
  const tseRel = `${p}/lib/base/TwilioServiceException.js`;
  const rfc = [...read(tseRel).matchAll(/typeof body\.(\w+) === "(\w+)"/g)];
  out({ provider: 'twilio_verify', kind: 'error_class', name: 'TwilioServiceException', http_status: 'not 2xx',
    body: Object.fromEntries(rfc.map((m) => [m[1], m[2]])), source: where(tseRel, /static isRFC9457Response/).source,
    note: 'thrown instead of RestException when the body has these RFC 9457 fields' });
  const retry = where(`${p}/lib/base/RequestClient.js`, /res\.status !== 429/);
  out({ provider: 'twilio_verify', kind: 'http_status', name: 'autoRetry', http_status: 429, body: null,
    source: retry.source, note: 'retried with backoff only when the client is built with autoRetry: true (default false); Retry-After is not read' });
}

const PROVIDERS = { stytch, descope, twilio_verify: twilio };
const provider = process.argv[2];
if (!PROVIDERS[provider]) {
  process.stderr.write(`usage: node errors.js ${Object.keys(PROVIDERS).join('|')}\n`);
  process.exit(2);
}
Promise.resolve(PROVIDERS[provider]()).catch((e) => {
  process.stderr.write(`errors.js ${provider}: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
