// What the audio libraries print on their own: ALSA's and JACK's probing while PortAudio enumerates devices,
// and naudiodon's printf()s. They write straight to file descriptors 1 and 2 from native code, so only the
// process around Resona (cli/quiet-child.ts) can see them; these patterns decide which of those lines go to
// the log only. A line matched by none is shown, so a crash report from Node or a library is never hidden.
const PATTERNS: readonly RegExp[] = [
  // ALSA's error handler (alsa-lib, including the pulse plugin): "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) …"
  /^ALSA lib /,
  // alsa-lib's snd_pcm_recover() on an xrun ("underrun occurred"), without the "ALSA lib" prefix when the pulse
  // plugin's stream recovers: seen mid-run on a loaded machine, where it broke the status line.
  /^(underrun|overrun) occurred$/,
  // JACK's client library, tried by PortAudio on every listing when no JACK server runs.
  /^Cannot connect to server (socket|request channel)/,
  /^jack server is not running or cannot be started/,
  /^JackShm/,
  /^Jack[A-Z]\w*::/,
  /^connect\(2\) call to \/dev\/shm\/jack/,
  /^attempt to connect to server failed/,
  // PortAudio's own diagnostics (ALSA host API).
  /^Expression '.*' failed in '.*pa_\w+\.c'/,
  /^PaAlsa/,
  // naudiodon's printf()s (src/*.cc).
  /^PortAudio V\d/,
  /^(Input|Output) audio options: /,
  /^(Input|Output) device name is /,
  /^AudioIO: /,
  /^Finishing (input|output) - \d+ bytes/,
  /^Unexpected N-API status not OK/,
  /^NAPI (error in file|pending exception)/,
  /^PaCallback output /,
  /^Received status OK\.$/,
  /^Tidying carrier /,
  // Dawn (onnxruntime-node's WebGPU provider) while it looks for a GPU adapter: the Vulkan loader's and Dawn's
  // warnings ("Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.", " - While initializing adapter …",
  // "    at InitializeImpl (…/dawn-src/…)"). Resona says once, in words, whether WebGPU runs and why not.
  /^Warning: (Vulkan |Couldn't load Vulkan|loader_|vkCreateInstance|vkEnumerate)/,
  /^ - While (initializing adapter|calling)/,
  /^\s+at \w+ \(.*dawn/,
];

export function isLibraryNoise(line: string): boolean {
  const l = line.trimEnd();
  return l === '' || PATTERNS.some((p) => p.test(l));
}
