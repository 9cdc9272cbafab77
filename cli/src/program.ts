import { Command, InvalidArgumentError, Option } from "commander";
import { eventsTail } from "./commands/events-tail.js";
import { up } from "./commands/up.js";

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

export function buildProgram(): Command {
  const program = new Command("isthmus").description("Isthmus service-mesh control plane").showHelpAfterError();

  program
    .command("up")
    .description("run the control plane locally (no Docker): NATS, streams, services, demo")
    .option("--mesh <id>", "mesh id", process.env.ISTHMUS_MESH ?? "default")
    .option("--health-port <port>", "port of the stack's health/metrics endpoint", positiveInt, 9090)
    .action((o: { mesh: string; healthPort: number }) => up(o));

  const events = program.command("events").description("the mesh's event streams");
  events
    .command("tail")
    .description("print events as they arrive")
    .option("--mesh <id>", "mesh id", process.env.ISTHMUS_MESH ?? "default")
    .option("--domain <domain>", "discovery | config | ca | pvl | push | dlq (default: all)")
    .option("--subject <filter>", "a subject filter, e.g. mesh.default.discovery.service.>")
    .addOption(new Option("--format <format>", "output").choices(["json", "table"]).default("json"))
    .addOption(new Option("--from <from>", "where to start").choices(["new", "all", "last"]).default("new"))
    .option("--limit <n>", "exit after n events", positiveInt)
    .action((o: Parameters<typeof eventsTail>[0]) => eventsTail(o));

  return program;
}
