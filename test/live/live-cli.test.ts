// `resona devices` and `resona live` as a user runs them, against a private PulseAudio server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { resonaLines, runResona } from '../helpers.js';
import { MIC_SINK, PulseEnv } from './pulse-env.js';

let env: PulseEnv;

const resona = (args: string[], extraEnv: Record<string, string> = {}) => runResona(args, extraEnv, 60_000);
/** The resona lines of stderr (PortAudio's ALSA probing prints its own noise there). */
const ours = resonaLines;

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
