// A streamer's terminal: `resona devices`, an 8 s `resona live` and a 60 s `resona serve` with a session running
// print almost nothing that is not Resona's own. The audio libraries' prints (ALSA/JACK probing, PortAudio,
// naudiodon) go to the log file instead, and --verbose shows them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { CLI, FOREIGN_LINE as FOREIGN, tempDir } from '../helpers.js';
import { MIC_SINK, PulseEnv } from './pulse-env.js';

let env: PulseEnv;
let home = '';
let cleanup = () => {};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function lines(r: Run): string[] {
  return (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '');
}

/** Runs resona; `during` gets the first stdout line and may end the run early (SIGINT when it resolves). */
function resona(args: string[], during?: (firstLine: string) => Promise<void>): Promise<Run> {
  const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, RESONA_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let started = false;
  p.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (during && !started && stdout.includes('\n')) {
      started = true;
      void during(stdout.split('\n')[0]!).then(() => p.kill('SIGINT'));
    }
  });
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const hard = setTimeout(() => p.kill('SIGKILL'), 150_000);
  return new Promise((resolve) =>
    p.on('close', (code) => {
      clearTimeout(hard);
      resolve({ code, stdout, stderr });
    }),
  );
}

before(async () => {
  env = await PulseEnv.start();
  ({ dir: home, cleanup } = tempDir());
});
after(async () => {
  await env?.stop();
  cleanup();
});

test('resona devices: the listing only; the probing noise is in the log, and --verbose shows it', { timeout: 120_000 }, async () => {
  const r = await resona(['devices']);
  assert.equal(r.code, 0, r.stderr);
  const foreign = lines(r).filter((l) => FOREIGN.test(l));
  assert.ok(foreign.length < 10, `${foreign.length} library lines:\n${foreign.join('\n')}`);
  assert.equal(r.stderr.trim(), '', r.stderr);
  assert.match(r.stdout, new RegExp(`pulse:${MIC_SINK}\\s`));
  const log = readFileSync(path.join(home, 'logs', 'devices.log'), 'utf8');
  assert.match(log, /^ALSA lib /m, 'the library lines were kept in the log, not lost');

  const v = await resona(['devices', '--verbose']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stderr, new RegExp(`audio library messages are shown, and kept in ${path.join(home, 'logs', 'devices.log').replace(/[.\\]/g, '\\$&')}`));
  assert.ok(lines(v).filter((l) => FOREIGN.test(l)).length >= 10, 'verbose shows the library lines');
});

test('an 8 s resona live: its own lines and a summary at the end, nothing from the libraries', { timeout: 120_000 }, async () => {
  const r = await resona(['live', '--virtual-mic', '--input', `pulse:${MIC_SINK}.monitor`, '--duration', '8']);
  assert.equal(r.code, 0, r.stderr);
  const foreign = lines(r).filter((l) => FOREIGN.test(l));
  assert.ok(foreign.length < 10, `${foreign.length} library lines:\n${foreign.join('\n')}`);
  assert.match(r.stdout, /^live: .* → Resona Virtual Microphone/m);
  // The summary's form, not the machine's real-time margin (the live tests bound underruns): a count and its
  // causes adding up to it. (A full CI run saw 1 device-burst underrun in these 8 s.)
  const summary = /^stopped after \d+\.\d s: latency \d+ ms, \d+ blocks, (\d+) underruns \(start-up (\d+), inference (\d+), device (\d+)\)/m.exec(r.stdout);
  assert.ok(summary, r.stdout);
  assert.equal(Number(summary[2]) + Number(summary[3]) + Number(summary[4]), Number(summary[1]), r.stdout);
  assert.ok(lines(r).length < 12, `${lines(r).length} lines in all:\n${lines(r).join('\n')}`);
  assert.ok(existsSync(path.join(home, 'logs', 'live.log')));
});

test('a 60 s resona serve with a live session: a handful of lines, none from the libraries', { timeout: 150_000 }, async () => {
  const r = await resona(['serve', '--port', '0'], async (first) => {
    const url = /open (http:\/\/\S+)/.exec(first)![1]!;
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}ws`, { headers: { origin: url.replace(/\/$/, '') } });
    await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
    const answers = new Map<number, (m: { type: string; ok?: boolean }) => void>();
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; id: number };
      if (m.type === 'result' || m.type === 'error') answers.get(m.id)?.(m);
    });
    const ask = (id: number, cmd: string) =>
      new Promise<{ type: string }>((res) => {
        answers.set(id, res);
        ws.send(JSON.stringify({ id, cmd, args: {} }));
      });
    assert.equal((await ask(1, 'listDevices')).type, 'result');
    const started = await ask(2, 'start');
    assert.equal(started.type, 'result', JSON.stringify(started));
    await new Promise((res) => setTimeout(res, 60_000));
    await ask(3, 'stop');
    ws.close();
  });
  assert.equal(r.code, 0, r.stderr);
  const foreign = lines(r).filter((l) => FOREIGN.test(l));
  assert.ok(foreign.length < 10, `${foreign.length} library lines:\n${foreign.join('\n')}`);
  assert.ok(lines(r).length < 10, `${lines(r).length} lines in all:\n${lines(r).join('\n')}`);
  assert.match(readFileSync(path.join(home, 'logs', 'serve.log'), 'utf8'), /PortAudio V|ALSA lib/);
});
