import { readFileSync } from "node:fs";

const TICKS_PER_MS = 100 / 1000; // USER_HZ is 100 on Linux

/** CPU time a process has used so far, from /proc (user + system); NaN where it cannot be read. */
export function procCpuMs(pid: number | undefined): number {
  try {
    // Fields 14 and 15 (utime, stime), counted after the parenthesised command name.
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_MS;
  } catch {
    return Number.NaN;
  }
}
