// Device names a person recognises, with the technical name kept where a name match needs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceLabel, pulseLabel, VIRTUAL_MIC_LABEL } from '../../host/live/device-names.js';
import { formatCatalogue, resolveDevice } from '../../host/live/devices.js';
import type { AudioDeviceInfo } from '../../protocol/devices.js';

const dev = (id: number, name: string): AudioDeviceInfo => ({
  id, name, hostApi: 'ALSA', maxInputChannels: 2, maxOutputChannels: 2, defaultSampleRate: 48000, sampleRates: [48000], defaultLowInputLatencySec: 0.01, defaultLowOutputLatencySec: 0.01,
});

test('ALSA plugin names become what they stand for; card names stay', { timeout: 5000 }, () => {
  assert.equal(deviceLabel(dev(0, 'pulse')), 'PulseAudio sound server');
  assert.equal(deviceLabel(dev(1, 'default')), 'System default device');
  assert.equal(deviceLabel(dev(2, 'HDA Intel PCH: ALC892 Analog (hw:0,0)')), 'HDA Intel PCH: ALC892 Analog (hw:0,0)');
});

test('the virtual microphone is labelled as what to pick in Discord or OBS; others by their description', { timeout: 5000 }, () => {
  assert.match(pulseLabel({ kind: 'source', name: 'resona_vmic', description: 'Resona Virtual Microphone', sampleRate: 48000, channels: 1 }), /^Resona Virtual Microphone \(pick it as the microphone in Discord or OBS\)$/);
  assert.equal(VIRTUAL_MIC_LABEL.startsWith('Resona Virtual Microphone'), true);
  assert.equal(pulseLabel({ kind: 'sink', name: 'alsa_output.pci-0000_00_1f.3.analog-stereo', description: 'Built-in Audio Analog Stereo', sampleRate: 48000, channels: 2 }), 'Built-in Audio Analog Stereo');
});

test('resona devices lists real microphones before monitors, description first, and says what to pick', { timeout: 5000 }, () => {
  const text = formatCatalogue({
    devices: [dev(0, 'pulse')],
    pulseServer: 'pulseaudio 16.1',
    pulse: [
      { kind: 'source', name: 'out.monitor', description: 'Monitor of Speakers', sampleRate: 48000, channels: 2, monitorOf: 'out' },
      { kind: 'source', name: 'usb_mic', description: 'USB Microphone', sampleRate: 48000, channels: 1 },
    ],
  });
  assert.match(text, /0  PulseAudio sound server \(pulse\) /);
  assert.ok(text.indexOf('USB Microphone') < text.indexOf('Monitor of Speakers'), text);
  assert.match(text, /USB Microphone +pulse:usb_mic /);
  assert.doesNotMatch(text, /Monitor of Speakers \(monitor\)/);
  assert.match(text, /in Discord or OBS choose "Resona Virtual Microphone" as the microphone/);
});

test('a chosen device is labelled as the listing names it (what `live:` prints and the UI shows), never "default" or "pulse"', { timeout: 5000 }, () => {
  const cat = { devices: [dev(0, 'pulse'), dev(1, 'default'), dev(2, 'USB Audio: Mic (hw:1,0)')], pulseServer: null, pulse: [] };
  const byDefault = resolveDevice(undefined, 'input', cat);
  assert.equal(byDefault.label, 'System default device');
  // The backend's name stays: a device that left is found again by it.
  assert.equal(byDefault.backendName, 'default');
  assert.equal(resolveDevice('0', 'output', cat).label, 'PulseAudio sound server');
  assert.equal(resolveDevice('pulse', 'output', cat).label, 'PulseAudio sound server');
  assert.equal(resolveDevice('usb', 'input', cat).label, 'USB Audio: Mic (hw:1,0)');
});
