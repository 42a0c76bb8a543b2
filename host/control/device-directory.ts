// The device list the UI offers (PortAudio devices, PulseAudio sinks and sources, the built-in virtual
// microphone) and the loopback a latency measurement can use. PortAudio is asked only while no session holds
// the audio worker (one may exist at a time); during a session the last list stands.
import type { DeviceChoice, DeviceList, Selection } from '../../protocol/control.js';
import { VIRTUAL_MIC } from '../../protocol/devices.js';
import { listPulse, pulseServer } from '../../native-audio/pulse.js';
import { AudioIO } from '../../native-audio/audio-io.js';
import { deviceLabel, pulseLabel } from '../live/device-names.js';
import { RequestError } from './errors.js';

export const VIRTUAL_OUTPUT = 'virtual';

export class DeviceDirectory {
  private portAudio: (DeviceChoice & { dir: 'input' | 'output' })[] | null = null;

  get listed(): boolean {
    return this.portAudio !== null;
  }

  async list(sessionOpen: boolean): Promise<DeviceList> {
    const inputs: DeviceChoice[] = [{ spec: '', label: 'System default' }];
    const outputs: DeviceChoice[] = [{ spec: '', label: 'System default' }];
    const hasPulse = (await pulseServer()) !== null;
    // Labelled with the name other apps show, which is the one to pick there.
    if (hasPulse) outputs.unshift({ spec: VIRTUAL_OUTPUT, label: VIRTUAL_MIC.description, detail: `built in: Discord or OBS pick "${VIRTUAL_MIC.description}" as their microphone` });
    if (!sessionOpen) {
      const audio = AudioIO.start();
      try {
        const devs = await audio.listDevices();
        this.portAudio = devs.flatMap((d) => {
          const c = { spec: String(d.id), label: deviceLabel(d), detail: `${d.hostApi} device ${d.id}: ${d.name}` };
          return [...(d.maxInputChannels > 0 ? [{ ...c, dir: 'input' as const }] : []), ...(d.maxOutputChannels > 0 ? [{ ...c, dir: 'output' as const }] : [])];
        });
      } finally {
        await audio.stop();
      }
    }
    for (const { dir, ...c } of this.portAudio ?? []) (dir === 'input' ? inputs : outputs).push(c);
    if (hasPulse) {
      for (const e of await listPulse()) {
        if (e.name.startsWith(VIRTUAL_MIC.sinkName) || e.name === VIRTUAL_MIC.sourceName) continue;
        (e.kind === 'source' ? inputs : outputs).push({ spec: `pulse:${e.name}`, label: pulseLabel(e), detail: `pulse:${e.name}` });
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
