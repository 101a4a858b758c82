/**
 * The preload (sandboxed, context-isolated): exposes `window.chimera`, one typed function per
 * contract channel, and nothing else. Built to CommonJS (sandboxed preloads cannot be ESM).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { buildBridge } from './bridge.ts';

contextBridge.exposeInMainWorld('chimera', buildBridge(ipcRenderer));
