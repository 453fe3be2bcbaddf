/**
 * One JSON line per notable thing, on stderr (stdout stays free for tools that pipe the sensor).
 * Fields are flat so `jq 'select(.msg=="watch started")'` works.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function createLogger(component: string, write: (line: string) => void = defaultWrite): Logger {
  const emit = (level: string, msg: string, fields?: LogFields) => {
    write(JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields }, jsonSafe));
  };
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** A logger that says nothing (tests, embedding). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

function defaultWrite(line: string): void {
  process.stderr.write(line + '\n');
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}
