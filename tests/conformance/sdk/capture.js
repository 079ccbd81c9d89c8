#!/usr/bin/env node
// Runs the calls pam_otp's preset makes for one login with the provider's
// OFFICIAL Node SDK, against a local HTTPS capture server, and prints one
// JSON object per HTTP request the SDK sent (see README.md).
//
//   node capture.js stytch|descope|twilio_verify
//
// The capture server itself (records, success answers) is server.js, shared
// with ../run.py. No network: the SDKs are pointed at 127.0.0.1 (stytch:
// custom_base_url; descope: a `fetch` option that only swaps the origin;
// twilio: its own RequestClient subclassed to swap the origin). "sdk_base_url" in each record
// is the origin the SDK itself chose (for stytch: the one a client built
// without custom_base_url has), so the default host logic is recorded too.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { INPUTS, makeCert, startCapture } = require('./server');

// Fixed inputs (deterministic output), shared with run.py through inputs.json.
const PHONE = INPUTS.phone;
const EMAIL = INPUTS.email;
const CODE = INPUTS.code;
const STYTCH = { ...INPUTS.stytch };
const DESCOPE_PROJECT = INPUTS.descope.project_id; // 28 characters
const DESCOPE_REGION_PROJECTS = INPUTS.descope.region_projects; // 35 and 32 characters
const DESCOPE_KEY = INPUTS.descope.key;
const TWILIO = {
  account: INPUTS.twilio_verify.account_sid,
  token: INPUTS.twilio_verify.auth_token,
  service: INPUTS.twilio_verify.service_sid,
};

// ---------------------------------------------------------------- parent
// NODE_EXTRA_CA_CERTS is only read at start-up, so the parent makes a
// throwaway self-signed certificate and runs this script again trusting it.
function parent(provider) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam-otp-capture-'));
  try {
    const { cert } = makeCert(dir);
    const env = { ...process.env, CAPTURE_TLS_DIR: dir, NODE_EXTRA_CA_CERTS: cert };
    // The SDKs read these (Twilio: TWILIO_EDGE/REGION, HTTP_PROXY); keep them out.
    for (const k of Object.keys(env)) {
      if (/^(TWILIO_|STYTCH_|DESCOPE_)|^(https?_proxy|no_proxy)$/i.test(k)) delete env[k];
    }
    const r = spawnSync(process.execPath, [__filename, provider], { env, stdio: 'inherit' });
    return r.status === null ? 1 : r.status;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------ helpers
// Swaps only the origin of a URL the SDK built; remembers the SDK's origin.
function redirect(cap, sdkUrl) {
  const u = new URL(sdkUrl);
  cap.ctx.sdk_base_url = u.origin;
  return cap.origin + u.pathname + u.search;
}

// ---------------------------------------------------------------- Stytch
async function runStytch(cap) {
  const stytch = require('stytch');
  const sdkBase = new URL(new stytch.Client({ ...STYTCH }).baseURL).origin; // what the SDK picks itself
  const client = new stytch.Client({ ...STYTCH, custom_base_url: cap.origin });
  const variants = {
    minimal: {},
    // Optional fields of OTPsSmsSendRequest / OTPsEmailSendRequest / OTPsWhatsappSendRequest.
    options: { expiration_minutes: 5, locale: 'en', attributes: { ip_address: '192.0.2.10', user_agent: 'pam_otp' } },
  };
  for (const [variant, options] of Object.entries(variants)) {
    for (const channel of ['sms', 'email', 'whatsapp']) {
      cap.ctx = { variant, step: 'send', channel, sdk_base_url: sdkBase };
      const to = channel === 'email' ? { email: EMAIL } : { phone_number: PHONE };
      const sent = await client.otps[channel].send({ ...to, ...options });
      cap.ctx = { ...cap.ctx, step: 'verify' };
      await client.otps.authenticate({ method_id: sent.phone_id || sent.email_id, code: CODE });
    }
  }
}

// --------------------------------------------------------------- Descope
async function runDescope(cap) {
  const descope = require('@descope/node-sdk');
  const fetch = (url, init) => globalThis.fetch(redirect(cap, url), init);
  const login = async (sdk, variant, channels) => {
    for (const channel of channels) {
      const loginId = channel === 'email' ? EMAIL : PHONE;
      cap.ctx = { variant, step: 'send', channel };
      const sent = await sdk.otp.signIn[channel](loginId);
      if (!sent.ok) throw new Error(`descope signIn.${channel}: ${JSON.stringify(sent.error)}`);
      cap.ctx = { variant, step: 'verify', channel };
      const ver = await sdk.otp.verify[channel](loginId, CODE);
      if (!ver.ok) throw new Error(`descope verify.${channel}: ${JSON.stringify(ver.error)}`);
    }
  };
  // The SDK has one signIn/verify per delivery method (core-js DeliveryMethods).
  const all = ['sms', 'email', 'whatsapp', 'voice'];
  await login(descope({ projectId: DESCOPE_PROJECT, fetch }), 'project_id', all);
  // authManagementKey: the key the SDK appends to auth calls (Bearer P:K).
  await login(descope({ projectId: DESCOPE_PROJECT, authManagementKey: DESCOPE_KEY, fetch }),
    'auth_management_key', all);
  // managementKey: only for management calls; the SDK fires a license request.
  cap.ctx = { variant: 'management_key', step: 'license', channel: null };
  const licensed = cap.waitFor(/^\/v1\/mgmt\/license$/);
  const mgmt = descope({ projectId: DESCOPE_PROJECT, managementKey: DESCOPE_KEY, fetch });
  await licensed;
  await login(mgmt, 'management_key', ['sms']);
  // Longer project ids: the SDK derives a regional host (see sdk_base_url).
  for (const [variant, projectId] of Object.entries(DESCOPE_REGION_PROJECTS)) {
    await login(descope({ projectId, fetch }), variant, ['sms']);
  }
}

// ---------------------------------------------------------------- Twilio
async function runTwilio(cap) {
  const twilio = require('twilio');
  // The SDK's own transport (axios, form encoding); only the origin changes.
  class CaptureClient extends twilio.RequestClient {
    request(opts) {
      return super.request({ ...opts, uri: redirect(cap, opts.uri) });
    }
  }
  const client = twilio(TWILIO.account, TWILIO.token, { httpClient: new CaptureClient({ keepAlive: false }) });
  const service = client.verify.v2.services(TWILIO.service);
  // pam_otp channel -> Twilio channel
  const channels = { sms: 'sms', voice: 'call', email: 'email', whatsapp: 'whatsapp' };
  for (const [channel, twilioChannel] of Object.entries(channels)) {
    cap.ctx = { variant: 'verification_sid', step: 'send', channel };
    const v = await service.verifications.create({ to: channel === 'email' ? EMAIL : PHONE, channel: twilioChannel });
    cap.ctx = { variant: 'verification_sid', step: 'verify', channel };
    await service.verificationChecks.create({ code: CODE, verificationSid: v.sid });
  }
}

// ------------------------------------------------------------------ main
const PROVIDERS = { stytch: runStytch, descope: runDescope, twilio_verify: runTwilio };

async function child(provider) {
  const run = PROVIDERS[provider];
  const cap = await startCapture({ tlsDir: process.env.CAPTURE_TLS_DIR, provider });
  try {
    await run(cap);
  } finally {
    await cap.close();
  }
  for (const rec of cap.records) process.stdout.write(JSON.stringify(rec) + '\n');
}

const provider = process.argv[2];
if (!PROVIDERS[provider]) {
  process.stderr.write(`usage: node capture.js ${Object.keys(PROVIDERS).join('|')}\n`);
  process.exit(2);
}
if (process.env.CAPTURE_TLS_DIR) {
  child(provider).then(() => process.exit(0), (e) => {
    process.stderr.write(`capture.js ${provider}: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
} else {
  process.exitCode = parent(provider);
}
