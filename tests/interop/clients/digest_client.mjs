// Run one Digest-authenticated request (or a short series) with a Node.js client:
// digest-fetch (DigestClient over Node's fetch) or urllib (its digestAuth option). The
// packages come from the directory made by clients-node.sh (it prints that directory):
//
//   node clients/digest_client.mjs --modules "$(./clients-node.sh)" --client urllib \
//       http://127.0.0.1:18081/digest/ alice s3cret
//
// Prints what digest_client.py prints: one line per request, "<client> <METHOD> <url> ->
// <status>" (or "-> ERROR <exception>"), and with -v the challenges seen, every
// Authorization sent (as undici wrote it), Authentication-Info, and the body percent-encoded
// ("<- body: ..."). Every request of a series goes through one client object. Exit status 0
// only if every request ended with 200.
import { createRequire } from 'node:module';
import { subscribe } from 'node:diagnostics_channel';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    modules: { type: 'string' },
    client: { type: 'string' },
    method: { type: 'string', default: 'GET' },
    data: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    algorithm: { type: 'string', default: 'MD5' },
    verbose: { type: 'boolean', short: 'v', default: false },
  },
});
if (positionals.length !== 3 || !opts.modules || !['digest-fetch', 'urllib'].includes(opts.client)) {
  console.error('usage: digest_client.mjs --modules DIR --client digest-fetch|urllib [--method M] '
    + '[--data BODY] [--repeat N] [--algorithm ALG (digest-fetch)] [-v] URL USER PASS');
  process.exit(64);
}
const [url, user, password] = positionals;
const show = (...a) => { if (opts.verbose) console.log('   ', ...a); };
const percent = (bytes) => Array.from(bytes, (b) => (/[A-Za-z0-9]/.test(String.fromCharCode(b))
  ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

// Both clients write requests with undici (digest-fetch through Node's own fetch, urllib
// through its copy): its diagnostics channel has every request's header block as sent.
subscribe('undici:client:sendHeaders', ({ headers }) => {
  for (const line of String(headers).split('\r\n')) {
    const m = /^authorization:\s*(.*)$/i.exec(line);
    if (m) show('-> Authorization:', m[1]);
  }
});
const showResponse = (status, headers) => {
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'www-authenticate') show(`<- ${status} WWW-Authenticate: ${value}`);
  }
};

const load = (name) => {
  const require = createRequire(`${opts.modules}/package.json`);
  return import(pathToFileURL(require.resolve(name)).href);
};

async function digestFetch() {
  const { default: DigestClient } = await load('digest-fetch');
  // digest-fetch does not read the challenge's algorithm: the caller names it.
  const client = new DigestClient(user, password, { algorithm: opts.algorithm });
  const codes = [];
  for (let i = 0; i < Number(opts.repeat); i++) {
    const init = { method: opts.method };
    if (opts.data !== undefined) init.body = opts.data;
    const r = await client.fetch(url, init);
    showResponse(r.status, r.headers);
    show(`<- ${r.status} Authentication-Info:`, r.headers.get('authentication-info') ?? 'None');
    show('<- body:', percent(new Uint8Array(await r.arrayBuffer())));
    codes.push(r.status);
    console.log(`digest-fetch ${opts.method} ${url} -> ${r.status}`);
  }
  return codes;
}

async function urllib() {
  const { request } = await load('urllib');
  const codes = [];
  for (let i = 0; i < Number(opts.repeat); i++) {
    const r = await request(url, {
      method: opts.method, data: opts.data, digestAuth: `${user}:${password}`, timeout: 10000,
    });
    showResponse(r.status, Object.entries(r.headers));
    show(`<- ${r.status} Authentication-Info:`, r.headers['authentication-info'] ?? 'None');
    show('<- body:', percent(new Uint8Array(r.data)));
    codes.push(r.status);
    console.log(`urllib ${opts.method} ${url} -> ${r.status}`);
  }
  return codes;
}

try {
  const codes = await (opts.client === 'urllib' ? urllib() : digestFetch());
  process.exitCode = codes.length && codes.every((c) => c === 200) ? 0 : 1;
} catch (e) { // report, do not crash: an error is a data point
  console.log(`${opts.client} ${opts.method} ${url} -> ERROR ${e.name}: ${e.message}`);
  process.exitCode = 2;
}
