// test/browser/harness.mjs
//
// Shared helpers of the browser end-to-end tests (web_chat.test.mjs): starts the real
// `parley serve` (PARLEY_BIN) on 127.0.0.1 port 0 with a temporary data directory and the demo
// enabled, drives Debian's Chromium through playwright-core, and talks to the API.
//
//   const parley = await startParley();
//   const browser = await launchBrowser();
//   ...
//   await browser.close();
//   await parley.stop();
//
// Nothing sleeps for timing: waits poll a condition until a deadline.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const requireFromTools = createRequire(path.join(here, '..', 'node', 'package.json'));

export const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
export const ADMIN_TOKEN = 'adm-' + crypto.randomBytes(16).toString('hex');

// Polls `predicate` (sync or async) until it returns a truthy value, which is returned.
export async function waitFor(predicate, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await predicate();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? ': ' + last.message : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

export async function launchBrowser() {
  const { chromium } = requireFromTools('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless'],
    timeout: 30000,
  });
}

// ---- HTTP ---------------------------------------------------------------------------------

// One request; never throws on 4xx/5xx. Returns {status, headers, json, text}.
export async function request(baseUrl, method, urlPath, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = 'Bearer ' + token;
  let payload;
  if (body instanceof Uint8Array || typeof body === 'string') {
    payload = body;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] = h['Content-Type'] || 'application/json';
  }
  const res = await fetch(baseUrl + urlPath, {
    method, headers: h, body: payload, signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

// ---- Tokens and files ---------------------------------------------------------------------

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

// An HS256 JWT over `claims`, signed with `secret` (string or Buffer).
export function signJwt(claims, secret) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = crypto.createHmac('sha256', secret).update(head + '.' + body).digest();
  return head + '.' + body + '.' + b64url(sig);
}

function crc32(buf) {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

// A valid width×height RGB PNG of one colour.
export function tinyPng(width = 4, height = 4, rgb = [220, 40, 40]) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;   // bit depth
  ihdr[9] = 2;   // colour type RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(width).fill(rgb).flat())]);
  const raw = Buffer.concat(Array(height).fill(row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- The parley process -------------------------------------------------------------------

function toToml(config) {
  const lines = [];
  for (const [section, values] of Object.entries(config)) {
    lines.push(`[${section}]`);
    for (const [k, v] of Object.entries(values)) lines.push(`${k} = ${JSON.stringify(v)}`);
  }
  return lines.join('\n') + '\n';
}

// Config every browser test uses: a sweep every second, and no per-IP limits (every test
// opens sockets and uploads from 127.0.0.1).
export const TEST_CONFIG = {
  retention: { sweep_interval_s: 1, delivered_grace_s: 0 },
  web: { sockets_per_ip_per_minute: 0, uploads_per_ip_per_minute: 0 },
};

// Starts `parley serve --demo` on 127.0.0.1:0. `config` sections are merged over TEST_CONFIG.
// Resolves once the demo is set up, with
//   {url, port, dataDir, demo: {tenant, api_key, connection, private_data_secret},
//    logTail(n), stop()}.
export async function startParley({ config = {}, timeout = 20000 } = {}) {
  const binary = process.env.PARLEY_BIN;
  if (!binary || !fs.existsSync(binary)) {
    throw new Error(`set PARLEY_BIN to the parley binary (got ${JSON.stringify(binary)})`);
  }
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-browser-'));
  const dataDir = path.join(workdir, 'data');
  const configPath = path.join(workdir, 'parley.toml');
  const merged = {};
  for (const section of new Set([...Object.keys(TEST_CONFIG), ...Object.keys(config)])) {
    merged[section] = { ...TEST_CONFIG[section], ...config[section] };
  }
  fs.writeFileSync(configPath, toToml(merged));

  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) env[k] = v;
  env.PARLEY_ADMIN_TOKEN = ADMIN_TOKEN;
  const child = spawn(binary, ['serve', '--demo', '--data-dir', dataDir,
    '--listen', '127.0.0.1:0', '--config', configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let running = true;
  exited.then(() => { running = false; });

  const logTail = (n = 30) => (stderr + stdout).trim().split('\n').slice(-n).join('\n');
  const stop = async () => {
    if (running) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(killer);
    }
    if (!process.env.PARLEY_KEEP_TEMP) fs.rmSync(workdir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeout;
  while (!(stdout.includes('Parley demo is ready') &&
           fs.existsSync(path.join(dataDir, 'demo.json')))) {
    if (!running || Date.now() > deadline) {
      await stop();
      throw new Error((running ? `parley serve --demo was not ready within ${timeout} ms` :
        'parley exited before the demo was ready') + '\n--- parley output ---\n' + logTail(40));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number((/"event":"server\.listening"[^\n]*"port":(\d+)/.exec(stderr) || [])[1] ||
    (/http:\/\/127\.0\.0\.1:(\d+)\/demo/.exec(stdout) || [])[1]);
  const demo = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8'));
  const url = `http://127.0.0.1:${port}`;
  return {
    url, port, dataDir, demo, logTail, stop,
    api: (method, urlPath, opts = {}) => request(url, method, urlPath, { token: demo.api_key, ...opts }),
  };
}

// Runs `fn({parley, browser})` with a fresh Parley and browser, cleaning both up; a failure
// carries the end of Parley's log.
export async function withParley(options, fn) {
  const parley = await startParley(options);
  let browser = null;
  try {
    browser = await launchBrowser();
    await fn({ parley, browser });
  } catch (e) {
    if (e && typeof e === 'object') {
      e.message = String(e.message) + '\n--- parley log (last lines) ---\n' + parley.logTail(25);
    }
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await parley.stop();
  }
}

// A browser context whose pages record the widget's Parley.onEvent events in
// window.__parleyEvents (through window.ParleyQueue, before any page script runs).
export async function newVisitorContext(browser, options = {}) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(10000);
  await context.addInitScript(() => {
    window.__parleyEvents = [];
    window.ParleyQueue = window.ParleyQueue || [];
    window.ParleyQueue.push(['onEvent', (e) => window.__parleyEvents.push(e)]);
  });
  return context;
}

// Opens the widget and waits for its `welcome` (the session is then stored).
export async function openWidget(page, connection) {
  await page.getByTestId('parley-launcher').click();
  await page.getByTestId('parley-panel').waitFor({ state: 'visible' });
  await waitFor(() => page.evaluate((key) => {
    const rec = JSON.parse(localStorage.getItem(key) || 'null');
    return rec && typeof rec.session === 'string' && rec.session.startsWith('wst_');
  }, 'parley:' + connection), { what: 'the widget to receive welcome' });
}
