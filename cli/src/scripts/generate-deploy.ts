import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chartNatsAuthorization, helmValuesJsonSchema } from "../deploy/helm-values.js";

// Writes the Helm chart's generated files; tests fail when the checked-in copies are stale.
const chart = (f: string) => fileURLToPath(new URL(`../../../deploy/helm/isthmus/${f}`, import.meta.url));
writeFileSync(chart("values.schema.json"), helmValuesJsonSchema());
writeFileSync(chart("files/nats-authorization.conf"), `${chartNatsAuthorization()}\n`);
console.log("wrote deploy/helm/isthmus/values.schema.json and files/nats-authorization.conf");
