/** Labels the fixture project puts on its containers, so the outer test counts them per scope through the engine. */
export const RUN_LABEL = "test.throwaway.fixture-run";
export const SCOPE_LABEL = "test.throwaway.fixture-scope";
export const BUSYBOX = "busybox:latest";

/** The run id the outer test chose; a fixed one when the project is run by hand. */
export function runId(): string {
  return process.env.FIXTURE_RUN_ID ?? "manual";
}

/** `docker run busybox` that says hello (the line failure output must show) and then serves HTTP on 8080. */
export function helloCommand(scope: string): string[] {
  return ["sh", "-c", `echo "hello from the ${scope} container"; mkdir -p /www; echo ${scope} > /www/scope; exec httpd -f -p 8080 -h /www`];
}
