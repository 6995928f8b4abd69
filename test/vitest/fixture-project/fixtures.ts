import { GenericContainer, LABELS, type StartedContainer } from "throwaway";
import { containerFixture, startedContainer } from "throwaway/vitest";
import { test } from "vitest";
import { BUSYBOX, helloCommand, RUN_LABEL, runId, SCOPE_LABEL } from "./labels.js";
import { report } from "./report.js";

const busybox = (scope: string) => () =>
  new GenericContainer(BUSYBOX)
    .withCommand(helloCommand(scope))
    .withExposedPorts(8080)
    .withLabels({ [RUN_LABEL]: runId(), [SCOPE_LABEL]: scope });

/** Depends on the test-scoped container; on teardown it checks that container is still there (reverse order). */
interface Client {
  fetchScope(): Promise<string>;
}

export const it = test
  .extend<{
    perTest: StartedContainer;
    perFile: StartedContainer;
    perWorker: StartedContainer;
    client: Client;
  }>({
    perTest: containerFixture(busybox("test")),
    perFile: containerFixture(busybox("file"), { scope: "file" }),
    perWorker: containerFixture(busybox("worker"), { scope: "worker" }),
    client: async ({ perTest, task }, use) => {
      await use({ fetchScope: () => fetchText(perTest, "/scope") });
      // Torn down before perTest: the container must still run and answer.
      const probe = await perTest.exec(["cat", "/www/scope"]);
      report({ kind: "client-teardown", test: task.name, state: task.result?.state, output: probe.stdout.trim() });
    },
  })
  // The builder syntax infers the type; this one prints three lines and puts only its last two in failure output.
  .extend(
    "chatty",
    { scope: "file" },
    startedContainer(
      () =>
        new GenericContainer(BUSYBOX)
          .withCommand(["sh", "-c", "echo line one; echo line two; echo line three; exec sleep 600"])
          .withLabels({ [RUN_LABEL]: runId(), [SCOPE_LABEL]: "file-builder" }),
      { failureLogLines: 2 },
    ),
  );

export async function fetchText(container: StartedContainer, path: string): Promise<string> {
  const response = await fetch(`http://${container.getHost()}:${container.getMappedPort(8080)}${path}`);
  return (await response.text()).trim();
}

export function sessionOf(container: StartedContainer): string | undefined {
  return container.getLabels()[LABELS.session];
}
