#!/usr/bin/env node
// Deadline-rush load driver (issue 7): N vendors file their candidatures at the same time while
// M instructors browse the queue. Run by scripts/load/deadline-rush.sh, which starts a fresh
// `preuves serve --demo` and stops it afterwards; it can also be run against a server started by
// hand (fresh database: the accounts it seeds must not exist yet).
//
// Node 20 or later, no dependency: the built-in fetch (undici). Everything goes through the pages,
// as a browser would: forms with their CSRF token, an Origin header on every POST, redirects
// followed by hand (a 303 is what a form answers), cookies kept per simulated user.
//
// Phases:
//   1. seed (not measured): the demo administrator signs in and creates, through the admin forms,
//      N vendor organisations (valid SIRENs), one vendor account each, M instructor accounts,
//      and for every third vendor two referencings (DPI vague 2 and MS2-PDE vague 1) that its
//      candidature will cite.
//   2. rush (measured): every vendor at once signs in through the form, declares its solution,
//      opens a candidature (DPI vague 2; DUI-MS vague 2; or DUI-MS vague 2 with profile PDE citing
//      its two NRUs and an additional component, the webinar's case 3), views its plan, uploads
//      a few proofs through the streamed deposit form, and submits (incomplete, with the
//      confirmation checkbox, when proofs are still missing). Meanwhile M instructors sign in
//      and loop over the queue (/instruction) and the pages of candidatures in it, until the last
//      vendor is done.
//
// Proof files: sizes log-uniform between --min-mib and --max-mib (seeded), with the magic bytes
// of their type (PDF, MP4, ZIP, PNG, JPEG) and a matching extension; their content streams from
// one pre-generated random buffer shared by all uploads (a ReadableStream per request, sent with
// `duplex: 'half'`), so the driver's memory stays bounded whatever the sizes and concurrency.
//
// Every request has an expected status (and for some, an expected redirect): anything else is
// an error of its kind, with a sample kept. Latency is measured from the start of the request to
// the end of its response body (for an upload: the whole file sent and the answer read).
// The server's memory is read from /proc/<pid>/status (--server-pid): VmRSS sampled every
// 100 ms, VmHWM at the end; the peak is reset (clear_refs) between seed and rush when allowed.
//
// Output: a table on standard output, the JSON report at --report. Exit status: 0 targets met,
// 2 a target missed (errors, page-view p99), 1 the measurement could not be made.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import os from 'node:os';

// ---- settings ---------------------------------------------------------------------------------

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string', default: 'http://127.0.0.1:8080' },
    'server-pid': { type: 'string', default: '' },
    backend: { type: 'string', default: 'unknown' },
    vendors: { type: 'string', default: '200' },
    instructors: { type: 'string', default: '5' },
    uploads: { type: 'string', default: '3' },
    'min-mib': { type: 'string', default: '1' },
    'max-mib': { type: 'string', default: '50' },
    seed: { type: 'string', default: '2026' },
    'ramp-ms': { type: 'string', default: '0' },
    'seed-concurrency': { type: 'string', default: '4' },
    'timeout-s': { type: 'string', default: '600' },
    'page-p99-ms': { type: 'string', default: '200' },
    'admin-email': { type: 'string', default: 'admin@demo.preuves.fr' },
    'admin-password': { type: 'string', default: 'demo-preuves-2026' },
    password: { type: 'string', default: 'charge-preuves-2026' },
    report: { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});

if (opt.help) {
  console.log(`usage: node scripts/load/deadline-rush.mjs --base URL --server-pid PID [options]
  --vendors N (200)  --instructors M (5)  --uploads K per vendor (3)
  --min-mib 1 --max-mib 50 (log-uniform proof sizes)  --seed 2026  --ramp-ms 0
  --seed-concurrency 4  --timeout-s 600  --page-p99-ms 200  --backend LABEL  --report FILE.json`);
  process.exit(0);
}

const BASE = opt.base.replace(/\/$/, '');
const ORIGIN = new URL(BASE).origin;
const VENDORS = int(opt.vendors, 'vendors');
const INSTRUCTORS = int(opt.instructors, 'instructors');
const UPLOADS = int(opt.uploads, 'uploads');
const MIN_MIB = Number(opt['min-mib']);
const MAX_MIB = Number(opt['max-mib']);
const SEED = int(opt.seed, 'seed');
const RAMP_MS = int(opt['ramp-ms'], 'ramp-ms');
const SEED_CONCURRENCY = Math.max(1, int(opt['seed-concurrency'], 'seed-concurrency'));
const TIMEOUT_MS = int(opt['timeout-s'], 'timeout-s') * 1000;
const PAGE_P99_MS = Number(opt['page-p99-ms']);
const SERVER_PID = opt['server-pid'];
const PASSWORD = opt.password;
const MIB = 1024 * 1024;

if (!(MIN_MIB > 0 && MAX_MIB >= MIN_MIB)) fatal('--min-mib and --max-mib: 0 < min <= max');
if (!new URL(BASE).hostname.match(/^(127\.0\.0\.1|localhost|\[::1\])$/)) {
  fatal(`--base must be a local address (127.0.0.1), not ${BASE}`);
}

function int(raw, name) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) fatal(`--${name}: not a whole number: ${raw}`);
  return n;
}

function fatal(message) {
  console.error(`ERROR: ${message}`);
  process.exit(1);
}

function say(message) {
  console.error(`==> ${message}`);
}

// ---- seeded randomness --------------------------------------------------------------------------

// mulberry32: small, fast, good enough to spread sizes and choices reproducibly.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The shared content of every proof file: 16 MiB of seeded random bytes (xorshift32), read
// cyclically from a per-file offset. Never copied per request.
const POOL = (() => {
  const words = new Uint32Array((16 * MIB) / 4);
  let x = (SEED ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer);
})();

// File types a proof may be, by their first bytes (crates/preuves_web/src/filetype.rs).
const TYPES = [
  { weight: 50, ext: 'pdf', type: 'application/pdf', magic: Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1') },
  { weight: 20, ext: 'mp4', type: 'video/mp4', magic: Buffer.from('000000206674797069736f6d0000020069736f6d69736f32617663316d703431', 'hex') },
  { weight: 15, ext: 'zip', type: 'application/zip', magic: Buffer.from('504b0304140000000800', 'hex') },
  { weight: 10, ext: 'png', type: 'image/png', magic: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex') },
  { weight: 5, ext: 'jpg', type: 'image/jpeg', magic: Buffer.from('ffd8ffe000104a46494600010100', 'hex') },
];
const TYPE_WEIGHT = TYPES.reduce((s, t) => s + t.weight, 0);

function pickType(random) {
  let r = random() * TYPE_WEIGHT;
  for (const t of TYPES) {
    r -= t.weight;
    if (r < 0) return t;
  }
  return TYPES[0];
}

// Log-uniform between MIN_MIB and MAX_MIB, in bytes.
function pickSize(random) {
  const lo = Math.log(MIN_MIB);
  const hi = Math.log(MAX_MIB);
  return Math.round(Math.exp(lo + random() * (hi - lo)) * MIB);
}

// ---- identities ----------------------------------------------------------------------------------

const pad = (n, w = 3) => String(n).padStart(w, '0');

// A SIREN with a valid Luhn check digit, from 8 leading digits.
function siren(i) {
  const base = String(80000000 + i * 37);
  for (let d = 0; d <= 9; d++) {
    const s = base + d;
    let sum = 0;
    for (let k = 0; k < 9; k++) {
      let v = Number(s[8 - k]);
      if (k % 2 === 1) {
        v *= 2;
        if (v > 9) v -= 9;
      }
      sum += v;
    }
    if (sum % 10 === 0) return s;
  }
  throw new Error('no check digit');
}

// Three journeys, in turn: DPI vague 2; DUI-MS vague 2; DUI-MS vague 2 with profile PDE citing
// the vendor's DPI-2 and MS2-PDE-1 NRUs and an additional component (the webinar's case 3).
function vendorPlan(i) {
  const n = pad(i);
  const journey = ['dpi', 'duims', 'case3'][i % 3];
  return {
    index: i,
    email: `editeur-${n}@charge.preuves.test`,
    name: `Vendeur charge ${n}`,
    organisation: `Editeur charge ${n}`,
    siren: siren(i),
    solution: `S${n}`,
    component: `S${n}-core`,
    journey,
    nrus: journey === 'case3' ? [`REF-DPI-2-L${n}`, `REF-MS2-PDE-1-L${n}`] : [],
  };
}

function instructorPlan(i) {
  return { index: i, email: `instructeur-${pad(i)}@charge.preuves.test`, name: `Instructeur charge ${pad(i)}` };
}

// ---- measurement ---------------------------------------------------------------------------------

const PAGE_KINDS = new Set(['plan_page', 'proofs_page', 'page', 'queue', 'instruction_page']);
const KIND_ORDER = ['sign_in', 'plan_page', 'proofs_page', 'page', 'queue', 'instruction_page', 'solution', 'create', 'honour', 'upload', 'submit'];
const KIND_LABEL = {
  sign_in: 'sign-in (POST /connexion)',
  plan_page: 'plan page (GET /candidatures/{id})',
  proofs_page: 'deposit page (GET .../preuves)',
  page: 'other page views',
  queue: 'queue (GET /instruction)',
  instruction_page: 'instruction page (GET /instruction/{id})',
  solution: 'declare solution (POST /solutions)',
  create: 'open candidature (POST .../nouvelle)',
  honour: 'sworn statement (POST .../attestation-honneur)',
  upload: 'proof upload (POST .../preuves)',
  submit: 'submit (POST .../deposer)',
};

class Stats {
  constructor() {
    this.kinds = new Map();
    this.recording = false;
    this.uploadedBytes = 0;
  }
  kind(k) {
    if (!this.kinds.has(k)) this.kinds.set(k, { ms: [], errors: 0, samples: [] });
    return this.kinds.get(k);
  }
  ok(k, ms) {
    if (this.recording) this.kind(k).ms.push(ms);
  }
  error(k, ms, sample) {
    if (!this.recording) return;
    const s = this.kind(k);
    if (ms !== null) s.ms.push(ms);
    s.errors += 1;
    if (s.samples.length < 3) s.samples.push(sample);
  }
}

const stats = new Stats();

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function summary(ms, errors = 0) {
  const sorted = Float64Array.from(ms).sort();
  const r = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    count: sorted.length,
    errors,
    p50_ms: r(percentile(sorted, 50)),
    p95_ms: r(percentile(sorted, 95)),
    p99_ms: r(percentile(sorted, 99)),
    max_ms: r(sorted.length ? sorted[sorted.length - 1] : null),
  };
}

// VmRSS, VmHWM of the server, in KiB (null when not readable).
function serverMemory() {
  if (!SERVER_PID) return null;
  try {
    const status = readFileSync(`/proc/${SERVER_PID}/status`, 'utf8');
    const field = (name) => Number((status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm')) || [])[1]);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return null;
  }
}

// Resets the kernel's peak-RSS counter of the server (Linux 4.0+: "5" > clear_refs).
function resetServerPeak() {
  if (!SERVER_PID) return false;
  try {
    writeFileSync(`/proc/${SERVER_PID}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---- HTTP ------------------------------------------------------------------------------------------

class Failed extends Error {}

// A browser-like user: its cookies and what the last page said.
class User {
  constructor(label) {
    this.label = label;
    this.cookies = new Map();
  }
  absorb(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  // One request of `kind`. `expect` is the expected status; `check(res, text)` may return a
  // string describing what is wrong with an expected-status answer. Throws Failed on an error
  // (recorded with a sample), returns { status, text, location, ms } otherwise.
  async request(kind, method, path, { body, type, length, expect, check, uploadBytes = 0 } = {}) {
    const headers = { 'user-agent': 'preuves-deadline-rush', accept: 'text/html' };
    const cookie = this.cookieHeader();
    if (cookie) headers.cookie = cookie;
    if (method !== 'GET') headers.origin = ORIGIN;
    if (type) headers['content-type'] = type;
    if (length !== undefined) headers['content-length'] = String(length);
    const init = { method, headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) };
    if (body !== undefined) {
      init.body = body;
      if (body instanceof ReadableStream) init.duplex = 'half';
    }
    const started = performance.now();
    let res;
    let text;
    try {
      res = await fetch(BASE + path, init);
      text = await res.text();
    } catch (e) {
      const ms = performance.now() - started;
      const cause = e.cause ? ` (${e.cause.code || e.cause.message || e.cause})` : '';
      stats.error(kind, ms, { user: this.label, method, path, status: null, detail: `${e.name}: ${e.message}${cause}` });
      throw new Failed(`${method} ${path}: ${e.message}${cause}`);
    }
    const ms = performance.now() - started;
    this.absorb(res);
    const location = res.headers.get('location');
    let wrong = res.status === expect ? null : `status ${res.status}, expected ${expect}`;
    if (!wrong && check) wrong = check(res, text, location);
    if (wrong) {
      stats.error(kind, ms, {
        user: this.label,
        method,
        path,
        status: res.status,
        location,
        detail: `${wrong}: ${pageText(text).slice(0, 300)}`,
      });
      throw new Failed(`${method} ${path}: ${wrong}`);
    }
    stats.ok(kind, ms);
    if (uploadBytes && stats.recording) stats.uploadedBytes += uploadBytes;
    return { status: res.status, text, location, ms };
  }

  async get(kind, path, expect = 200, check) {
    return this.request(kind, 'GET', path, { expect, check });
  }

  async postForm(kind, path, fields, expect = 303, check) {
    const body = new URLSearchParams(fields).toString();
    return this.request(kind, 'POST', path, { body, type: 'application/x-www-form-urlencoded', expect, check });
  }

  async signIn(email, password, next = '/') {
    const page = await this.get('page', '/connexion');
    const csrf = field(page.text, 'csrf');
    if (!csrf) throw new Failed('no csrf field on /connexion');
    await this.postForm('sign_in', '/connexion', [['csrf', csrf], ['email', email], ['password', password], ['suivant', next]], 303, () =>
      this.cookies.has('preuves_session') ? null : 'no preuves_session cookie',
    );
  }
}

// The text of an HTML page, for error samples.
function pageText(html) {
  return decode(
    html
      .replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

function decode(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');
}

// The value of the first `name="<name>" value="..."` of a page.
function field(html, name) {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  return m ? decode(m[1]) : null;
}

// A multipart/form-data deposit: the small fields (csrf first), then one file whose content is
// `magic` followed by bytes of POOL from `offset`, streamed in 256 KiB views of the shared buffer.
function multipartDeposit(fields, file) {
  const boundary = `----preuvesRush${Math.random().toString(16).slice(2)}${Math.random().toString(16).slice(2)}`;
  let head = '';
  for (const [k, v] of fields) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="fichier"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`;
  const first = Buffer.concat([Buffer.from(head, 'utf8'), file.magic]);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  const randomBytes = file.size - file.magic.length;
  const CHUNK = 256 * 1024;
  let stage = 0;
  let sent = 0;
  let position = file.offset % POOL.length;
  const stream = new ReadableStream(
    {
      pull(controller) {
        if (stage === 0) {
          controller.enqueue(first);
          stage = 1;
        } else if (stage === 1 && sent < randomBytes) {
          const n = Math.min(CHUNK, randomBytes - sent, POOL.length - position);
          controller.enqueue(POOL.subarray(position, position + n));
          sent += n;
          position = (position + n) % POOL.length;
        } else if (stage <= 1) {
          controller.enqueue(tail);
          stage = 2;
        } else {
          controller.close();
        }
      },
    },
    { highWaterMark: 1 },
  );
  return { stream, length: first.length + randomBytes + tail.length, type: `multipart/form-data; boundary=${boundary}` };
}

// Runs `work(item)` over `items`, `width` at a time.
async function pool(items, width, work) {
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  });
  await Promise.all(workers);
}

// ---- phase 1: seeding through the admin forms ---------------------------------------------------

async function seed(vendors, instructors) {
  const admin = new User('admin');
  await admin.signIn(opt['admin-email'], opt['admin-password'], '/admin');
  const orgPage = await admin.get('page', '/admin/organisations');
  const csrf = field(orgPage.text, 'csrf');

  say(`seeding ${vendors.length} organisations`);
  await pool(vendors, SEED_CONCURRENCY, (v) =>
    admin.postForm('seed', '/admin/organisations', [['csrf', csrf], ['name', v.organisation], ['siren', v.siren]]),
  );

  // Organisation ids from the user form's choices: "<name> (SIREN ...)".
  const usersPage = await admin.get('page', '/admin/utilisateurs');
  const ids = new Map();
  for (const m of usersPage.text.matchAll(/<option value="(\d+)"[^>]*>([^<]*?) \(SIREN/g)) ids.set(decode(m[2]), m[1]);
  for (const v of vendors) {
    v.organisationId = ids.get(v.organisation);
    if (!v.organisationId) throw new Failed(`organisation ${v.organisation} not offered on /admin/utilisateurs`);
  }

  say(`seeding ${vendors.length} vendor and ${instructors.length} instructor accounts (argon2id each)`);
  const accounts = [
    ...vendors.map((v) => ({ email: v.email, name: v.name, role: 'vendor', organisation: v.organisationId })),
    ...instructors.map((i) => ({ email: i.email, name: i.name, role: 'instructor', organisation: '' })),
  ];
  await pool(accounts, SEED_CONCURRENCY, (a) =>
    admin.postForm('seed', '/admin/utilisateurs', [
      ['csrf', csrf],
      ['email', a.email],
      ['display_name', a.name],
      ['role', a.role],
      ['organisation', a.organisation],
      ['password', PASSWORD],
      ['password_confirmation', PASSWORD],
    ]),
  );

  const citing = vendors.filter((v) => v.nrus.length > 0);
  if (citing.length > 0) {
    say(`seeding ${citing.length * 2} referencings for the ${citing.length} vendors whose candidature cites NRUs`);
    const form = await admin.get('page', '/admin/referencements/nouveau');
    const status = (form.text.match(/<select id="status"[\s\S]*?<option value="([^"]+)"/) || [])[1];
    if (!status) throw new Failed('no status choice on /admin/referencements/nouveau');
    const referencings = citing.flatMap((v) => [
      { v, nru: v.nrus[0], dispositif: 'DPI-2', profiles: '', version: '4.2', granted: '2026-01-15' },
      { v, nru: v.nrus[1], dispositif: 'MS2-PDE-1', profiles: 'PDE', version: '3.8', granted: '2024-06-03' },
    ]);
    await pool(referencings, SEED_CONCURRENCY, (r) =>
      admin.postForm('seed', '/admin/referencements', [
        ['csrf', csrf],
        ['nru', r.nru],
        ['organisation', r.v.organisationId],
        ['dispositif', r.dispositif],
        ['profiles', r.profiles],
        ['solution', r.v.solution],
        ['main_component', r.v.component],
        ['version', r.version],
        ['commercial_names', r.v.solution],
        ['granted_on', r.granted],
        ['status', status],
        ['status_reason', ''],
      ]),
    );
  }
}

// ---- phase 2: the rush ---------------------------------------------------------------------------

const outcome = { vendorsDone: 0, vendorsFailed: 0, plans: { computed: 0, inScope: [], masked: 0 }, failures: [] };

async function vendorJourney(v) {
  const random = rng(SEED * 7919 + v.index);
  const user = new User(v.email);
  await user.signIn(v.email, PASSWORD, '/candidatures');
  await user.get('page', '/candidatures');

  // The solution, declared once.
  const solutions = await user.get('page', '/solutions');
  const csrf = field(solutions.text, 'csrf');
  await user.postForm('solution', '/solutions', [
    ['csrf', csrf],
    ['name', v.solution],
    ['main_component', v.component],
    ['versions', '4.2\n4.3'],
    ['commercial_names', `${v.solution}\n${v.solution} Santé`],
  ]);

  // The administrative step.
  const dispositif = v.journey === 'dpi' ? 'DPI-2' : 'DUI-MS-2';
  const form = await user.get('page', `/candidatures/nouvelle?dispositif=${dispositif}`);
  const solutionId = (form.text.match(/<select id="solution"[\s\S]*?<option value="(\d+)"/) || [])[1];
  if (!solutionId) throw new Failed(`${v.email}: no solution offered on /candidatures/nouvelle`);
  const step = [
    ['csrf', csrf],
    ['dispositif', dispositif],
    ['solution', solutionId],
    ['version', '4.3'],
  ];
  if (v.journey === 'case3') {
    step.push(['profil', 'PDE'], ['nrus', v.nrus.join('\n')], ['composant_nom', 'Module INS'], ['composant_chapitres', 'INS']);
  }
  step.push(['noms', `${v.solution}\n${v.solution} Santé`], ['action', 'enregistrer']);
  let id = null;
  await user.postForm('create', '/candidatures/nouvelle', step, 303, (_res, _text, location) => {
    const m = (location || '').match(/^\/candidatures\/(\d+)$/);
    if (!m) return `redirected to ${location || 'nowhere'}, not to the new candidature`;
    id = m[1];
    return null;
  });

  // The plan page, as the redirect leads to it.
  const plan = await user.get('plan_page', `/candidatures/${id}`, 200, (_res, text) =>
    /data-in-scope="\d+"/.test(text) ? null : 'no plan on the page',
  );
  outcome.plans.computed += 1;
  outcome.plans.inScope.push(Number(plan.text.match(/data-in-scope="(\d+)"/)[1]));
  const masked = ['heritage', 'equivalence'].map((m) => Number((plan.text.match(new RegExp(`data-masked-${m}="(\\d+)"`)) || [])[1] || 0));
  if (v.nrus.length > 0 && masked[0] + masked[1] > 0) outcome.plans.masked += 1;

  // The sworn statement (R6: submission needs it), a small PDF through its streamed form.
  const stepRevision = (plan.text.match(/action="\/candidatures\/\d+\/attestation-honneur"[\s\S]*?name="revision" value="(\d+)"/) || [])[1];
  if (!stepRevision) throw new Failed(`${v.email}: no sworn statement form on /candidatures/${id}`);
  const honour = { name: `attestation-${pad(v.index)}.pdf`, type: 'application/pdf', magic: TYPES[0].magic, size: 200 * 1024, offset: Math.floor(random() * POOL.length) };
  const honourBody = multipartDeposit([['csrf', csrf], ['revision', stepRevision]], honour);
  await user.request('honour', 'POST', `/candidatures/${id}/attestation-honneur`, {
    body: honourBody.stream,
    type: honourBody.type,
    length: honourBody.length,
    expect: 303,
    uploadBytes: honour.size,
  });
  await user.get('plan_page', `/candidatures/${id}`);

  // The deposit page and its forms: one per expected proof.
  let proofs = await user.get('proofs_page', `/candidatures/${id}/preuves`);
  const slots = [
    ...proofs.text.matchAll(
      /name="exigence" value="([^"]*)">\s*<input type="hidden" name="scenario" value="(\d+)">\s*<input type="hidden" name="preuve" value="(\d+)">/g,
    ),
  ].map((m) => ({ requirement: decode(m[1]), scenario: m[2], proof: m[3] }));
  if (slots.length === 0) throw new Failed(`${v.email}: no deposit form on /candidatures/${id}/preuves`);
  for (let k = 0; k < UPLOADS; k++) {
    const slot = slots.splice(Math.floor(random() * slots.length), 1)[0] || null;
    if (!slot) break;
    const t = pickType(random);
    const size = pickSize(random);
    const file = {
      name: `preuve-${pad(v.index)}-${k + 1}.${t.ext}`,
      type: t.type,
      magic: t.magic,
      size: Math.max(size, t.magic.length + 1),
      offset: Math.floor(random() * POOL.length),
    };
    const body = multipartDeposit(
      [['csrf', csrf], ['exigence', slot.requirement], ['scenario', slot.scenario], ['preuve', slot.proof]],
      file,
    );
    await user.request('upload', 'POST', `/candidatures/${id}/preuves`, {
      body: body.stream,
      type: body.type,
      length: body.length,
      expect: 303,
      uploadBytes: file.size,
      check: (_res, _text, location) =>
        (location || '').startsWith(`/candidatures/${id}/preuves`) ? null : `redirected to ${location}`,
    });
    // The browser follows the redirect: the deposit page with the file listed.
    proofs = await user.get('proofs_page', `/candidatures/${id}/preuves`, 200, (_res, text) =>
      text.includes(file.name) ? null : `${file.name} not listed after its upload`,
    );
  }

  // Submission, from the deposit page's form (incomplete: with the confirmation).
  const revision = (proofs.text.match(/action="\/candidatures\/\d+\/deposer"[\s\S]*?name="revision" value="(\d+)"/) || [])[1];
  if (!revision) throw new Failed(`${v.email}: no submission form on /candidatures/${id}/preuves`);
  const submit = [['csrf', csrf], ['revision', revision]];
  if (proofs.text.includes('name="confirmer_incomplet"')) submit.push(['confirmer_incomplet', 'oui']);
  await user.postForm('submit', `/candidatures/${id}/deposer`, submit, 303, (_res, _text, location) =>
    location === `/candidatures/${id}` ? null : `redirected to ${location}: not submitted`,
  );
  await user.get('plan_page', `/candidatures/${id}`, 200, (_res, text) =>
    /data-in-scope="\d+"/.test(text) ? null : 'no plan on the page after submission',
  );
}

let rushOver = false;

async function instructorLoop(i) {
  const random = rng(SEED * 104729 + i.index);
  const user = new User(i.email);
  await user.signIn(i.email, PASSWORD, '/instruction');
  let loops = 0;
  while (!rushOver) {
    loops += 1;
    try {
      const queue = await user.get('queue', '/instruction');
      const ids = [...new Set([...queue.text.matchAll(/href="\/instruction\/(\d+)"/g)].map((m) => m[1]))];
      for (let k = 0; k < 2 && ids.length > 0 && !rushOver; k++) {
        const id = ids[Math.floor(random() * ids.length)];
        await user.get('instruction_page', `/instruction/${id}`);
      }
    } catch (e) {
      if (!(e instanceof Failed)) throw e;
      // Recorded; an instructor goes on browsing.
    }
  }
  return loops;
}

// ---- main ------------------------------------------------------------------------------------------

async function main() {
  const vendors = Array.from({ length: VENDORS }, (_, k) => vendorPlan(k + 1));
  const instructors = Array.from({ length: INSTRUCTORS }, (_, k) => instructorPlan(k + 1));

  const ready = await fetch(`${BASE}/health/ready`).catch((e) => fatal(`${BASE}/health/ready: ${e.message}`));
  if (!ready.ok) fatal(`${BASE}/health/ready answered ${ready.status}`);

  const seedStarted = performance.now();
  try {
    await seed(vendors, instructors);
  } catch (e) {
    fatal(`seeding failed: ${e.message}`);
  }
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const afterSeed = serverMemory();
  say(`seeded in ${seedSeconds.toFixed(1)} s; server VmRSS ${kib(afterSeed?.rss)}, VmHWM so far ${kib(afterSeed?.hwm)}`);

  // Memory sampling, from here on.
  const peakReset = resetServerPeak();
  const memory = { rssStart: serverMemory()?.rss ?? null, rssPeak: 0, samples: 0, clientRssPeak: 0 };
  const sample = () => {
    const m = serverMemory();
    if (m) {
      memory.rssPeak = Math.max(memory.rssPeak, m.rss);
      memory.samples += 1;
    }
    memory.clientRssPeak = Math.max(memory.clientRssPeak, process.memoryUsage.rss());
  };
  sample();
  const sampler = setInterval(sample, 100);

  const load = os.loadavg();
  say(
    `rush: ${VENDORS} vendors (${UPLOADS} proofs each, ${MIN_MIB}-${MAX_MIB} MiB log-uniform, seed ${SEED}) and ${INSTRUCTORS} instructors; load average before ${load.map((x) => x.toFixed(2)).join(' ')}`,
  );
  stats.recording = true;
  const started = performance.now();
  const instructorRuns = instructors.map((i) => instructorLoop(i).catch((e) => ({ error: e.message })));
  const vendorRuns = vendors.map(async (v, k) => {
    if (RAMP_MS > 0) await new Promise((r) => setTimeout(r, (k * RAMP_MS) / VENDORS));
    try {
      await vendorJourney(v);
      outcome.vendorsDone += 1;
    } catch (e) {
      outcome.vendorsFailed += 1;
      if (outcome.failures.length < 5) outcome.failures.push(`${v.email}: ${e.message}`);
      if (!(e instanceof Failed)) console.error(e);
    }
    const n = outcome.vendorsDone + outcome.vendorsFailed;
    if (n % Math.max(1, Math.round(VENDORS / 10)) === 0) {
      say(`${n}/${VENDORS} vendors through (${outcome.vendorsFailed} stopped by an error), ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  });
  await Promise.all(vendorRuns);
  const vendorsSeconds = (performance.now() - started) / 1000;
  rushOver = true;
  const loops = await Promise.all(instructorRuns);
  const seconds = (performance.now() - started) / 1000;
  stats.recording = false;
  clearInterval(sampler);
  sample();
  const end = serverMemory();

  // ---- the report -------------------------------------------------------------------------------
  const kinds = {};
  let requests = 0;
  let errors = 0;
  const pageMs = [];
  let pageErrors = 0;
  for (const k of [...KIND_ORDER, ...[...stats.kinds.keys()].filter((k) => !KIND_ORDER.includes(k))]) {
    const s = stats.kinds.get(k);
    if (!s) continue;
    kinds[k] = { ...summary(s.ms, s.errors), error_samples: s.samples };
    requests += s.ms.length;
    errors += s.errors;
    if (PAGE_KINDS.has(k)) {
      pageMs.push(...s.ms);
      pageErrors += s.errors;
    }
  }
  const pages = summary(pageMs, pageErrors);
  const uploadedMib = stats.uploadedBytes / MIB;
  const inScope = outcome.plans.inScope.sort((a, b) => a - b);
  const report = {
    benchmark: 'deadline-rush',
    backend: opt.backend,
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memory_gib: Math.round(os.totalmem() / 2 ** 30), load_before: load },
    settings: { vendors: VENDORS, instructors: INSTRUCTORS, uploads_per_vendor: UPLOADS, min_mib: MIN_MIB, max_mib: MAX_MIB, seed: SEED, ramp_ms: RAMP_MS },
    seed_seconds: round(seedSeconds),
    duration_s: round(seconds),
    vendors_duration_s: round(vendorsSeconds),
    vendors_completed: outcome.vendorsDone,
    vendors_stopped: outcome.vendorsFailed,
    vendor_failures: outcome.failures,
    instructor_loops: loops,
    plans: { computed: outcome.plans.computed, in_scope_min: inScope[0] ?? null, in_scope_max: inScope[inScope.length - 1] ?? null, citing_with_masks: outcome.plans.masked },
    requests,
    errors,
    requests_per_s: round(requests / seconds),
    uploaded_mib: round(uploadedMib),
    uploaded_mib_per_s: round(uploadedMib / seconds),
    kinds,
    page_views: pages,
    server_memory_kib: {
      rss_after_seed: afterSeed?.rss ?? null,
      hwm_after_seed: afterSeed?.hwm ?? null,
      rss_rush_start: memory.rssStart,
      rss_peak_sampled: memory.rssPeak || null,
      rss_samples: memory.samples,
      hwm_end: end?.hwm ?? null,
      hwm_reset_before_rush: peakReset,
      rss_end: end?.rss ?? null,
    },
    client_rss_peak_mib: round(memory.clientRssPeak / MIB),
    targets: {
      zero_errors: errors === 0 && outcome.vendorsFailed === 0,
      page_p99_ms: PAGE_P99_MS,
      page_p99_met: pages.p99_ms !== null && pages.p99_ms < PAGE_P99_MS,
    },
  };

  printReport(report);
  if (opt.report) {
    mkdirSync(dirname(opt.report), { recursive: true });
    writeFileSync(opt.report, `${JSON.stringify(report, null, 2)}\n`);
    say(`JSON report: ${opt.report}`);
  }
  process.exit(report.targets.zero_errors && report.targets.page_p99_met ? 0 : 2);
}

function round(x) {
  return Math.round(x * 100) / 100;
}

function kib(k) {
  return k ? `${(k / 1024).toFixed(1)} MiB` : '?';
}

function printReport(r) {
  const out = [];
  const cell = (x) => (x === null || x === undefined ? '-' : typeof x === 'number' ? x.toFixed(1) : String(x));
  out.push('');
  out.push(`deadline rush on ${r.backend}: ${r.settings.vendors} vendors, ${r.settings.instructors} instructors, ${r.settings.uploads_per_vendor} proofs per vendor (${r.settings.min_mib}-${r.settings.max_mib} MiB, seed ${r.settings.seed})`);
  out.push(`  duration          ${r.duration_s.toFixed(1)} s (last vendor done at ${r.vendors_duration_s.toFixed(1)} s; seeding before: ${r.seed_seconds.toFixed(1)} s, not measured)`);
  out.push(`  vendors           ${r.vendors_completed} submitted, ${r.vendors_stopped} stopped by an error`);
  out.push(`  plans             ${r.plans.computed} computed, ${r.plans.in_scope_min}-${r.plans.in_scope_max} requirements in scope, ${r.plans.citing_with_masks} citing vendors with masks shown`);
  out.push(`  requests          ${r.requests} (${r.requests_per_s.toFixed(1)} requests/s), ${r.errors} errors`);
  out.push(`  uploaded          ${r.uploaded_mib.toFixed(0)} MiB (${r.uploaded_mib_per_s.toFixed(1)} MiB/s)`);
  out.push(`  instructor loops  ${r.instructor_loops.map((l) => (typeof l === 'number' ? l : 'failed')).join(', ')}`);
  const m = r.server_memory_kib;
  out.push(`  server memory     RSS ${kib(m.rss_rush_start)} at rush start, sampled peak ${kib(m.rss_peak_sampled)} (${m.rss_samples} samples), end ${kib(m.rss_end)}`);
  out.push(`                    VmHWM ${kib(m.hwm_end)} ${m.hwm_reset_before_rush ? '(peak of the rush: reset after seeding)' : '(whole life: could not reset after seeding)'}; after seeding ${kib(m.hwm_after_seed)}`);
  out.push(`  driver memory     RSS peak ${r.client_rss_peak_mib.toFixed(0)} MiB`);
  out.push('');
  const header = ['kind', 'count', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'];
  const rows = Object.entries(r.kinds).map(([k, s]) => [KIND_LABEL[k] || k, s.count, s.errors, cell(s.p50_ms), cell(s.p95_ms), cell(s.p99_ms), cell(s.max_ms)]);
  const p = r.page_views;
  rows.push(['all page views', p.count, p.errors, cell(p.p50_ms), cell(p.p95_ms), cell(p.p99_ms), cell(p.max_ms)]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => String(row[c]).length)));
  const line = (row) => `  ${row.map((x, c) => (c === 0 ? String(x).padEnd(widths[c]) : String(x).padStart(widths[c]))).join('  ')}`;
  out.push(line(header));
  for (const row of rows) out.push(line(row));
  out.push('');
  for (const [k, s] of Object.entries(r.kinds)) {
    for (const e of s.error_samples) {
      out.push(`  error sample (${k}): ${e.method} ${e.path} -> ${e.status ?? 'no answer'}${e.location ? ` (Location: ${e.location})` : ''} [${e.user}] ${e.detail}`);
    }
  }
  for (const f of r.vendor_failures) out.push(`  vendor stopped: ${f}`);
  out.push(`  verdict           errors: ${r.targets.zero_errors ? 'none (target met)' : 'SOME (target missed)'}; page views p99 ${cell(p.p99_ms)} ms: ${r.targets.page_p99_met ? `under ${r.targets.page_p99_ms} ms (target met)` : `NOT under ${r.targets.page_p99_ms} ms (target missed)`}`);
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
