/**
 * The logger behind `defaultExceptionHandler` and debug-mode warnings (CPython's log.py).
 * Replace `logger.sink` to route asyncio's log records elsewhere (tests capture them this way).
 */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export const logger = {
  sink: (level: LogLevel, message: string): void => {
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
