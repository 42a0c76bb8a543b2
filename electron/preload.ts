// The preload: the renderer's only door to the engine. Sandboxed (no Node), it exposes one frozen object
// built from PRELOAD_METHODS: each command forwards over IPC by name, and onEvent subscribes to host
// events; the renderer never gets ipcRenderer itself. Bundled to CommonJS (a sandboxed preload can
// require only 'electron').
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { HostEvent, PreloadApi } from '../protocol/control.js';
import { IPC_CALL, IPC_EVENT, PRELOAD_METHODS } from './preload-methods.js';

const api: Record<string, unknown> = {};
for (const name of PRELOAD_METHODS) {
  api[name] =
    name === 'onEvent'
      ? (listener: (e: HostEvent) => void) => {
          if (typeof listener === 'function') ipcRenderer.on(IPC_EVENT, (_e: IpcRendererEvent, ev: HostEvent) => listener(ev));
        }
      : (args: unknown) => ipcRenderer.invoke(IPC_CALL, name, args ?? {});
}

// Built by name from the list; the type says the list covers every command the renderer may call.
const typed = api as unknown as PreloadApi;
contextBridge.exposeInMainWorld('resona', Object.freeze(typed));
