import { expect, inject } from "vitest";
import { fetchText, it, sessionOf } from "./fixtures.js";
import { report } from "./report.js";

/** Two tests that use every scope and the global container, and report what they saw. Each `scopes-*.spec.ts` calls it. */
export function scopeTests(file: string): void {
  for (const name of ["first", "second"]) {
    it(`${name} test of ${file}`, async ({ perTest, perFile, perWorker, client, task }) => {
      const shared = inject("shared");
      const mainSession = inject("mainSessionId");
      expect(await client.fetchScope()).toBe("test");
      expect(await fetchText(perFile, "/scope")).toBe("file");
      expect(await fetchText(perWorker, "/scope")).toBe("worker");
      const global = await fetch(`http://${shared.host}:${shared.ports["8080/tcp"]}/scope`);
      expect((await global.text()).trim()).toBe("global");
      expect(shared.port).toBe(shared.ports["8080/tcp"]);
      // Workers joined the main process's session: through the environment, and on every container they made.
      expect(process.env.THROWAWAY_SESSION_ID).toBe(mainSession);
      for (const container of [perTest, perFile, perWorker]) expect(sessionOf(container)).toBe(mainSession);
      report({
        kind: "test",
        file,
        test: task.name,
        test_container: perTest.getId(),
        file_container: perFile.getId(),
        worker_container: perWorker.getId(),
        global_container: shared.id,
        main_pid: inject("mainPid"),
        ports: [perTest, perFile, perWorker].map((c) => c.getMappedPort(8080)),
      });
    });
  }
}
