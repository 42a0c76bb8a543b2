import { test } from 'node:test';
import assert from 'node:assert/strict';
import { semitonesToRatio, coarsePitch } from '../../engine/pitch.js';

test('pitch math', () => {
  assert.ok(Math.abs(semitonesToRatio(12) - 2) < 1e-12);
  assert.equal(coarsePitch(0), 1);
  assert.equal(coarsePitch(50), 1);
  assert.equal(coarsePitch(1100), 255);
});
