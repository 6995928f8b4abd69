// The reaper half of the runtime smoke: starts a container and SIGKILLs its own process, leaving the container to
// the session's watchdog (spawned with this runtime's executable). The runner checks that it goes away.
import { GenericContainer } from "throwaway";

const container = await new GenericContainer("busybox").withCommand(["sleep", "300"]).start();
console.log(`started ${container.getId().slice(0, 12)}; killing this process`);
process.kill(process.pid, "SIGKILL");
