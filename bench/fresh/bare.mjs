// Bare Node: the baseline that RSS growth and process cost are measured against. Loads what every side's fresh
// process loads from the bench itself (the config and the HTTP probe), and nothing else.
const boot = performance.now();

import "../lib/config.mjs";
import "../lib/probe.mjs";

process.stdout.write(`\n${JSON.stringify({ values: { rss: process.resourceUsage().maxRSS / 1024 }, info: { bootMs: boot } })}\n`);
