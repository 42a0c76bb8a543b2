// Device following, in one place: the devices chosen per role, opening them, and what happens when a stream
// stops. A stream that stops while its device still exists stalled (a busy machine, a server hiccup): it is
// reopened at once and counted as a stall, never reported as lost. A device that is really gone (PulseAudio
// says it was removed, or it is no longer listed) is reported once and reopened when it returns (PulseAudio
// events, or a poll by name for other backends) or when the user chooses another.
import type { ResolvedDevice } from '../../protocol/devices.js';
import type { LiveEvent } from '../../protocol/telemetry.js';
import type { AudioIO } from '../../native-audio/audio-io.js';
import type { StreamRole } from '../../native-audio/messages.js';
import { listPulse, PulseWatcher } from '../../native-audio/pulse.js';
import { type DeviceCatalogue, DeviceError, readCatalogue, resolveDevice, routingEnv } from './devices.js';

export interface Chosen {
  role: StreamRole;
  dir: 'input' | 'output';
  device: ResolvedDevice;
  rate: number;
}

/** Stalls of one role within this window are taken for a wedged stream, and the role waits longer to reopen. */
const STALL_WINDOW_MS = 10_000;

export class DeviceFollower {
  readonly chosen = new Map<StreamRole, Chosen>();
  readonly missing = new Set<StreamRole>();
  private watcher: PulseWatcher | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly reopening = new Set<StreamRole>();
  private readonly lastStall = new Map<StreamRole, number>();
  /** Streams that stopped on a device that was still there, reopened (counted for telemetry). */
  stalls = 0;

  constructor(
    private readonly audio: AudioIO,
    public catalogue: DeviceCatalogue,
    private readonly bufferFrames: number,
    private readonly rates: { input: number; output: number },
    private readonly emit: (kind: LiveEvent['kind'], message: string) => void,
  ) {
    audio.onStreamError((e) => void this.onStreamStopped(e.role, `${e.label}: ${e.message}`));
  }

  async refresh(): Promise<DeviceCatalogue> {
    this.catalogue = await readCatalogue(this.audio);
    return this.catalogue;
  }

  choose(role: StreamRole, dir: 'input' | 'output', device: ResolvedDevice): Chosen {
    const c: Chosen = { role, dir, device, rate: dir === 'input' ? this.rates.input : this.rates.output };
    this.chosen.set(role, c);
    return c;
  }

  async open(c: Chosen, initial: boolean): Promise<void> {
    const env = routingEnv(c.device, c.dir);
    try {
      await this.audio.open({ role: c.role, deviceId: c.device.id, label: c.device.label, sampleRate: c.rate, bufferFrames: this.bufferFrames, ...(env ? { env } : {}) });
      this.missing.delete(c.role);
    } catch (e) {
      const msg = (e as Error).message;
      const busy = /unavailable|busy|Device unavailable/i.test(msg) ? ' (is another program using it exclusively?)' : '';
      if (initial) throw new DeviceError(`could not open ${c.role} device "${c.device.label}": ${msg}${busy}`);
      throw e;
    }
  }

  /** Whether the chosen device is still on the system (PulseAudio by name, others in PortAudio's list). */
  private async stillThere(c: Chosen): Promise<boolean> {
    try {
      if (c.device.pulseName) {
        const kind = c.dir === 'output' ? 'sink' : 'source';
        return (await listPulse()).some((e) => e.kind === kind && e.name === c.device.pulseName);
      }
      return (await readCatalogue(this.audio)).devices.some((d) => d.name === c.device.backendName);
    } catch {
      return false;
    }
  }

  private async onStreamStopped(role: StreamRole, why: string): Promise<void> {
    const c = this.chosen.get(role);
    if (this.stopped || !c || this.missing.has(role) || this.reopening.has(role)) return;
    this.reopening.add(role);
    try {
      await this.audio.close(role).catch(() => undefined);
      if (await this.stillThere(c)) {
        this.stalls++;
        const now = Date.now();
        const again = now - (this.lastStall.get(role) ?? 0) < STALL_WINDOW_MS;
        this.lastStall.set(role, now);
        if (again) await new Promise((r) => setTimeout(r, 500));
        if (this.stopped || this.chosen.get(role) !== c) return;
        try {
          await this.open(c, false);
          this.emit('warning', `${role} stream stalled (${why}) while the device was still there (a busy machine?); reopened it`);
          return;
        } catch {
          /* fall through: treat as lost, followed like any lost device */
        }
      }
      this.lost(c, why);
    } finally {
      this.reopening.delete(role);
    }
  }

  private lost(c: Chosen, why: string): void {
    if (this.missing.has(c.role)) return;
    this.missing.add(c.role);
    this.emit('device-lost', `${c.role} device lost (${why}); it resumes when the device returns or another is chosen`);
    void this.audio.close(c.role).catch(() => undefined);
  }

  /** PulseAudio devices are followed by events; others are polled by name once a second while missing. */
  async watch(): Promise<void> {
    if (!this.watcher && this.catalogue.pulseServer && [...this.chosen.values()].some((c) => c.device.pulseName)) {
      this.watcher = await PulseWatcher.start();
      this.watcher.on('removed', (kind: string, name: string) => {
        for (const c of this.chosen.values()) {
          if (c.device.pulseName === name && (kind === 'sink') === (c.dir === 'output')) this.lost(c, `PulseAudio ${kind} "${name}" was removed`);
        }
      });
      this.watcher.on('added', (kind: string, name: string) => {
        for (const c of this.chosen.values()) {
          if (c.device.pulseName === name && this.missing.has(c.role) && (kind === 'sink') === (c.dir === 'output')) void this.reopen(c);
        }
      });
    }
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.pollMissing(), 1000);
      this.pollTimer.unref();
    }
  }

  private async pollMissing(): Promise<void> {
    for (const role of this.missing) {
      const c = this.chosen.get(role);
      if (!c) continue;
      if (c.device.pulseName) {
        // Events bring PulseAudio devices back; a stream that died on a device that never left is reopened here.
        if (await this.stillThere(c)) await this.reopen(c);
        continue;
      }
      try {
        const cat = await readCatalogue(this.audio);
        const again = cat.devices.find((d) => d.name === c.device.backendName);
        if (again) await this.reopen({ ...c, device: { ...c.device, id: again.id } });
      } catch {
        // still gone
      }
    }
  }

  private async reopen(c: Chosen): Promise<void> {
    if (this.reopening.has(c.role)) return;
    this.reopening.add(c.role);
    try {
      await this.open(c, false);
      this.chosen.set(c.role, c);
      this.emit('device-back', `${c.role} device "${c.device.label}" is back; ${c.role} resumed`);
    } catch (e) {
      this.emit('warning', `${c.role} device "${c.device.label}" could not be reopened: ${(e as Error).message}`);
    } finally {
      this.reopening.delete(c.role);
    }
  }

  /** Chooses another device for a role (output, input or monitor; null closes the monitor). */
  async setDevice(role: 'input' | 'output' | 'monitor', spec: string | null): Promise<void> {
    if (spec === null) {
      if (role !== 'monitor') throw new DeviceError(`the ${role} cannot be turned off; choose another device`);
      this.chosen.delete('monitor');
      this.missing.delete('monitor');
      await this.audio.close('monitor');
      return;
    }
    await this.refresh();
    const dir = role === 'input' ? 'input' : 'output';
    const device = resolveDevice(spec, dir, this.catalogue);
    const c: Chosen = { role, dir, device, rate: dir === 'input' ? this.rates.input : this.rates.output };
    await this.open(c, true);
    this.chosen.set(role, c);
    await this.watch();
  }

  stop(): void {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.watcher?.stop();
  }
}
