// The engine's state in one place, derived from what the host reports (its state and the telemetry), so the
// badge, the tab title and the alert banner can never disagree: a lost microphone is never a green "running".
import type { DeviceRole } from '../../protocol/control.js';
import type { UiState } from './store.js';

export type StatusKind = 'disconnected' | 'starting' | 'live' | 'muted' | 'bypass' | 'recovering' | 'device-lost' | 'stopped';

export interface Status {
  kind: StatusKind;
  /** The badge's text. While the voice converts it says "running" (tests and users read it). */
  badge: string;
  /** document.title */
  title: string;
  /** Devices that are chosen but gone (roles), while the devices are open. */
  lost: DeviceRole[];
  /** The engine is restarting after a failure: what goes out meanwhile. */
  recovering: 'silence' | 'dry' | null;
}

export const ROLE_NAMES: Record<DeviceRole, string> = { input: 'Microphone', output: 'Voice output', monitor: 'Monitor' };

const APP = 'Resona';

export function engineStatus(ui: UiState): Status {
  const h = ui.host;
  const t = ui.telemetry;
  const voice = h ? (h.voices.find((v) => v.id === h.selection.voice)?.name ?? h.selection.voice) : '';
  const lost = (t?.missing ?? []).filter((m): m is DeviceRole => m === 'input' || m === 'output' || m === 'monitor');
  const recovering = t?.state === 'recovering' ? 'silence' : t?.state === 'passthrough' ? 'dry' : null;
  const base = { lost, recovering } as const;
  if (!ui.connected) return { ...base, kind: 'disconnected', badge: 'disconnected', title: `Disconnected · ${APP}` };
  if (!h) return { ...base, kind: 'starting', badge: 'connecting…', title: APP };
  const busy = Boolean(h.busy || ui.pending.start || ui.pending.stop || ui.pending.setVoice);
  if (busy || t?.state === 'starting') return { ...base, kind: 'starting', badge: 'starting…', title: `Starting… — ${voice} · ${APP}` };
  if (h.running && recovering)
    return {
      ...base,
      kind: 'recovering',
      badge: recovering === 'dry' ? 'recovering · your own voice' : 'recovering · silent',
      title: `⚠ Recovering — ${voice} · ${APP}`,
    };
  if (lost.length) {
    const what = lost.map((r) => ROLE_NAMES[r].toLowerCase()).join(' and ');
    return { ...base, kind: 'device-lost', badge: `${what} lost`, title: `⚠ ${what[0]!.toUpperCase()}${what.slice(1)} lost — ${voice} · ${APP}` };
  }
  // Mute wins over bypass in the engine, so it does here: what goes out is silence.
  if (h.running && h.selection.muted) return { ...base, kind: 'muted', badge: 'running · MUTED', title: `🔇 Muted — ${voice} · ${APP}` };
  if (h.running && h.selection.bypass) return { ...base, kind: 'bypass', badge: 'running · BYPASS', title: `● Bypass — ${voice} · ${APP}` };
  if (h.running) return { ...base, kind: 'live', badge: 'running', title: `● Live — ${voice} · ${APP}` };
  // Stop keeps the devices and the virtual microphone open (silence goes out): say so, so nobody re-routes.
  return {
    ...base,
    kind: 'stopped',
    badge: h.devicesOpen ? 'stopped · virtual microphone kept (silent)' : 'stopped',
    title: `Stopped · ${APP}`,
  };
}
