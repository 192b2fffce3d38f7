import { settingsInWords } from './settings-words';

/** A job's settings in words, with the raw request (or description) one click away. */
export function SettingsList({ job, rawLabel }: { job: Record<string, unknown>; rawLabel: string }) {
  const settings = settingsInWords(job);
  return (
    <>
      {settings.length === 0 ? (
        <p className="muted">No advanced configuration: every thing is notified at once, no abort, timeout or retry.</p>
      ) : (
        <dl className="pairs settings" aria-label="Settings">
          {settings.map((s) => (
            <div key={s.label} className="pair">
              <dt>{s.label}</dt>
              <dd>{s.text}</dd>
            </div>
          ))}
        </dl>
      )}
      <details>
        <summary>{rawLabel}</summary>
        <pre className="code small">{JSON.stringify(job, null, 2)}</pre>
      </details>
    </>
  );
}
