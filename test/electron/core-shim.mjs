// Runs dist-electron/core.js under plain Node: Electron's process.parentPort is stood in for by
// the child-process IPC channel (the one piece of Electron the core uses).
import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';

const port = new EventEmitter();
port.postMessage = (m) => process.send(m);
process.on('message', (d) => port.emit('message', { data: d }));
process.parentPort = port;
await import(pathToFileURL(process.argv[2]).href);
