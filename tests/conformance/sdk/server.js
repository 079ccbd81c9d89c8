#!/usr/bin/env node
// The HTTPS capture server, shared by both sides of the conformance test:
// capture.js starts it in-process for the SDKs, and ../run.py runs it
// standalone for pam_otp:
//
//   node server.js --serve DIR
//
// makes DIR/cert.pem and DIR/key.pem (self-signed, its own CA, for
// 127.0.0.1) unless they exist, listens on 127.0.0.1 (a free port), writes
// the port to DIR/port, and serves until SIGTERM or until its stdin closes.
//
// It records every request (the JSON record shape capture.js prints) and
// answers with the provider's success shape, unless an answer was queued for
// the request's step. Control requests, under /__capture/ (not recorded):
//   POST /__capture/ctx     {"provider","variant","channel"}  new login: sets
//                           the labels, forgets records and queued answers
//   POST /__capture/next    {"step":"send"|"verify","status","headers"?,"body"}
//                           the answer to the next request of that step; a
//                           string body is sent as is (text/plain), any other
//                           value as JSON
//   GET  /__capture/records the records since the last ctx, as a JSON array
'use strict';

const fs = require('fs');
const path = require('path');
const https = require('https');
const { execFileSync } = require('child_process');

const INPUTS = require('./inputs.json');

// A throwaway self-signed certificate for 127.0.0.1 (it is its own CA).
function makeCert(dir) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  if (!fs.existsSync(cert) || !fs.existsSync(key)) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', key, '-out', cert], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  return { key, cert };
}

// ----------------------------------------------------------- records
const KEEP_HEADER = /^(content-type|authorization|accept|accept-charset|user-agent|x-.*)$/;

function normalizeHeader(name, value) {
  // Values that vary from run to run or with the Node version.
  if (name === 'x-descope-sdk-session-id' && /^\d{4}-\d\d-\d\d-\d\d:\d\d:\d\d:\d+-\d{4}$/.test(value)) {
    return '<UTC yyyy-mm-dd-hh:mm:ss:ms-random4>';
  }
  return value.split(process.versions.node).join('<node-version>');
}

function parseBody(contentType, raw) {
  if (raw === '') return null;
  if (/json/.test(contentType || '')) {
    try { return JSON.parse(raw); } catch (e) { return raw; }
  }
  if (/x-www-form-urlencoded/.test(contentType || '')) {
    const out = {};
    for (const [k, v] of new URLSearchParams(raw)) {
      out[k] = k in out ? [].concat(out[k], v) : v;
    }
    return out;
  }
  return raw;
}

// Which step of the login a path is, per provider ("other" when unknown).
const STEPS = {
  stytch: [[/^\/v1\/otps\/\w+\/send$/, 'send'], [/^\/v1\/otps\/authenticate$/, 'verify']],
  descope: [[/^\/v1\/auth\/otp\/signin\/\w+$/, 'send'], [/^\/v1\/auth\/otp\/verify\/\w+$/, 'verify'],
    [/^\/v1\/mgmt\/license$/, 'license']],
  twilio_verify: [[/\/Verifications$/, 'send'], [/\/VerificationCheck$/, 'verify']],
};

function stepOf(provider, urlPath) {
  const hit = (STEPS[provider] || []).find(([re]) => re.test(urlPath));
  return hit ? hit[1] : 'other';
}

// ---------------------------------------------------- success answers
const STYTCH_IDS = {
  request_id: 'request-id-test-00000000-0000-4000-8000-000000000000',
  user_id: 'user-test-00000000-0000-4000-8000-000000000000',
  phone_id: 'phone-number-test-00000000-0000-4000-8000-000000000000',
  email_id: 'email-test-00000000-0000-4000-8000-000000000000',
};

function stytchRespond(rec) {
  const { request_id, user_id, phone_id, email_id } = STYTCH_IDS;
  if (rec.path === '/v1/otps/authenticate') {
    return { status: 200, json: { status_code: 200, request_id, user_id, method_id: (rec.body || {}).method_id,
      session_token: '', session_jwt: '', user: { user_id } } };
  }
  const m = /^\/v1\/otps\/(sms|whatsapp|email)\/send$/.exec(rec.path);
  if (m) {
    const id = m[1] === 'email' ? { email_id } : { phone_id };
    return { status: 200, json: { status_code: 200, request_id, user_id, ...id } };
  }
  return { status: 404, json: { status_code: 404, request_id, error_type: 'not_found', error_message: 'capture server' } };
}

function descopeRespond(rec) {
  const signin = /^\/v1\/auth\/otp\/signin\/(\w+)$/.exec(rec.path);
  if (signin) {
    return { status: 200, json: signin[1] === 'email' ? { maskedEmail: 'a***@example.com' } : { maskedPhone: '+*******4567' } };
  }
  if (/^\/v1\/auth\/otp\/verify\/\w+$/.test(rec.path)) {
    return { status: 200, json: { sessionJwt: 'session.jwt.test', refreshJwt: 'refresh.jwt.test', cookiePath: '/',
      cookieMaxAge: 2419200, firstSeen: false,
      user: { userId: 'U2pamotpTEST00000000000000', loginIds: [(rec.body || {}).loginId], email: INPUTS.email,
        phone: INPUTS.phone } } };
  }
  if (rec.path === '/v1/mgmt/license') return { status: 200, json: {} };
  return { status: 400, json: { errorCode: 'E011003', errorDescription: 'capture server: unknown path' } };
}

const TWILIO_VE = 'VE00000000000000000000000000000000';

function twilioRespond(rec) {
  const { account_sid, service_sid } = INPUTS.twilio_verify;
  const base = { sid: TWILIO_VE, service_sid, account_sid,
    amount: null, payee: null, date_created: '2025-01-01T00:00:00Z', date_updated: '2025-01-01T00:00:00Z' };
  const body = rec.body && typeof rec.body === 'object' ? rec.body : {};
  if (/\/Verifications$/.test(rec.path)) {
    return { status: 201, json: { ...base, to: body.To, channel: body.Channel, status: 'pending', valid: false,
      lookup: {}, send_code_attempts: [], sna: null, url: `https://verify.twilio.com${rec.path}/${TWILIO_VE}` } };
  }
  if (/\/VerificationCheck$/.test(rec.path)) {
    return { status: 200, json: { ...base, to: INPUTS.phone, channel: 'sms', status: 'approved', valid: true,
      sna_attempts_error_codes: [] } };
  }
  return { status: 404, json: { code: 20404, message: 'capture server: not found',
    more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 } };
}

const RESPONDERS = { stytch: stytchRespond, descope: descopeRespond, twilio_verify: twilioRespond };

// ------------------------------------------------------------- server
function send(res, answer) {
  const headers = { ...(answer.headers || {}) };
  const lower = Object.keys(headers).map((h) => h.toLowerCase());
  let payload;
  if (typeof answer.body === 'string') {
    payload = answer.body;
    if (!lower.includes('content-type')) headers['content-type'] = 'text/plain';
  } else {
    payload = JSON.stringify(answer.json !== undefined ? answer.json : answer.body);
    if (!lower.includes('content-type')) headers['content-type'] = 'application/json';
  }
  res.writeHead(answer.status, headers);
  res.end(payload);
}

function control(cap, req, url, raw, res) {
  const ok = (json) => send(res, { status: 200, json });
  try {
    if (req.method === 'POST' && url.pathname === '/__capture/ctx') {
      cap.ctx = JSON.parse(raw);
      cap.records = [];
      cap.queued = {};
      return ok({ ok: true });
    }
    if (req.method === 'POST' && url.pathname === '/__capture/next') {
      const answer = JSON.parse(raw);
      if (!answer.step || !Number.isInteger(answer.status)) throw new Error('needs step and status');
      cap.queued[answer.step] = answer;
      return ok({ ok: true });
    }
    if (req.method === 'GET' && url.pathname === '/__capture/records') return ok(cap.records);
    return send(res, { status: 404, json: { error: 'unknown control request' } });
  } catch (e) {
    return send(res, { status: 400, json: { error: String(e.message || e) } });
  }
}

// Starts the server with the certificate in tlsDir. cap.ctx labels the
// records ({provider, variant, step?, channel, sdk_base_url?}); without a
// `step` the step is read from the path. withControl enables /__capture/.
async function startCapture({ tlsDir, provider, withControl = false }) {
  const cap = { ctx: { provider }, records: [], queued: {}, waiters: [] };
  const server = https.createServer({
    key: fs.readFileSync(path.join(tlsDir, 'key.pem')),
    cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')),
  }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'https://capture.invalid');
      const raw = Buffer.concat(chunks).toString('utf8');
      if (withControl && url.pathname.startsWith('/__capture/')) return control(cap, req, url, raw, res);
      const contentType = req.headers['content-type'] || null;
      const headers = {};
      for (const name of Object.keys(req.headers).sort()) {
        if (KEEP_HEADER.test(name)) headers[name] = normalizeHeader(name, req.headers[name]);
      }
      const prov = cap.ctx.provider || provider;
      const rec = {
        provider: prov,
        variant: cap.ctx.variant,
        step: cap.ctx.step || stepOf(prov, url.pathname),
        channel: cap.ctx.channel,
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        content_type: contentType,
        body: parseBody(contentType, raw),
        sdk_base_url: cap.ctx.sdk_base_url === undefined ? null : cap.ctx.sdk_base_url,
      };
      cap.records.push(rec);
      const queued = cap.queued[rec.step];
      delete cap.queued[rec.step];
      const respond = RESPONDERS[prov];
      send(res, queued || (respond ? respond(rec) : { status: 500, json: { error: `no provider ${prov}` } }));
      cap.waiters = cap.waiters.filter((w) => !w(rec));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  cap.port = server.address().port;
  cap.origin = `https://127.0.0.1:${cap.port}`;
  cap.close = () => new Promise((resolve) => {
    server.close(resolve);
    if (server.closeAllConnections) server.closeAllConnections();
  });
  // Resolves when a request whose path matches `re` arrived (or after `ms`).
  cap.waitFor = (re, ms = 3000) => new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    cap.waiters.push((rec) => re.test(rec.path) && (clearTimeout(t), resolve(), true));
  });
  return cap;
}

module.exports = { INPUTS, STYTCH_IDS, TWILIO_VE, makeCert, startCapture, stepOf };

// --------------------------------------------------------- standalone
async function serve(dir) {
  makeCert(dir);
  const cap = await startCapture({ tlsDir: dir, withControl: true });
  const portFile = path.join(dir, 'port');
  fs.writeFileSync(`${portFile}.tmp`, `${cap.port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
  const stop = () => cap.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop); // the parent went away
  process.stdin.on('error', stop);
  process.stdin.resume();
}

if (require.main === module) {
  if (process.argv[2] !== '--serve' || !process.argv[3]) {
    process.stderr.write('usage: node server.js --serve DIR\n');
    process.exit(2);
  }
  serve(path.resolve(process.argv[3])).catch((e) => {
    process.stderr.write(`server.js: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
}
