// The stand-in service as a process (see stand-in-service.ts for the contract and the switches): what the
// embedded cluster runs in pods with `--app` (the rollout and faulty-service tests), and what tests spawn.
// Configured from the environment; prints one JSON line with its URL once it listens (PORT=0 picks a port).
// On SIGTERM it drains and exits 0, or exits at once with STAND_IN_ON_SIGTERM=exit.
import { standInOptionsFromEnv, startStandInService } from './stand-in-service.ts';

/** After the drain, a slow client must not hold the replica past its grace period. */
const CLOSE_GRACE_MS = 2_000;

const options = standInOptionsFromEnv(process.env);
const service = await startStandInService(options);
console.log(JSON.stringify({ msg: 'listening', url: service.baseUrl, version: options.version, instance: options.instanceId }));

process.once('SIGTERM', () => {
  if (options.onSigterm === 'exit') process.exit(0);
  void service.drain().then(() => process.exit(0));
  // Counted from the signal: the drain itself, then at most CLOSE_GRACE_MS for requests still in flight.
  setTimeout(() => process.exit(0), (options.drainDelayMs ?? 0) + CLOSE_GRACE_MS).unref();
});
