// Server traffic: WebSocket upgrades with malformed cookies and paths, control messages of every wrong shape,
// raw HTTP with bad escapes. `{HOST}` in a raw request is replaced by the server's address when it is sent;
// `{TOKEN_SERVER}` at the start of a raw request sends it to the server started with a token instead.
import type { Built, Family } from './family.js';
import type { Rng } from './rng.js';

export const TOKEN_PREFIX = '{TOKEN_SERVER}';
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function upgrade(pathPart: string, headers: Record<string, string> = {}, token = false): string {
  const h = { Host: '{HOST}', Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '13', Origin: 'http://{HOST}', ...headers };
  return `${token ? TOKEN_PREFIX : ''}GET ${pathPart} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

function get(pathPart: string, headers: Record<string, string> = {}, token = false, method = 'GET'): string {
  const h = { Host: '{HOST}', Connection: 'close', ...headers };
  return `${token ? TOKEN_PREFIX : ''}${method} ${pathPart} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

const up = (label: string, raw: string): Built => ({ label: `upgrade: ${label}`, body: { kind: 'upgrade', raw } });
const http = (label: string, raw: string): Built => ({ label: `http: ${label}`, body: { kind: 'http', raw } });
const ws = (label: string, message: string): Built => ({ label: `ws: ${label}`, body: { kind: 'ws', message } });
const cmd = (c: string, args: unknown, id: unknown = 1) => JSON.stringify({ id, cmd: c, args });

const BAD_ESCAPES = ['%', '%zz', '%E0%A4%A', '%ED%A0%80'];
const MORE_ESCAPES = ['%C0%AF', '%%', '%u0041'];

function handmade(): Built[] {
  const cases: Built[] = [];
  for (const esc of BAD_ESCAPES) {
    cases.push(up(`cookie resona_token=${esc}`, upgrade('/ws', { Cookie: `resona_token=${esc}` })));
    cases.push(up(`cookie resona_token=${esc} (token server)`, upgrade('/ws', { Cookie: `resona_token=${esc}` }, true)));
    cases.push(http(`GET /${esc}`, get(`/${esc}`)));
    cases.push(http(`GET /voice-preview/${esc}`, get(`/voice-preview/${esc}`)));
    cases.push(http(`cookie resona_token=${esc} (token server)`, get('/', { Cookie: `resona_token=${esc}` }, true)));
  }
  for (const p of ['//[', '//[::1', '//a:b@[', '//:99999', '/ws?%', '/ws#[', '*', 'http://[/ws']) {
    cases.push(up(`path ${p}`, upgrade(p)));
    cases.push(http(`path ${p}`, get(p)));
  }
  cases.push(
    up('no Host header', upgrade('/ws', { Host: '' })),
    up('Host 127.0.0.1:99999999999', upgrade('/ws', { Host: '127.0.0.1:99999999999' })),
    up('Origin null', upgrade('/ws', { Origin: 'null' })),
    up('a 60 KB cookie', upgrade('/ws', { Cookie: `a=${'%41'.repeat(20000)}` })),
    up('Authorization: Bearer (empty)', upgrade('/ws', { Authorization: 'Bearer ' }, true)),
    http('POST /', get('/', {}, false, 'POST')),
    http('Host header with a bad port', get('/', { Host: '127.0.0.1:x' })),
    http('a path of 60 KB', get(`/${'a'.repeat(60000)}`)),
    http('not HTTP at all', '\u0000\u0001\u0002 garbage\r\n\r\n'),
    http('?token=%zz (token server)', get('/?token=%zz', {}, true)),
    ws('null', 'null'),
    ws('[]', '[]'),
    ws('{}', '{}'),
    ws('a number', '42'),
    ws('a string', '"getState"'),
    ws('not JSON', '{not json'),
    ws('empty', ''),
    ws('id as a string', cmd('getState', {}, 'x')),
    ws('cmd as a number', JSON.stringify({ id: 1, cmd: 5 })),
    ws('args null', cmd('setSettings', null)),
    ws('args a string', cmd('setSettings', 'pitch')),
    ws('args []', cmd('setSettings', [])),
    ws('settings null', cmd('setSettings', { settings: null })),
    ws('settings a number', cmd('setSettings', { settings: 5 })),
    ws('settings {"__proto__": {"pitch": 3}}', '{"id":1,"cmd":"setSettings","args":{"settings":{"__proto__":{"pitch":3}}}}'),
    ws('args {"__proto__": {"settings": {}}}', '{"id":1,"cmd":"setSettings","args":{"__proto__":{"settings":{"pitch":3}}}}'),
    ws('settings {"constructor": {"prototype": {"x": 1}}}', cmd('setSettings', { settings: { constructor: { prototype: { x: 1 } } } })),
    ws('settings {"toString": 1}', cmd('setSettings', { settings: { toString: 1 } })),
    ws('settings {"hasOwnProperty": 1}', cmd('setSettings', { settings: { hasOwnProperty: 1 } })),
    ws('settings {"valueOf": "x"}', cmd('setSettings', { settings: { valueOf: 'x' } })),
    ws('pitch 1e308', '{"id":1,"cmd":"setSettings","args":{"settings":{"pitch":1e308}}}'),
    ws('pitch "3"', cmd('setSettings', { settings: { pitch: '3' } })),
    ws('pitch {}', cmd('setSettings', { settings: { pitch: {} } })),
    ws('cmd "__proto__"', cmd('__proto__', {})),
    ws('cmd "constructor"', cmd('constructor', {})),
    ws('cmd "toString"', cmd('toString', {})),
    ws('setVoice of a number', cmd('setVoice', { voice: 5 })),
    ws('setVoice of an object', cmd('setVoice', { voice: { id: 'deeper' } })),
    ws('setVoice "../../etc"', cmd('setVoice', { voice: '../../etc' })),
    ws('setVoice "__proto__"', cmd('setVoice', { voice: '__proto__' })),
    ws('setGain of NaN-ish', cmd('setGain', { role: 'monitor', db: 'NaN' })),
    ws('setGain role __proto__', cmd('setGain', { role: '__proto__', db: 0 })),
    ws('setF0Method constructor', cmd('setF0Method', { method: 'constructor' })),
    ws('nudgePitch 1e308', '{"id":1,"cmd":"nudgePitch","args":{"by":1e308}}'),
    ws('stepVoice "x"', cmd('stepVoice', { by: 'x' })),
    ws('importVoice with bad base64', cmd('importVoice', { name: 'x.zip', dataBase64: '!!!!' })),
    ws('importVoice with a name ../../x.onnx', cmd('importVoice', { name: '../../x.onnx', dataBase64: 'AAAA' })),
    ws('importVoice of a number', cmd('importVoice', { name: 5, dataBase64: 5 })),
    ws('a 20 MB voice name', cmd('setVoice', { voice: 'v'.repeat(20 << 20) })),
    ws('nested 100000 deep', `{"id":1,"cmd":"setSettings","args":{"settings":${'['.repeat(100000)}${']'.repeat(100000)}}}`),
  );
  return cases;
}

const SAFE_COMMANDS = ['getState', 'setSettings', 'setF0Method', 'setVoice', 'importVoice', 'setGain', 'setBypass', 'setNoiseSuppression', 'nudgePitch', 'stepVoice', 'listVoices', 'stop', 'stopRecording', 'nope'];
const SETTING_KEYS = ['pitch', 'formant', 'blockMs', 'extraMs', 'crossfadeMs', 'searchMs', 'silenceDb', 'indexRatio', 'protect', 'loudness', 'speaker', '__proto__', 'constructor', 'toString', ''];
const ARG_KEYS = ['settings', 'voice', 'method', 'role', 'db', 'on', 'by', 'name', 'dataBase64', 'path', 'spec'];

function value(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 7 : 9)) {
    case 0: return null;
    case 1: return rng.pick([0, -1, 1, 3.5, 1e308, -1e308, 2 ** 53, 24, 25, -25]);
    case 2: return rng.pick(['', 'x', 'deeper', '../x', '%zz', '__proto__', 'yin', 'monitor', 'v'.repeat(1000)]);
    case 3: return rng.next() < 0.5;
    case 4: return [];
    case 5: return {};
    case 6: return rng.int(1000);
    case 7: return Array.from({ length: rng.int(3) }, () => value(rng, depth + 1));
    default: return Object.fromEntries(Array.from({ length: 1 + rng.int(3) }, () => [rng.pick(rng.next() < 0.5 ? SETTING_KEYS : ARG_KEYS), value(rng, depth + 1)]));
  }
}

export const serverFamily: Family = {
  name: 'server',
  async handmade() {
    return handmade().map((c) => () => c);
  },
  async random(rng: Rng): Promise<Built> {
    const r = rng.next();
    if (r < 0.15) {
      const p = `/${Array.from({ length: 1 + rng.int(4) }, () => rng.pick(['ws', 'voice-preview', ...MORE_ESCAPES, '%', '%zz', '[', '..', 'a', '%2e%2e', '//', '?', '#'])).join(rng.pick(['/', '']))}`;
      return rng.next() < 0.5 ? up(`path ${p}`, upgrade(p)) : http(`path ${p}`, get(p));
    }
    if (r < 0.25) {
      const cookie = `${rng.pick(['resona_token', 'a', ''])}=${Array.from({ length: 1 + rng.int(4) }, () => rng.pick([...BAD_ESCAPES, ...MORE_ESCAPES, 'x', '=', ';'])).join('')}`;
      return up(`cookie ${cookie}`, upgrade('/ws', { Cookie: cookie }, rng.next() < 0.5));
    }
    const c = rng.pick(SAFE_COMMANDS);
    const args = rng.next() < 0.2 ? value(rng) : Object.fromEntries(Array.from({ length: rng.int(3) }, () => [rng.pick(ARG_KEYS), value(rng)]));
    const id = rng.next() < 0.8 ? 1 : value(rng);
    return ws(`${c} ${JSON.stringify(args).slice(0, 80)}`, cmd(c, args, id));
  },
};
