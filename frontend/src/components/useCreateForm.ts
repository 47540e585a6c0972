/** The state of a create form: its values, the mutation that sends them, and the reset once it succeeds. */
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

/**
 * `initial` is also what the form returns to after a success. A choice that should stay for the next
 * creation (a mode, a colour) is the page's own state, read by `send`.
 */
export function useCreateForm<V extends object, R>(initial: V, send: (values: V) => Promise<R>, onCreated: (result: R) => void) {
  const [values, setValues] = useState(initial);
  const mutation = useMutation({
    mutationFn: () => send(values),
    onSuccess: (result) => {
      setValues(initial);
      onCreated(result);
    },
  });
  const set = <K extends keyof V>(key: K, value: V[K]) => setValues((v) => ({ ...v, [key]: value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    mutation.mutate();
  };
  return { values, set, submit, mutation };
}
