import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** throwaway's own version (package.json), stamped on every resource as a label and printed by `throwaway --version`. */
export const VERSION: string = (require("../package.json") as { version: string }).version;
