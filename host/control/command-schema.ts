// The one check of what a client may send: a request's envelope and every command's arguments, built from
// the protocol's command list so a new command cannot go unchecked. Whatever arrives (JSON from a WebSocket,
// a structured clone over Electron's IPC) is read by its own properties only, and any key a command does not
// take is refused by name, so nothing inherited (toString, __proto__) can pass for a setting or an argument.
import { z } from 'zod';
import { PROVIDER_CHOICES, THREAD_RANGE } from '../../protocol/runtime.js';
import { COMMAND_NAMES, type CommandName, type ControlCommands, F0_METHODS, isCommandName } from '../../protocol/control.js';
import { DEFAULT_SETTINGS, type EngineSettings, mergeSettings, SETTING_RANGES, SettingError } from '../../protocol/settings.js';
import { RequestError } from './errors.js';

/** A copy holding only the value's own enumerable properties (non-objects pass through for zod to refuse). */
function ownProperties(x: unknown): unknown {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return x;
  // fromEntries defines each key as an own data property: a "__proto__" key stays a key, never a prototype.
  return Object.fromEntries(Object.entries(x));
}

function args<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.preprocess((x) => ownProperties(x ?? {}), z.strictObject(shape, { error: 'the arguments must be an object' }));
}

const nonEmpty = (what: string) => z.string({ error: `${what} must be a non-empty string` }).min(1, { error: `${what} must be a non-empty string` });
const finite = (what: string) => z.number({ error: `${what} must be a number` });
// Checked in full (trimmed, length, control characters) by the preset store; here only its type and a bound.
const presetName = z.string({ error: 'the preset name must be a string' }).max(200, { error: 'a preset name may have at most 40 characters' });
const role = z.enum(['input', 'output', 'monitor'], { error: 'device role must be input, output or monitor' });

/**
 * A settings update: known keys, numbers in range. The ranges and their messages are protocol/settings.ts's
 * (mergeSettings over the defaults checks every given key), so they are stated once.
 */
const settings = z.preprocess(
  ownProperties,
  // A custom check, not z.record: a record's output is rebuilt by assignment, where a "__proto__" key would
  // vanish instead of being refused.
  z.custom<Record<string, unknown>>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), { error: 'settings must be an object of setting: number' }).transform((s, ctx) => {
    const out: Partial<EngineSettings> = {};
    for (const [key, value] of Object.entries(s)) {
      if (Object.hasOwn(SETTING_RANGES, key) && value !== undefined && typeof value !== 'number') {
        // Named here rather than printed by the range check: a deeply nested list would overflow the stack
        // on its way to a string, and a long string would fill the message.
        ctx.addIssue({ code: 'custom', path: [key], message: `${SETTING_RANGES[key as keyof EngineSettings].description} must be a number (got ${kindOf(value)})` });
        continue;
      }
      try {
        mergeSettings(DEFAULT_SETTINGS, { [key]: value });
      } catch (e) {
        if (!(e instanceof SettingError)) throw e;
        ctx.addIssue({ code: 'custom', path: [key], message: e.message });
        continue;
      }
      if (value !== undefined) out[key as keyof EngineSettings] = value as number;
    }
    return out;
  }),
);

function kindOf(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'a list';
  if (typeof x === 'object') return 'an object';
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  return String(x);
}

type ArgsSchemas = { [C in CommandName]: z.ZodType<ControlCommands[C]['args']> };

const none = args({}) as unknown as z.ZodType<Record<string, never>>;

export const COMMAND_SCHEMAS: ArgsSchemas = {
  getState: none,
  start: none,
  stop: none,
  setSettings: args({ settings }),
  setF0Method: args({ method: z.enum(F0_METHODS, { error: `unknown f0 method: choose ${F0_METHODS.join(', ')}` }) }),
  setVoice: args({ voice: nonEmpty('voice') }),
  importVoice: args({ name: nonEmpty('file'), dataBase64: z.string({ error: 'dataBase64 must be a base64 string' }).optional(), path: nonEmpty('path').optional() })
    .refine((a) => (a.dataBase64 === undefined) !== (a.path === undefined), { error: 'importVoice needs the file (dataBase64) or its path, one of them' }),
  setDevice: args({ role, spec: z.string({ error: 'spec must be a device name or null' }).nullable() }),
  setGain: args({ role, db: finite('gain') }),
  setBypass: args({ on: z.boolean({ error: 'on must be true or false' }) }),
  setMute: args({ on: z.boolean({ error: 'on must be true or false' }) }),
  setNoiseSuppression: args({ on: z.boolean({ error: 'on must be true or false' }) }),
  startRecording: none,
  stopRecording: none,
  measureLatency: args({ capture: nonEmpty('capture').optional(), click: nonEmpty('click').optional() }),
  setRuntime: args({
    provider: z.enum(PROVIDER_CHOICES, { error: `unknown provider: choose ${PROVIDER_CHOICES.join(', ')}` }).optional(),
    threads: z.number({ error: 'threads must be a number' }).int({ error: 'threads must be a whole number' })
      .min(THREAD_RANGE.min, { error: `threads must be ${THREAD_RANGE.min} to ${THREAD_RANGE.max}` })
      .max(THREAD_RANGE.max, { error: `threads must be ${THREAD_RANGE.min} to ${THREAD_RANGE.max}` }).optional(),
  }),
  setFallback: args({ fallback: z.enum(['silence', 'dry'], { error: 'fallback must be "silence" or "dry"' }) }),
  listDevices: none,
  listVoices: none,
  nudgePitch: args({ by: finite('pitch step') }),
  stepVoice: args({ by: z.union([z.literal(1), z.literal(-1)], { error: 'by must be 1 or -1' }) }),
  renderPreview: args({ voice: nonEmpty('voice') }),
  setFavourite: args({ voice: nonEmpty('voice'), on: z.boolean({ error: 'on must be true or false' }) }),
  savePreset: args({ name: presetName }),
  applyPreset: args({ name: presetName }),
  deletePreset: args({ name: presetName }),
  listModels: none,
  downloadModel: args({ id: nonEmpty('model id'), allowUnverified: z.boolean({ error: 'allowUnverified must be true or false' }).optional() }),
};

/** The UI field a command's argument errors belong to (the settings name their own key). */
function fieldOf(cmd: CommandName, arg: string | undefined, raw: unknown): string | undefined {
  switch (cmd) {
    case 'importVoice':
      return 'file';
    case 'setF0Method':
      return 'f0Method';
    case 'setFallback':
      return 'fallback';
    case 'setRuntime':
      return arg === 'threads' ? 'threads' : 'provider';
    case 'measureLatency':
      return 'latency';
    case 'nudgePitch':
      return 'pitch';
    case 'savePreset':
    case 'applyPreset':
    case 'deletePreset':
      return 'presetName';
    case 'setGain': {
      const r = (ownProperties(raw) as { role?: unknown } | null)?.role;
      return arg === 'db' && role.safeParse(r).success ? `${r as string}Gain` : arg;
    }
    default:
      return arg;
  }
}

function toUserError(cmd: CommandName, issue: z.core.$ZodIssue, raw: unknown): Error {
  const [first, second] = issue.path.map(String);
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  if (first === 'settings') {
    if (second !== undefined) return new SettingError(second, issue.message);
    if (unknownKey !== undefined) return new SettingError(unknownKey, `unknown setting "${unknownKey}": the settings are ${Object.keys(SETTING_RANGES).join(', ')}`);
    return new RequestError(issue.message, 'settings');
  }
  if (unknownKey !== undefined) {
    const takes = Object.keys((COMMAND_SCHEMAS[cmd] as unknown as { out: { shape: object } }).out.shape);
    return new RequestError(`${cmd} takes no argument "${unknownKey}": ${takes.length ? `it takes ${takes.join(', ')}` : 'it takes none'}`, unknownKey);
  }
  return new RequestError(first === undefined && issue.code !== 'custom' ? `${cmd}: ${issue.message}` : issue.message, fieldOf(cmd, first, raw));
}

/** A command's arguments, checked; a UserError (RequestError, SettingError) says what was wrong and what to send. */
export function parseArgs<C extends CommandName>(cmd: C, raw: unknown): ControlCommands[C]['args'] {
  const r = (COMMAND_SCHEMAS[cmd] as z.ZodType<ControlCommands[C]['args']>).safeParse(raw);
  if (r.success) return r.data;
  // An argument the command does not take explains more than the missing one it was probably meant as.
  const issues = r.error.issues;
  throw toUserError(cmd, issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!, raw);
}

export interface Envelope {
  id: number;
  cmd: CommandName;
  args: unknown;
}

/** A request that cannot be run; `id` is set when the request carried a usable one (the answer goes to it). */
export class EnvelopeError extends RequestError {
  override name = 'EnvelopeError';
  constructor(
    message: string,
    readonly id: number | null,
  ) {
    super(message);
  }
}

const envelope = z.preprocess(
  ownProperties,
  z.strictObject(
    {
      id: z.number({ error: 'id must be a whole number' }).int({ error: 'id must be a whole number' }),
      cmd: z.string({ error: 'cmd must be a command name' }),
      args: z.unknown().optional(),
    },
    { error: 'a message must be a JSON object {id, cmd, args}' },
  ),
);

/** Checks a request's envelope (already parsed from JSON); the arguments are checked by parseArgs. */
export function parseEnvelope(raw: unknown): Envelope {
  const r = envelope.safeParse(raw);
  const own = ownProperties(raw) as { id?: unknown } | null;
  const id = own && typeof own === 'object' && Number.isInteger(own.id) ? (own.id as number) : null;
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const message = issue.code === 'unrecognized_keys'
      ? `a request has no field "${issue.keys[0]}": send {id, cmd, args}`
      : issue.message;
    throw new EnvelopeError(message, id);
  }
  if (!isCommandName(r.data.cmd)) {
    const shown = r.data.cmd.length > 40 ? `${r.data.cmd.slice(0, 40)}…` : r.data.cmd;
    throw new EnvelopeError(`unknown command "${shown}": the commands are ${COMMAND_NAMES.join(', ')}`, r.data.id);
  }
  return { id: r.data.id, cmd: r.data.cmd, args: r.data.args ?? {} };
}
