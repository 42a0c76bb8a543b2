// The device list the UI offers (PortAudio devices, PulseAudio sinks and sources, the built-in virtual
// microphone) and the loopback a latency measurement can use. PortAudio is asked only while no session holds
// the audio worker (one may exist at a time); during a session the last list stands.
import type { DeviceChoice, DeviceList, Selection } from '../../protocol/control.js';
import { VIRTUAL_MIC } from '../../protocol/devices.js';
import { listPulse, pulseServer } from '../../native-audio/pulse.js';
import { AudioIO } from '../../native-audio/audio-io.js';
import { RequestError } from './errors.js';

export const VIRTUAL_OUTPUT = 'virtual';

export class DeviceDirectory {
  private portAudio: DeviceChoice[] | null = null;

  get listed(): boolean {
    return this.portAudio !== null;
  }

  async list(sessionOpen: boolean): Promise<DeviceList> {
    const inputs: DeviceChoice[] = [{ spec: '', label: 'System default' }];
    const outputs: DeviceChoice[] = [{ spec: '', label: 'System default' }];
    const hasPulse = (await pulseServer()) !== null;
    if (hasPulse) outputs.unshift({ spec: VIRTUAL_OUTPUT, label: `${VIRTUAL_MIC.description} (built in)` });
    if (!sessionOpen) {
      const audio = AudioIO.start();
      try {
        const devs = await audio.listDevices();
        this.portAudio = devs.flatMap((d) => [
          ...(d.maxInputChannels > 0 ? [{ spec: String(d.id), label: `${d.name} (input)` }] : []),
          ...(d.maxOutputChannels > 0 ? [{ spec: String(d.id), label: `${d.name} (output)` }] : []),
        ]);
      } finally {
        await audio.stop();
      }
    }
    for (const c of this.portAudio ?? []) (c.label.endsWith('(input)') ? inputs : outputs).push({ spec: c.spec, label: c.label.replace(/ \((input|output)\)$/, '') });
    if (hasPulse) {
      for (const e of await listPulse()) {
        if (e.name.startsWith(VIRTUAL_MIC.sinkName) || e.name === VIRTUAL_MIC.sourceName) continue;
        (e.kind === 'source' ? inputs : outputs).push({ spec: `pulse:${e.name}`, label: `${e.description} (pulse:${e.name})` });
      }
    }
    return { inputs, outputs, virtualMic: hasPulse };
  }


  /**
   * The loopback a latency measurement needs: a capture stream that hears the output (the virtual microphone,
   * or a PulseAudio output's monitor) and, when the input is a PulseAudio sink's monitor, clicks played into
   * that sink. Anything else needs the user to connect something, and the error says what.
   */
  loopback(devices: Selection['devices']): { capture: string; click?: string } {
    const out = devices.output;
    const capture = out === VIRTUAL_OUTPUT ? `pulse:${VIRTUAL_MIC.sourceName}` : out?.startsWith('pulse:') ? `${out}.monitor` : null;
    const input = devices.input;
    const click = input?.startsWith('pulse:') && input.endsWith('.monitor') ? input.slice(0, -'.monitor'.length) : null;
    if (!capture || !click) {
      throw new RequestError(
        'no loopback to time clicks through: measuring needs an input that hears the output (route the virtual microphone or the output into the input with a cable or PulseAudio loopback), or use `resona live --measure-latency --latency-capture <dev> --latency-click <dev>`',
        'latency',
      );
    }
    return { capture, click };
  }
}
