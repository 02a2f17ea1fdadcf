// k6 provides `console` at runtime, but @types/k6 does not declare it and the scenarios compile without
// the DOM lib (no `window`, `fetch`... exist in k6).
declare const console: {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
};
