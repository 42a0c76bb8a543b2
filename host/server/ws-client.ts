// One WebSocket client: its messages are taken in at a bounded rate, each checked (JSON, the request's
// envelope, the size its command may have) before it reaches the control API, and every problem is answered
// as a protocol error on that connection. Nothing a client sends can throw out of here.
import type { RawData, WebSocket } from 'ws';
import type { HostEvent, ServerMessage } from '../../protocol/control.js';
import { EnvelopeError, parseEnvelope } from '../control/command-schema.js';
import type { ControlApi } from '../control/control-api.js';
import { logInternal, toControlError } from '../control/errors.js';
import { RateGate, type RateLimit } from './rate.js';

/** Every command but an import is a few hundred bytes; 64 KiB leaves room for any settings object. */
export const MAX_COMMAND_BYTES = 64 * 1024;

/**
 * importVoice carries the voice file as base64 (4/3 of its size). The largest single-file RVC voice is an
 * fp32 ONNX export of the v2 48 kHz generator, about 110 MB, which is 147 MB (140 MiB) as base64; its .pth
 * is about 55 MB (74 MB as base64). 160 MiB takes that ONNX with room for JSON and metadata (files up to
 * about 125 MB) and refuses more before a byte of it is decoded. A voice folder with a large retrieval index
 * is imported by path (the desktop app, the CLI) rather than uploaded.
 */
export const MAX_IMPORT_BYTES = 160 * 1024 * 1024;

/**
 * The UI sends at most one settings change per animation frame while a slider moves (about 60 a second) and
 * a handful of other commands; a script may send a few thousand at once. A burst of 2,000 is taken at once
 * (queued settings changes then merge into one), then 200 a second; beyond that the client waits.
 */
export const CLIENT_RATE: RateLimit = { perSecond: 200, burst: 2000, maxBacklog: 256, slice: 64 };

/** Commands sent and not yet answered, per client, before its messages stop being read. */
export const MAX_UNANSWERED = 4096;

/** Telemetry is dropped for a client that is not keeping up rather than queued without bound. */
const MAX_BUFFERED = 1 << 20;

export function serveClient(ws: WebSocket, api: ControlApi): void {
  // The client's lane in the control API: its commands take turns with other clients', one at a time.
  const lane = {};
  let unanswered = 0;
  let uploading = false;
  const send = (m: ServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  // Merged settings updates answer all their callers with one state object: it is serialised once.
  const serialised = new WeakMap<object, string>();
  const sendResult = (id: number, result: unknown) => {
    if (ws.readyState !== ws.OPEN) return;
    if (result === null || typeof result !== 'object') return send({ type: 'result', id, ok: true, result });
    let json = serialised.get(result);
    if (json === undefined) serialised.set(result, (json = JSON.stringify(result)));
    ws.send(`{"type":"result","id":${id},"ok":true,"result":${json}}`);
  };
  const off = api.onEvent((e: HostEvent) => {
    if (e.type === 'telemetry' && ws.bufferedAmount > MAX_BUFFERED) return;
    send(e);
  });
  const gate = new RateGate<{ data: RawData; binary: boolean }>(CLIENT_RATE, ws, (m) => take(m.data, m.binary), () => unanswered >= MAX_UNANSWERED);
  // A frame that breaks the protocol (bad UTF-8, over the size limit) makes ws close this connection itself;
  // the error concerns that client alone and must not become the server's.
  ws.on('error', () => undefined);
  ws.on('close', () => {
    off();
    gate.close();
  });
  ws.on('message', (data, binary) => gate.push({ data, binary }));

  function take(data: RawData, binary: boolean): void {
    let id: number | null = null;
    try {
      if (binary) throw new EnvelopeError('messages are JSON text, not binary frames', null);
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      const upload = bytes.length > MAX_COMMAND_BYTES;
      if (upload) {
        // Only an import may be this large; say so before spending a parse on up to 160 MiB of anything else.
        const head = sniff(bytes);
        id = head.id;
        const kib = Math.ceil(bytes.length / 1024);
        if (head.cmd !== 'importVoice') {
          throw new EnvelopeError(head.cmd
            ? `a ${head.cmd} message may be at most ${MAX_COMMAND_BYTES / 1024} KiB (this one was ${kib} KiB)`
            : `a message over ${MAX_COMMAND_BYTES / 1024} KiB must be an importVoice request with "cmd" ahead of its data (this one was ${kib} KiB)`, id);
        }
        if (uploading) throw new EnvelopeError('one voice upload at a time: wait for the one under way to finish', id);
      }
      let raw: unknown;
      try {
        raw = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new EnvelopeError('a message was not valid JSON', null);
      }
      const req = parseEnvelope(raw);
      id = req.id;
      if (upload && req.cmd !== 'importVoice') {
        throw new EnvelopeError(`a ${req.cmd} message may be at most ${MAX_COMMAND_BYTES / 1024} KiB (this one was ${Math.ceil(bytes.length / 1024)} KiB)`, req.id);
      }
      unanswered++;
      if (upload) uploading = true;
      const rid = req.id;
      api.call(req.cmd, req.args, lane)
        .then((r) => (r.ok ? sendResult(rid, r.result) : send({ type: 'result', id: rid, ok: false, error: r.error })))
        .catch(logInternal)
        .finally(() => {
          unanswered--;
          if (upload) uploading = false;
          gate.kick();
        });
    } catch (e) {
      const error = toControlError(e);
      const to = e instanceof EnvelopeError ? e.id : id;
      send(to === null ? { type: 'error', error } : { type: 'result', id: to, ok: false, error });
    }
  }

  send({ type: 'state', state: api.state() });
}

/** The id and command of a large message, read from its first KiB (clients send {"id", "cmd", "args"} in that order). */
function sniff(bytes: Buffer): { id: number | null; cmd: string | null } {
  const head = bytes.subarray(0, 1024).toString('latin1');
  const id = /"id"\s*:\s*(-?\d{1,15})\s*[,}]/.exec(head);
  const cmd = /"cmd"\s*:\s*"([A-Za-z]{1,40})"/.exec(head);
  return { id: id ? Number(id[1]) : null, cmd: cmd ? cmd[1]! : null };
}
