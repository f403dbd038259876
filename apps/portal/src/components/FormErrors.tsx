/** A form's error as the callout above its buttons; nothing while there is none. */
export function ErrorCallout({ message }: { message: string | null | undefined }) {
  return message ? <div className="callout error" role="alert"><p>{message}</p></div> : null;
}

/**
 * Per-field errors (keyed by field path, as `fieldErrors` returns them) wired to their inputs:
 * `input(k)` marks the input invalid and points it at `message(k)`, the text under the field.
 * With `nested`, a field also shows the first error of any path below it ("spec" ← "spec.corpus").
 */
export function fieldErrorUi(uid: string, errors: Readonly<Record<string, string>>, nested = false) {
  const text = (k: string): string | undefined => errors[k] ?? (nested ? Object.entries(errors).find(([p]) => p.startsWith(`${k}.`))?.[1] : undefined);
  const id = (k: string) => `${uid}-${k}-e`;
  return {
    text,
    input: (k: string) => ({ 'aria-invalid': Boolean(text(k)), 'aria-describedby': text(k) ? id(k) : undefined }),
    message: (k: string) => {
      const t = text(k);
      return t ? <span id={id(k)} className="field-error">{t}</span> : null;
    },
  };
}
