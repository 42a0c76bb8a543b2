// What the quiet terminal hides (the audio libraries' own prints) and what it must never hide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLibraryNoise } from '../../cli/library-noise.js';
import { logsDir } from '../../cli/library-log.js';

test('ALSA, JACK, PortAudio and naudiodon prints are recognised as library noise', { timeout: 5000 }, () => {
  for (const l of [
    "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM cards.pcm.front",
    'Cannot connect to server socket err = No such file or directory',
    'Cannot connect to server request channel',
    'jack server is not running or cannot be started',
    'JackShmReadWritePtr::~JackShmReadWritePtr - Init not done for -1, skipping unlock',
    'PortAudio V19.6.0-devel, revision unknown',
    'Input audio options: device 1, sample rate 48000, channels 1, bits per sample 32, max queue 8, frames per buffer 256, close on error false',
    'Output device name is pulse',
    'AudioIO: portAudio status - output underflow ',
    'Finishing output - 1024 bytes not available to fill the last buffer',
    'Unexpected N-API status not OK in file ../src/AudioIO.cc at line 327 value 10.',
    'underrun occurred',
    'overrun occurred',
  ]) {
    assert.ok(isLibraryNoise(l), l);
  }
});

test("a crash report or anything unrecognised is shown, never hidden", { timeout: 5000 }, () => {
  for (const l of [
    'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
    'Segmentation fault (core dumped)',
    'file:///app/dist/cli/resona.js:12',
    '    at Object.<anonymous> (node:internal/main:1:1)',
    'resona: error: no input device matches "x"',
  ]) {
    assert.equal(isLibraryNoise(l), false, l);
  }
});

test('the log lives in the per-user state folder, or under RESONA_HOME', { timeout: 5000 }, () => {
  assert.equal(logsDir({}, 'linux', '/home/a'), '/home/a/.local/state/resona/logs');
  assert.equal(logsDir({ XDG_STATE_HOME: '/s' }, 'linux', '/home/a'), '/s/resona/logs');
  assert.equal(logsDir({ XDG_STATE_HOME: 'rel' }, 'linux', '/home/a'), '/home/a/.local/state/resona/logs');
  assert.equal(logsDir({}, 'darwin', '/Users/a'), '/Users/a/Library/Logs/Resona');
  assert.equal(logsDir({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32', 'C:\\Users\\a'), 'C:\\Users\\a\\AppData\\Local\\Resona\\logs');
  assert.equal(logsDir({ RESONA_HOME: '/r' }, 'linux', '/home/a'), '/r/logs');
});
