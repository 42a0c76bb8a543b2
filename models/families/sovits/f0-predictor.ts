// The F0 decoder of a so-vits-svc voice trained with use_automatic_f0_prediction (its own small ONNX graph,
// models/torch/sovits-f0-decoder.ts), run on the synthesizer's own inputs just before it when the voice's
// "auto-predict f0" switch is on: it replaces the frames' f0 with the predicted one, as upstream's infer does
// with predict_f0 (both f0_emb and the NSF source then follow the prediction; uv stays the estimated one).
import { type LoadedSession, ReusableTensor } from '../../runtime.js';
import { SovitsFormError } from './forms.js';
import type { SovitsSynth } from './synthesizer.js';

/** The file an imported voice keeps its F0 decoder in. */
export const F0_DECODER_FILE = 'f0-decoder.onnx';

export class SovitsF0Predictor {
  private readonly sid = new ReusableTensor('int64', 1);

  constructor(readonly session: LoadedSession, file: string, vol: boolean) {
    const want = ['c', 'f0', 'mel2ph', 'uv', 'sid', ...(vol ? ['vol'] : [])];
    const got = session.inputNames;
    if (want.length !== got.length || !want.every((n) => got.includes(n)) || session.outputNames[0] !== 'f0_pred') {
      throw new SovitsFormError(`${file}: is not this voice's F0 decoder (inputs ${got.join(', ')}; expected ${want.join(', ')} → f0_pred); import the voice again`);
    }
  }

  /** Overwrites synth.f0[0, T) with the predicted f0 (the synthesizer's c, f0, uv, mel2ph and vol already filled). */
  async predict(synth: SovitsSynth, tSrc: number, T: number, speaker: number): Promise<void> {
    const feeds = synth.frameFeeds(tSrc, T);
    this.sid.data[0] = BigInt(speaker);
    feeds.sid = this.sid.view([1]);
    const out = await this.session.run(feeds);
    synth.f0.set((out.f0_pred!.data as Float32Array).subarray(0, T));
  }
}
