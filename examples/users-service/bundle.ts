import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
/** The example's folder: the Docker build context. (`npm run demo` runs a compiled copy of this module from `build/`.) */
export const EXAMPLE_DIR = basename(here) === "build" ? dirname(here) : here;
/** The one file the image copies in: the service with all its dependencies (mysql2 included). */
export const BUNDLE_PATH = join(EXAMPLE_DIR, "build", "users-service.mjs");

export interface BundleResult {
  path: string;
  bytes: number;
  /** False when the bundle on disk already had these exact bytes (it was left untouched). */
  changed: boolean;
  durationMs: number;
}

/**
 * Bundles `src/main.ts` and its dependencies into `build/users-service.mjs`, the artifact the Dockerfile copies
 * (as the course's Dockerfile copied a jar built on the host), so building the image needs no network.
 *
 * Deterministic on purpose: the same sources give byte-identical output (no timestamps, paths relative to this
 * folder, no source maps), and an unchanged bundle is not rewritten. The image build hashes its context, so an
 * unchanged service is a cache hit.
 */
export async function bundleUsersService(): Promise<BundleResult> {
  const started = Date.now();
  const result = await build({
    absWorkingDir: EXAMPLE_DIR,
    entryPoints: ["src/main.ts"],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    write: false,
    outfile: BUNDLE_PATH,
    // mysql2 and its dependencies are CommonJS and `require()` Node's built-ins; an ES module has no `require`.
    banner: { js: 'import { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);' },
    legalComments: "eof",
    minify: false,
    sourcemap: false,
    logLevel: "silent",
    // The bundle is a program, not a library: nothing to tree-shake for consumers, but keep names for stack traces.
    keepNames: true,
  });
  for (const warning of result.warnings) {
    process.emitWarning(`esbuild: ${warning.text}${warning.location ? ` (${warning.location.file}:${warning.location.line})` : ""}`);
  }
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${relative(process.cwd(), BUNDLE_PATH)}`);
  const previous = await readFile(BUNDLE_PATH).catch(() => undefined);
  const changed = previous === undefined || !previous.equals(output.contents);
  if (changed) {
    // Written aside and renamed, so a concurrent image build never sends half a file.
    // build/ is not in git: a fresh clone has none. The name is unique per call (threads share a pid).
    await mkdir(dirname(BUNDLE_PATH), { recursive: true });
    const temporary = `${BUNDLE_PATH}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(temporary, output.contents);
    await rename(temporary, BUNDLE_PATH);
  }
  return { path: BUNDLE_PATH, bytes: output.contents.length, changed, durationMs: Date.now() - started };
}
