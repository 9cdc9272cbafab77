import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { asyncApiJson } from "../index.js";

// Writes libs/events/asyncapi.json; a test fails when the checked-in copy is stale.
const target = fileURLToPath(new URL("../../asyncapi.json", import.meta.url));
writeFileSync(target, asyncApiJson());
console.log(`wrote ${target}`);
