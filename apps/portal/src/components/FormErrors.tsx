import { fmtBytes } from '@ctxlab/ui';
import { useState } from 'react';
import { errorMessage, fieldErrors } from '../lib/client';

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

/** A file picker of an import form: the files chosen with their total size (or a hint), the field's error, and their names. */
export function FilesField(p: { uid: string; fe: ReturnType<typeof fieldErrorUi>; label: string; accept: string; hint: string; files: readonly File[]; setFiles: (f: File[]) => void }) {
  const { uid, fe, files } = p;
  const total = files.reduce((a, f) => a + f.size, 0);
  return (
    <div className="field file-drop">
      <label htmlFor={`${uid}-files`}>{p.label}</label>
      <input id={`${uid}-files`} type="file" multiple accept={p.accept} onChange={(e) => p.setFiles(Array.from(e.target.files ?? []))} {...fe.input('documents')} />
      <span className="hint">{files.length ? `${files.length} file${files.length > 1 ? 's' : ''}, ${fmtBytes(total)}` : p.hint}</span>
      {fe.message('documents')}
      {files.length > 0 && <ul className="file-list">{files.slice(0, 50).map((x) => <li key={x.name}>{x.name} · {fmtBytes(x.size)}</li>)}{files.length > 50 && <li>… and {files.length - 50} more</li>}</ul>}
    </div>
  );
}

/**
 * A form's submit state: `send` runs the request, and on a refusal shows its message and its
 * per-field errors and lets the form be sent again; on success it stays `submitting` while the
 * page moves on (the caller says otherwise with `setSubmitting`).
 */
export function useSubmit() {
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [submitting, setSubmitting] = useState(false);
  const reset = () => {
    setSubmitError(null);
    setErrors({});
  };
  const send = async (request: () => Promise<void>) => {
    setSubmitting(true);
    try {
      await request();
    } catch (e) {
      setSubmitError(errorMessage(e));
      setErrors(fieldErrors(e));
      setSubmitting(false);
    }
  };
  return { submitting, setSubmitting, submitError, errors, setErrors, reset, send };
}

/**
 * The state of an action without per-field errors: `run` clears the last error, marks it busy and
 * runs the request; a failure shows `failure(e)` (by default the error's message) and frees it.
 * Success frees it too, unless `stay` keeps it busy while the page moves on.
 */
export function useAction() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (request: () => Promise<void>, opts: { stay?: boolean; failure?: (e: unknown) => string } = {}) => {
    setBusy(true);
    setError(null);
    try {
      await request();
      if (!opts.stay) setBusy(false);
    } catch (e) {
      setError((opts.failure ?? errorMessage)(e));
      setBusy(false);
    }
  };
  return { error, setError, busy, setBusy, run };
}
