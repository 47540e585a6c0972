/** The create form above a settings list: its fields, the submit button, and the error of the last try. */
import type { FormEvent, ReactNode } from "react";
import { errorMessage } from "../api/client";

interface FormState {
  submit: (e: FormEvent) => void;
  mutation: { isPending: boolean; isError: boolean; error: unknown };
}

export function CreateForm({ label, button, form, children }: { label: string; button: string; form: FormState; children: ReactNode }) {
  return (
    <>
      <form className="form inline-form" onSubmit={form.submit} aria-label={label}>
        {children}
        <button type="submit" className="primary" disabled={form.mutation.isPending}>
          {button}
        </button>
      </form>
      {form.mutation.isError && <p className="field-error">{errorMessage(form.mutation.error)}</p>}
    </>
  );
}
