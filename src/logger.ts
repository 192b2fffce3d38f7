import { pino, type Logger } from 'pino';

/** Logs go to stderr as JSON, so stdout carries only the ready line. Secrets are redacted. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'secretAccessKey',
          '*.secretAccessKey',
          'privateKey',
          '*.privateKey',
          '*.PrivateKey',
          '*.keyPair',
          'headers.authorization',
          '*.headers.authorization',
          'password',
          '*.password',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}

export const silentLogger = (): Logger => pino({ level: 'silent' });
