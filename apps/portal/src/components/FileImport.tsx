'use client';

import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { ErrorCallout, fieldErrorUi, FilesField, useSubmit } from './FormErrors';

/**
 * What the import forms share: the files chosen, and the submission — the form's own checks first
 * (`check`: problems by field), then `importFiles`, which sends them and gives back the record
 * made (or undefined after `refuse` said what is wrong with them); on success the record is shown,
 * the files are cleared and the page refreshed.
 */
export function useFileImport<R>() {
  const uid = useId();
  const router = useRouter();
  const [files, setFiles] = useState<File[]>([]);
  const { submitting, setSubmitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const [done, setDone] = useState<R | null>(null);
  const submit = (check: () => Record<string, string>, importFiles: (refuse: (problems: Record<string, string>) => void) => Promise<R | undefined>) => async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    setDone(null);
    const problems = check();
    if (Object.keys(problems).length) {
      setErrors(problems);
      return;
    }
    await send(async () => {
      const r = await importFiles((refused) => {
        setErrors(refused);
        setSubmitting(false);
      });
      if (r === undefined) return;
      setDone(r);
      setFiles([]);
      setSubmitting(false);
      router.refresh();
    });
  };
  return { uid, files, setFiles, done, submitting, submitError, fe: fieldErrorUi(uid, errors), submit };
}

/**
 * An import form: its fields, the file picker, the refusal, what was imported (`imported`, shown
 * once there is a record, under `doneTestId`), and the submit button (`busyText` while it works).
 */
export function ImportForm(p: {
  label: string;
  state: Omit<ReturnType<typeof useFileImport>, 'submit'>;
  onSubmit: (ev: FormEvent) => Promise<void>;
  children: ReactNode;
  picker: { label: string; accept: string; hint: string };
  imported: ReactNode;
  doneTestId: string;
  submitText: string;
  busyText: string;
}) {
  const { uid, fe, files, setFiles, done, submitting, submitError } = p.state;
  return (
    <form onSubmit={p.onSubmit} noValidate aria-label={p.label}>
      <div className="form-grid">{p.children}</div>
      <FilesField uid={uid} fe={fe} label={p.picker.label} accept={p.picker.accept} hint={p.picker.hint} files={files} setFiles={setFiles} />
      <ErrorCallout message={submitError} />
      {done !== null && (
        <div className="callout ok" role="status" data-testid={p.doneTestId}>
          <p>{p.imported}</p>
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="btn" disabled={submitting}>{submitting ? <><span className="spinner" aria-hidden="true" /> {p.busyText}</> : p.submitText}</button>
      </div>
    </form>
  );
}
