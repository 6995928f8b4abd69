import type { Engine } from "../engine/engine.js";
import { getSessionId } from "./session.js";

/**
 * Called on every start, before the container is created: makes sure this process has joined its session's
 * cleanup. Must not block the start (the reaper comes up beside the first container).
 */
export function prepareSession(_engine: Engine): void {
  getSessionId();
}
