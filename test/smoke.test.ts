import { GenericContainer, Wait } from "throwaway";
import { describe, expect, it } from "vitest";

const BUSYBOX = process.env.THROWAWAY_TEST_BUSYBOX ?? "throwaway-smoke/busybox:dev";

describe("smoke", () => {
  it("starts httpd, reaches it, execs, stops", async () => {
    const t0 = Date.now();
    await using c = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo hello > /tmp/index.html && httpd -f -p 8080 -h /tmp"])
      .withExposedPorts(8080)
      .start();
    const started = Date.now() - t0;
    const res = await fetch(`http://${c.getHost()}:${c.getMappedPort(8080)}/index.html`);
    expect(await res.text()).toBe("hello\n");
    const r = await c.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(r).toMatchObject({ stdout: "out\n", stderr: "err\n", exitCode: 3 });
    console.log("started in", started, "ms");
  });

  it("waits for a log message", async () => {
    await using c = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo starting; sleep 0.3; echo ready now; sleep 60"])
      .withWaitStrategy(Wait.forLogMessage("ready now"))
      .start();
    expect(c.getId()).toMatch(/^[0-9a-f]{64}$/);
  });
});
