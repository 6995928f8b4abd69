import { getSessionId } from "throwaway";
import type { TestProject } from "vitest/node";

/** Hands the main process's session id and pid to the tests, which check that their workers joined that session. */
export default function setup(project: TestProject): void {
  project.provide("mainSessionId", getSessionId());
  project.provide("mainPid", process.pid);
}

declare module "vitest" {
  export interface ProvidedContext {
    mainSessionId: string;
    mainPid: number;
  }
}
