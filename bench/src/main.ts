import { benchBus } from "./bus.js";
import { benchCa } from "./ca.js";
import { benchConsole } from "./console.js";
import { benchDiscovery } from "./discovery.js";
import { benchManifests } from "./manifests.js";
import { benchRemoteCp } from "./remote-cp.js";
import { benchXds } from "./xds.js";
import { benchXdsValidate } from "./xds-validate.js";

// `npm run bench -- <name>`: each benchmark prints a table and writes bench/results/<name>.json.
const benches: Record<string, () => Promise<void>> = {
  bus: benchBus,
  ca: benchCa,
  console: benchConsole,
  discovery: benchDiscovery,
  manifests: benchManifests,
  xds: benchXds,
  "xds-validate": benchXdsValidate,
  "remote-cp": benchRemoteCp,
};

const name = process.argv[2];
const run = name ? benches[name] : undefined;
if (!run) {
  process.stderr.write(`usage: npm run bench -- <name>\n  names: ${Object.keys(benches).join(", ")}\n`);
  process.exit(2);
}
process.env.DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/postgres";
await run();
process.exit(0);
