export { buildProgram } from "./program.js";
export { eventsTail, formatTable, type TailLine, type TailOptions } from "./commands/events-tail.js";
