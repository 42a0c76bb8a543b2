// The parts behind server mode's hostile-input handling, each on its own: the command schema, the
// own-property rule for settings, fair turns between clients, the per-connection rate gate and the
// debounced presets file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMMAND_NAMES } from '../../protocol/control.js';
import { DEFAULT_SETTINGS, mergeSettings, SettingError } from '../../protocol/settings.js';
import { UserError } from '../../protocol/errors.js';
import { COMMAND_SCHEMAS, EnvelopeError, parseArgs, parseEnvelope } from '../../host/control/command-schema.js';
import { type Job, Lanes } from '../../host/control/lanes.js';
import { PresetStore } from '../../host/control/presets.js';
import { RateGate } from '../../host/server/rate.js';

const PROTO_KEYS = ['toString', 'valueOf', 'constructor', 'hasOwnProperty', '__proto__', 'isPrototypeOf'];

test('mergeSettings refuses what every object inherits, by name', { timeout: 10_000 }, () => {
  for (const key of PROTO_KEYS) {
    const update = JSON.parse(`{"${key}": 1}`) as Record<string, unknown>;
    assert.throws(() => mergeSettings(DEFAULT_SETTINGS, update), (e: unknown) => e instanceof SettingError && e.key === key && e.message.startsWith(`unknown setting "${key}"`), key);
  }
  assert.equal(mergeSettings(DEFAULT_SETTINGS, { pitch: 5 }).pitch, 5);
});

test('every command has a schema; each refuses an argument it does not take, by name, and a non-object', { timeout: 10_000 }, () => {
  assert.deepEqual(Object.keys(COMMAND_SCHEMAS).sort(), [...COMMAND_NAMES].sort());
  for (const cmd of COMMAND_NAMES) {
    assert.throws(() => parseArgs(cmd, JSON.parse('{"__proto__": {"settings": {}}, "bogus": 1}')), (e: unknown) => e instanceof UserError && /"(__proto__|bogus)"/.test(e.message), cmd);
    assert.throws(() => parseArgs(cmd, 'text'), UserError, cmd);
  }
  // Own properties only: an inherited argument is not an argument.
  assert.throws(() => parseArgs('setVoice', Object.create({ voice: 'deeper' })), /voice must be a non-empty string/);
  assert.deepEqual(parseArgs('setVoice', { voice: 'deeper' }), { voice: 'deeper' });
  assert.deepEqual(parseArgs('getState', undefined), {});
  for (const key of PROTO_KEYS) {
    assert.throws(() => parseArgs('setSettings', JSON.parse(`{"settings": {"${key}": 1}}`)), (e: unknown) => e instanceof SettingError && e.key === key, key);
  }
  assert.throws(() => parseArgs('setSettings', { settings: { pitch: 99 } }), /pitch shift 99 semitones is out of range: allowed -24 to 24 semitones/);
  const deep = JSON.parse(`{"settings": {"pitch": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`) as unknown;
  assert.throws(() => parseArgs('setSettings', deep), (e: unknown) => e instanceof SettingError && e.message === 'pitch shift must be a number (got a list)');
  assert.throws(() => parseArgs('setSettings', { settings: { pitch: 'x'.repeat(60_000) } }), (e: unknown) => e instanceof SettingError && (e as Error).message.length < 100);
  assert.throws(() => parseArgs('setGain', { role: 'output', db: 'loud' }), (e: unknown) => e instanceof UserError && e.field === 'outputGain');
  assert.throws(() => parseArgs('stepVoice', { by: 5 }), /by must be 1 or -1/);
  assert.throws(() => parseArgs('importVoice', { name: 'v.onnx' }), /needs the file \(dataBase64\) or its path/);
});

test('a request envelope: an object {id, cmd, args}; a bad one is refused and keeps its id when it had one', { timeout: 10_000 }, () => {
  for (const raw of [null, 7, 'getState', [], {}]) assert.throws(() => parseEnvelope(raw), (e: unknown) => e instanceof EnvelopeError && e.id === null, String(raw));
  assert.throws(() => parseEnvelope({ id: 4, cmd: 'toString' }), (e: unknown) => (e as { id: number }).id === 4 && /unknown command "toString"/.test((e as Error).message));
  assert.deepEqual(parseEnvelope({ id: 5, cmd: 'getState' }), { id: 5, cmd: 'getState', args: {} });
});

test('lanes take turns: a client with many queued commands delays another by one; a job absorbs the next', { timeout: 10_000 }, async () => {
  const ran: string[] = [];
  const lanes = new Lanes((run) => run());
  const job = (name: string): Job => ({ run: async () => void ran.push(name) });
  const busy = {};
  const quiet = {};
  for (let i = 0; i < 5; i++) lanes.push(busy, job(`busy${i}`));
  lanes.push(quiet, job('quiet'));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(ran, ['busy0', 'busy1', 'quiet', 'busy2', 'busy3', 'busy4']);

  // busy0 is running when the rest arrive: the first queued one absorbs those after it.
  ran.length = 0;
  class Merge implements Job {
    names: string[];
    constructor(name: string) {
      this.names = [name];
    }
    absorb(next: Job): boolean {
      if (!(next instanceof Merge)) return false;
      this.names.push(...next.names);
      return true;
    }
    async run() {
      ran.push(this.names.join('+'));
    }
  }
  for (let i = 0; i < 5; i++) lanes.push(busy, new Merge(`m${i}`));
  lanes.push(busy, job('other'));
  lanes.push(busy, new Merge('m5'));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(ran, ['m0', 'm1+m2+m3+m4', 'other', 'm5']);
});

test('the rate gate takes a burst at once, then the rate, and pauses reading while too many wait', { timeout: 10_000 }, async () => {
  const taken: number[] = [];
  const flow: string[] = [];
  const start = performance.now();
  const gate = new RateGate<number>({ perSecond: 200, burst: 10, maxBacklog: 8, slice: 4 }, { pause: () => flow.push('pause'), resume: () => flow.push('resume') }, (m) => taken.push(m));
  for (let i = 0; i < 30; i++) gate.push(i);
  // A slice at a time: only 4 are taken before the event loop turns.
  assert.deepEqual(taken, [0, 1, 2, 3]);
  assert.deepEqual(flow, ['pause']);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  // The burst, plus what the rate refilled meanwhile (a loaded machine may take a few ms over these turns).
  const refilled = Math.floor(((performance.now() - start) * 200) / 1000);
  assert.ok(taken.length >= 10 && taken.length <= 10 + refilled, `the burst: ${taken.length} taken, ${refilled} refilled`);
  const t0 = performance.now();
  while (taken.length < 30) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - t0;
  assert.ok(ms >= 80, `20 past the burst at 200/s take about 100 ms (took ${ms.toFixed(0)})`);
  assert.deepEqual(taken, Array.from({ length: 30 }, (_, i) => i), 'none lost, in order');
  assert.deepEqual(flow, ['pause', 'resume']);
  gate.close();
});

test('presets: a burst of changes is written once, after the changes pause, with the last value; flush writes now', { timeout: 10_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resona-presets-'));
  try {
    const file = path.join(dir, 'presets.json');
    const store = await PresetStore.open(file, { delayMs: 150 });
    for (let p = -20; p <= 7; p++) store.set('deeper', { ...DEFAULT_SETTINGS, pitch: p });
    store.set('__proto__', { ...DEFAULT_SETTINGS, pitch: 3 });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(file), false, 'not written while changes keep coming');
    await new Promise((r) => setTimeout(r, 250));
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { pitch: number }>;
    assert.equal(saved.deeper!.pitch, 7);
    assert.ok(Object.hasOwn(saved, '__proto__'), 'a voice id is a key, never a prototype');
    store.set('deeper', { ...DEFAULT_SETTINGS, pitch: -2 });
    await store.flush();
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as Record<string, { pitch: number }>).deeper!.pitch, -2);
    const reopened = await PresetStore.open(file);
    assert.equal(reopened.get('deeper')?.pitch, -2);
    assert.equal(reopened.get('__proto__')?.pitch, 3);
    assert.equal(reopened.get('toString'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
