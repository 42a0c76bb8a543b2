// How much audio Resona takes in at once. A file is decoded whole (convert runs it through the engine in
// one pass), to float32, and convert holds three arrays of its length (input, live timeline, output).
//
// 2^28 samples is 1 GiB of float32: 101 minutes of mono at 44.1 kHz, 50 minutes of stereo; the whole
// convert then peaks near 3 GiB. Longer recordings are split first.
export const MAX_AUDIO_SAMPLES = 2 ** 28;

// A compressed file is read whole before its decoder runs. 512 MiB of FLAC is about 50 minutes of 96 kHz
// 24-bit stereo; MP3 and Ogg at the same size run to many hours, past MAX_AUDIO_SAMPLES anyway.
export const MAX_COMPRESSED_BYTES = 512 * 2 ** 20;
