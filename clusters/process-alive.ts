// Is a process still there? Signal 0 checks without sending anything; EPERM means it exists but belongs
// to another user, which is still "alive" for every caller here (a lock holder, an owning run).
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
