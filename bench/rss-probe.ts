// Loaded with `node --import` into a process the convert benchmark measures: at exit it writes the process's
// peak resident memory to stderr. The kernel keeps the peak (getrusage's ru_maxrss), so nothing needs to
// sample the process while it runs and a short spike just before exit is not missed.
import { writeSync } from 'node:fs';

// convert-speed.ts looks for this tag; it is not imported from here, since importing this module installs the hook.
process.on('exit', () => {
  writeSync(2, `\nresona-bench peak-rss-kb ${process.resourceUsage().maxRSS}\n`);
});
