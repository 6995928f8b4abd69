import { describe, expect, it } from "vitest";
import { execResult, FakeTarget, fakeContext, waitOnFake } from "../../test/wait/fake-target.js";
import { ContainerNotReadyError, WaitTimeoutError } from "../errors.js";
import { SuccessfulCommandWaitStrategy } from "./successful-command.js";

function waitFor(strategy: SuccessfulCommandWaitStrategy, target: FakeTarget, timeoutMs: number) {
  return waitOnFake(strategy, target, timeoutMs);
}

describe("Wait.forSuccessfulCommand", () => {
  it("describes itself", () => {
    expect(new SuccessfulCommandWaitStrategy("pg_isready -q").describe()).toBe("command pg_isready -q exits 0");
    expect(new SuccessfulCommandWaitStrategy(["/check", "--fast"]).describe()).toBe('command ["/check","--fast"] exits 0');
  });

  it("rejects an empty command", () => {
    expect(() => new SuccessfulCommandWaitStrategy(" ")).toThrow(
      'Expected `Wait.forSuccessfulCommand(command)` to be a non-empty shell command, got `" "` (string)',
    );
    expect(() => new SuccessfulCommandWaitStrategy([])).toThrow(
      "Expected `Wait.forSuccessfulCommand(command)` to be a shell string or a non-empty array of strings, got `[]` (array)",
    );
  });

  it("runs a string through /bin/sh -c and an array as is, until it exits 0", async () => {
    let runs = 0;
    const target = new FakeTarget({ exec: () => (++runs < 3 ? execResult(1, "", "not ready\n") : execResult(0)) });
    const { context, recorded } = fakeContext();
    await new SuccessfulCommandWaitStrategy("test -f /tmp/ready").waitUntilReady(target, context);
    expect(target.calls.exec).toEqual([
      ["/bin/sh", "-c", "test -f /tmp/ready"],
      ["/bin/sh", "-c", "test -f /tmp/ready"],
      ["/bin/sh", "-c", "test -f /tmp/ready"],
    ]);
    expect(recorded.lastError).toBe('exited with code 1: "not ready"');

    const direct = new FakeTarget({ exec: () => execResult(0) });
    await new SuccessfulCommandWaitStrategy(["/usr/bin/check", "a b"]).waitUntilReady(direct, fakeContext().context);
    expect(direct.calls.exec).toEqual([["/usr/bin/check", "a b"]]);
  });

  it("times out with the command's last exit code and output", async () => {
    const target = new FakeTarget({ exec: () => execResult(2) });
    const error = (await waitFor(new SuccessfulCommandWaitStrategy("check"), target, 100).catch((e: unknown) => e)) as WaitTimeoutError;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.lastError).toBe("exited with code 2 without output");
  });

  it("fails at once when the image has no shell, pointing at the array form", async () => {
    const target = new FakeTarget({
      exec: () =>
        execResult(
          126,
          'OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown',
        ),
    });
    const error = (await waitFor(new SuccessfulCommandWaitStrategy("check"), target, 60_000).catch(
      (e: unknown) => e,
    )) as ContainerNotReadyError;
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect(error.shortMessage).toBe(
      'Container 3f2a9c1b7d10 can never become ready for command check exits 0: the command cannot run in this container (exit 126: "OCI runtime exec failed: exec failed: unable to start container process: exec: \\"/bin/sh\\": stat /bin/sh: no such file or directory: unknown"): the image has no /bin/sh; pass the command as an array to run it without a shell',
    );
    expect(target.calls.exec).toHaveLength(1);
  });

  it("keeps trying when the shell says the command is not found (it may be installed later)", async () => {
    let runs = 0;
    const target = new FakeTarget({ exec: () => (++runs < 2 ? execResult(127, "", "sh: pg_isready: not found\n") : execResult(0)) });
    await new SuccessfulCommandWaitStrategy("pg_isready").waitUntilReady(target, fakeContext().context);
    expect(runs).toBe(2);
  });

  it("stops at once when aborted, even while an exec is running", async () => {
    const target = new FakeTarget({ exec: () => new Promise(() => {}) });
    const { context, abort } = fakeContext();
    const waiting = new SuccessfulCommandWaitStrategy("sleep 1000").waitUntilReady(target, context);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const reason = new Error("deadline");
    abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
