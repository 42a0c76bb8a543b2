// `resona devices`: input and output devices per host API with their rates, PulseAudio's sinks and
// sources, and which virtual cable to pick on Windows and macOS.
import { listDevicesText } from '../host/live/list-devices.js';
import { parse, VERBOSE_OPTION, VERBOSE_USAGE } from './args.js';

export const DEVICES_USAGE = `usage: resona devices [--json] [--verbose]
Lists audio devices by host API (with sample rates), PulseAudio sinks and sources (usable as pulse:<name>),
and any virtual cable (VB-CABLE, BlackHole) with which end to choose where.
${VERBOSE_USAGE}`;

export async function devicesCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' }, ...VERBOSE_OPTION, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(DEVICES_USAGE);
    return 0;
  }
  try {
    console.log(await listDevicesText(Boolean(values.json)));
    return 0;
  } catch (e) {
    console.error(`resona: error: could not list audio devices: ${(e as Error).message}`);
    return 1;
  }
}
