// The control protocol's pure parts: the latency preview the UI shows before a change is applied agrees
// with the engine's own latency model, and a bad setting comes back with its field over the wire.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { latencyPreview, type ServerMessage } from '../../protocol/control.js';
import { latencyReport } from '../../engine/latency.js';
import { startServe, type Served } from './harness.js';

test('the latency preview is the engine\'s algorithmic latency for the same block, crossfade and search', () => {
  for (const [blockMs, crossfadeMs, searchMs] of [[100, 20, 10], [20, 5, 0], [250, 50, 20], [1500, 150, 50]] as const) {
    const rate = 48000;
    const engine = latencyReport({
      streamRate: rate, voiceInRate: rate, voiceOutRate: rate, block: (blockMs * rate) / 1000, crossfade: (crossfadeMs * rate) / 1000,
      search: (searchMs * rate) / 1000, resampleInDelay: 0, resampleOutDelay: 0, voiceLookaheadSec: 0,
    });
    assert.equal(latencyPreview({ blockMs, crossfadeMs, searchMs }).totalMs, engine.totalMs);
  }
  assert.equal(latencyPreview({ blockMs: 104, crossfadeMs: 20, searchMs: 10 }).blockMs, 100, 'blocks round to 10 ms frames as the engine does');
});

let home: string;
let served: Served;
before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'resona-proto-'));
  served = await startServe(home);
});
after(async () => {
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function exchange(messages: unknown[]): Promise<ServerMessage[]> {
  const u = new URL(served.url);
  const ws = new WebSocket(`ws://${u.host}/ws`, { headers: { origin: `http://${u.host}` } });
  await new Promise((r) => ws.once('open', r));
  const got: ServerMessage[] = [];
  const done = new Promise<void>((resolve) =>
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'result' || m.type === 'error') got.push(m);
      if (got.length === messages.length) resolve();
    }),
  );
  for (const m of messages) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  await done;
  ws.close();
  return got;
}

test('bad requests: an out-of-range setting names its field; unknown commands and broken JSON get one-line errors', async () => {
  const got = await exchange([
    { id: 1, cmd: 'setSettings', args: { settings: { pitch: 99 } } },
    { id: 2, cmd: 'setSettings', args: { settings: { loudness: 1 } } },
    { id: -1, cmd: 'rm -rf', args: {} },
    '{not json',
    { id: 5, cmd: 'setVoice', args: { voice: 'nobody' } },
  ]);
  // Answers come as each finishes, not in order: match them by id.
  const byId = (id: number) => got.find((m) => m.type === 'result' && m.id === id);
  const [range, unknownKey, unknownCmd, voice] = [byId(1), byId(2), byId(-1), byId(5)];
  const junk = got.find((m) => m.type === 'error');
  assert.deepEqual(range, { type: 'result', id: 1, ok: false, error: { code: 'setting', field: 'pitch', message: 'pitch shift 99 semitones is out of range: allowed -24 to 24 semitones' } });
  assert.ok(unknownKey!.type === 'result' && !unknownKey!.ok && unknownKey!.error.field === 'loudness');
  assert.ok(unknownCmd!.type === 'result' && !unknownCmd!.ok && /unknown command/.test(unknownCmd!.error.message));
  assert.ok(junk!.type === 'error' && /not valid JSON/.test(junk!.error.message));
  assert.ok(voice!.type === 'result' && !voice!.ok && voice!.error.code === 'voice' && /unknown voice "nobody"/.test(voice!.error.message));
});
