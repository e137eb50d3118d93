/** A small structured logger (one JSON line per entry on stderr). Never pass it a secret. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type Logger = {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /**
   * Whether entries at `level` are written. Optional (a hand-made logger writes everything): hot
   * paths ask before building fields no one will read, e.g. one access-log line per gateway request.
   */
  enabled?(level: Exclude<LogLevel, 'silent'>): boolean;
};

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Logger {
  const emit = (at: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    write(JSON.stringify({ t: new Date().toISOString(), level: at, msg, ...fields }));
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    enabled: (at) => ORDER[at] >= ORDER[level],
  };
}

export const silentLogger: Logger = createLogger('silent');
