// Mute in the output mixer (CTRL.MUTE): exact silence after a short click-free fade, within one device
// buffer of the flag, and it wins over bypass and the dry fallback (the real voice must never leak while muted).
// A file of its own so the mixer's main tests stay with their owners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../../native-audio/fifo.js';
import { MUTE_FADE_MS, OutputMixer } from '../../native-audio/output-mixer.js';
import { AudioRing, Control, createSharedBuffers } from '../../native-audio/rings.js';
import { CTRL, STATS } from '../../protocol/rings.js';

const RATE = 48000;
const B = 256;
const FADE = (MUTE_FADE_MS * RATE) / 1000;

/** A mixer in bypass-free dry passthrough or bypass, fed a constant dry input (the user's real voice). */
function setup(o: { bypass?: boolean; fallbackDry?: boolean } = {}) {
  const buffers = createSharedBuffers(RATE, RATE, 4800);
  const ctl = new Control(buffers);
  ctl.stats[STATS.PREBUFFER_MS] = 40;
  ctl.stats[STATS.BLOCK_FRAMES] = 4800;
  if (o.bypass) ctl.set(CTRL.BYPASS, 1);
  if (o.fallbackDry) {
    ctl.set(CTRL.FALLBACK_DRY, 1);
    ctl.set(CTRL.PASSTHROUGH, 1); // the inference worker is down: the dry fallback would play
  }
  const dry = new Fifo(RATE);
  const monitor = new Fifo(RATE);
  const mixer = new OutputMixer({ inputRate: RATE, outputRate: RATE, maxFrames: B }, ctl, new AudioRing(buffers.outputRing), dry, monitor);
  const out = new Float32Array(B);
  const mon = new Float32Array(B);
  let frames = 0;
  /** One device buffer with the dry input at `value`; returns the output and the monitor. */
  const tick = (value = 0.5) => {
    frames += B;
    ctl.stats[STATS.INPUT_FRAMES] = frames;
    dry.push(new Float32Array(B).fill(value));
    mixer.render(out, B);
    monitor.pop(mon, B);
    return { out: Float32Array.from(out), mon: Float32Array.from(mon) };
  };
  const run = (buffers: number) => {
    const out: number[] = [];
    const mon: number[] = [];
    for (let i = 0; i < buffers; i++) {
      const r = tick();
      out.push(...r.out);
      mon.push(...r.mon);
    }
    return { out, mon };
  };
  return { ctl, run };
}

const peak = (x: number[]) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxStep = (x: number[]) => x.slice(1).reduce((m, v, i) => Math.max(m, Math.abs(v - x[i]!)), 0);

for (const [name, o] of [['bypass', { bypass: true }], ['the dry fallback', { fallbackDry: true }]] as const) {
  test(`mute wins over ${name}: exact silence after a ${MUTE_FADE_MS} ms fade, on the output and the monitor`, () => {
    const m = setup(o);
    const open = m.run(20); // gains settle, the dry voice is fully on
    assert.ok(Math.abs(open.out.at(-1)! - 0.5) < 1e-3, `the dry voice plays before muting (${open.out.at(-1)})`);
    m.ctl.set(CTRL.MUTE, 1);
    const muted = m.run(20);
    const firstZero = muted.out.findIndex((v) => v === 0);
    // The fade starts with the first buffer after the flag and ends FADE samples later (± one for rounding).
    assert.ok(Math.abs(firstZero - FADE) <= 1, `silence from sample ${firstZero}, the fade is ${FADE}`);
    assert.ok(muted.out[0]! > 0.45, 'the fade starts at the open level (no jump)');
    assert.equal(peak(muted.out.slice(firstZero)), 0, 'exact zeros after the fade');
    assert.equal(peak(muted.mon.slice(firstZero)), 0, 'the monitor follows the mute');
    // Raised cosine over FADE samples of a 0.5 signal: steepest step 0.5·π/2/FADE; a click would be ~0.5.
    const steepest = (0.5 * Math.PI) / 2 / FADE;
    assert.ok(maxStep([...open.out, ...muted.out]) <= steepest * 1.05, `largest step ${maxStep(muted.out)} (bound ${steepest})`);
    // And back: the voice fades in over the same length, with no click.
    m.ctl.set(CTRL.MUTE, 0);
    const back = m.run(10);
    assert.ok(back.out[0]! < 1e-4, `the fade-in starts from silence (${back.out[0]})`);
    assert.ok(Math.abs(back.out[Math.ceil(FADE) + 1]! - 0.5) < 1e-3, `full level after the fade-in (${back.out[Math.ceil(FADE) + 1]})`);
    assert.ok(maxStep([...muted.out, ...back.out]) <= steepest * 1.05, 'no click on unmuting');
  });
}

test('a mixer made while the flag is set starts silent (a session started muted never lets a sample through)', () => {
  const buffers = createSharedBuffers(RATE, RATE, 4800);
  const ctl = new Control(buffers);
  ctl.set(CTRL.MUTE, 1);
  ctl.set(CTRL.BYPASS, 1);
  const dry = new Fifo(RATE);
  const mixer = new OutputMixer({ inputRate: RATE, outputRate: RATE, maxFrames: B }, ctl, new AudioRing(buffers.outputRing), dry, null);
  const out = new Float32Array(B);
  let loud = 0;
  for (let i = 0; i < 10; i++) {
    dry.push(new Float32Array(B).fill(0.9));
    mixer.render(out, B);
    loud = Math.max(loud, peak([...out]));
  }
  assert.equal(loud, 0);
});
