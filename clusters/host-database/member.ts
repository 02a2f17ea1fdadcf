// One Patroni member: its Patroni daemon and the PostgreSQL that Patroni starts. Patroni launches the
// postmaster in a session of its own (like pg_ctl), so "the node" is two process groups, and a crash
// must kill both.
import { existsSync, readFileSync } from 'node:fs';
import type { MemberLayout } from './layout.ts';
import type { MemberPorts } from './config.ts';
import { processInfo, removePidFile, signalGroup, spawnDaemon, waitGone, type Daemon, type RunAs } from './processes.ts';

export const PATRONI_BIN = '/usr/bin/patroni';

export interface MemberEnvironment {
  pidDir: string;
  runAs: RunAs;
  env: NodeJS.ProcessEnv;
}

export class PatroniMember {
  private daemon: Daemon | null = null;

  constructor(
    readonly ports: MemberPorts,
    readonly layout: MemberLayout,
    private readonly environment: MemberEnvironment,
  ) {}

  get name(): string {
    return this.ports.name;
  }

  start(): void {
    this.daemon = spawnDaemon({
      name: this.name,
      command: PATRONI_BIN,
      args: [this.layout.config],
      logFile: this.layout.log,
      pidDir: this.environment.pidDir,
      env: { ...this.environment.env, HOME: this.layout.home },
      cwd: this.layout.home,
      runAs: this.environment.runAs,
    });
  }

  /** Why Patroni is not running, or null while it runs (or was never started / was killed on purpose). */
  exited(): string | null {
    return this.daemon?.exit() ?? null;
  }

  /** The running postmaster of this member, from its postmaster.pid, checked against /proc (pids get reused). */
  postmasterPid(): number | null {
    const file = `${this.layout.dataDir}/postmaster.pid`;
    if (!existsSync(file)) return null;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 1) return null;
    return processInfo(pid)?.cmdline.includes(this.layout.dataDir) ? pid : null;
  }

  /**
   * A real crash of the node: SIGKILL to Patroni's process group and to PostgreSQL's (postmaster and every
   * backend), with no shutdown checkpoint and no leader-key release. Resolves once all of it is gone.
   */
  async crash(): Promise<void> {
    const postmaster = this.postmasterPid();
    const postmasterGroup = postmaster === null ? null : (processInfo(postmaster)?.pgid ?? null);
    const pids: number[] = [];
    if (this.daemon) {
      signalGroup(this.daemon.pid, 'SIGKILL');
      pids.push(this.daemon.pid);
    }
    if (postmaster !== null && postmasterGroup !== null) {
      signalGroup(postmasterGroup, 'SIGKILL');
      pids.push(postmaster);
    }
    await waitGone(pids, 5000);
    this.forget();
  }

  /**
   * Ends the member for good: Patroni first (so it restarts nothing), then an immediate shutdown of
   * PostgreSQL (SIGQUIT, which still releases shared memory), SIGKILL for whatever is left.
   */
  async stop(): Promise<void> {
    if (this.daemon) signalGroup(this.daemon.pid, 'SIGKILL');
    const postmaster = this.postmasterPid();
    const postmasterGroup = postmaster === null ? null : (processInfo(postmaster)?.pgid ?? null);
    if (postmaster !== null) {
      try {
        process.kill(postmaster, 'SIGQUIT');
      } catch {
        // already gone
      }
      if (!(await waitGone([postmaster], 3000)) && postmasterGroup !== null) signalGroup(postmasterGroup, 'SIGKILL');
      // Backends exit right after the postmaster; make sure none lingers.
      if (postmasterGroup !== null) signalGroup(postmasterGroup, 'SIGKILL');
    }
    if (this.daemon) await waitGone([this.daemon.pid], 3000);
    this.forget();
  }

  private forget(): void {
    this.daemon = null;
    removePidFile(this.environment.pidDir, this.name);
  }
}
