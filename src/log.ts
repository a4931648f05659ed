/**
 * The logger behind `defaultExceptionHandler` and debug-mode warnings (CPython's log.py).
 * Replace `logger.sink` to route asyncio's log records elsewhere (tests capture them this way).
 */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40 };

export const logger = {
  /**
   * The least severe level the default sink prints: 'warning', as Python's logging does when nothing is
   * configured (so debug mode's "Close <EventLoop …>" stays quiet). A replaced sink receives every level.
   */
  level: 'warning' as LogLevel,
  sink: (level: LogLevel, message: string): void => {
    if (RANK[level] < RANK[logger.level]) return;
    if (level === 'error') console.error(message);
    else if (level === 'warning') console.warn(message);
    else console.log(message);
  },
  error(message: string): void {
    this.sink('error', message);
  },
  warning(message: string): void {
    this.sink('warning', message);
  },
  info(message: string): void {
    this.sink('info', message);
  },
  debug(message: string): void {
    this.sink('debug', message);
  },
};
