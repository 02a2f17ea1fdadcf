// Entry point: `node --import tsx src/server.ts` in reference-app/ (the image), or
// `node --import tsx reference-app/src/server.ts` from the repository root (the tests).
// Configuration first (fail fast, one line, exit 2, before the app's modules load), then telemetry (which
// loads OpenTelemetry only when tracing is on), then the rest of the app through a dynamic import.
import { isConfigError } from './config-error.ts';
import { loadConfig, type AppConfig } from './config.ts';
import { startTelemetry } from './telemetry.ts';

let config: AppConfig;
try {
  config = loadConfig();
} catch (err) {
  if (!isConfigError(err)) throw err;
  process.stderr.write(`${err.oneLine()}\n`);
  process.exit(err.exitCode);
}

const telemetry = await startTelemetry({ serviceVersion: config.appVersion, instanceId: config.instanceId });

try {
  const { run } = await import('./main.ts');
  await run(config, telemetry);
} catch (err) {
  // Start-up failed (database unreachable past the deadline, port in use...): the environment broke.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`reference-app failed to start: ${message}\n`);
  await telemetry.shutdown().catch(() => undefined);
  process.exit(1);
}
