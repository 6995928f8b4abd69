/**
 * Parses `/proc/net/tcp` and `/proc/net/tcp6` text into the set of ports in LISTEN state (state `0A`). These files
 * describe one network namespace, so read from a container's namespace they say what its processes listen on.
 */
export function listeningPortsFromProcNet(...texts: string[]): Set<number> {
  const ports = new Set<number>();
  for (const text of texts) {
    for (const line of text.split("\n")) {
      const fields = line.trim().split(/\s+/);
      // fields: sl, local_address (HEXIP:HEXPORT), rem_address, st, ...
      if (fields.length < 4 || fields[3] !== "0A") continue;
      const local = fields[1];
      const colon = local?.lastIndexOf(":") ?? -1;
      if (!local || colon < 0) continue;
      const port = Number.parseInt(local.slice(colon + 1), 16);
      if (Number.isInteger(port) && port > 0) ports.add(port);
    }
  }
  return ports;
}
