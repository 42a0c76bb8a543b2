// Beside a voice's shallow-diffusion knobs: what the setting costs per block, now and with the value being
// typed, as the Latency panel previews a block size before it is applied. The figures scale the running
// voice's measured diffusion stage (protocol/stage-preview.ts); before it runs, the pass counts alone.
// Drawn for any voice whose parameter list has the diffusion settings: the data says so, not the family.
import { useRef } from 'react';
import { latencyPreview } from '../../../protocol/control.js';
import type { EngineSettings } from '../../../protocol/settings.js';
import { describeDiffusionPreview, diffusionPreview, DIFFUSION_STAGE, type DiffusionSettings } from '../../../protocol/stage-preview.js';
import type { StageReport } from '../../../protocol/runtime.js';
import type { VoiceParam } from '../../../protocol/voice-params.js';
import type { UiState } from '../store.js';

export const DIFFUSION_KEYS: readonly (keyof DiffusionSettings)[] = ['diffusion', 'kStep', 'speedup', 'diffusionMethod'];

/** The id of the voice's last diffusion parameter (the preview goes under it), or null when it has none. */
export function lastDiffusionParam(params: readonly VoiceParam[]): VoiceParam['id'] | null {
  if (!DIFFUSION_KEYS.every((k) => params.some((p) => p.id === k))) return null;
  return [...params].reverse().find((p) => (DIFFUSION_KEYS as readonly string[]).includes(p.id))!.id;
}

export function DiffusionCost({ ui, settings, draft }: { ui: UiState; settings: EngineSettings; draft: Partial<DiffusionSettings> }) {
  const t = ui.telemetry;
  // Only this voice's own measurements scale: another voice's stages, or a stopped one's last figures, would mislead.
  const running = Boolean(ui.host?.running && t && t.state === 'running' && !t.bypass && t.voice === ui.host.selection.voice);
  // The last block whose denoiser was timed, kept while the input is gated silent (0 ms) or diffusion is off, so
  // the figure does not vanish at every pause; only while this voice keeps running.
  const timed = useRef<{ voice: string; stages: readonly StageReport[]; processMs: number } | null>(null);
  if (!running) timed.current = null;
  else {
    const d = t!.stages.find((x) => x.name === DIFFUSION_STAGE);
    if (d && d.calls > 0 && d.ms > 0) timed.current = { voice: t!.voice, stages: t!.stages, processMs: t!.blockMs };
    else if (timed.current?.voice !== t!.voice) timed.current = null;
  }
  const use = timed.current ?? (running ? { stages: t!.stages, processMs: t!.blockMs } : null);
  const p = diffusionPreview({
    stages: use ? use.stages : null,
    ...(use ? { processMs: use.processMs } : {}),
    blockMs: latencyPreview(settings).blockMs,
    now: settings,
    draft: { ...settings, ...draft },
  });
  const last = p.changed ? p.next : p.now;
  const bad = Boolean(p.refused) || Boolean(last?.tooSlow);
  return (
    <p className={`cost${bad ? ' worse' : ''}`} data-testid="diffusion-preview" title="ms: the diffusion stage per block (measured ms per denoiser pass × passes); %: the whole voice's time per block over the block's length (above 90 % it falls behind)">
      {describeDiffusionPreview(p)}
    </p>
  );
}
