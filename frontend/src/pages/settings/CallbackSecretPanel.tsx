/** The workspace's callback signing secret (admins): create or rotate it; the new secret is shown once. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getCallbackSecret, rotateCallbackSecret } from "../../api/accounts";
import { errorMessage } from "../../api/client";
import { useWorkspace } from "../../shell/workspace";
import { formatTime } from "../common/status";

export default function CallbackSecretPanel() {
  const { current } = useWorkspace();
  const qc = useQueryClient();
  const info = useQuery({ queryKey: ["callback-secret", current?.slug], queryFn: getCallbackSecret, enabled: !!current });
  const rotate = useMutation({
    mutationFn: rotateCallbackSecret,
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["callback-secret"] }),
  });
  const exists = !!info.data?.exists;
  return (
    <section className="settings-panel" aria-label="Callback signing secret">
      <h2>Callback signing secret</h2>
      <p className="muted">
        Runs started through the API with a <code>callback_url</code> POST their result there, signed with this secret
        (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>).
        {exists && <> Last rotated {formatTime(info.data?.rotated_at ?? info.data?.created_at)}.</>}
        {info.data?.previous_secret_expires_at && (
          <> The previous secret also signs until {formatTime(info.data.previous_secret_expires_at)}.</>
        )}
      </p>
      <div>
        <button type="button" onClick={() => rotate.mutate()} disabled={rotate.isPending || info.isLoading}>
          {exists ? "Rotate callback signing secret" : "Create callback signing secret"}
        </button>
      </div>
      {rotate.isError && <p className="field-error">{errorMessage(rotate.error)}</p>}
      {rotate.data?.secret && (
        <p className="notice" role="status">
          Copy this secret now — it will not be shown again: <code>{rotate.data.secret}</code>
        </p>
      )}
    </section>
  );
}
