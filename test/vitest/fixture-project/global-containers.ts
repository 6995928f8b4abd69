import { GenericContainer } from "throwaway";
import { defineGlobalSetup, type ProvidedBy } from "throwaway/vitest";
import { BUSYBOX, helloCommand, RUN_LABEL, runId, SCOPE_LABEL } from "./labels.js";

/** One container for the whole run, in the main process; tests reach it through what `inject("shared")` gives. */
const setup = defineGlobalSetup({
  shared: () =>
    new GenericContainer(BUSYBOX)
      .withCommand(helloCommand("global"))
      .withExposedPorts(8080)
      .withLabels({ [RUN_LABEL]: runId(), [SCOPE_LABEL]: "global" }),
});
export default setup;

declare module "vitest" {
  export interface ProvidedContext extends ProvidedBy<typeof setup> {}
}
