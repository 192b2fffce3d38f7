import { Field } from './Field';

/** The JSON syntax problem of a text, or undefined when it parses. */
export function jsonProblem(text: string, mustBeObject = true): string | undefined {
  if (text.trim() === '') return 'Enter a JSON document.';
  try {
    const value: unknown = JSON.parse(text);
    if (mustBeObject && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      return 'The document must be a JSON object ({ ... }).';
    }
    return undefined;
  } catch (e) {
    return `Not valid JSON: ${(e as Error).message}`;
  }
}

interface JsonEditorProps {
  label: string;
  value: string;
  onChange: (text: string) => void;
  /** The service's error for this field, shown after the syntax check. */
  serviceError?: string;
  hint?: string;
  rows?: number;
}

/** A textarea for JSON that says as you type whether it parses. */
export function JsonEditor({ label, value, onChange, serviceError, hint, rows = 12 }: JsonEditorProps) {
  const problem = jsonProblem(value);
  return (
    <Field label={label} hint={hint} error={problem ?? serviceError}>
      {(a11y) => (
        <textarea
          {...a11y}
          className="code"
          rows={rows}
          spellCheck={false}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}
