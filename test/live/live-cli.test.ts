// `resona devices` and `resona live` as a user runs them, against a private PulseAudio server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI } from '../helpers.js';
import { MIC_SINK, PulseEnv } from './pulse-env.js';

const run = promisify(execFile);
let env: PulseEnv;

async function resona(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...extraEnv }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}
/** The resona lines of stderr (PortAudio's ALSA probing prints its own noise there). */
const ours = (s: string) => s.split('\n').filter((l) => l.startsWith('resona:'));

before(async () => {
  env = await PulseEnv.start();
});
after(async () => {
  await env?.stop();
});

test('resona devices lists host APIs with rates and the PulseAudio sinks and sources', async () => {
  const r = await resona(['devices']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ALSA:/m);
  // ALSA's "pulse" plugin is listed as what it stands for, with its plugin name (which --input/--output match).
  assert.match(r.stdout, /PulseAudio sound server \(pulse\)\s.*default \d+ Hz/);
  assert.match(r.stdout, new RegExp(`pulse:${MIC_SINK}\\.monitor`));
  assert.match(r.stdout, new RegExp(`pulse:${MIC_SINK}\\s`));
});

test('bad input gets a one-line error that says what to do', async () => {
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['live', '--input', 'no-such-mic'], /no input device matches "no-such-mic" \(run 'resona devices'/],
    [['live', '--input', '97'], /no device number 97/],
    [['live', '--output', 'pulse:nowhere'], /no PulseAudio sink named "nowhere"/],
    [['live', '--input-gain', '99'], /input gain 99 dB is out of range: allowed -60 to 24 dB/],
    [['live', '--virtual-mic'], /needs a PulseAudio or PipeWire .* server and none answered/, { PULSE_SERVER: 'unix:/nonexistent/native' }],
  ];
  for (const [args, re, e] of cases) {
    const r = await resona(args, e ?? {});
    const lines = ours(r.stderr);
    assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.equal(lines.length, 1, `${args.join(' ')}: ${lines.join(' | ')}`);
    assert.match(lines[0]!, re);
  }
});

test('resona live --virtual-mic runs, then removes the virtual microphone on exit', async () => {
  const r = await resona(['live', '--virtual-mic', '--input', `pulse:${MIC_SINK}.monitor`, '--voice', 'higher', '--duration', '4', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /live: Monitor of Test microphone .* voice higher → Resona Virtual Microphone/);
  const modules = await env.pactl('list', 'short', 'modules');
  assert.doesNotMatch(modules, /resona_vmic/, 'the virtual microphone was left behind');
});
