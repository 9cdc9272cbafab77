export { eventsTail, formatTable, type TailLine, type TailOptions } from "./commands/events-tail.js";
export { buildProgram } from "./program.js";
